package entrypoint

import (
	"context"
	"os"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/synapse-image/synapse-image/internal/dockertest"
	"github.com/synapse-image/synapse-image/rootfs/internal/privileges"
)

func TestNonRootNotWritable(t *testing.T) {
	h := newHarness(t)
	sys := h.system()
	sys.Euid = 1000 // as if started with --user; the directory does not exist
	code := Main(context.Background(), sys, []string{"run"})
	assert.Equal(t, ExitUsage, code)
	assert.Contains(t, h.stderr.String(), "SYNAPSE_DATA_DIR: "+h.data+" does not exist")
	assert.Nil(t, h.dropped)
}

// TestOwnershipOfKnownFiles: a key copied into a /data that already belongs
// to UID:GID is given to UID:GID, without a recursive change.
func TestOwnershipOfKnownFiles(t *testing.T) {
	dockertest.RequireRoot(t, "changing owners")
	h := newHarness(t)
	require.NoError(t, os.MkdirAll(h.path("media/sub"), 0o755))
	require.NoError(t, os.WriteFile(h.path("media/sub/root-file"), nil, 0o644))
	require.NoError(t, os.WriteFile(h.path("example.com.signing.key"), []byte("ed25519 a_abcd AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\n"), 0o600))
	for _, d := range []string{h.data, h.path("media"), h.path("uploads")} {
		require.NoError(t, os.MkdirAll(d, 0o755))
		require.NoError(t, os.Chown(d, 4242, 4343))
	}
	require.Equal(t, ExitOK, h.main(), h.stderr.String())
	u, g, err := privileges.Owner(h.path("example.com.signing.key"))
	require.NoError(t, err)
	assert.Equal(t, []int{4242, 4343}, []int{u, g})
	u, _, _ = privileges.Owner(h.path("media/sub/root-file"))
	assert.Equal(t, 0, u, "no recursive change when the directories already belong to UID:GID")
	assert.Contains(t, h.stderr.String(), "changing owner of "+h.path("example.com.signing.key"))
	assert.NotContains(t, h.stderr.String(), "changing owner of "+h.data+" ")
}

func TestNonRootIgnoresUID(t *testing.T) {
	h := newHarness(t, "UID", "991")
	require.NoError(t, os.MkdirAll(h.data, 0o755))
	sys := h.system()
	sys.Euid = 12345
	require.Equal(t, ExitOK, Main(context.Background(), sys, []string{"run"}), h.stderr.String())
	assert.Contains(t, h.stderr.String(), "started as uid 12345, not root: UID/GID are ignored")
	assert.Nil(t, h.dropped)
}
