package entrypoint

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/synapse-image/synapse-image/internal/atomicfile"
	"github.com/synapse-image/synapse-image/rootfs/internal/datalock"
	"github.com/synapse-image/synapse-image/rootfs/internal/env"
)

// lockDataDir takes the one-server-per-data-directory lock before /start
// writes anything in it (docs/start.md#one-server-per-data-directory).
// Two servers on one /data would both write the same SQLite database,
// media store and keys, and damage them silently.
func (s *starter) lockDataDir(c env.Common) error {
	// Only the main process serves the data directory; workers share it
	// (for the main's keys) and run beside it (docs/start.md).
	if _, worker, err := env.WorkerInstance(s.sys.Env); err != nil || worker {
		return err
	}
	l, err := datalock.Acquire(c.DataDir)
	switch {
	case err == nil:
		s.lock = l
		return nil
	case errors.Is(err, datalock.ErrBusy):
		holder := ""
		if data, err := s.openData(c, false); err == nil {
			holder = datalock.ReadHolder(data)
			data.Close()
		}
		if holder == "" {
			holder = "holder unknown"
		}
		return badf("SYNAPSE_DATA_DIR: %s is in use by another Synapse (%s): one server per data directory; stop the other container first, or give this one a data directory of its own", c.DataDir, holder)
	case errors.Is(err, datalock.ErrUnsupported):
		s.logf("warning: SYNAPSE_DATA_DIR: %v: a second server on this data directory would not be refused", err)
		return nil
	default:
		return fmt.Errorf("SYNAPSE_DATA_DIR: %w", err)
	}
}

// writeHolder names this container as the holder of the lock, for a start
// that is refused; it runs as the Synapse user (the file is theirs).
func (s *starter) writeHolder(c env.Common) error {
	if s.lock == nil {
		return nil
	}
	host, err := os.Hostname()
	if err != nil {
		host = "unknown"
	}
	path := filepath.Join(c.DataDir, datalock.HolderFile)
	return atomicfile.WriteReplace(path, []byte(datalock.Holder(host, s.sys.Now())), 0o644)
}

// keepLockOnExec hands the lock to Synapse: its descriptor stays open
// across the exec, so the lock lasts as long as Synapse runs.
func (s *starter) keepLockOnExec() error {
	if s.lock == nil {
		return nil
	}
	return s.lock.KeepOnExec()
}
