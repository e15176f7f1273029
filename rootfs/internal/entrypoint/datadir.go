package entrypoint

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/synapse-image/synapse-image/rootfs/internal/env"
	"github.com/synapse-image/synapse-image/rootfs/internal/privileges"
	"github.com/synapse-image/synapse-image/rootfs/internal/safefs"
	"github.com/synapse-image/synapse-image/rootfs/internal/secrets"
)

// dataPath joins name to the data directory.
func dataPath(c env.Common, name string) string { return filepath.Join(c.DataDir, name) }

// systemDirs may not be the data directory: as root, /start gives the
// data directory to UID:GID.
var systemDirs = []string{"/", "/bin", "/boot", "/dev", "/etc", "/home", "/lib", "/lib32", "/lib64", "/opt",
	"/proc", "/root", "/run", "/sbin", "/srv", "/sys", "/tmp", "/usr", "/var"}

// checkCommon refuses settings that would make root give away what is not
// Synapse's: a system directory as data directory, or Synapse as root.
func checkCommon(c env.Common, euid int) error {
	dir := filepath.Clean(c.DataDir)
	under := func(d string) bool { return strings.HasPrefix(dir, d+"/") }
	if slices.Contains(systemDirs, dir) || under("/etc") || (under("/usr") && !under("/usr/local")) {
		return badf("SYNAPSE_DATA_DIR: %s is a system directory; its owner would become UID:GID: use a directory of its own (the default /data)", c.DataDir)
	}
	if euid == 0 && (c.UID == 0 || c.GID == 0) {
		return badf("UID/GID: %d:%d would run Synapse as root or with the root group, which can write what root owns: use another id (the default 991:991)", c.UID, c.GID)
	}
	return nil
}

// prepareDataDir makes sure the data directory exists and belongs to
// UID:GID when /start runs as root, or is writable when it does not, then
// drops privileges. It is the first step that writes, so it takes the
// lock of the data directory first (one server per data directory). files
// are the known files Synapse reads (keys, app services), fixed paths inside the data
// directory: each one is given to UID:GID when it belongs to someone else
// (e.g. copied in as root). A path outside the data directory is never
// touched as root.
//
// dirs are directories the environment names for Synapse's data outside
// the data directory (SYNAPSE_CONFIG__MEDIA_STORE_PATH=/media, a volume of
// its own): the operator's paths, so root makes them and gives them to
// UID:GID like media/ (only when their owner differs; never through a
// link inside them). Those inside the data directory are left to the
// Synapse user.
func (s *starter) prepareDataDir(ctx context.Context, c env.Common, dirs []string, files ...string) error {
	if err := checkCommon(c, s.sys.Euid); err != nil {
		return err
	}
	if s.sys.Euid != 0 {
		if v, ok := s.sys.Env.Lookup("UID"); ok && v != "" && v != strconv.Itoa(s.sys.Euid) {
			s.logf("started as uid %d, not root: UID/GID are ignored, files are created as this user", s.sys.Euid)
		}
		if err := writable(c.DataDir); err != nil {
			return err
		}
		return s.lockDataDir(c)
	}
	// The data directory is found from "/" without following a link, and
	// only below directories that root alone can change; everything below
	// it is the Synapse user's, so root works there only through os.Root:
	// no symbolic link (in /data, in media/, anywhere) leads it out.
	root, err := s.openData(c, true)
	if err != nil {
		return err
	}
	defer root.Close()
	// The path is checked: lock the directory it names before writing.
	if err := s.lockDataDir(c); err != nil {
		return err
	}
	// media/ and uploads/ are created before the ownership check so that
	// they belong to UID:GID too.
	for _, d := range []string{"media", "uploads"} {
		if err := root.Mkdir(d, 0o750); err != nil && !errors.Is(err, fs.ErrExist) {
			return fmt.Errorf("create %s: %w", dataPath(c, d), err)
		}
	}
	// The directories the environment names first: one found unsafe stops
	// /start before it changes any owner.
	for _, d := range dirs {
		if _, in := inData(c, d); in || !filepath.IsAbs(d) {
			continue
		}
		if err := s.ownDir(ctx, c, d); err != nil {
			return err
		}
	}
	if err := s.fixOwnership(ctx, c, root, files); err != nil {
		return err
	}
	if err := s.sys.Drop(c.UID, c.GID); err != nil {
		return fmt.Errorf("drop privileges to %d:%d: %w", c.UID, c.GID, err)
	}
	return nil
}

