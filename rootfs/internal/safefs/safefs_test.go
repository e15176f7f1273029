package safefs

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestAncestorRule(t *testing.T) {
	for _, tc := range []struct {
		name          string
		uid, gid      uint32
		mode          uint32
		wantSubstring string
	}{
		{"root 0755", 0, 0, 0o755, ""},
		{"root group-writable root group", 0, 0, 0o775, ""},
		{"root sticky world-writable (/tmp)", 0, 0, 0o1777, ""},
		{"owned by 991", 991, 991, 0o755, "belongs to uid 991"},
		{"owned by 991, root-only mode", 991, 0, 0o700, "belongs to uid 991"},
		{"world-writable", 0, 0, 0o777, "anyone can write"},
		{"group 991 can write", 0, 991, 0o775, "group 991 can write"},
		{"group 991 sticky", 0, 991, 0o1775, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := ancestorRule(tc.uid, tc.gid, tc.mode)
			if tc.wantSubstring == "" {
				assert.Empty(t, got)
			} else {
				assert.Contains(t, got, tc.wantSubstring)
			}
		})
	}
}

func TestOpenDirRefusesLinks(t *testing.T) {
	base := t.TempDir()
	real := filepath.Join(base, "real")
	require.NoError(t, os.MkdirAll(filepath.Join(real, "sub"), 0o755))
	require.NoError(t, os.Symlink(real, filepath.Join(base, "link")))

	root, err := OpenDir(filepath.Join(base, "real", "sub"), false)
	require.NoError(t, err)
	root.Close()

	for _, p := range []string{filepath.Join(base, "link"), filepath.Join(base, "link", "sub")} {
		_, err := OpenDir(p, false)
		var ue *UnsafeError
		require.ErrorAs(t, err, &ue, p)
		assert.Contains(t, err.Error(), "symbolic link", p)
	}
	_, err = MkdirAll(filepath.Join(base, "link", "new"), false, 0o750)
	require.Error(t, err)
	assert.NoDirExists(t, filepath.Join(real, "new"), "nothing is created through a link")

	_, err = OpenDir("relative/dir", false)
	assert.ErrorContains(t, err, "not an absolute path")
}

func TestMkdirAll(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "a", "b", "c")
	root, err := MkdirAll(dir, false, 0o750)
	require.NoError(t, err)
	defer root.Close()
	fi, err := os.Stat(dir)
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o750), fi.Mode().Perm()&0o750)
	assert.Equal(t, dir, root.Name())
}

// TestOpenDirAsRoot: as root, an ancestor another user owns or can write is
// refused, with the component named.
func TestOpenDirAsRoot(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("changing owners needs root (CI runs as root)")
	}
	base := t.TempDir()
	require.NoError(t, os.Chmod(base, 0o755))
	vol := filepath.Join(base, "vol")
	require.NoError(t, os.MkdirAll(filepath.Join(vol, "hs"), 0o755))
	root, err := OpenDir(filepath.Join(vol, "hs"), true)
	require.NoError(t, err)
	root.Close()

	require.NoError(t, os.Chown(vol, 991, 991))
	_, err = OpenDir(filepath.Join(vol, "hs"), true)
	var ue *UnsafeError
	require.ErrorAs(t, err, &ue)
	assert.Equal(t, vol, ue.At)
	assert.Contains(t, err.Error(), "belongs to uid 991")
	// The directory itself may be 991's: it is the data directory.
	root, err = OpenDir(vol, true)
	require.NoError(t, err)
	root.Close()
	// Not as root: the rule is root's.
	root, err = OpenDir(filepath.Join(vol, "hs"), false)
	require.NoError(t, err)
	root.Close()
}

func TestReadFile(t *testing.T) {
	dir := t.TempDir()
	outside := filepath.Join(t.TempDir(), "shadow")
	require.NoError(t, os.WriteFile(outside, []byte("ROOT-ONLY"), 0o600))
	write := func(name, content string) {
		require.NoError(t, os.WriteFile(filepath.Join(dir, name), []byte(content), 0o600))
	}
	write("key", "secret\n")
	write("big", strings.Repeat("x", 101))
	write("exact", strings.Repeat("x", 100))
	write("linked", "two names")
	require.NoError(t, os.Link(filepath.Join(dir, "linked"), filepath.Join(dir, "linked2")))
	require.NoError(t, syscall.Mkfifo(filepath.Join(dir, "fifo"), 0o600))
	require.NoError(t, os.Symlink("key", filepath.Join(dir, "inside")))
	require.NoError(t, os.Symlink(outside, filepath.Join(dir, "out")))
	require.NoError(t, os.Mkdir(filepath.Join(dir, "sub"), 0o755))
	root, err := os.OpenRoot(dir)
	require.NoError(t, err)
	defer root.Close()

	for _, tc := range []struct {
		name, want, wantErr string
	}{
		{"key", "secret\n", ""},
		{"inside", "secret\n", ""},
		{"exact", strings.Repeat("x", 100), ""},
		{"big", "", "larger than 100 bytes"},
		{"linked", "", "has 2 hard links"},
		{"fifo", "", "not a regular file (a FIFO)"},
		{"sub", "", "not a regular file (a directory)"},
		{"out", "", "escapes"},
		{"missing", "", "no such file"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b, err := ReadFile(root, tc.name, 100)
			if tc.wantErr != "" {
				require.ErrorContains(t, err, tc.wantErr)
				assert.Nil(t, b)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tc.want, string(b))
		})
	}
}

func TestLchown(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("changing owners needs root (CI runs as root)")
	}
	dir := t.TempDir()
	victim := filepath.Join(t.TempDir(), "victim")
	require.NoError(t, os.WriteFile(victim, []byte("x"), 0o600))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "file"), nil, 0o600))
	require.NoError(t, os.Link(filepath.Join(dir, "file"), filepath.Join(dir, "file2")))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "one"), nil, 0o600))
	require.NoError(t, os.Symlink(victim, filepath.Join(dir, "link")))
	require.NoError(t, os.Mkdir(filepath.Join(dir, "sub"), 0o755))
	root, err := os.OpenRoot(dir)
	require.NoError(t, err)
	defer root.Close()

	owner := func(p string) [2]uint32 {
		var st syscall.Stat_t
		require.NoError(t, syscall.Lstat(p, &st))
		return [2]uint32{st.Uid, st.Gid}
	}
	changed, err := Lchown(root, "one", 4242, 4343)
	require.NoError(t, err)
	assert.True(t, changed)
	assert.Equal(t, [2]uint32{4242, 4343}, owner(filepath.Join(dir, "one")))
	changed, err = Lchown(root, "one", 4242, 4343)
	require.NoError(t, err)
	assert.False(t, changed, "already owned")

	_, err = Lchown(root, "file", 4242, 4343)
	assert.ErrorContains(t, err, "has 2 hard links")
	assert.Equal(t, [2]uint32{0, 0}, owner(filepath.Join(dir, "file")))

	changed, err = Lchown(root, "link", 4242, 4343)
	require.NoError(t, err)
	assert.True(t, changed)
	assert.Equal(t, [2]uint32{4242, 4343}, owner(filepath.Join(dir, "link")), "the link itself")
	assert.Equal(t, [2]uint32{0, 0}, owner(victim), "not what it points at")

	changed, err = Lchown(root, "sub", 4242, 4343)
	require.NoError(t, err)
	assert.True(t, changed)
}
