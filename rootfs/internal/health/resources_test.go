package health

import (
	"context"
	"io"
	"net"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"
)

// fakeServer accepts one connection at a time and answers the SSLRequest
// with reply (nothing: closes it).
func fakeServer(t *testing.T, reply []byte) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	t.Cleanup(func() { l.Close() })
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			var req [8]byte
			if _, err := io.ReadFull(c, req[:]); err == nil && string(req[:]) == string(sslRequest) {
				c.Write(reply)
			}
			c.Close()
		}
	}()
	return l.Addr().String()
}

func TestDatabase(t *testing.T) {
	closed, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	closedAddr := closed.Addr().String()
	closed.Close()
	for _, tc := range []struct {
		name string
		addr string
		want string // "" = healthy
	}{
		{"PostgreSQL without TLS", fakeServer(t, []byte("N")), ""},
		{"PostgreSQL with TLS", fakeServer(t, []byte("S")), ""},
		{"accepts and closes", fakeServer(t, nil), "does not answer"},
		{"not PostgreSQL", fakeServer(t, []byte("HTTP/1.1 400")), "not as PostgreSQL"},
		{"nothing listening", closedAddr, "unreachable"},
		{"no such host", "db.invalid:5432", "unreachable"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := Database(context.Background(), tc.addr)
			if tc.want == "" {
				assert.NoError(t, err)
				return
			}
			assert.ErrorContains(t, err, tc.want)
			assert.ErrorContains(t, err, "database: ")
		})
	}
}

func TestDatabaseSilentServer(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer l.Close()
	// Accepts (the kernel's backlog) and never answers: bounded by DatabaseTimeout.
	err = Database(context.Background(), l.Addr().String())
	assert.ErrorContains(t, err, "does not answer")
}

func TestDisk(t *testing.T) {
	assert.NoError(t, Disk(t.TempDir()), "the test machine's temporary directory has room")
	assert.ErrorContains(t, Disk("/nonexistent/dir"), "disk: /nonexistent/dir")
}

func TestDiskVerdict(t *testing.T) {
	const block = 4096
	for _, tc := range []struct {
		name  string
		avail uint64 // blocks available to an unprivileged user
		files uint64
		ffree uint64
		want  string
	}{
		{"room", 1 << 20, 1000, 500, ""},
		{"just enough", MinFreeBytes / block, 1000, MinFreeInodes, ""},
		{"one block short", MinFreeBytes/block - 1, 1000, 500, "64.0 MiB"},
		{"full", 0, 1000, 500, "0.0 MiB free, below 64.0 MiB"},
		{"no inodes left", 1 << 20, 1000, MinFreeInodes - 1, "63 free inodes"},
		{"no inode count (btrfs)", 1 << 20, 0, 0, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := diskVerdict("/data", unix.Statfs_t{Bsize: block, Bavail: tc.avail, Files: tc.files, Ffree: tc.ffree})
			if tc.want == "" {
				assert.NoError(t, err)
				return
			}
			assert.ErrorContains(t, err, "disk: /data has ")
			assert.ErrorContains(t, err, strings.Split(tc.want, " ")[0])
		})
	}
}
