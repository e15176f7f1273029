package entrypoint

import (
	"github.com/synapse-image/synapse-image/rootfs/internal/atomicfile"
	"github.com/synapse-image/synapse-image/rootfs/internal/secrets"
)

// create makes the missing secrets and keys (as the user Synapse runs as).
func (s *starter) create(p *plan) error {
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
