package entrypoint

import (
	"context"
	"errors"
	"io/fs"
	"path/filepath"

	"github.com/synapse-image/synapse-image/rootfs/internal/config"
	"github.com/synapse-image/synapse-image/rootfs/internal/health"
	"github.com/synapse-image/synapse-image/rootfs/internal/safefs"
)

// health probes Synapse's /health on the first plain-HTTP listener of the
// config: the hand-written one in manual mode, else the one run wrote
// (generic settings may have moved the port). Then what Synapse needs to
// serve: its database and room on the data directory (health_resources.go).
// It runs as root (Docker's health check) at every interval: both configs
// are read through safefs (in the data directory, the Synapse user's: no
// link out of it, never a FIFO, a device such as /dev/zero or a hard link,
// at most safefs.ConfigLimit bytes).
func (s *starter) health(ctx context.Context) error {
	url, db := config.HealthURL(), ""
	c, err := s.common(false)
	switch {
	case err != nil:
		// The probe still tries the image's default listener.
	case c.ConfigPath != "":
		m, err := s.readManual(c)
		if err != nil {
			return err
		}
		url, db = m.HealthURL, m.DBAddress
	default:
		path := filepath.Join(config.GeneratedDir(c.DataDir), "homeserver.yaml")
		b, err := s.readInData(c, path, safefs.ConfigLimit)
		switch {
		case err == nil:
			m, err := config.ParseManual(path, b)
			if err != nil {
				return err
			}
			url, db = m.HealthURL, m.DBAddress
		case !errors.Is(err, fs.ErrNotExist):
			return err
		}
	}
	if err := health.Check(ctx, url); err != nil {
		return err
	}
	return s.healthResources(ctx, db)
}
