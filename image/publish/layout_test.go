package publish

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/match"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
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

// TestLayoutWithAttachments: what Layout writes, ReadLayout reads back,
// the image or index and its referrers, whatever their order in index.json.
func TestLayoutWithAttachments(t *testing.T) {
	amd64, arm64 := platformImage(t, "amd64"), platformImage(t, "arm64")
	idx, err := NewIndex(amd64, arm64)
	require.NoError(t, err)
	created := time.Date(2026, 11, 29, 0, 0, 0, 0, time.UTC)
	atts := []Attachment{
		{Subject: digest(t, amd64), ArtifactType: ArtifactTypeSPDX, Data: []byte(`{"a":1}`), Created: created},
		{Subject: digest(t, arm64), ArtifactType: ArtifactTypeInToto, Data: []byte(`{"b":2}`), Created: created},
	}
	tests := []struct {
		name string
		a    Artifact
		atts []Attachment
	}{
		{"one image", amd64, atts[:1]},
		{"index", idx, atts},
		{"no attachments", idx, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "oci")
			require.NoError(t, Layout{Dir: dir, RefName: "latest", Attachments: tt.atts}.write(tt.a))
			got, gotAtts, err := ReadLayout(dir)
			require.NoError(t, err)
			assert.Equal(t, digest(t, tt.a), digest(t, got))
			assert.Equal(t, tt.atts, gotAtts)
		})
	}

	// Another tool's referrer in the layout is not the build's: left out.
	dir := filepath.Join(t.TempDir(), "oci")
	sig := Attachment{Subject: digest(t, amd64), ArtifactType: "application/vnd.dev.cosign.artifact.sig.v1+json", Data: []byte("sig"), Created: created}
	require.NoError(t, Layout{Dir: dir, Attachments: []Attachment{atts[0], sig}}.write(amd64))
	_, got, err := ReadLayout(dir)
	require.NoError(t, err)
	assert.Equal(t, atts[:1], got)

	// An attachment of another image is refused when writing.
	err = Layout{Dir: filepath.Join(t.TempDir(), "oci"), Attachments: atts[1:]}.write(amd64)
	assert.ErrorContains(t, err, "is not a manifest of the image")
}

func TestReadLayoutRejects(t *testing.T) {
	other := testImage(t, nil)
	tests := []struct {
		name    string
		prepare func(t *testing.T, dir string)
		wantErr string
	}{
		{"missing", func(t *testing.T, dir string) {}, "OCI layout DIR: not there: run `go run . build` first"},
		{"empty index", func(t *testing.T, dir string) { writeLayout(t, dir) }, "holds 0 images or indexes besides referrers, expected exactly one"},
		{"two images", func(t *testing.T, dir string) {
			writeLayout(t, dir, testImage(t, nil), testImage(t, nil))
		}, "holds 2 images or indexes"},
		{"missing blob", func(t *testing.T, dir string) {
			img := testImage(t, nil)
			writeLayout(t, dir, img)
			layers, err := img.Layers()
			require.NoError(t, err)
			d, err := layers[1].Digest()
			require.NoError(t, err)
			require.NoError(t, os.Remove(filepath.Join(dir, "blobs", d.Algorithm, d.Hex)))
		}, "incomplete: blob sha256:"},
		{"truncated blob", func(t *testing.T, dir string) {
			img := testImage(t, nil)
			writeLayout(t, dir, img)
			layers, err := img.Layers()
			require.NoError(t, err)
			d, err := layers[0].Digest()
			require.NoError(t, err)
			require.NoError(t, os.Truncate(filepath.Join(dir, "blobs", d.Algorithm, d.Hex), 3))
		}, "damaged: blob sha256:"},
		{"a referrer of another image", func(t *testing.T, dir string) {
			// Written as a layout of other, then other's manifest dropped from index.json.
			img := testImage(t, nil)
			require.NoError(t, Layout{Dir: dir, Attachments: []Attachment{{Subject: digest(t, other), ArtifactType: ArtifactTypeSPDX, Data: []byte("{}")}}}.write(other))
			p, err := layout.FromPath(dir)
			require.NoError(t, err)
			require.NoError(t, p.RemoveDescriptors(match.Digests(digest(t, other))))
			require.NoError(t, p.AppendImage(img))
		}, "names subject " + digest(t, other).String() + ", which is not a manifest of the image"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "oci")
			tt.prepare(t, dir)
			_, _, err := ReadLayout(dir)
			require.Error(t, err)
			assert.Contains(t, err.Error(), strings.ReplaceAll(tt.wantErr, "DIR", dir))
		})
	}
}