// fixOwnership gives the data directory to UID:GID, recursively but only
// when its owner differs (first start, or a changed UID); media/ and
// uploads/ are checked on their own, as they may be separate volumes.
func (s *starter) fixOwnership(ctx context.Context, c env.Common, root *os.Root, files []string) error {
	for _, d := range []string{".", "media", "uploads"} {
		need, err := privileges.NeedsChownIn(root, d, c.UID, c.GID)
		if err != nil {
			return fmt.Errorf("check owner of %s: %w", dataPath(c, d), err)
		}
		if !need {
			continue
		}
		fi, err := root.Lstat(d)
		if err != nil {
			return err
		}
		if !fi.IsDir() {
			return badf("%s is not a directory (a symbolic link?): /start does not follow links in the data directory as root", dataPath(c, d))
		}
		sub, err := root.OpenRoot(d)
		if err != nil {
			return fmt.Errorf("open %s: %w", dataPath(c, d), err)
		}
		u, g := ownerOf(fi)
		s.logf("changing owner of %s from %d:%d to %d:%d (first start or a changed UID/GID)", dataPath(c, d), u, g, c.UID, c.GID)
		start := time.Now()
		n, err := privileges.ChownTree(ctx, sub, c.UID, c.GID)
		sub.Close()
		if fe := (*safefs.FileError)(nil); errors.As(err, &fe) {
			return bad(err)
		}
		if err != nil {
			return err
		}
		s.logf("changed owner of %d entries in %s", n, time.Since(start).Round(time.Microsecond))
	}
	for _, f := range files {
		rel, ok := inData(c, f)
		if !ok {
			continue // not below the data directory: not root's business
		}
		changed, err := safefs.Lchown(root, rel, c.UID, c.GID)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		var fe *safefs.FileError
		if errors.As(err, &fe) {
			return bad(err)
		}
		if err != nil {
			return fmt.Errorf("change owner of %s: %w", f, err)
		}
		if changed {
			s.logf("changing owner of %s to %d:%d", f, c.UID, c.GID)
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

// inData returns path relative to the data directory, or false when it is
// not below it.
func inData(c env.Common, path string) (string, bool) {
	rel, err := filepath.Rel(c.DataDir, path)
	if err != nil || rel == ".." || strings.HasPrefix(rel, "../") {
		return "", false
	}
	return rel, true
}

// openData opens the data directory (creating it when create is set) as
// safefs does: as root, a link on the way to it, or an ancestor another
// user can change, is refused with one line. A missing directory is
// fs.ErrNotExist when create is not set.
func (s *starter) openData(c env.Common, create bool) (*os.Root, error) {
	asRoot := s.sys.Euid == 0
	var root *os.Root
	var err error
	if create {
		root, err = safefs.MkdirAll(c.DataDir, asRoot, 0o750)
	} else {
		root, err = safefs.OpenDir(c.DataDir, asRoot)
	}
	var ue *safefs.UnsafeError
	if errors.As(err, &ue) {
		return nil, badf("SYNAPSE_DATA_DIR: %v; mount the volume at the data directory itself (the default /data), or make the directories above it root's (chown 0:0, no write for others)", err)
	}
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("open data directory: %w", err)
	}
	return root, err
}

// readInData reads path, at most limit bytes. Below the data directory,
// whose content the Synapse user controls, it reads through safefs: never
// through a link out of it, never a FIFO, device or hard-linked file, so
// root never reads, say, /etc/shadow through a link planted there, nor
// hangs on a FIFO.
func (s *starter) readInData(c env.Common, path string, limit int64) ([]byte, error) {
	rel, ok := inData(c, path)
	if !ok {
		return os.ReadFile(path)
	}
	root, err := s.openData(c, false)
	if err != nil {
		return nil, err
	}
	defer root.Close()
	b, err := safefs.ReadFile(root, rel, limit)
	var fe *safefs.FileError
	if errors.As(err, &fe) {
		return nil, bad(err)
	}
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	return b, nil
}

// existsInData reports whether path exists, without following a link at
// it or out of the data directory (any error but "not exist" counts as
// existing, so nothing is replaced by mistake).
func (s *starter) existsInData(c env.Common, path string) bool {
	rel, ok := inData(c, path)
	if !ok {
		return secrets.Exists(path)
	}
	root, err := s.openData(c, false)
	if err != nil {
		return !errors.Is(err, fs.ErrNotExist)
	}
	defer root.Close()
	_, err = root.Lstat(rel)
	return !errors.Is(err, fs.ErrNotExist)
}

func ownerOf(fi fs.FileInfo) (uid, gid int) {
	if st, ok := fi.Sys().(*syscall.Stat_t); ok {
		return int(st.Uid), int(st.Gid)
	}
	return -1, -1
}

// ownDir makes dir (outside the data directory, named by the environment)
// and gives it to UID:GID when its owner differs, through os.Root.
func (s *starter) ownDir(ctx context.Context, c env.Common, dir string) error {
	// The operator's path, but found like the data directory: no link on
	// the way, no ancestor another user can change.
	root, err := safefs.MkdirAll(dir, s.sys.Euid == 0, 0o750)
	var ue *safefs.UnsafeError
	if errors.As(err, &ue) {
		return badf("%v; use a directory whose parents only root can change", err)
	}
	if err != nil {
		return fmt.Errorf("create %s: %w", dir, err)
	}
	defer root.Close()
	need, err := privileges.NeedsChownIn(root, ".", c.UID, c.GID)
	if err != nil || !need {
		return err
	}
	fi, err := root.Lstat(".")
	if err != nil {
		return err
	}
	u, g := ownerOf(fi)
	s.logf("changing owner of %s from %d:%d to %d:%d (named by the environment for Synapse's data)", dir, u, g, c.UID, c.GID)
	start := time.Now()
	n, err := privileges.ChownTree(ctx, root, c.UID, c.GID)
	if err != nil {
		return err
	}
	s.logf("changed owner of %d entries in %s", n, time.Since(start).Round(time.Microsecond))
	return nil
}

// dataSafeEnv is the environment with its _FILE reader confined: a _FILE
// path inside the data directory is read without following a link out of
// it (SYNAPSE_FORM_SECRET_FILE=/data/form linked to /etc/shadow would put
// the shadow file into the config, which the Synapse user reads).
func (s *starter) dataSafeEnv(c env.Common) env.Source {
	src := s.sys.Env
	read := src.ReadFile
	src.ReadFile = func(path string) ([]byte, error) {
		if _, in := inData(c, path); in && filepath.IsAbs(path) {
			return s.readInData(c, path, safefs.ValueLimit)
		}
		return read(path)
	}
	return src
}
