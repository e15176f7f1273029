package dockertest

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
	"testing"
)

// HostDir creates a folder on the host for bind-mounting as /data. The
// container changes its owner, so it is removed with the help of a container
// when the test process cannot remove it itself (not root).
func HostDir(t testing.TB, image string) string {
	t.Helper()
	dir, err := os.MkdirTemp("", Prefix+"data-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := os.RemoveAll(dir); err == nil {
			return
		}
		ctx, cancel := cleanupContext()
		defer cancel()
		if _, err := Docker(ctx, "run", "--rm", "--user", "0:0", "--entrypoint", "find",
			"--volume", dir+":/cleanup", image, "/cleanup", "-mindepth", "1", "-delete"); err != nil {
			t.Logf("cleanup of %s: %v", dir, err)
		}
		_ = os.RemoveAll(dir)
	})
	return dir
}

// Entry is what a snapshot records of one path.
type Entry struct {
	Mode     fs.FileMode
	UID, GID uint32
	Size     int64
	SHA256   string // files only
	Link     string // symlinks only
}

func (e Entry) String() string {
	s := fmt.Sprintf("%v %d:%d", e.Mode, e.UID, e.GID)
	if e.Mode.IsRegular() {
		s += fmt.Sprintf(" %d bytes sha256:%.12s", e.Size, e.SHA256)
	}
	if e.Link != "" {
		s += " -> " + e.Link
	}
	return s
}

// Snapshot records every path under dir (relative, "." for dir itself) with
// its mode, owner, size and content hash.
func Snapshot(dir string) (map[string]Entry, error) {
	snap := map[string]Entry{}
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		info, err := os.Lstat(path)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, path)
		e := Entry{Mode: info.Mode(), Size: info.Size()}
		if st, ok := info.Sys().(*syscall.Stat_t); ok {
			e.UID, e.GID = st.Uid, st.Gid
		}
		switch {
		case info.Mode().IsRegular():
			b, err := os.ReadFile(path)
			if err != nil {
				return err
			}
			sum := sha256.Sum256(b)
			e.SHA256 = hex.EncodeToString(sum[:])
		case info.Mode()&fs.ModeSymlink != 0:
			e.Link, _ = os.Readlink(path)
		case info.IsDir():
			e.Size = 0 // directory sizes change with entries that come and go
		}
		snap[rel] = e
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("snapshot of %s: %w", dir, err)
	}
	return snap, nil
}

// DiffSnapshots describes the differences between two snapshots, one line
// per path, sorted; empty means equal.
func DiffSnapshots(before, after map[string]Entry) string {
	var lines []string
	for p, b := range before {
		a, ok := after[p]
		switch {
		case !ok:
			lines = append(lines, "removed "+p)
		case a != b:
			lines = append(lines, fmt.Sprintf("changed %s: %s => %s", p, b, a))
		}
	}
	for p, a := range after {
		if _, ok := before[p]; !ok {
			lines = append(lines, fmt.Sprintf("created %s: %s", p, a))
		}
	}
	sort.Strings(lines)
	return strings.Join(lines, "\n")
}

// Owners lists the paths under dir whose owner is not uid:gid.
func Owners(dir string, uid, gid uint32) ([]string, error) {
	snap, err := Snapshot(dir)
	if err != nil {
		return nil, err
	}
	var wrong []string
	for p, e := range snap {
		if e.UID != uid || e.GID != gid {
			wrong = append(wrong, fmt.Sprintf("%s (%d:%d)", p, e.UID, e.GID))
		}
	}
	sort.Strings(wrong)
	return wrong, nil
}
