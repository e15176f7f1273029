package layer

import (
	"archive/tar"
	"bytes"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestMatch(t *testing.T) {
	tests := []struct {
		glob, path string
		want       bool
	}{
		{"/var/log/**", "/var/log/dpkg.log", true},
		{"/var/log/**", "/var/log/apt/history.log", true},
		{"/var/log/**", "/var/log", false},
		{"/usr/lib/python3/dist-packages/**/tests", "/usr/lib/python3/dist-packages/twisted/tests", true},
		{"/usr/lib/python3/dist-packages/**/tests", "/usr/lib/python3/dist-packages/tests", true},
		{"/usr/lib/python3/dist-packages/**/tests", "/usr/lib/python3/dist-packages/a/b/c/tests", true},
		{"/usr/lib/python3/dist-packages/**/tests", "/usr/lib/python3/dist-packages/a/tests.py", false},
		{"/usr/lib/python3/dist-packages/**/tests", "/usr/lib/python3/dist-packages/a/tests/x.py", false},
		{"/usr/share/doc/*", "/usr/share/doc/bash", true},
		{"/usr/share/doc/*", "/usr/share/doc/bash/copyright", false},
		{"/etc/resolv.conf", "/etc/resolv.conf", true},
		{"/etc/resolv.conf", "/etc/resolv.conf.d", false},
		{"/**/__pycache__", "/usr/lib/python3/dist-packages/a/__pycache__", true},
		{"/var/lib/dpkg/*-old", "/var/lib/dpkg/status-old", true},
		{"/var/lib/dpkg/*-old", "/var/lib/dpkg/status", false},
	}
	for _, tt := range tests {
		assert.Equal(t, tt.want, Match(tt.glob, tt.path), "Match(%q, %q)", tt.glob, tt.path)
	}
}

func TestWriteDir(t *testing.T) {
	root := t.TempDir()
	write := func(name, content string, mtime time.Time) {
		p := filepath.Join(root, name)
		require.NoError(t, os.MkdirAll(filepath.Dir(p), 0o755))
		require.NoError(t, os.WriteFile(p, []byte(content), 0o644))
		require.NoError(t, os.Chtimes(p, mtime, mtime))
	}
	epoch := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	old := time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)
	write("b/old.py", "print()", old)
	write("b/new.pyc", "x", epoch.Add(time.Hour))
	write("a/drop/big", "0123456789", old)
	write("tmp/junk", "x", old)
	require.NoError(t, os.Link(filepath.Join(root, "b/old.py"), filepath.Join(root, "b/link.py")))
	require.NoError(t, os.Symlink("old.py", filepath.Join(root, "b/sym.py")))

	var buf bytes.Buffer
	var kept []string
	stats, err := WriteDir(&buf, root, DirOptions{Epoch: epoch, Remove: []string{"/a/drop"}, Keep: func(p string, _ fs.FileInfo) { kept = append(kept, p) }})
	require.NoError(t, err)
	assert.Equal(t, map[string]int64{"/a/drop": 10}, stats.Removed)

	tr := tar.NewReader(&buf)
	var names []string
	headers := map[string]*tar.Header{}
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		require.NoError(t, err)
		names = append(names, h.Name)
		headers[h.Name] = h
	}
	assert.Equal(t, []string{"a/", "b/", "b/link.py", "b/new.pyc", "b/old.py", "b/sym.py", "tmp/"}, names)
	assert.Equal(t, []string{"/a", "/b", "/b/link.py", "/b/new.pyc", "/b/old.py", "/b/sym.py", "/tmp"}, kept)
	assert.Equal(t, old, headers["b/old.py"].ModTime.UTC(), "older times are kept (bytecode caches check them)")
	assert.Equal(t, epoch, headers["b/new.pyc"].ModTime.UTC(), "newer times are clamped")
	assert.Equal(t, byte(tar.TypeLink), headers["b/old.py"].Typeflag, "the second name of a hard link is a link")
	assert.Equal(t, "b/link.py", headers["b/old.py"].Linkname)
	assert.Equal(t, "old.py", headers["b/sym.py"].Linkname)
	assert.Empty(t, headers["b/old.py"].Uname)
	assert.True(t, headers["b/old.py"].AccessTime.IsZero())
}

func TestWriteEntriesSortedAndStable(t *testing.T) {
	epoch := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	entries := []Entry{
		{Path: "/z", Mode: 0o644, Data: []byte("z")},
		{Path: "/a", Mode: fs.ModeDir | 0o750, UID: 991, GID: 991},
		{Path: "/a/link", Mode: fs.ModeSymlink | 0o777, Target: "/z"},
		{Path: "/suid", Mode: 0o755 | fs.ModeSetuid, Data: []byte("s")},
	}
	var one, two bytes.Buffer
	require.NoError(t, WriteEntries(&one, entries, epoch))
	require.NoError(t, WriteEntries(&two, []Entry{entries[3], entries[2], entries[1], entries[0]}, epoch))
	assert.Equal(t, one.Bytes(), two.Bytes(), "order of the input does not matter")

	tr := tar.NewReader(&one)
	var got []string
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		require.NoError(t, err)
		got = append(got, h.Name)
		if h.Name == "suid" {
			assert.Equal(t, int64(0o4755), h.Mode)
		}
		if h.Name == "a/" {
			assert.Equal(t, [3]int{0o750, 991, 991}, [3]int{int(h.Mode), h.Uid, h.Gid})
		}
	}
	assert.Equal(t, []string{"a/", "a/link", "suid", "z"}, got)
}

func TestWriteAndOpen(t *testing.T) {
	dir := t.TempDir()
	meta, err := Write(dir, func(w io.Writer) error {
		return WriteEntries(w, []Entry{{Path: "/x", Mode: 0o644, Data: []byte("hello")}}, time.Unix(0, 0))
	})
	require.NoError(t, err)
	l, meta2, err := Open(dir)
	require.NoError(t, err)
	assert.Equal(t, meta, meta2)
	d, err := l.Digest()
	require.NoError(t, err)
	assert.Equal(t, meta.Digest, d)
	diff, err := l.DiffID()
	require.NoError(t, err)
	assert.Equal(t, meta.DiffID, diff)

	// The stored digests are the real ones.
	rc, err := l.Uncompressed()
	require.NoError(t, err)
	data, err := io.ReadAll(rc)
	require.NoError(t, err)
	assert.Equal(t, meta.UncompressedSize, int64(len(data)))

	// A truncated blob is noticed.
	require.NoError(t, os.Truncate(filepath.Join(dir, BlobFile), 3))
	_, _, err = Open(dir)
	assert.ErrorContains(t, err, "size 3")
}
