package build

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestOutputs(t *testing.T) {
	res, err := Build(context.Background(), testOptions(t, t.TempDir(), &fakeRootFS{}))
	require.NoError(t, err)
	want, err := res.Image.Digest()
	require.NoError(t, err)

	// The layout is replaced as a whole, never appended to.
	dir := filepath.Join(t.TempDir(), ".build", "test", "oci")
	require.NoError(t, WriteLayout(dir, res.Image, "v1.160.0"))
	require.NoError(t, WriteLayout(dir, res.Image, "v1.160.0"))
	idx, err := layout.ImageIndexFromPath(dir)
	require.NoError(t, err)
	m, err := idx.IndexManifest()
	require.NoError(t, err)
	require.Len(t, m.Manifests, 1)
	assert.Equal(t, want, m.Manifests[0].Digest)
	assert.Equal(t, "v1.160.0", m.Manifests[0].Annotations["org.opencontainers.image.ref.name"])
	siblings, err := os.ReadDir(filepath.Dir(dir))
	require.NoError(t, err)
	assert.Len(t, siblings, 1, "no temporary directories are left")

	file := filepath.Join(t.TempDir(), "image.tar")
	var refs []name.Tag
	for _, s := range []string{"test-image:latest", "test-image:v1.160.0"} {
		ref, err := name.NewTag(s)
		require.NoError(t, err)
		refs = append(refs, ref)
	}
	require.NoError(t, WriteTarball(file, res.Image, refs))
	for _, ref := range refs {
		img, err := tarball.ImageFromPath(file, &ref)
		require.NoError(t, err, ref.String())
		id, err := img.ConfigName()
		require.NoError(t, err)
		wantID, err := res.Image.ConfigName()
		require.NoError(t, err)
		assert.Equal(t, wantID, id)
	}
	assert.NoFileExists(t, file+".tmp")
}
