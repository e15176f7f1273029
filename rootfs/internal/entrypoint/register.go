package entrypoint

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/synapse-image/synapse-image/rootfs/internal/config"
	"github.com/synapse-image/synapse-image/rootfs/internal/env"
	"github.com/synapse-image/synapse-image/rootfs/internal/register"
	"github.com/synapse-image/synapse-image/rootfs/internal/safefs"
)

// registerUsage is the synopsis of the register mode.
const registerUsage = "register -u USER (-p PASSWORD | --password-file FILE|-) [--admin]"

// register creates a user with the shared-secret registration API of the
// running Synapse (docs/configuration.md#users): the cheap way to add a
// user from `docker exec`, a few MB instead of a second Python process in
// the container's memory limit.
func (s *starter) register(ctx context.Context, args []string) error {
	u, passwordFile, base, err := registerArgs(args)
	if err != nil {
		return err
	}
	if passwordFile != "" {
		if u.Password, err = s.readPassword(passwordFile); err != nil {
			return err
		}
	}
	c, err := s.common(false)
	if err != nil {
		return err
	}
	// The secret the operator gives by variable comes first (read as
	// root: a _FILE may be root's); the config is read as the Synapse
	// user, whose file it is: root follows nothing it names.
	secret, err := s.sys.Env.Secret("SYNAPSE_REGISTRATION_SHARED_SECRET")
	if err != nil {
		return err
	}
	if s.sys.Euid == 0 {
		if err := checkCommon(c, s.sys.Euid); err != nil {
			return err
		}
		if err := s.sys.Drop(c.UID, c.GID); err != nil {
			return fmt.Errorf("drop privileges to %d:%d: %w", c.UID, c.GID, err)
		}
	}
	cfgPath, cfg, err := s.registerConfig(c)
	if err != nil {
		return err
	}
	if secret == "" {
		if secret, err = sharedSecret(cfgPath, cfg); err != nil {
			return err
		}
	}
	if base == "" {
		m, err := config.ParseManual(cfgPath, cfg)
		if err != nil {
			return bad(err)
		}
		base = strings.TrimSuffix(m.HealthURL, "/health")
	}
	client := &http.Client{Transport: &http.Transport{Proxy: nil}}
	id, err := register.Register(ctx, client, base, secret, u)
	if err != nil {
		return fmt.Errorf("register: %w", err)
	}
	role := "user"
	if u.Admin {
		role = "admin"
	}
	fmt.Fprintf(s.sys.Stdout, "registered %s (%s)\n", id, role)
	return nil
}

// registerArgs parses the register mode's arguments, as
// register_new_matrix_user names them.
func registerArgs(args []string) (u register.User, passwordFile, base string, err error) {
	fs := flag.NewFlagSet("register", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.StringVar(&u.Name, "u", "", "")
	fs.StringVar(&u.Name, "user", "", "")
	fs.StringVar(&u.Password, "p", "", "")
	fs.StringVar(&u.Password, "password", "", "")
	fs.StringVar(&passwordFile, "password-file", "", "")
	fs.BoolVar(&u.Admin, "a", false, "")
	fs.BoolVar(&u.Admin, "admin", false, "")
	noAdmin := fs.Bool("no-admin", false, "")
	fs.StringVar(&base, "url", "", "")
	if err := fs.Parse(args); err != nil {
		return u, "", "", badf("register: %v; usage: /start %s", err, registerUsage)
	}
	switch {
	case fs.NArg() > 0:
		return u, "", "", badf("register: unexpected argument %q; usage: /start %s", fs.Arg(0), registerUsage)
	case u.Name == "":
		return u, "", "", badf("register: -u USER is required; usage: /start %s", registerUsage)
	case (u.Password == "") == (passwordFile == ""):
		return u, "", "", badf("register: give the password with -p PASSWORD or --password-file FILE ('-': standard input), once; usage: /start %s", registerUsage)
	case u.Admin && *noAdmin:
		return u, "", "", badf("register: --admin and --no-admin together")
	}
	return u, passwordFile, base, nil
}

// readPassword reads the first line of path ("-": standard input).
func (s *starter) readPassword(path string) (string, error) {
	var b []byte
	var err error
	if path == "-" {
		b, err = io.ReadAll(io.LimitReader(os.Stdin, 4096))
	} else {
		b, err = s.sys.Env.ReadFile(path)
	}
	if err != nil {
		return "", badf("register: --password-file: %v", err)
	}
	pw, _, _ := strings.Cut(string(b), "\n")
	pw = strings.TrimSuffix(pw, "\r")
	if pw == "" {
		return "", badf("register: --password-file %s: empty password", path)
	}
	return pw, nil
}

// registerConfig reads the config Synapse runs with: the hand-written one
// in manual mode, else the one run wrote.
func (s *starter) registerConfig(c env.Common) (string, []byte, error) {
	path := c.ConfigPath
	if path == "" {
		path = filepath.Join(c.DataDir, "generated", "homeserver.yaml")
	}
	b, err := s.readInData(c, path, safefs.ConfigLimit)
	if errors.Is(err, fs.ErrNotExist) {
		return "", nil, badf("register: %s does not exist: is Synapse running in this container?", path)
	}
	if err != nil {
		return "", nil, fmt.Errorf("register: read %s: %w", path, err)
	}
	return path, b, nil
}

// sharedSecret is registration_shared_secret of the config, or the content
// of registration_shared_secret_path (read as the Synapse user).
func sharedSecret(path string, cfg []byte) (string, error) {
	var f struct {
		Secret string `yaml:"registration_shared_secret"`
		Path   string `yaml:"registration_shared_secret_path"`
	}
	if err := yaml.Unmarshal(cfg, &f); err != nil {
		return "", badf("register: %s is not valid YAML: %v", path, err)
	}
	if f.Secret != "" {
		return f.Secret, nil
	}
	if f.Path != "" {
		b, err := os.ReadFile(f.Path)
		if err != nil {
			return "", fmt.Errorf("register: registration_shared_secret_path: %w", err)
		}
		return strings.TrimRight(string(b), "\r\n"), nil
	}
	return "", badf("register: %s sets no registration_shared_secret (or _path): shared-secret registration is off", path)
}
