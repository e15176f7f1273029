package health

import (
	"context"
	"encoding/binary"
	"fmt"
	"io"
	"net"
	"time"

	"golang.org/x/sys/unix"
)

// DatabaseTimeout bounds the database probe; with Check's it stays within
// the image's HEALTHCHECK timeout (5 s).
const DatabaseTimeout = 1500 * time.Millisecond

// sslRequest is PostgreSQL's SSLRequest message: length 8, code 80877103.
// The server answers it with one byte ('S' or 'N') before any
// authentication, so the probe needs no password and costs the server a
// forked backend that exits at once.
var sslRequest = binary.BigEndian.AppendUint32(binary.BigEndian.AppendUint32(nil, 8), 80877103)

// Database checks that PostgreSQL at addr (host:port) answers: a TCP
// connection that only accepts (a proxy, a port left open by a dying
// server) is not enough.
func Database(ctx context.Context, addr string) error {
	ctx, cancel := context.WithTimeout(ctx, DatabaseTimeout)
	defer cancel()
	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return fmt.Errorf("database: PostgreSQL at %s is unreachable: %w", addr, err)
	}
	defer conn.Close()
	if dl, ok := ctx.Deadline(); ok {
		conn.SetDeadline(dl)
	}
	if _, err := conn.Write(sslRequest); err != nil {
		return fmt.Errorf("database: PostgreSQL at %s: %w", addr, err)
	}
	var b [1]byte
	if _, err := io.ReadFull(conn, b[:]); err != nil {
		return fmt.Errorf("database: PostgreSQL at %s does not answer: %w", addr, err)
	}
	if b[0] != 'S' && b[0] != 'N' {
		return fmt.Errorf("database: %s answers, but not as PostgreSQL (%q to SSLRequest)", addr, b[0])
	}
	return nil
}

// MinFreeBytes and MinFreeInodes: below these, the file system of the data
// directory counts as full. Synapse needs room for SQLite's journal and
// WAL, its logs' temporary files and uploads in progress; at 0 every write
// fails with a 500 ("database or disk is full").
const (
	MinFreeBytes  = 64 << 20
	MinFreeInodes = 64
)

// Disk checks that the file system of dir has room for Synapse to write:
// at least MinFreeBytes available to an unprivileged user and, where the
// file system counts inodes, MinFreeInodes.
func Disk(dir string) error {
	var st unix.Statfs_t
	if err := unix.Statfs(dir, &st); err != nil {
		return fmt.Errorf("disk: %s: %w", dir, err)
	}
	return diskVerdict(dir, st)
}

func diskVerdict(dir string, st unix.Statfs_t) error {
	free := st.Bavail * uint64(st.Bsize)
	if free < MinFreeBytes {
		return fmt.Errorf("disk: %s has %s free, below %s: Synapse cannot write its database, media or uploads; free space or grow the volume", dir, mib(free), mib(MinFreeBytes))
	}
	if st.Files > 0 && st.Ffree < MinFreeInodes {
		return fmt.Errorf("disk: %s has %d free inodes, below %d: Synapse cannot create files; free some or grow the volume", dir, st.Ffree, MinFreeInodes)
	}
	return nil
}

func mib(b uint64) string { return fmt.Sprintf("%.1f MiB", float64(b)/(1<<20)) }
