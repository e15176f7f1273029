package publish

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/synapse-image/synapse-image/image/names"
	"github.com/synapse-image/synapse-image/image/tags"
)

// writeLayout writes an OCI layout whose index holds the given images, as
// the builder does with one.
func writeLayout(t *testing.T, dir string, imgs ...v1.Image) layout.Path {
	t.Helper()
	p, err := layout.Write(dir, empty.Index)
	require.NoError(t, err)
	for _, img := range imgs {
		require.NoError(t, p.AppendImage(img))
	}
	return p
}

func TestReadLayout(t *testing.T) {
	img := testImage(t, nil)
	dir := filepath.Join(t.TempDir(), "oci")
	writeLayout(t, dir, img)

	got, err := ReadLayout(dir)
	require.NoError(t, err)
	assert.Equal(t, digest(t, img), digest(t, got))
}

// TestReadLayoutPlatform finds one platform's image in a layout of one
// image or of an index, and says which platforms there are otherwise.
func TestReadLayoutPlatform(t *testing.T) {
	platformImage := func(arch string) v1.Image {
		img, err := mutate.ConfigFile(testImage(t, map[string]string{"arch": arch}), &v1.ConfigFile{OS: "linux", Architecture: arch})
		require.NoError(t, err)
		return img
	}
	amd64, arm64 := platformImage("amd64"), platformImage("arm64")
	idx, err := NewIndex(amd64, arm64)
	require.NoError(t, err)

	single := filepath.Join(t.TempDir(), "oci")
	writeLayout(t, single, amd64)
	both := filepath.Join(t.TempDir(), "oci")
	require.NoError(t, Layout{Dir: both}.write(idx))

	tests := []struct {
		name, dir, arch string
		want            v1.Image
		err             string
	}{
		{"one image", single, "amd64", amd64, ""},
		{"one image, another platform", single, "arm64", nil, "has no linux/arm64 image (it has [linux/amd64]): build it with `go run . build --platform linux/arm64`"},
		{"index, amd64", both, "amd64", amd64, ""},
		{"index, arm64", both, "arm64", arm64, ""},
		{"index, missing platform", both, "riscv64", nil, "has no linux/riscv64 image (it has [linux/amd64 linux/arm64])"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ReadLayoutPlatform(tt.dir, tt.arch)
			if tt.err != "" {
				assert.ErrorContains(t, err, tt.err)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, digest(t, tt.want), digest(t, got))
		})
	}
}

func TestReadLayoutRejects(t *testing.T) {
	idx, err := random.Index(64, 1, 2)
	require.NoError(t, err)
	tests := []struct {
		name    string
		prepare func(t *testing.T, dir string)
		wantErr string
	}{
		{"missing", func(t *testing.T, dir string) {}, "no OCI layout in DIR: run `go run . build` first"},
		{"empty index", func(t *testing.T, dir string) { writeLayout(t, dir) }, "holds 0 manifests, expected exactly one image"},
		{"two images", func(t *testing.T, dir string) {
			writeLayout(t, dir, testImage(t, nil), testImage(t, nil))
		}, "holds 2 manifests"},
		{"an index", func(t *testing.T, dir string) { require.NoError(t, writeLayout(t, dir).AppendIndex(idx)) }, "expected an image"},
		{"missing blob", func(t *testing.T, dir string) {
			img := testImage(t, nil)
			writeLayout(t, dir, img)
			layers, err := img.Layers()
			require.NoError(t, err)
			d, err := layers[1].Digest()
			require.NoError(t, err)
			require.NoError(t, os.Remove(filepath.Join(dir, "blobs", d.Algorithm, d.Hex)))
		}, "is incomplete: blob sha256:"},
		{"truncated blob", func(t *testing.T, dir string) {
			img := testImage(t, nil)
			writeLayout(t, dir, img)
			layers, err := img.Layers()
			require.NoError(t, err)
			d, err := layers[0].Digest()
			require.NoError(t, err)
			require.NoError(t, os.Truncate(filepath.Join(dir, "blobs", d.Algorithm, d.Hex), 3))
		}, "is damaged: blob sha256:"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "oci")
			tt.prepare(t, dir)
			_, err := ReadLayout(dir)
			require.Error(t, err)
			assert.Contains(t, err.Error(), strings.ReplaceAll(tt.wantErr, "DIR", dir))
		})
	}
}

func TestInspect(t *testing.T) {
	const rev = "0123abcdef0123abcdef0123abcdef0123abcdef"
	tests := []struct {
		name    string
		labels  map[string]string
		want    []string
		wantErr string
	}{
		{"release", map[string]string{names.LabelVersion: "1.160.0", names.LabelPackageVersion: "1.160.0-1", names.LabelRevision: rev, names.LabelTitle: "synapse"},
			[]string{"v1.160.0", "v1.160", "latest", "sha-0123abc"}, ""},
		{"pre-release", map[string]string{names.LabelVersion: "1.161.0rc1", names.LabelPackageVersion: "1.161.0~rc1-1", names.LabelRevision: rev},
			[]string{"v1.161.0rc1", "sha-0123abc"}, ""},
		{"no package label", map[string]string{names.LabelVersion: "1.161.0rc1", names.LabelRevision: rev},
			[]string{"v1.161.0rc1", "sha-0123abc"}, ""},
		{"no revision", map[string]string{names.LabelPackageVersion: "1.160.0-1"},
			[]string{"v1.160.0", "v1.160", "latest"}, ""},
		{"no version", map[string]string{names.LabelRevision: rev}, nil,
			"has neither label dev.synapse-image.package-version nor org.opencontainers.image.version: give the tags with --tag"},
		{"bad package version", map[string]string{names.LabelPackageVersion: "latest"}, nil, `package version "latest"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			img := testImage(t, tt.labels)
			info, err := Inspect(img)
			if tt.wantErr != "" {
				require.Error(t, err)
				assert.Contains(t, err.Error(), tt.wantErr)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, digest(t, img), info.Digest)
			assert.Equal(t, tt.labels[names.LabelRevision], info.Revision)
			assert.Equal(t, tt.labels[names.LabelTitle], info.Title)
			assert.Equal(t, tt.want, info.Tags(tags.Options{}))
		})
	}
}
