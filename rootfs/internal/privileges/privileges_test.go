package privileges

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/synapse-image/synapse-image/internal/dockertest"
)

func TestNeedsChown(t *testing.T) {
	dir := t.TempDir()
	root, err := os.OpenRoot(dir)
	require.NoError(t, err)
	defer root.Close()
	uid, gid := os.Getuid(), os.Getgid()
	for _, tc := range []struct {
		name     string
		path     string
		uid, gid int
		want     bool
	}{
		{"same owner", ".", uid, gid, false},
		{"other uid", ".", uid + 1, gid, true},
		{"only the gid differs", ".", uid, gid + 1, true},
		{"missing path", "missing", uid + 1, gid + 1, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			need, err := NeedsChown(filepath.Join(dir, tc.path), tc.uid, tc.gid)
			require.NoError(t, err)
			assert.Equal(t, tc.want, need)
			need, err = NeedsChownIn(root, tc.path, tc.uid, tc.gid)
			require.NoError(t, err)
			assert.Equal(t, tc.want, need, "NeedsChownIn")
		})
	}
}

func needRoot(t *testing.T) {
	dockertest.RequireRoot(t, "changing owners")
}

func TestChownTree(t *testing.T) {
	needRoot(t)
	dir := t.TempDir()
	require.NoError(t, os.MkdirAll(filepath.Join(dir, "media", "x"), 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "media", "x", "f"), nil, 0o644))
	outside := t.TempDir()
	require.NoError(t, os.Symlink(outside, filepath.Join(dir, "link")))
	require.NoError(t, os.Symlink(outside, filepath.Join(dir, "media", "dirlink")))
	root, err := os.OpenRoot(dir)
	require.NoError(t, err)
	defer root.Close()
	n, err := ChownTree(context.Background(), root, 4242, 4343)
	require.NoError(t, err)
	assert.Equal(t, 6, n)
	for _, p := range []string{dir, filepath.Join(dir, "media", "x", "f"), filepath.Join(dir, "link"), filepath.Join(dir, "media", "dirlink")} {
		u, g, err := Owner(p)
		require.NoError(t, err)
		assert.Equal(t, []int{4242, 4343}, []int{u, g}, p)
	}
	u, g, _ := Owner(outside)
	assert.Equal(t, []int{0, 0}, []int{u, g}, "symbolic links are not followed")
	n, err = ChownTree(context.Background(), root, 4242, 4343)
	require.NoError(t, err)
	assert.Zero(t, n, "nothing to change the second time")
	// Only the group changes: every entry is changed again.
	n, err = ChownTree(context.Background(), root, 4242, 4444)
	require.NoError(t, err)
	assert.Equal(t, 6, n)
}

// TestChownTreeStopped: a walk stopped half-way leaves the top with its old
// owner, so the next start sees that the fix is not finished.
func TestChownTreeStopped(t *testing.T) {
	needRoot(t)
	dir := t.TempDir()
	for i := range 50 {
		require.NoError(t, os.WriteFile(filepath.Join(dir, "f"+string(rune('A'+i))), nil, 0o644))
	}
	root, err := os.OpenRoot(dir)
	require.NoError(t, err)
	defer root.Close()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	n, err := ChownTree(ctx, root, 4242, 4343)
	require.ErrorIs(t, err, context.Canceled)
	assert.Zero(t, n, "a stop request ends the walk at the next entry")
	need, err := NeedsChown(dir, 4242, 4343)
	require.NoError(t, err)
	assert.True(t, need, "the top is changed last")

	// Stopped after 20 entries (as by SIGTERM): those are changed, the top
	// is not, and the next walk finishes the job.
	n, err = ChownTree(&stopAfter{Context: context.Background(), n: 20}, root, 4242, 4343)
	require.ErrorIs(t, err, context.Canceled)
	assert.Equal(t, 20, n)
	need, err = NeedsChown(dir, 4242, 4343)
	require.NoError(t, err)
	assert.True(t, need, "the top is changed last")
	n, err = ChownTree(context.Background(), root, 4242, 4343)
	require.NoError(t, err)
	assert.Equal(t, 31, n, "the rest and the top")
}

// stopAfter is a context that is cancelled after n checks.
type stopAfter struct {
	context.Context
	n int
}

func (c *stopAfter) Err() error {
	if c.n == 0 {
		return context.Canceled
	}
	c.n--
	return nil
}

func TestWritable(t *testing.T) {
	dir := t.TempDir()
	assert.NoError(t, Writable(dir))
	f := filepath.Join(dir, "file")
	require.NoError(t, os.WriteFile(f, nil, 0o644))
	assert.ErrorContains(t, Writable(f), "not a directory")
	assert.ErrorIs(t, Writable(filepath.Join(dir, "missing")), os.ErrNotExist)
}
