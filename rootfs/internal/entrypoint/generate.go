package entrypoint

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/synapse-image/synapse-image/internal/atomicfile"
	"github.com/synapse-image/synapse-image/rootfs/internal/config"
	"github.com/synapse-image/synapse-image/rootfs/internal/overrides"
	"github.com/synapse-image/synapse-image/rootfs/internal/secrets"
)

// generate writes a commented homeserver.yaml for hand editing, plus keys
// and secrets. It never overwrites an existing config or log config.
func (s *starter) generate(ctx context.Context) error {
	p, err := s.load()
	if err != nil {
		return err
	}
	st := p.settings
	cfgPath := st.ConfigPath
	if cfgPath == "" {
		cfgPath = filepath.Join(st.DataDir, "homeserver.yaml")
	}
	if s.existsInData(st.Common, cfgPath) {
		return s.generateExisting(ctx, cfgPath, p)
	}
	logPath := filepath.Join(filepath.Dir(cfgPath), st.ServerName+".log.config")
	if err := s.prepareDataDir(ctx, st.Common, p.trusted, p.ownedFiles()...); err != nil {
		return err
	}
	frags, err := s.fragments(st.Common)
	if err != nil {
		return err
	}
	layers := append(frags, p.vars...)
	if _, _, err := s.generated(p, logPath, layers); err != nil {
		return err // a bad fragment: nothing created yet
	}
	if err := os.MkdirAll(filepath.Dir(cfgPath), 0o750); err != nil {
		return fmt.Errorf("create directory of %s: %w", cfgPath, err)
	}
	if err := s.createSecrets(p); err != nil {
		return err
	}
	out, changes, err := s.generated(p, logPath, layers)
	if err != nil {
		return err
	}
	s.reportGeneric(layers, changes)
	final, err := config.ParseManual(cfgPath, out)
	if err != nil {
		return bad(err)
	}
	if err := s.createKeys(p, final); err != nil {
		return err
	}
	if !secrets.Exists(logPath) {
		logOut, err := config.Marshal("# Logging of Synapse (Python logging dictConfig), written by /start generate.\n", config.BuildLog(st.LogLevel, st.LogFormat))
		if err != nil {
			return err
		}
		if err := atomicfile.WriteNew(logPath, logOut, 0o644); err != nil {
			return err
		}
		s.logf("wrote %s", logPath)
	}
	if err := atomicfile.WriteNew(cfgPath, out, 0o600); err != nil {
		return err
	}
	s.logf("wrote %s: edit it, then run with SYNAPSE_CONFIG_PATH=%s", cfgPath, cfgPath)
	return nil
}

// generated is the commented config of generate mode, with the generic
// settings applied.
func (s *starter) generated(p *plan, logPath string, layers []overrides.Layer) ([]byte, []overrides.Change, error) {
	doc, err := config.Commented(s.homeserver(p, logPath))
	if err != nil {
		return nil, nil, err
	}
	changes, err := overrides.Apply(doc, layers, claims(s.sys.Env))
	if err != nil {
		return nil, nil, bad(err)
	}
	out, err := config.Marshal(config.GenerateHeader, doc)
	return out, changes, err
}

// generateExisting only creates the keys an existing config names.
func (s *starter) generateExisting(ctx context.Context, cfgPath string, p *plan) error {
	// The existing config may have been edited by the Synapse user: it is
	// read, and the files it names are created, only as that user.
	if err := s.prepareDataDir(ctx, p.settings.Common, nil); err != nil {
		return err
	}
	m, err := s.readManualAt(p.settings.Common, cfgPath)
	if err != nil {
		return err
	}
	created := 0
	if m.SigningKeyPath != "" && !secrets.Exists(m.SigningKeyPath) {
		if err := s.createSigningKey(m.SigningKeyPath); err != nil {
			return err
		}
		created++
	}
	if m.TLSCertPath != "" && m.TLSKeyPath != "" && !secrets.Exists(m.TLSCertPath) && !secrets.Exists(m.TLSKeyPath) {
		crt, key, err := secrets.NewTLSPair(m.ServerName, s.sys.Rand, s.sys.Now())
		if err != nil {
			return err
		}
		if err := atomicfile.WriteNew(m.TLSKeyPath, key, secrets.Mode); err != nil {
			return err
		}
		if err := atomicfile.WriteNew(m.TLSCertPath, crt, 0o644); err != nil {
			return err
		}
		s.logf("created a self-signed TLS pair %s, %s", m.TLSCertPath, m.TLSKeyPath)
		created += 2
	}
	s.logf("%s exists and was not changed; created %d missing key file(s)", cfgPath, created)
	return nil
}
