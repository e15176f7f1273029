package entrypoint

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/synapse-image/synapse-image/internal/atomicfile"
	"github.com/synapse-image/synapse-image/rootfs/internal/config"
	"github.com/synapse-image/synapse-image/rootfs/internal/env"
	"github.com/synapse-image/synapse-image/rootfs/internal/safefs"
	"github.com/synapse-image/synapse-image/rootfs/internal/secrets"
)

// createSecrets makes the missing secret files (as the user Synapse runs as).
func (s *starter) createSecrets(p *plan) error {
	for _, f := range p.missing {
		v, err := secrets.NewHex(s.sys.Rand)
		if err != nil {
			return err
		}
		err = atomicfile.WriteNew(f.path, []byte(v), secrets.Mode)
		if errors.Is(err, fs.ErrExist) {
			// Another start made it first (generate and run at once):
			// its key is the one kept, so it is the one used.
			if v, err = s.readSecret(p.settings.Common, f); err != nil {
				return err
			}
			*f.dst = v
			s.logf("%s was created by another start meanwhile: using it", f.path)
			continue
		}
		if err != nil {
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
	err = atomicfile.WriteNew(path, key, secrets.Mode)
	if errors.Is(err, fs.ErrExist) {
		// Another start made it first: Synapse reads that one.
		s.logf("signing key %s was created by another start meanwhile: using it", path)
		return nil
	}
	if err != nil {
		return err
	}
	s.logf("created signing key %s", path)
	return nil
}

// readSecret reads the secret file f made by another start, through the
// same confined read as load.
func (s *starter) readSecret(c env.Common, f secretFile) (string, error) {
	b, err := s.readInData(c, f.path, safefs.SecretLimit)
	if err != nil {
		return "", fmt.Errorf("%s: %w", f.what, err)
	}
	v, err := secrets.Parse(f.path, b)
	if err != nil {
		return "", bad(err)
	}
	return v, nil
}
