// Package safefs is how /start, as root, opens and reads what the Synapse
// user (uid 991) controls: the data directory, found from "/" one component
// at a time without following a link, and the files below it, read
// without blocking, within a size limit, and only when they are regular
// files with a single link. Its owner changes use the same rules.
package safefs

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"

	"golang.org/x/sys/unix"
)

// Size limits of what root reads below the data directory, by kind of file.
const (
	SecretLimit       = 64 << 10 // key and secret files
	ValueLimit        = 1 << 20  // files named by _FILE variables
	RegistrationLimit = 1 << 20  // app service registrations
	FragmentLimit     = 1 << 20  // conf.d fragments
	ConfigLimit       = 4 << 20  // homeserver.yaml (manual or generated)
)

// UnsafeError says why a directory is not opened: a link on the way to
// it, or an ancestor someone other than root may change.
type UnsafeError struct {
	Path   string // the directory asked for
	At     string // the component at fault
	Reason string
}

func (e *UnsafeError) Error() string {
	if e.At == e.Path {
		return fmt.Sprintf("%s %s", e.Path, e.Reason)
	}
	return fmt.Sprintf("%s is below %s, which %s", e.Path, e.At, e.Reason)
}

// OpenDir opens the existing directory at the absolute path dir. As root
// (asRoot), every ancestor must be a directory that only root can change:
// otherwise its owner could swap the next component for a link between
// two starts, and root would follow it (SYNAPSE_DATA_DIR=/data/hs with
// /data owned by uid 991 once gave /etc to 991). No component is followed
// when it is a link, as root or not.
func OpenDir(dir string, asRoot bool) (*os.Root, error) {
	return open(dir, asRoot, false, 0)
}

// MkdirAll is OpenDir that first creates the missing components (the
// ancestors 0755, dir itself with perm).
func MkdirAll(dir string, asRoot bool, perm fs.FileMode) (*os.Root, error) {
	return open(dir, asRoot, true, perm)
}

