package atomicfile

import (
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestWriteNewNeverReplaces(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "k")
	require.NoError(t, WriteNew(p, []byte("first"), 0o600))
	fi, err := os.Stat(p)
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o600), fi.Mode().Perm())
	err = WriteNew(p, []byte("second"), 0o600)
	assert.True(t, errors.Is(err, os.ErrExist), "got %v", err)
	b, _ := os.ReadFile(p)
	assert.Equal(t, "first", string(b))
	entries, _ := os.ReadDir(dir)
	assert.Len(t, entries, 1, "no temporary file left behind")
}

func TestWriteReplace(t *testing.T) {
	p := filepath.Join(t.TempDir(), "c")
	require.NoError(t, WriteReplace(p, []byte("one"), 0o600))
	require.NoError(t, WriteReplace(p, []byte("two"), 0o644))
	b, _ := os.ReadFile(p)
	assert.Equal(t, "two", string(b))
	fi, _ := os.Stat(p)
	assert.Equal(t, os.FileMode(0o644), fi.Mode().Perm())
}
