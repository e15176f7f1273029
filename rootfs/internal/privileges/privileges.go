// Package privileges fixes the ownership of the data directory and drops
// root privileges before Synapse is executed.
package privileges

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"
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

// ChownTree makes everything below root (inclusive) owned by uid:gid,
// without following symbolic links. It returns how many entries it changed.
func ChownTree(root string, uid, gid int) (int, error) {
	n := 0
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if u, g, err := Owner(p); err == nil && u == uid && g == gid {
			return nil
		}
		if err := os.Lchown(p, uid, gid); err != nil {
			return err
		}
		n++
		return nil
	})
	if err != nil {
		return n, fmt.Errorf("change owner of %s to %d:%d: %w", root, uid, gid, err)
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
