package main

import (
	"archive/tar"
	"bytes"
	"context"
	"io"
	"runtime"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/synapse-image/synapse-image/image/publish"
)

// tarLayer is a gzip layer holding one file of n bytes.
func tarLayer(t *testing.T, n int) (v1.Layer, int64) {
	t.Helper()
	var b bytes.Buffer
	tw := tar.NewWriter(&b)
	require.NoError(t, tw.WriteHeader(&tar.Header{Name: "f", Mode: 0o644, Size: int64(n)}))
	_, err := tw.Write(bytes.Repeat([]byte{'x'}, n))
	require.NoError(t, err)
	require.NoError(t, tw.Close())
	raw := b.Bytes()
	l, err := tarball.LayerFromOpener(func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(raw)), nil })
	require.NoError(t, err)
	return l, int64(len(raw))
}

func testImage(t *testing.T, arch string, sizes ...int) (v1.Image, []int64) {
	t.Helper()
	img := empty.Image
	var tars []int64
	for i, n := range sizes {
		l, size := tarLayer(t, n)
		tars = append(tars, size)
		var err error
		img, err = mutate.Append(img, mutate.Addendum{Layer: l, History: v1.History{
			CreatedBy: "step " + string(rune('a'+i)), Comment: "layer " + string(rune('a'+i)),
		}})
		require.NoError(t, err)
	}
	cf, err := img.ConfigFile()
	require.NoError(t, err)
	cf = cf.DeepCopy()
	cf.Architecture, cf.OS = arch, "linux"
	img, err = mutate.ConfigFile(img, cf)
	require.NoError(t, err)
	return img, tars
}

func TestLayerSizesFromLayout(t *testing.T) {
	other := "arm64"
	if runtime.GOARCH == "arm64" {
		other = "amd64"
	}
	want, tars := testImage(t, runtime.GOARCH, 100_000, 3_000)
	foreign, _ := testImage(t, other, 10)

	dir := t.TempDir()
	idx, err := publish.NewIndex(want, foreign)
	require.NoError(t, err)
	_, err = publish.Layout{Dir: dir}.Publish(context.Background(), idx)
	require.NoError(t, err)

	img, err := imageFromLayout(dir)
	require.NoError(t, err)
	wd, _ := want.Digest()
	gd, _ := img.Digest()
	assert.Equal(t, wd, gd, "the image of this machine's architecture")

	sizes, err := layerSizes(context.Background(), img)
	require.NoError(t, err)
	require.Len(t, sizes, 2)
	for i, s := range sizes {
		assert.Equal(t, tars[i], s.Uncompressed, "layer %d: uncompressed = the tar's length", i+1)
		assert.Less(t, s.Compressed, s.Uncompressed, "layer %d: gzip of repeated bytes is smaller", i+1)
		assert.Equal(t, "gzip", compression(s.MediaType))
	}
	assert.Equal(t, "layer a: step a", sizes[0].What)
	assert.Equal(t, "layer b: step b", sizes[1].What)
}

func TestImageFromLayoutErrors(t *testing.T) {
	_, err := imageFromLayout(t.TempDir())
	assert.ErrorContains(t, err, "go run . build", "an empty folder is no layout: say how to make one")

	dir := t.TempDir()
	foreign, _ := testImage(t, "s390x", 1)
	_, err = publish.Layout{Dir: dir}.Publish(context.Background(), foreign)
	require.NoError(t, err)
	_, err = imageFromLayout(dir)
	assert.ErrorContains(t, err, "no linux/"+runtime.GOARCH+" image")
}
