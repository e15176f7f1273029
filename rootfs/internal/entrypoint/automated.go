package entrypoint

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/synapse-image/synapse-image/rootfs/internal/appservices"
	"github.com/synapse-image/synapse-image/rootfs/internal/config"
	"github.com/synapse-image/synapse-image/rootfs/internal/env"
	"github.com/synapse-image/synapse-image/rootfs/internal/pgwait"
	"github.com/synapse-image/synapse-image/rootfs/internal/privileges"
	"github.com/synapse-image/synapse-image/rootfs/internal/secrets"
)

// plan is everything automated mode learnt before writing anything.
type plan struct {
	settings    env.Settings
	files       config.Files
	appServices []string
	// secrets holds the values known so far; missing ones are created.
	secrets config.Secrets
	missing []secretFile
	// signing key and TLS pair to create.
	newSigningKey bool
	newTLS        bool
}

type secretFile struct {
	what string
	path string
	dst  *string
}

// load validates the environment and reads what exists in the data
// directory. It writes nothing; any error is bad input.
func (s *starter) load() (*plan, error) {
	st, err := env.Load(s.sys.Env)
	if err != nil {
		return nil, err
	}
	for _, w := range st.Warnings {
		s.logf("warning: %s", w)
	}
	p := &plan{settings: st, files: config.FilesFor(st.DataDir, st.ServerName)}
	if p.appServices, err = appservices.Find(dataPath(st.Common, "appservices")); err != nil {
		return nil, bad(err)
	}
	p.secrets = config.Secrets{
		RegistrationSharedSecret: st.RegistrationSharedSecret,
		MacaroonSecretKey:        st.MacaroonSecretKey,
		FormSecret:               st.FormSecret,
	}
	for _, f := range []secretFile{
		{"registration shared secret", p.files.Registration, &p.secrets.RegistrationSharedSecret},
		{"macaroon secret key", p.files.Macaroon, &p.secrets.MacaroonSecretKey},
		{"form secret", p.files.Form, &p.secrets.FormSecret},
	} {
		if *f.dst != "" {
			continue
		}
		v, exists, err := secrets.Read(f.path)
		if err != nil {
			return nil, bad(err)
		}
		if exists {
			*f.dst = v
		} else {
			p.missing = append(p.missing, f)
		}
	}
	p.newSigningKey = !secrets.Exists(p.files.SigningKey)
	if !st.NoTLS {
		crt, key := secrets.Exists(p.files.TLSCert), secrets.Exists(p.files.TLSKey)
		if crt != key {
			have, lack := p.files.TLSCert, p.files.TLSKey
			if key {
				have, lack = lack, have
			}
			return nil, badf("%s exists but %s does not: provide both, or remove %s to have a self-signed pair generated", have, lack, have)
		}
		p.newTLS = !crt
	}
	return p, nil
}

// create makes the missing secrets and keys (as the user Synapse runs as).
func (s *starter) create(p *plan) error {
	for _, f := range p.missing {
		v, err := secrets.NewHex(s.sys.Rand)
		if err != nil {
			return err
		}
		if err := secrets.WriteNew(f.path, []byte(v), secrets.Mode); err != nil {
			return err
		}
		*f.dst = v
		s.logf("created %s (%s)", f.path, f.what)
	}
	if p.newSigningKey {
		if err := s.createSigningKey(p.files.SigningKey); err != nil {
			return err
		}
	}
	if p.newTLS {
		crt, key, err := secrets.NewTLSPair(p.settings.Host(), s.sys.Rand, s.sys.Now())
		if err != nil {
			return err
		}
		if err := secrets.WriteNew(p.files.TLSKey, key, secrets.Mode); err != nil {
			return err
		}
		if err := secrets.WriteNew(p.files.TLSCert, crt, 0o644); err != nil {
			return err
		}
		s.logf("created a self-signed TLS pair %s, %s (replace it with a real certificate for federation on 8448)", p.files.TLSCert, p.files.TLSKey)
	}
	return nil
}

func (s *starter) createSigningKey(path string) error {
	key, err := secrets.NewSigningKey(s.sys.Rand)
	if err != nil {
		return err
	}
	if err := secrets.WriteNew(path, key, secrets.Mode); err != nil {
		return err
	}
	s.logf("created signing key %s", path)
	return nil
}

// homeserver builds the config of automated mode.
func (s *starter) homeserver(p *plan, logConfig string) config.HomeServer {
	return config.Build(config.Input{
		Settings:    p.settings,
		Secrets:     p.secrets,
		LogConfig:   logConfig,
		IPv6:        s.sys.HasIPv6(),
		AppServices: p.appServices,
	})
}

