package entrypoint

import (
	"context"
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"

	"github.com/synapse-image/synapse-image/rootfs/internal/config"
	"github.com/synapse-image/synapse-image/rootfs/internal/env"
	"github.com/synapse-image/synapse-image/rootfs/internal/health"
)

// health probes Synapse's /health on the first plain-HTTP listener of the
// config: the hand-written one in manual mode, else the one run wrote
// (generic settings may have moved the port). Then what Synapse needs to
// serve: its database and room on the data directory (health_resources.go).
func (s *starter) health(ctx context.Context) error {
	url, db := config.HealthURL(), ""
	if p := s.sys.Env.String("SYNAPSE_CONFIG_PATH"); p != "" {
		m, err := config.ReadManual(p)
		if err != nil {
			return err
		}
		url, db = m.HealthURL, m.DBAddress
	} else if c, err := env.LoadCommon(s.sys.Env); err == nil {
		// The generated config is written by the Synapse user and health
		// runs as root (docker exec): read it without following links
		// out of the data directory, and never block on a FIFO.
		rel := filepath.Join("generated", "homeserver.yaml")
		b, err := readInDataDir(c.DataDir, rel, 4<<20)
		switch {
		case err == nil:
			m, err := config.ParseManual(filepath.Join(c.DataDir, rel), b)
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

// readInDataDir reads the regular file rel of dataDir, up to limit bytes,
// through os.Root (no link leads out of dataDir) and without blocking.
func readInDataDir(dataDir, rel string, limit int64) ([]byte, error) {
	root, err := os.OpenRoot(dataDir)
	if err != nil {
		return nil, err
	}
	defer root.Close()
	f, err := root.OpenFile(rel, os.O_RDONLY|syscall.O_NONBLOCK, 0)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if !fi.Mode().IsRegular() {
		return nil, &fs.PathError{Op: "read", Path: filepath.Join(dataDir, rel), Err: errors.New("not a regular file")}
	}
	return io.ReadAll(io.LimitReader(f, limit))
}
