package publish

import (
	"context"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/types"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func platformImage(t *testing.T, arch string) v1.Image {
	t.Helper()
	img, err := random.Image(64, 1)
	require.NoError(t, err)
	cf, err := img.ConfigFile()
	require.NoError(t, err)
	cf.OS, cf.Architecture = "linux", arch
	img, err = mutate.ConfigFile(img, cf)
	require.NoError(t, err)
	return img
}

func TestNewIndex(t *testing.T) {
	amd, arm := platformImage(t, "amd64"), platformImage(t, "arm64")
	idx, err := NewIndex(arm, amd)
	require.NoError(t, err)
	im, err := idx.IndexManifest()
	require.NoError(t, err)
	assert.Equal(t, types.OCIImageIndex, im.MediaType)
	require.Len(t, im.Manifests, 2)
	for i, want := range []struct {
		img  v1.Image
		arch string
	}{{amd, "amd64"}, {arm, "arm64"}} {
		d := im.Manifests[i]
		assert.Equal(t, digest(t, want.img), d.Digest, "platform order, whatever the order given")
		require.NotNil(t, d.Platform)
		assert.Equal(t, "linux/"+want.arch, d.Platform.String())
		raw, err := want.img.RawManifest()
		require.NoError(t, err)
		assert.Equal(t, int64(len(raw)), d.Size)
	}
	// Same images, same index.
	again, err := NewIndex(amd, arm)
	require.NoError(t, err)
	d1, err := idx.Digest()
	require.NoError(t, err)
	d2, err := again.Digest()
	require.NoError(t, err)
	assert.Equal(t, d1, d2)

	_, err = NewIndex()
	assert.Error(t, err)
	_, err = NewIndex(amd, platformImage(t, "amd64"))
	assert.ErrorContains(t, err, "two images for linux/amd64")
	_, err = NewIndex(testImage(t, nil))
	assert.ErrorContains(t, err, "names no os/architecture")
}

// TestPublishIndex pushes an index under its tags with the same rules as an
// image: every platform reachable, unchanged the second time, a dry run and
// --no-overwrite that write nothing; attachments and signatures go to the
// platform manifests (and the index).
func TestPublishIndex(t *testing.T) {
	reg := newTestRegistry(t)
	amd, arm := platformImage(t, "amd64"), platformImage(t, "arm64")
	idx, err := NewIndex(amd, arm)
	require.NoError(t, err)
	idxDigest, err := idx.Digest()
	require.NoError(t, err)
	ctx := context.Background()

	dry := opts(reg, "latest", "v1.160.0")
	dry.DryRun = true
	res, err := NewRegistry(dry).Publish(ctx, idx)
	require.NoError(t, err)
	for _, r := range res {
		assert.Equal(t, WouldPush, r.Action)
	}
	assert.Empty(t, reg.writes())

	o := opts(reg, "latest", "v1.160.0")
	created := time.Unix(0, 0)
	o.Attachments = []Attachment{
		{Subject: digest(t, amd), ArtifactType: ArtifactTypeSPDX, Data: []byte(`{"a":1}`), Created: created, Name: "SBOM linux/amd64"},
		{Subject: digest(t, arm), ArtifactType: ArtifactTypeSPDX, Data: []byte(`{"a":2}`), Created: created, Name: "SBOM linux/arm64"},
	}
	p := NewRegistry(o)
	res, err = p.Publish(ctx, idx)
	require.NoError(t, err)
	for _, r := range res {
		assert.Equal(t, Pushed, r.Action)
		assert.Equal(t, idxDigest, r.Digest)
		assert.Equal(t, idxDigest.String(), reg.digestOf(t, "publish-test/synapse", r.Ref.TagStr()))
	}
	require.Len(t, p.Attached(), 2)
	repo, err := name.NewRepository(reg.Host+"/publish-test/synapse", name.Insecure)
	require.NoError(t, err)
	for _, img := range []v1.Image{amd, arm} {
		_, err := remote.Head(repo.Digest(digest(t, img).String()))
		assert.NoError(t, err, "each platform manifest is reachable")
	}
	pulled, err := remote.Index(repo.Tag("latest"))
	require.NoError(t, err)
	pulledAmd, err := pulled.Image(digest(t, amd))
	require.NoError(t, err)
	cf, err := pulledAmd.ConfigFile()
	require.NoError(t, err)
	assert.Equal(t, "amd64", cf.Architecture)
	reg.writes()

	res, err = NewRegistry(o).Publish(ctx, idx)
	require.NoError(t, err)
	for _, r := range res {
		assert.Equal(t, Unchanged, r.Action)
	}
	assert.Empty(t, reg.writes(), "the same index again writes nothing")

	// --no-overwrite: a tag holding the index refuses a single image.
	no := opts(reg, "latest")
	no.NoOverwrite = true
	_, err = NewRegistry(no).Publish(ctx, amd)
	var conflict *ConflictError
	require.ErrorAs(t, err, &conflict)
	assert.Equal(t, idxDigest, conflict.Conflicts[0].Current)
	assert.Empty(t, reg.writes())

	// An attachment can only refer to a manifest of the index.
	bad := opts(reg, "latest")
	bad.Attachments = []Attachment{{Subject: digest(t, testImage(t, nil)), ArtifactType: ArtifactTypeSPDX, Name: "x"}}
	_, err = NewRegistry(bad).Publish(ctx, idx)
	assert.ErrorContains(t, err, "is not the image being published")
}
