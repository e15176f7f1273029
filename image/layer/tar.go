// Package layer writes image layers as deterministic tar streams (sorted
// entries, clamped modification times, numeric owners, no access or change
// times) and stores them gzip-compressed with their digests.
package layer

import (
	"archive/tar"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"time"
)

// Entry is one file, directory or symlink of a layer written from memory.
type Entry struct {
	Path     string // absolute path in the image, e.g. /start
	Mode     fs.FileMode
	UID, GID int
	Data     []byte // regular files
	Target   string // symlinks
}

// WriteEntries writes entries as a tar stream, sorted by path, every
// modification time set to epoch.
func WriteEntries(w io.Writer, entries []Entry, epoch time.Time) error {
	sorted := slices.Clone(entries)
	slices.SortFunc(sorted, func(a, b Entry) int { return strings.Compare(a.Path, b.Path) })
	tw := tar.NewWriter(w)
	for _, e := range sorted {
		h := &tar.Header{
			Name:    strings.TrimPrefix(e.Path, "/"),
			Mode:    tarMode(e.Mode),
			Uid:     e.UID,
			Gid:     e.GID,
			ModTime: epoch.UTC().Truncate(time.Second),
		}
		switch {
		case e.Mode.IsDir():
			h.Typeflag = tar.TypeDir
			h.Name += "/"
		case e.Mode&fs.ModeSymlink != 0:
			h.Typeflag = tar.TypeSymlink
			h.Linkname = e.Target
		case e.Mode.IsRegular():
			h.Typeflag = tar.TypeReg
			h.Size = int64(len(e.Data))
		default:
			return fmt.Errorf("layer entry %s: unsupported mode %v", e.Path, e.Mode)
		}
		if err := tw.WriteHeader(h); err != nil {
			return fmt.Errorf("layer entry %s: %w", e.Path, err)
		}
		if h.Typeflag == tar.TypeReg {
			if _, err := tw.Write(e.Data); err != nil {
				return fmt.Errorf("layer entry %s: %w", e.Path, err)
			}
		}
	}
	return tw.Close()
}

// tarMode keeps permission and set-id/sticky bits in their tar encoding.
func tarMode(m fs.FileMode) int64 {
	v := int64(m.Perm())
	if m&fs.ModeSetuid != 0 {
		v |= 0o4000
	}
	if m&fs.ModeSetgid != 0 {
		v |= 0o2000
	}
	if m&fs.ModeSticky != 0 {
		v |= 0o1000
	}
	return v
}

// DirOptions controls WriteDir.
type DirOptions struct {
	// Epoch clamps modification times: later ones become Epoch, earlier
	// ones (e.g. files as shipped in a .deb) are kept, so Python's bytecode
	// caches, which record their source's mtime, stay valid.
	Epoch time.Time
	// Remove lists globs (see Match) of paths left out, with everything below.
	Remove []string
	// Keep, when not nil, is called for every path written.
	Keep func(p string, info fs.FileInfo)
}

// DirStats says what WriteDir wrote and what each Remove glob left out.
type DirStats struct {
	Files   int
	Bytes   int64            // sizes of the regular files written
	Removed map[string]int64 // glob → bytes of regular files left out
}

