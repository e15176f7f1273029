package entrypoint

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestIPv6(t *testing.T) {
	dir := t.TempDir()
	empty, full := filepath.Join(dir, "empty"), filepath.Join(dir, "full")
	require.NoError(t, os.WriteFile(empty, nil, 0o644))
	require.NoError(t, os.WriteFile(full, []byte("00000000000000000000000000000001 01 80 10 80       lo\n"), 0o644))
	assert.False(t, hasIPv6(filepath.Join(dir, "missing")))
	assert.False(t, hasIPv6(empty))
	assert.True(t, hasIPv6(full))

	for _, ipv6 := range []bool{false, true} {
		h := newHarness(t)
		h.ipv6 = ipv6
		require.Equal(t, ExitOK, h.main("check"))
		if ipv6 {
			assert.Contains(t, h.stdout.String(), `bind_addresses: ["::", "0.0.0.0"]`)
		} else {
			assert.Contains(t, h.stdout.String(), `bind_addresses: ["0.0.0.0"]`)
		}
	}
}
