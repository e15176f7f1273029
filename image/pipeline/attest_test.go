package pipeline

import (
	"archive/tar"
	"bytes"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestScanCached: the scan kept in the cache gives back what a fresh scan
// finds, Go build info included.
func TestScanCached(t *testing.T) {
	bin := filepath.Join(t.TempDir(), "start")
	cmd := exec.Command("go", "build", "-trimpath", "-o", bin, "github.com/synapse-image/synapse-image/rootfs/start")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, "%s", out)
	self, err := os.ReadFile(bin) // a Go program with module dependencies
	require.NoError(t, err)
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for name, data := range map[string][]byte{
		"var/lib/dpkg/status": []byte("Package: libc6\nStatus: install ok installed\nArchitecture: amd64\nVersion: 2.43-7\n"),
		"start":               self,
	} {
		require.NoError(t, tw.WriteHeader(&tar.Header{Name: name, Mode: 0o755, Size: int64(len(data)), Typeflag: tar.TypeReg}))
		_, err := tw.Write(data)
		require.NoError(t, err)
	}
	require.NoError(t, tw.Close())
	l, err := tarball.LayerFromOpener(func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(buf.Bytes())), nil })
	require.NoError(t, err)
	img, err := mutate.AppendLayers(empty.Image, l)
	require.NoError(t, err)
	d, err := img.Digest()
	require.NoError(t, err)

	dir := t.TempDir()
	fresh, hit, err := scanCached(dir, img, d.String(), []string{"/start"})
	require.NoError(t, err)
	assert.False(t, hit)
	again, hit, err := scanCached(dir, img, d.String(), []string{"/start"})
	require.NoError(t, err)
	assert.True(t, hit)
	assert.Equal(t, fresh.Debs, again.Debs)
	require.Len(t, again.Programs, 1)
	assert.Equal(t, fresh.Programs[0].Info.String(), again.Programs[0].Info.String())
	assert.Equal(t, fresh.Programs[0].Info.Deps, again.Programs[0].Info.Deps)
	assert.NotEmpty(t, again.Programs[0].Info.Deps)
}