// WriteDir writes the tree at root as a tar stream: entries in lexical
// order, owners and modes as on disk, hard links kept as links, sockets and
// the contents of /dev, /proc, /sys, /run and /tmp left out.
func WriteDir(w io.Writer, root string, opt DirOptions) (DirStats, error) {
	stats := DirStats{Removed: map[string]int64{}}
	epoch := opt.Epoch.UTC().Truncate(time.Second)
	tw := tar.NewWriter(w)
	type inode struct{ dev, ino uint64 }
	links := map[inode]string{}
	err := filepath.WalkDir(root, func(file string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(root, file)
		if err != nil {
			return err
		}
		if rel == "." {
			return nil
		}
		p := "/" + filepath.ToSlash(rel)
		if g, ok := matchAny(opt.Remove, p); ok {
			stats.Removed[g] += treeSize(file)
			if d.IsDir() {
				return filepath.SkipDir
			}
			return nil
		}
		if volatile(path.Dir(p)) || d.Type()&fs.ModeSocket != 0 {
			if d.IsDir() {
				return filepath.SkipDir
			}
			return nil
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		var link string
		if info.Mode()&fs.ModeSymlink != 0 {
			if link, err = os.Readlink(file); err != nil {
				return err
			}
		}
		h, err := tar.FileInfoHeader(info, link)
		if err != nil {
			return fmt.Errorf("%s: %w", p, err)
		}
		h.Name = strings.TrimPrefix(p, "/")
		if info.IsDir() {
			h.Name += "/"
		}
		h.Uname, h.Gname = "", ""
		h.AccessTime, h.ChangeTime = time.Time{}, time.Time{}
		h.ModTime = info.ModTime().UTC().Truncate(time.Second)
		if h.ModTime.After(epoch) {
			h.ModTime = epoch
		}
		h.Format = tar.FormatUnknown
		if st, ok := info.Sys().(*syscall.Stat_t); ok {
			h.Uid, h.Gid = int(st.Uid), int(st.Gid)
			if info.Mode().IsRegular() && st.Nlink > 1 {
				key := inode{uint64(st.Dev), uint64(st.Ino)}
				if first, ok := links[key]; ok {
					h.Typeflag = tar.TypeLink
					h.Linkname = first
					h.Size = 0
				} else {
					links[key] = h.Name
				}
			}
		}
		if err := tw.WriteHeader(h); err != nil {
			return fmt.Errorf("%s: %w", p, err)
		}
		if opt.Keep != nil {
			opt.Keep(p, info)
		}
		if h.Typeflag == tar.TypeReg {
			stats.Files++
			stats.Bytes += h.Size
			f, err := os.Open(file)
			if err != nil {
				return err
			}
			_, err = io.Copy(tw, f)
			f.Close()
			if err != nil {
				return fmt.Errorf("%s: %w", p, err)
			}
		}
		return nil
	})
	if err != nil {
		return stats, err
	}
	return stats, tw.Close()
}

// volatile directories are the container runtime's: their contents never
// belong in a layer.
func volatile(dir string) bool {
	switch dir {
	case "/dev", "/proc", "/sys", "/run", "/tmp", "/var/tmp":
		return true
	}
	return false
}

func matchAny(globs []string, p string) (string, bool) {
	for _, g := range globs {
		if Match(g, p) {
			return g, true
		}
	}
	return "", false
}

// treeSize is the total size of the regular files at or below file.
func treeSize(file string) int64 {
	var n int64
	_ = filepath.WalkDir(file, func(_ string, d fs.DirEntry, err error) error {
		if err == nil && d.Type().IsRegular() {
			if info, err := d.Info(); err == nil {
				n += info.Size()
			}
		}
		return nil
	})
	return n
}

// Match reports whether the absolute path p matches glob: elements are
// matched with path.Match, and a "**" element matches any number (also
// zero) of elements; a trailing "**" matches what is below a directory,
// not the directory itself.
func Match(glob, p string) bool {
	return matchElems(strings.Split(strings.Trim(glob, "/"), "/"), strings.Split(strings.Trim(p, "/"), "/"))
}

func matchElems(g, p []string) bool {
	for len(g) > 0 {
		if g[0] == "**" {
			if len(g) == 1 { // a trailing "**" is what is below, not the directory
				return len(p) > 0
			}
			for i := 0; i <= len(p); i++ {
				if matchElems(g[1:], p[i:]) {
					return true
				}
			}
			return false
		}
		if len(p) == 0 {
			return false
		}
		if ok, err := path.Match(g[0], p[0]); err != nil || !ok {
			return false
		}
		g, p = g[1:], p[1:]
	}
	return len(p) == 0
}
