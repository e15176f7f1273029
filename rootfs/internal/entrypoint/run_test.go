package entrypoint

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestJemalloc(t *testing.T) {
	dir := t.TempDir()
	assert.Equal(t, "", jemallocIn(dir, "amd64"))
	require.NoError(t, os.MkdirAll(filepath.Join(dir, "aarch64-linux-gnu"), 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "aarch64-linux-gnu", "libjemalloc.so.2"), nil, 0o644))
	assert.Equal(t, filepath.Join(dir, "aarch64-linux-gnu", "libjemalloc.so.2"), jemallocIn(dir, "arm64"))
	assert.Equal(t, "", jemallocIn(dir, "amd64"))
	assert.Equal(t, "", jemallocIn(dir, "mips"))

	assert.Equal(t, []string{"A=1", "LD_PRELOAD=/j.so"}, withPreload([]string{"A=1"}, "/j.so"))
	assert.Equal(t, []string{"LD_PRELOAD=/j.so:/other.so"}, withPreload([]string{"LD_PRELOAD=/other.so"}, "/j.so"))
	assert.Equal(t, []string{"LD_PRELOAD=/j.so"}, withPreload([]string{"LD_PRELOAD=/j.so"}, "/j.so"))
}
