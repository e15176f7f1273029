package entrypoint

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/synapse-image/synapse-image/rootfs/internal/env"
	"github.com/synapse-image/synapse-image/rootfs/internal/privileges"
)

// dataPath joins name to the data directory.
func dataPath(c env.Common, name string) string { return filepath.Join(c.DataDir, name) }

// prepareDataDir makes sure the data directory exists and belongs to
// UID:GID when /start runs as root, or is writable when it does not, then
// drops privileges. It is the first step that writes. files are the known
// files Synapse reads (keys, app services): each one is given to UID:GID
// when it belongs to someone else (e.g. copied in as root).
func (s *starter) prepareDataDir(c env.Common, files ...string) error {
	if s.sys.Euid != 0 {
		if v, ok := s.sys.Env.Lookup("UID"); ok && v != "" && v != strconv.Itoa(s.sys.Euid) {
			s.logf("started as uid %d, not root: UID/GID are ignored, files are created as this user", s.sys.Euid)
		}
		return writable(c.DataDir)
	}
	// media/ and uploads/ are created before the ownership check so that
	// they belong to UID:GID too.
	for _, d := range []string{c.DataDir, dataPath(c, "media"), dataPath(c, "uploads")} {
		if err := os.MkdirAll(d, 0o750); err != nil {
			return fmt.Errorf("create data directory: %w", err)
		}
	}
	if err := s.fixOwnership(c, files); err != nil {
		return err
	}
	if c.UID == 0 && c.GID == 0 {
		s.logf("warning: UID and GID are 0: Synapse runs as root")
		return nil
	}
	if err := s.sys.Drop(c.UID, c.GID); err != nil {
		return fmt.Errorf("drop privileges to %d:%d: %w", c.UID, c.GID, err)
	}
	return nil
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

func writable(dir string) error {
	if err := privileges.Writable(dir); err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return badf("SYNAPSE_DATA_DIR: %s does not exist; mount a volume there (e.g. -v synapse-data:/data)", dir)
		}
		return badf("SYNAPSE_DATA_DIR: %s is not writable by uid %d gid %d (%v): make it writable for this user, or start the container as root and set UID/GID", dir, os.Geteuid(), os.Getegid(), err)
	}
	return nil
}
