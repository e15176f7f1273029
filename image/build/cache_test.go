package build

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestCacheStoreLookupPrune(t *testing.T) {
	c := &Cache{Dir: t.TempDir()}
	_, ok := c.Lookup("k1")
	assert.False(t, ok)

	_, err := c.Store("k1", func(dir string) error { return errors.New("boom") })
	require.ErrorContains(t, err, "boom")
	_, ok = c.Lookup("k1")
	assert.False(t, ok, "a failed step leaves no entry")

	dir, err := c.Store("k1", func(dir string) error { return os.WriteFile(filepath.Join(dir, "x"), []byte("1"), 0o644) })
	require.NoError(t, err)
	got, ok := c.Lookup("k1")
	require.True(t, ok)
	assert.Equal(t, dir, got)
	assert.FileExists(t, filepath.Join(got, "x"))

	refresh := &Cache{Dir: c.Dir, Refresh: true}
	_, ok = refresh.Lookup("k1")
	assert.False(t, ok, "--no-cache ignores entries")

	_, err = c.Store("k2", func(string) error { return nil })
	require.NoError(t, err)
	old := time.Now().Add(-30 * 24 * time.Hour)
	require.NoError(t, os.Chtimes(filepath.Join(c.Dir, "layers", "k2", "done"), old, old))
	n, err := c.Prune(14 * 24 * time.Hour)
	require.NoError(t, err)
	assert.Equal(t, 1, n)
	_, ok = c.Lookup("k2")
	assert.False(t, ok)
	_, ok = c.Lookup("k1")
	assert.True(t, ok)
}

func TestKey(t *testing.T) {
	a, err := Key("rootfs", map[string]int{"a": 1, "b": 2})
	require.NoError(t, err)
	b, err := Key("rootfs", map[string]int{"b": 2, "a": 1})
	require.NoError(t, err)
	c, err := Key("rootfs", map[string]int{"a": 1, "b": 3})
	require.NoError(t, err)
	d, err := Key("project", map[string]int{"a": 1, "b": 2})
	require.NoError(t, err)
	assert.Equal(t, a, b)
	assert.NotEqual(t, a, c)
	assert.NotEqual(t, a, d)
}

func TestMountsBelow(t *testing.T) {
	assert.Empty(t, mountsBelow(t.TempDir()))
	assert.NotEmpty(t, mountsBelow("/"), "/proc at least is mounted below /")
}
