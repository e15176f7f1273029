package privileges

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestNeedsChown(t *testing.T) {
	dir := t.TempDir()
	uid, gid := os.Getuid(), os.Getgid()
	need, err := NeedsChown(dir, uid, gid)
	require.NoError(t, err)
	assert.False(t, need)
	need, err = NeedsChown(dir, uid+1, gid)
	require.NoError(t, err)
	assert.True(t, need)
	need, err = NeedsChown(filepath.Join(dir, "missing"), uid+1, gid)
	require.NoError(t, err)
	assert.False(t, need, "a missing path needs nothing")
}

func TestChownTree(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("changing owners needs root; run the tests as root (scripts/test.sh does in CI)")
	}
	dir := t.TempDir()
	require.NoError(t, os.MkdirAll(filepath.Join(dir, "media", "x"), 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "media", "x", "f"), nil, 0o644))
	outside := t.TempDir()
	require.NoError(t, os.Symlink(outside, filepath.Join(dir, "link")))
	n, err := ChownTree(dir, 4242, 4343)
	require.NoError(t, err)
	assert.Equal(t, 5, n)
	for _, p := range []string{dir, filepath.Join(dir, "media", "x", "f"), filepath.Join(dir, "link")} {
		u, g, err := Owner(p)
		require.NoError(t, err)
		assert.Equal(t, []int{4242, 4343}, []int{u, g}, p)
	}
	u, _, _ := Owner(outside)
	assert.Equal(t, 0, u, "symbolic links are not followed")
	n, err = ChownTree(dir, 4242, 4343)
	require.NoError(t, err)
	assert.Zero(t, n, "nothing to change the second time")
}

func TestWritable(t *testing.T) {
	dir := t.TempDir()
	assert.NoError(t, Writable(dir))
	f := filepath.Join(dir, "file")
	require.NoError(t, os.WriteFile(f, nil, 0o644))
	assert.ErrorContains(t, Writable(f), "not a directory")
	assert.ErrorIs(t, Writable(filepath.Join(dir, "missing")), os.ErrNotExist)
}
