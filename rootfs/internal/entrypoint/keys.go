package entrypoint

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/synapse-image/synapse-image/internal/atomicfile"
	"github.com/synapse-image/synapse-image/rootfs/internal/config"
	"github.com/synapse-image/synapse-image/rootfs/internal/secrets"
)

// createSecrets makes the missing secret files (as the user Synapse runs as).
func (s *starter) createSecrets(p *plan) error {
	for _, f := range p.missing {
		v, err := secrets.NewHex(s.sys.Rand)
		if err != nil {
			return err
		}
		if err := atomicfile.WriteNew(f.path, []byte(v), secrets.Mode); err != nil {
			return err
		}
		*f.dst = v
		s.logf("created %s (%s)", f.path, f.what)
	}
	p.missing = nil
	return nil
}

// createKeys makes the signing key where the final config names it, and
// the self-signed TLS pair when the config still uses the image's paths
// for it (as the user Synapse runs as: the paths may come from conf.d).
func (s *starter) createKeys(p *plan, final config.Manual) error {
	if k := final.SigningKeyPath; k != "" && !secrets.Exists(k) {
		if err := os.MkdirAll(filepath.Dir(k), 0o750); err != nil {
			return fmt.Errorf("create the directory of the signing key: %w", err)
		}
		if err := s.createSigningKey(k); err != nil {
			return err
		}
	}
	if p.newTLS && final.TLSCertPath == p.files.TLSCert && final.TLSKeyPath == p.files.TLSKey {
		crt, key, err := secrets.NewTLSPair(p.settings.Host(), s.sys.Rand, s.sys.Now())
		if err != nil {
			return err
		}
		if err := atomicfile.WriteNew(p.files.TLSKey, key, secrets.Mode); err != nil {
			return err
		}
		if err := atomicfile.WriteNew(p.files.TLSCert, crt, 0o644); err != nil {
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
	if err := atomicfile.WriteNew(path, key, secrets.Mode); err != nil {
		return err
	}
	s.logf("created signing key %s", path)
	return nil
}