func open(dir string, asRoot, create bool, perm fs.FileMode) (*os.Root, error) {
	if !filepath.IsAbs(dir) {
		return nil, fmt.Errorf("%s: not an absolute path", dir)
	}
	clean := filepath.Clean(dir)
	fd, err := unix.Open("/", unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, &fs.PathError{Op: "open", Path: "/", Err: err}
	}
	defer func() { unix.Close(fd) }()
	cur := "/"
	var parts []string
	if clean != "/" {
		parts = strings.Split(clean[1:], "/")
	}
	for i, name := range parts {
		if asRoot {
			if reason := ancestorProblem(fd); reason != "" {
				return nil, &UnsafeError{Path: clean, At: cur, Reason: reason}
			}
		}
		last := i == len(parts)-1
		next := filepath.Join(cur, name)
		nfd, err := unix.Openat(fd, name, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
		if errors.Is(err, unix.ENOENT) && create {
			mode := uint32(0o755)
			if last {
				mode = uint32(perm.Perm())
			}
			if err := unix.Mkdirat(fd, name, mode); err != nil && !errors.Is(err, unix.EEXIST) {
				return nil, &fs.PathError{Op: "mkdir", Path: next, Err: err}
			}
			nfd, err = unix.Openat(fd, name, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
		}
		if errors.Is(err, unix.ELOOP) || errors.Is(err, unix.ENOTDIR) {
			kind := "is a symbolic link or not a directory: /start does not follow links on the way to a directory it owns"
			if last {
				return nil, &UnsafeError{Path: clean, At: clean, Reason: kind}
			}
			return nil, &UnsafeError{Path: clean, At: next, Reason: kind}
		}
		if err != nil {
			return nil, &fs.PathError{Op: "open", Path: next, Err: err}
		}
		unix.Close(fd)
		fd, cur = nfd, next
	}
	var want unix.Stat_t
	if err := unix.Fstat(fd, &want); err != nil {
		return nil, &fs.PathError{Op: "stat", Path: clean, Err: err}
	}
	// The path is stable now (no ancestor can change under root), but the
	// root is opened by name once more: make sure it is what was checked.
	root, err := os.OpenRoot(clean)
	if err != nil {
		return nil, err
	}
	fi, err := root.Stat(".")
	if err != nil {
		root.Close()
		return nil, err
	}
	if st, ok := fi.Sys().(*syscall.Stat_t); !ok || uint64(st.Dev) != uint64(want.Dev) || st.Ino != want.Ino {
		root.Close()
		return nil, &UnsafeError{Path: clean, At: clean, Reason: "changed while it was opened"}
	}
	return root, nil
}

// ancestorProblem says why the directory fd is no safe ancestor for root,
// or "" when only root can change its entries.
func ancestorProblem(fd int) string {
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		return "cannot be checked: " + err.Error()
	}
	return ancestorRule(st.Uid, st.Gid, st.Mode)
}

// ancestorRule is the rule for a directory above one root works in: owned
// by root, and writable by no one else unless sticky (like /tmp, where
// others cannot rename or remove root's entries).
func ancestorRule(uid, gid, mode uint32) string {
	perm := mode & 0o7777
	sticky := perm&unix.S_ISVTX != 0
	switch {
	case uid != 0:
		return fmt.Sprintf("belongs to uid %d (mode %04o): it could replace what is below it with a link to a file of root's", uid, perm)
	case perm&0o002 != 0 && !sticky:
		return fmt.Sprintf("anyone can write (mode %04o): it could be replaced with a link", perm)
	case perm&0o020 != 0 && gid != 0 && !sticky:
		return fmt.Sprintf("group %d can write (mode %04o): it could be replaced with a link", gid, perm)
	}
	return ""
}

// FileError is a file below the data directory that root does not read
// or change: not a regular file, several links, or too large.
type FileError struct {
	Path   string
	Reason string // what is wrong: "not a regular file (a FIFO)"
	Advice string // what /start does about it, or what to do
}

func (e *FileError) Error() string {
	if e.Advice == "" {
		return e.Path + ": " + e.Reason
	}
	return e.Path + ": " + e.Reason + "; " + e.Advice
}

// ReadFile reads name in root: never out of root (os.Root: a link that
// stays inside is followed, as Kubernetes ConfigMaps need), opened without
// blocking (a FIFO), a regular file only (no FIFO, device or socket), with
// a single link (a hard link may be root's file), and at most limit bytes.
func ReadFile(root *os.Root, name string, limit int64) ([]byte, error) {
	path := filepath.Join(root.Name(), name)
	fi, err := root.Stat(name)
	if err != nil {
		return nil, err
	}
	if err := fileRule(path, fi, limit); err != nil {
		return nil, err
	}
	f, err := root.OpenFile(name, os.O_RDONLY|syscall.O_NONBLOCK|syscall.O_NOCTTY, 0)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	ofi, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if !os.SameFile(fi, ofi) {
		return nil, &FileError{Path: path, Reason: "changed while it was opened"}
	}
	if err := fileRule(path, ofi, limit); err != nil {
		return nil, err
	}
	b, err := io.ReadAll(io.LimitReader(f, limit+1))
	if err != nil {
		return nil, &fs.PathError{Op: "read", Path: path, Err: err}
	}
	if int64(len(b)) > limit {
		return nil, tooLarge(path, limit)
	}
	return b, nil
}

func fileRule(path string, fi fs.FileInfo, limit int64) error {
	if !fi.Mode().IsRegular() {
		return &FileError{Path: path, Reason: fmt.Sprintf("not a regular file (%s)", kindOf(fi.Mode())), Advice: "/start reads only regular files in the data directory"}
	}
	if n := nlink(fi); n > 1 {
		return &FileError{Path: path, Reason: fmt.Sprintf("has %d hard links", n), Advice: "it may be another file's (e.g. root's): /start does not read it (copy it to a file of its own)"}
	}
	if fi.Size() > limit {
		return tooLarge(path, limit)
	}
	return nil
}

func tooLarge(path string, limit int64) error {
	return &FileError{Path: path, Reason: fmt.Sprintf("larger than %d bytes", limit), Advice: "the limit for this kind of file"}
}

func kindOf(m fs.FileMode) string {
	switch {
	case m&fs.ModeNamedPipe != 0:
		return "a FIFO"
	case m&fs.ModeDevice != 0:
		return "a device"
	case m&fs.ModeSocket != 0:
		return "a socket"
	case m.IsDir():
		return "a directory"
	case m&fs.ModeSymlink != 0:
		return "a symbolic link"
	}
	return m.Type().String()
}

func nlink(fi fs.FileInfo) uint64 {
	if st, ok := fi.Sys().(*syscall.Stat_t); ok {
		return uint64(st.Nlink)
	}
	return 1
}

// Lchown gives name in root (never following a link at name or out of
// root) to uid:gid when its owner differs, and reports whether it did.
// The entry is opened once (O_PATH) and checked and changed through that
// descriptor, so it cannot be swapped in between; a non-directory with
// several links is refused (a hard link to /etc/shadow planted in /data
// would otherwise be given away).
func Lchown(root *os.Root, name string, uid, gid int) (bool, error) {
	path := filepath.Join(root.Name(), name)
	f, err := root.OpenFile(name, unix.O_PATH|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
	if err != nil {
		return false, err
	}
	defer f.Close()
	conn, err := f.SyscallConn()
	if err != nil {
		return false, err
	}
	changed := false
	var opErr error
	err = conn.Control(func(fd uintptr) {
		var st unix.Stat_t
		if opErr = unix.Fstat(int(fd), &st); opErr != nil {
			return
		}
		if st.Mode&unix.S_IFMT != unix.S_IFDIR && st.Nlink > 1 {
			opErr = &FileError{Path: path, Reason: fmt.Sprintf("has %d hard links", st.Nlink), Advice: "it may be another file's (e.g. root's): /start does not change its owner (copy it to a file of its own)"}
			return
		}
		if int(st.Uid) == uid && int(st.Gid) == gid {
			return
		}
		if opErr = unix.Fchownat(int(fd), "", uid, gid, unix.AT_EMPTY_PATH|unix.AT_SYMLINK_NOFOLLOW); opErr != nil {
			opErr = &fs.PathError{Op: "chown", Path: path, Err: opErr}
			return
		}
		changed = true
	})
	if err == nil {
		err = opErr
	}
	return changed, err
}
