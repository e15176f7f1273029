// Package privileges fixes the ownership of the data directory and drops
// root privileges before Synapse is executed.
package privileges

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"syscall"

	"github.com/synapse-image/synapse-image/rootfs/internal/safefs"
)

// Owner returns the uid and gid owning path.
func Owner(path string) (uid, gid int, err error) {
	fi, err := os.Lstat(path)
	if err != nil {
		return 0, 0, err
	}
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return 0, 0, fmt.Errorf("%s: no owner information", path)
	}
	return int(st.Uid), int(st.Gid), nil
}

// NeedsChown reports whether path exists and is not owned by uid:gid.
func NeedsChown(path string, uid, gid int) (bool, error) {
	u, g, err := Owner(path)
	if errors.Is(err, fs.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	return u != uid || g != gid, nil
}

// NeedsChownIn is NeedsChown for name inside root, not following a
// symbolic link at name nor any out of root.
func NeedsChownIn(root *os.Root, name string, uid, gid int) (bool, error) {
	fi, err := root.Lstat(name)
	if errors.Is(err, fs.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return false, fmt.Errorf("%s: no owner information", name)
	}
	return int(st.Uid) != uid || int(st.Gid) != gid, nil
}

// ChownTree makes everything in root (inclusive) owned by uid:gid, without
// following symbolic links and never leaving root, however its entries
// change meanwhile (each entry is checked and changed through one
// descriptor: safefs.Lchown). A non-directory with several links stops
// the walk: it may be a hard link to a file of root's. It returns how many
// entries it changed. root itself is changed last: its owner is what says
// the tree is done, so a walk that is stopped (ctx, a failure) is started
// again at the next start instead of being taken as finished.
func ChownTree(ctx context.Context, root *os.Root, uid, gid int) (int, error) {
	n := 0
	change := func(name string) error {
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("stopped: %w", err)
		}
		changed, err := safefs.Lchown(root, name, uid, gid)
		if changed {
			n++
		}
		return err
	}
	err := fs.WalkDir(root.FS(), ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if p == "." {
			return nil
		}
		return change(p)
	})
	if err == nil {
		err = change(".")
	}
	if err != nil {
		return n, fmt.Errorf("change owner of %s to %d:%d: %w", root.Name(), uid, gid, err)
	}
	return n, nil
}

// Drop switches the process (all threads) to uid:gid with gid as its only
// group, as gosu does for a numeric user.
func Drop(uid, gid int) error {
	if err := syscall.Setgroups([]int{gid}); err != nil {
		return fmt.Errorf("setgroups(%d): %w", gid, err)
	}
	if err := syscall.Setgid(gid); err != nil {
		return fmt.Errorf("setgid(%d): %w", gid, err)
	}
	if err := syscall.Setuid(uid); err != nil {
		return fmt.Errorf("setuid(%d): %w", uid, err)
	}
	return nil
}

// Writable checks that the current user may create files in dir.
func Writable(dir string) error {
	fi, err := os.Stat(dir)
	if err != nil {
		return err
	}
	if !fi.IsDir() {
		return fmt.Errorf("%s is not a directory", dir)
	}
	// access(2) with W_OK|X_OK: what creating a file needs.
	if err := syscall.Access(dir, 0x2|0x1); err != nil {
		return err
	}
	return nil
}
