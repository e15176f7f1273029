package rootfs_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/synapse-image/synapse-image/internal/dockertest"
	"github.com/synapse-image/synapse-image/rootfs/internal/knownkeys"
)

// TestKnownKeysMatchImage: the list of top-level keys /start warns about
// is the one the image's Synapse reads, so it follows Synapse upgrades.
// go test ./rootfs -run TestKnownKeysMatchImage -update rewrites it.
func TestKnownKeysMatchImage(t *testing.T) {
	d := setupDocker(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	dir, err := filepath.Abs(filepath.Join("internal", "knownkeys"))
	require.NoError(t, err)
	out, err := dockertest.RunOnce(ctx, dockertest.Options{Image: d.image, User: "991:991", Mounts: []string{dir + ":/knownkeys:ro"},
		Entrypoint: "python3", Args: []string{"-P", "/knownkeys/extract.py"}})
	require.NoError(t, err, out)
	path := filepath.Join(dir, "synapse-keys.txt")
	if *update {
		require.NoError(t, os.WriteFile(path, []byte(out), 0o644))
	}
	want, err := os.ReadFile(path)
	require.NoError(t, err)
	assert.Equal(t, string(want), out, "the image's Synapse reads other keys; if intended, run go test ./rootfs -run TestKnownKeysMatchImage -update")
	got := knownkeys.Parse(out)
	assert.NotEmpty(t, got.Version)
	assert.Greater(t, len(got.Keys()), 200, "too few keys found: extract.py no longer understands synapse/config")
	for _, k := range []string{"server_name", "listeners", "url_preview_enabled", "rc_message", "modules", "oidc_providers", "retention"} {
		assert.True(t, got.Known(k), k)
	}
}
