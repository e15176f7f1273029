package datalock

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"
)

func TestAcquire(t *testing.T) {
	dir := t.TempDir()
	first, err := Acquire(dir)
	require.NoError(t, err)
	// Another open file description of the same directory is refused,
	// as another process would be.
	_, err = Acquire(dir)
	require.ErrorIs(t, err, ErrBusy)
	assert.Contains(t, err.Error(), dir, "the error names the directory")
	require.NoError(t, first.Close())
	again, err := Acquire(dir)
	require.NoError(t, err, "released by Close")
	require.NoError(t, again.Close())

	_, err = Acquire(filepath.Join(dir, "missing"))
	require.Error(t, err)
	assert.NotErrorIs(t, err, ErrBusy)
}

func TestKeepOnExec(t *testing.T) {
	l, err := Acquire(t.TempDir())
	require.NoError(t, err)
	defer l.Close()
	flags, err := unix.FcntlInt(l.dir.Fd(), unix.F_GETFD, 0)
	require.NoError(t, err)
	assert.NotZero(t, flags&unix.FD_CLOEXEC, "close-on-exec until handed over")
	require.NoError(t, l.KeepOnExec())
	flags, err = unix.FcntlInt(l.dir.Fd(), unix.F_GETFD, 0)
	require.NoError(t, err)
	assert.Zero(t, flags&unix.FD_CLOEXEC, "inherited by the program executed")
}

func TestReadHolder(t *testing.T) {
	good := Holder("4f2a9c1d0b3e", time.Date(2026, 12, 7, 23, 0, 0, 0, time.FixedZone("x", 3600)))
	require.Equal(t, "container 4f2a9c1d0b3e, since 2026-12-07T22:00:00Z\n", good)
	for _, tc := range []struct {
		name  string
		setup func(t *testing.T, dir string)
		want  string
	}{
		{"written by the holder", func(t *testing.T, dir string) { write(t, dir, good) }, strings.TrimSpace(good)},
		{"missing", func(t *testing.T, dir string) {}, ""},
		{"another format", func(t *testing.T, dir string) { write(t, dir, "ed25519 a_AAAA c2VjcmV0\n") }, ""},
		{"two lines", func(t *testing.T, dir string) { write(t, dir, good+good) }, ""},
		{"control characters", func(t *testing.T, dir string) {
			write(t, dir, "container x\x1b[2J, since 2026-12-07T22:00:00Z\n")
		}, ""},
		{"too long", func(t *testing.T, dir string) { write(t, dir, good+strings.Repeat(" ", 1000)) }, ""},
		{"symbolic link", func(t *testing.T, dir string) {
			other := filepath.Join(t.TempDir(), "f")
			require.NoError(t, os.WriteFile(other, []byte(good), 0o644))
			require.NoError(t, os.Symlink(other, filepath.Join(dir, HolderFile)))
		}, ""},
		{"FIFO (would block a plain open)", func(t *testing.T, dir string) {
			require.NoError(t, syscall.Mkfifo(filepath.Join(dir, HolderFile), 0o644))
		}, ""},
		{"directory", func(t *testing.T, dir string) { require.NoError(t, os.Mkdir(filepath.Join(dir, HolderFile), 0o755)) }, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			tc.setup(t, dir)
			root, err := os.OpenRoot(dir)
			require.NoError(t, err)
			defer root.Close()
			assert.Equal(t, tc.want, ReadHolder(root))
		})
	}
}

func write(t *testing.T, dir, content string) {
	t.Helper()
	require.NoError(t, os.WriteFile(filepath.Join(dir, HolderFile), []byte(content), 0o644))
}
