package publish

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestLayoutAndTarball(t *testing.T) {
	ctx := context.Background()
	img, err := random.Image(512, 2)
	require.NoError(t, err)
	want, err := img.Digest()
	require.NoError(t, err)

	// The layout is replaced as a whole, never appended to.
	dir := filepath.Join(t.TempDir(), ".build", "test", "oci")
	out := Layout{Dir: dir, RefName: "v1.160.0"}
	_, err = out.Publish(ctx, img)
	require.NoError(t, err)
	res, err := out.Publish(ctx, img)
	require.NoError(t, err)
	assert.Equal(t, []Result{{Dest: "OCI layout " + dir, Digest: want, Action: Written}}, res)
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
	back, _, err := ReadLayout(dir)
	require.NoError(t, err)
	got, err := back.Digest()
	require.NoError(t, err)
	assert.Equal(t, want, got, "ReadLayout reads what Layout wrote")

	file := filepath.Join(t.TempDir(), "image.tar")
	var refs []name.Tag
	for _, s := range []string{"test-image:latest", "test-image:v1.160.0"} {
		ref, err := name.NewTag(s)
		require.NoError(t, err)
		refs = append(refs, ref)
	}
	res, err = Tarball{File: file, Refs: refs}.Publish(ctx, img)
	require.NoError(t, err)
	require.Len(t, res, 2)
	assert.Equal(t, "tarball "+file+" test-image:v1.160.0 → "+want.String()+" (written)", res[1].String())
	wantID, err := img.ConfigName()
	require.NoError(t, err)
	for _, ref := range refs {
		loaded, err := tarball.ImageFromPath(file, &ref)
		require.NoError(t, err, ref.String())
		id, err := loaded.ConfigName()
		require.NoError(t, err)
		assert.Equal(t, wantID, id)
	}
	assert.NoFileExists(t, file+".tmp")
}

// recorder is a Publisher that remembers it ran, or fails.
type recorder struct {
	name string
	err  error
	ran  *[]string
}

func (r recorder) String() string { return r.name }
func (r recorder) Publish(_ context.Context, a Artifact) ([]Result, error) {
	*r.ran = append(*r.ran, r.name)
	if r.err != nil {
		return nil, r.err
	}
	d, err := a.Digest()
	return []Result{{Dest: r.name, Digest: d, Action: Written}}, err
}

func TestMulti(t *testing.T) {
	img, err := random.Image(64, 1)
	require.NoError(t, err)
	var ran []string
	res, err := Multi(recorder{name: "a", ran: &ran}, recorder{name: "b", ran: &ran}).Publish(context.Background(), img)
	require.NoError(t, err)
	assert.Equal(t, []string{"a", "b"}, ran)
	require.Len(t, res, 2)
	assert.Equal(t, "b", res[1].Dest)

	ran = nil
	boom := errors.New("boom")
	res, err = Multi(recorder{name: "a", ran: &ran}, recorder{name: "b", err: boom, ran: &ran}, recorder{name: "c", ran: &ran}).Publish(context.Background(), img)
	assert.ErrorIs(t, err, boom)
	assert.Equal(t, []string{"a", "b"}, ran, "stops at the first error")
	assert.Len(t, res, 1, "the results of the outputs written before it")

	_, err = Multi().Publish(context.Background(), img)
	assert.Error(t, err)
}

func TestImageOnlyOutputsRejectAnIndex(t *testing.T) {
	idx, err := random.Index(64, 1, 2)
	require.NoError(t, err)
	ref, err := name.NewTag("test-image:latest")
	require.NoError(t, err)
	for _, p := range []Publisher{
		Tarball{File: filepath.Join(t.TempDir(), "x.tar"), Refs: []name.Tag{ref}},
		Daemon{Refs: []name.Tag{ref}},
	} {
		_, err := p.Publish(context.Background(), idx)
		assert.ErrorContains(t, err, "takes a single image, not a application/vnd.oci.image.index.v1+json", p.String())
	}
	dir := filepath.Join(t.TempDir(), "oci")
	_, err = Layout{Dir: dir}.Publish(context.Background(), idx)
	require.NoError(t, err, "an OCI layout holds an index too")
	// So does a registry: index_test.go.
}