// check prints the config run would use, secrets masked; it writes nothing.
func (s *starter) check() error {
	c, err := env.LoadCommon(s.sys.Env)
	if err != nil {
		return err
	}
	if c.ConfigPath != "" {
		return s.checkManual(c)
	}
	p, err := s.load()
	if err != nil {
		return err
	}
	hs := s.homeserver(p, "")
	doc, err := config.Node(hs)
	if err != nil {
		return err
	}
	config.Mask(doc)
	out, err := config.Marshal("# The config /start run would write to "+filepath.Join(config.GeneratedDir(c.DataDir), "homeserver.yaml")+" (secrets masked).\n", doc)
	if err != nil {
		return err
	}
	_, err = s.sys.Stdout.Write(out)
	s.logf("automated mode: the environment is valid (%s)", summary(p))
	return err
}

func summary(p *plan) string {
	st := p.settings
	db := "SQLite"
	if st.Postgres != nil {
		db = "PostgreSQL at " + st.Postgres.Host
	}
	tls := "TLS on 8448"
	if st.NoTLS {
		tls = "no TLS"
	}
	return fmt.Sprintf("server %s, %s, %s, %d app services", st.ServerName, db, tls, len(p.appServices))
}

// runAutomated prepares /data and returns the config path to run Synapse with.
func (s *starter) runAutomated(ctx context.Context) (string, error) {
	start := time.Now()
	p, err := s.load()
	if err != nil {
		return "", err
	}
	st := p.settings
	if err := s.prepareDataDir(st.Common, p.ownedFiles()...); err != nil {
		return "", err
	}
	for _, d := range []string{"media", "uploads", "generated"} {
		if err := os.MkdirAll(dataPath(st.Common, d), 0o750); err != nil {
			return "", fmt.Errorf("create %s: %w", d, err)
		}
	}
	if err := s.create(p); err != nil {
		return "", err
	}
	gen := config.GeneratedDir(st.DataDir)
	hsPath, logPath := filepath.Join(gen, "homeserver.yaml"), filepath.Join(gen, "log.config")
	hs := s.homeserver(p, logPath)
	out, err := config.Marshal(config.Header, hs)
	if err != nil {
		return "", err
	}
	logOut, err := config.Marshal(config.Header, config.BuildLog(st.LogLevel))
	if err != nil {
		return "", err
	}
	// homeserver.yaml holds secrets: 0600 like the key files.
	if err := secrets.WriteReplace(hsPath, out, 0o600); err != nil {
		return "", err
	}
	if err := secrets.WriteReplace(logPath, logOut, 0o644); err != nil {
		return "", err
	}
	s.logf("automated mode: wrote %s (%s) in %s", hsPath, summary(p), time.Since(start).Round(time.Microsecond))
	if pg := st.Postgres; pg != nil {
		addr := net.JoinHostPort(pg.Host, strconv.Itoa(pg.Port))
		if err := pgwait.Wait(ctx, addr, pg.WaitTimeout, s.logf); err != nil {
			return "", err
		}
	}
	return hsPath, nil
}

// fixOwnership gives the data directory to UID:GID, recursively but only
// when its owner differs (first start, or a changed UID); media/ and
// uploads/ are checked on their own, as they may be separate volumes.
func (s *starter) fixOwnership(c env.Common, files []string) error {
	for _, dir := range []string{c.DataDir, dataPath(c, "media"), dataPath(c, "uploads")} {
		need, err := privileges.NeedsChown(dir, c.UID, c.GID)
		if err != nil {
			return fmt.Errorf("check owner of %s: %w", dir, err)
		}
		if !need {
			continue
		}
		u, g, _ := privileges.Owner(dir)
		s.logf("changing owner of %s from %d:%d to %d:%d (first start or a changed UID/GID)", dir, u, g, c.UID, c.GID)
		start := time.Now()
		n, err := privileges.ChownTree(dir, c.UID, c.GID)
		if err != nil {
			return err
		}
		s.logf("changed owner of %d entries in %s", n, time.Since(start).Round(time.Microsecond))
	}
	for _, f := range files {
		need, err := privileges.NeedsChown(f, c.UID, c.GID)
		if err != nil {
			return fmt.Errorf("check owner of %s: %w", f, err)
		}
		if need {
			s.logf("changing owner of %s to %d:%d", f, c.UID, c.GID)
			if err := os.Lchown(f, c.UID, c.GID); err != nil {
				return fmt.Errorf("change owner of %s: %w", f, err)
			}
		}
	}
	return nil
}

// ownedFiles are the files of automated mode that Synapse reads.
func (p *plan) ownedFiles() []string {
	f := p.files
	gen := config.GeneratedDir(p.settings.DataDir)
	files := []string{f.SigningKey, f.Registration, f.Macaroon, f.Form, f.TLSCert, f.TLSKey,
		gen, filepath.Join(gen, "homeserver.yaml"), filepath.Join(gen, "log.config")}
	return append(files, p.appServices...)
}

func writable(dir string) error {
	if err := privileges.Writable(dir); err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return badf("SYNAPSE_DATA_DIR: %s does not exist; mount a volume there (e.g. -v synapse-data:/data)", dir)
		}
		return badf("SYNAPSE_DATA_DIR: %s is not writable by uid %d gid %d (%v): make it writable for this user, or start the container as root and set UID/GID", dir, os.Geteuid(), os.Getegid(), err)
	}
	return nil
}
