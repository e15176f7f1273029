// Package datalock keeps one server per data directory: the process that
// serves a data directory holds an exclusive flock(2) on the directory
// itself for its whole life, and a second one is refused.
//
// The lock is taken on a file descriptor of the directory, so no lock file
// is needed (nothing for the Synapse user to replace by a link), and it
// belongs to the open file description: it lasts as long as any process
// keeps that descriptor open, across setuid and execve when the
// descriptor is inherited (KeepOnExec), and the kernel drops it when the
// last holder dies, also on SIGKILL or OOM. flock works between containers
// that share the directory through one kernel (bind mounts, named volumes).
package datalock

import (
	"errors"
	"fmt"
	"os"
	"regexp"
	"strings"
	"time"

	"golang.org/x/sys/unix"

	"github.com/synapse-image/synapse-image/rootfs/internal/safefs"
)

// HolderFile, in the data directory, names the holder for a refused start.
// It is written by the holder as the Synapse user and read by others as
// untrusted data: never through a link, bounded, and shown only when it
// has the holder's own format.
const HolderFile = ".in-use"

// ErrBusy: another process holds the lock.
var ErrBusy = errors.New("in use by another server")

// ErrUnsupported: the file system cannot lock (e.g. some network file
// systems); the caller decides whether to go on without the lock.
var ErrUnsupported = errors.New("the file system does not support flock")

// Lock is a held lock on a data directory.
type Lock struct {
	dir *os.File
}

// Acquire opens dir and takes the exclusive lock without waiting. dir is
// the operator's path (SYNAPSE_DATA_DIR), not a path found in the data.
func Acquire(dir string) (*Lock, error) {
	f, err := os.OpenFile(dir, os.O_RDONLY|unix.O_DIRECTORY, 0)
	if err != nil {
		return nil, fmt.Errorf("open %s to lock it: %w", dir, err)
	}
	if err := flock(int(f.Fd())); err != nil {
		f.Close()
		return nil, fmt.Errorf("lock %s: %w", dir, err)
	}
	return &Lock{dir: f}, nil
}

func flock(fd int) error {
	for {
		err := unix.Flock(fd, unix.LOCK_EX|unix.LOCK_NB)
		switch {
		case err == nil:
			return nil
		case errors.Is(err, unix.EINTR):
			continue
		case errors.Is(err, unix.EWOULDBLOCK):
			return ErrBusy
		case errors.Is(err, unix.ENOLCK), errors.Is(err, unix.EOPNOTSUPP), errors.Is(err, unix.EINVAL):
			return fmt.Errorf("%w (%v)", ErrUnsupported, err)
		default:
			return err
		}
	}
}

// KeepOnExec clears close-on-exec on the lock's descriptor, so that the
// program /start executes (Synapse) holds the lock from then on.
func (l *Lock) KeepOnExec() error {
	if _, err := unix.FcntlInt(l.dir.Fd(), unix.F_SETFD, 0); err != nil {
		return fmt.Errorf("keep the lock of %s across exec: %w", l.dir.Name(), err)
	}
	return nil
}

// Close releases the lock (a process that exits releases it too).
func (l *Lock) Close() error {
	if l == nil {
		return nil
	}
	return l.dir.Close()
}

// Holder is what the holder writes into HolderFile: the container's host
// name (its short id unless --hostname is set) and the start time.
func Holder(hostname string, now time.Time) string {
	return fmt.Sprintf("container %s, since %s\n", hostname, now.UTC().Format(time.RFC3339))
}

var holderLine = regexp.MustCompile(`^container [A-Za-z0-9][A-Za-z0-9._-]{0,62}, since [0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z$`)

// maxHolder bounds the read of HolderFile.
const maxHolder = 256

// ReadHolder returns the holder named in the HolderFile of the data
// directory root, or "" when it cannot tell. The file is the Synapse
// user's: it is read through safefs (no link out, no FIFO, no hard link,
// at most maxHolder bytes) and used only when it is exactly one line of
// Holder's format, so it cannot put anything else (say, a key it links
// to) into a log line.
func ReadHolder(root *os.Root) string {
	b, err := safefs.ReadFile(root, HolderFile, maxHolder)
	if err != nil {
		return ""
	}
	line := strings.TrimSuffix(string(b), "\n")
	if !holderLine.MatchString(line) {
		return ""
	}
	return line
}
