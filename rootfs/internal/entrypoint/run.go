package entrypoint

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/synapse-image/synapse-image/rootfs/internal/config"
	"github.com/synapse-image/synapse-image/rootfs/internal/env"
	"github.com/synapse-image/synapse-image/rootfs/internal/health"
	"github.com/synapse-image/synapse-image/rootfs/internal/pgwait"
	"github.com/synapse-image/synapse-image/rootfs/internal/secrets"
)

// run prepares everything and execs Synapse.
func (s *starter) run(ctx context.Context, args []string) error {
	c, err := env.LoadCommon(s.sys.Env)
	if err != nil {
		return err
	}
	var cfgPath string
	if c.ConfigPath != "" {
		cfgPath, err = s.runManual(ctx, c)
	} else {
		cfgPath, err = s.runAutomated(ctx)
	}
	if err != nil {
		return err
	}
	return s.exec(cfgPath, args)
}

// exec replaces /start with Synapse, so that Synapse is PID 1.
func (s *starter) exec(cfgPath string, args []string) error {
	python, err := s.sys.LookPath("python3")
	if err != nil {
		return fmt.Errorf("find python3: %w", err)
	}
	argv := append([]string{"python3", "-m", "synapse.app.homeserver", "--config-path", cfgPath}, args...)
	envv := withoutSecrets(s.sys.Environ)
	if s.sys.Jemalloc != "" {
		envv = withPreload(envv, s.sys.Jemalloc)
	}
	s.logf("starting Synapse as %d:%d: %s", os.Geteuid(), os.Getegid(), strings.Join(argv, " "))
	if err := s.sys.Exec(python, argv, envv); err != nil {
		return fmt.Errorf("exec %s: %w", python, err)
	}
	return nil
}

// withoutSecrets drops the secret-bearing variables: Synapse reads them
// from its config, and its environment is visible in /proc.
func withoutSecrets(envv []string) []string {
	secret := map[string]bool{}
	for _, v := range env.Vars {
		if v.File {
			secret[v.Name] = true
		}
	}
	out := make([]string, 0, len(envv))
	for _, kv := range envv {
		name, _, _ := strings.Cut(kv, "=")
		if !secret[name] {
			out = append(out, kv)
		}
	}
	return out
}

// withPreload adds lib to LD_PRELOAD.
func withPreload(envv []string, lib string) []string {
	out := make([]string, 0, len(envv)+1)
	found := false
	for _, kv := range envv {
		if v, ok := strings.CutPrefix(kv, "LD_PRELOAD="); ok {
			found = true
			if v != "" && !strings.Contains(v, lib) {
				kv = "LD_PRELOAD=" + lib + ":" + v
			} else {
				kv = "LD_PRELOAD=" + lib
			}
		}
		out = append(out, kv)
	}
	if !found {
		out = append(out, "LD_PRELOAD="+lib)
	}
	return out
}

// readManual reads the hand-written config named by SYNAPSE_CONFIG_PATH.
func readManual(c env.Common) (config.Manual, error) {
	fi, err := os.Stat(c.ConfigPath)
	if errors.Is(err, os.ErrNotExist) {
		return config.Manual{}, badf("SYNAPSE_CONFIG_PATH: %s does not exist; create it with the generate mode (docker run --rm -v synapse-data:/data -e SYNAPSE_SERVER_NAME=... -e SYNAPSE_REPORT_STATS=no IMAGE generate), edit it, then start again", c.ConfigPath)
	}
	if err != nil {
		return config.Manual{}, badf("SYNAPSE_CONFIG_PATH: %v", err)
	}
	if fi.IsDir() {
		return config.Manual{}, badf("SYNAPSE_CONFIG_PATH: %s is a directory; expected the homeserver.yaml file", c.ConfigPath)
	}
	m, err := config.ReadManual(c.ConfigPath)
	if err != nil {
		return m, badf("SYNAPSE_CONFIG_PATH: %v", err)
	}
	return m, nil
}

// runManual prepares /data for a hand-written config: only the signing key
// it names is created when missing; the config itself is never touched.
func (s *starter) runManual(ctx context.Context, c env.Common) (string, error) {
	m, err := readManual(c)
	if err != nil {
		return "", err
	}
	wait, err := env.WaitTimeout(s.sys.Env)
	if err != nil {
		return "", err
	}
	if err := s.prepareDataDir(c, m.SigningKeyPath); err != nil {
		return "", err
	}
	if m.SigningKeyPath != "" && !secrets.Exists(m.SigningKeyPath) {
		if err := os.MkdirAll(filepath.Dir(m.SigningKeyPath), 0o750); err != nil {
			return "", fmt.Errorf("create directory of the signing key: %w", err)
		}
		if err := s.createSigningKey(m.SigningKeyPath); err != nil {
			return "", err
		}
	}
	s.logf("manual mode: using %s", c.ConfigPath)
	if m.DBAddress != "" {
		if err := pgwait.Wait(ctx, m.DBAddress, wait, s.logf); err != nil {
			return "", err
		}
	}
	return c.ConfigPath, nil
}

// checkManual prints the hand-written config, secrets masked.
func (s *starter) checkManual(c env.Common) error {
	if _, err := readManual(c); err != nil {
		return err
	}
	b, err := os.ReadFile(c.ConfigPath)
	if err != nil {
		return err
	}
	doc, err := parseYAML(b)
	if err != nil {
		return badf("SYNAPSE_CONFIG_PATH: %s: %v", c.ConfigPath, err)
	}
	config.Mask(doc)
	out, err := config.Marshal("# "+c.ConfigPath+" (manual mode, secrets masked)\n", doc)
	if err != nil {
		return err
	}
	_, err = s.sys.Stdout.Write(out)
	s.logf("manual mode: %s is valid YAML", c.ConfigPath)
	return err
}

// health probes Synapse's /health on the port of the config.
func (s *starter) health(ctx context.Context) error {
	url := config.HealthURL()
	if p := s.sys.Env.String("SYNAPSE_CONFIG_PATH"); p != "" {
		m, err := config.ReadManual(p)
		if err != nil {
			return err
		}
		url = m.HealthURL
	}
	return health.Check(ctx, url)
}
