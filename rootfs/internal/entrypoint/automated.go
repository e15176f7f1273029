package entrypoint

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/synapse-image/synapse-image/rootfs/internal/appservices"
	"github.com/synapse-image/synapse-image/rootfs/internal/atomicfile"
	"github.com/synapse-image/synapse-image/rootfs/internal/config"
	"github.com/synapse-image/synapse-image/rootfs/internal/env"
	"github.com/synapse-image/synapse-image/rootfs/internal/pgwait"
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
		// Read without following a link out of the data directory: a
		// form.key linked to /etc/shadow would put the shadow file into
		// the config, which the Synapse user reads.
		b, err := readInData(st.Common, f.path)
		exists := !errors.Is(err, fs.ErrNotExist)
		if err != nil && exists {
			return nil, badf("%s: %v (/start does not follow symbolic links out of the data directory)", f.what, err)
		}
		v, err := secrets.Parse(f.path, b)
		if exists && err != nil {
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
	if err := s.prepareDataDir(ctx, st.Common, p.ownedFiles()...); err != nil {
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
	if err := atomicfile.WriteReplace(hsPath, out, 0o600); err != nil {
		return "", err
	}
	if err := atomicfile.WriteReplace(logPath, logOut, 0o644); err != nil {
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

// ownedFiles are the files of automated mode that Synapse reads.
func (p *plan) ownedFiles() []string {
	f := p.files
	gen := config.GeneratedDir(p.settings.DataDir)
	files := []string{f.SigningKey, f.Registration, f.Macaroon, f.Form, f.TLSCert, f.TLSKey,
		gen, filepath.Join(gen, "homeserver.yaml"), filepath.Join(gen, "log.config")}
	return append(files, p.appServices...)
}
