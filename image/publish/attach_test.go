package publish

import (
	"context"
	"encoding/json"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/synapse-image/synapse-image/internal/registrytest"
)

func testAttachments(subject v1.Hash) []Attachment {
	created := time.Date(2026, 11, 29, 0, 0, 0, 0, time.UTC)
	return []Attachment{
		{Subject: subject, ArtifactType: ArtifactTypeSPDX, Data: []byte(`{"spdxVersion":"SPDX-2.3"}`), Created: created, Name: "SBOM linux/amd64"},
		{Subject: subject, ArtifactType: ArtifactTypeInToto, Data: []byte(`{"_type":"https://in-toto.io/Statement/v1"}`), Created: created, Name: "provenance linux/amd64"},
	}
}

// checkReferrers fetches the referrers of subject as verify does (the
// referrers API, else the fallback tag) and checks each attachment is
// there with its type and content.
func checkReferrers(t *testing.T, repo name.Repository, subject v1.Hash, want []Attachment, ropts ...remote.Option) {
	t.Helper()
	idx, err := remote.Referrers(repo.Digest(subject.String()), ropts...)
	require.NoError(t, err)
	im, err := idx.IndexManifest()
	require.NoError(t, err)
	require.Len(t, im.Manifests, len(want))
	// Each referrer's type is read from its manifest: go-containerregistry's
	// in-process registry lists the config's media type as the descriptor's
	// artifactType even when the manifest has one.
	byType := map[string]v1.Image{}
	for _, d := range im.Manifests {
		img, err := remote.Image(repo.Digest(d.Digest.String()), ropts...)
		require.NoError(t, err)
		m, err := img.Manifest()
		require.NoError(t, err)
		byType[m.ArtifactType] = img
	}
	for _, a := range want {
		img, ok := byType[a.ArtifactType]
		require.True(t, ok, "no referrer of type %s in %+v", a.ArtifactType, im.Manifests)
		m, err := img.Manifest()
		require.NoError(t, err)
		require.NotNil(t, m.Subject)
		assert.Equal(t, subject, m.Subject.Digest)
		assert.Equal(t, "application/vnd.oci.empty.v1+json", string(m.Config.MediaType))
		require.Len(t, m.Layers, 1)
		l, err := img.LayerByDigest(m.Layers[0].Digest)
		require.NoError(t, err)
		rc, err := l.Compressed()
		require.NoError(t, err)
		data, err := io.ReadAll(rc)
		require.NoError(t, err)
		assert.Equal(t, string(a.Data), string(data))
	}
}

func TestAttachAsReferrers(t *testing.T) {
	for _, api := range []bool{true, false} {
		t.Run(map[bool]string{true: "referrers API", false: "fallback tag"}[api], func(t *testing.T) {
			reg := registrytest.New(t, registrytest.WithReferrers(api))
			take, host := reg.Writes, reg.Host

			img := testImage(t, nil)
			d := digest(t, img)
			o := Options{Refs: refs(t, host, "attach/synapse", false, "latest"), Keychain: anonymous, Attachments: testAttachments(d)}
			p := NewRegistry(o)
			_, err := p.Publish(context.Background(), img)
			require.NoError(t, err)
			require.Len(t, p.Attached(), 2)
			for _, a := range p.Attached() {
				assert.Equal(t, Pushed, a.Action, a.String())
			}
			repo, err := name.NewRepository(host+"/attach/synapse", name.Insecure)
			require.NoError(t, err)
			checkReferrers(t, repo, d, o.Attachments)
			fallback := repo.Tag(strings.Replace(d.String(), ":", "-", 1))
			_, err = remote.Head(fallback)
			if api {
				assert.True(t, isNotFound(err), "a registry with the referrers API needs no fallback tag: %v", err)
			} else {
				assert.NoError(t, err, "the fallback tag %s holds the referrers", fallback)
			}
			take()

			// Published again: every tag and attachment unchanged, nothing written.
			p = NewRegistry(o)
			_, err = p.Publish(context.Background(), img)
			require.NoError(t, err)
			for _, a := range p.Attached() {
				assert.Equal(t, Unchanged, a.Action, a.String())
			}
			assert.Empty(t, take())

			// A dry run of a new attachment says so and writes nothing.
			o.DryRun = true
			o.Attachments = []Attachment{{Subject: d, ArtifactType: ArtifactTypeSPDX, Data: []byte("{}"), Name: "other"}}
			p = NewRegistry(o)
			_, err = p.Publish(context.Background(), img)
			require.NoError(t, err)
			assert.Equal(t, WouldPush, p.Attached()[0].Action)
			assert.Empty(t, take())
		})
	}
}

func TestAttachRefusesAnotherSubject(t *testing.T) {
	reg := newTestRegistry(t)
	img := testImage(t, nil)
	other := digest(t, testImage(t, nil))
	o := opts(reg, "latest")
	o.Attachments = testAttachments(other)
	_, err := NewRegistry(o).Publish(context.Background(), img)
	assert.ErrorContains(t, err, "is not the image being published")
}

func TestArtifactManifestIsReproducible(t *testing.T) {
	a := testAttachments(v1.Hash{Algorithm: "sha256", Hex: strings.Repeat("a", 64)})[0]
	subject := v1.Descriptor{MediaType: "application/vnd.oci.image.manifest.v1+json", Digest: a.Subject, Size: 123}
	one, err := referrerOf(a, subject)
	require.NoError(t, err)
	two, err := referrerOf(a, subject)
	require.NoError(t, err)
	assert.Equal(t, string(one.raw), string(two.raw))
	assert.Equal(t, one.digest, two.digest)
	var m map[string]any
	require.NoError(t, json.Unmarshal(one.raw, &m))
	assert.Equal(t, "application/spdx+json", m["artifactType"])
	assert.Equal(t, "2026-11-29T00:00:00Z", m["annotations"].(map[string]any)["org.opencontainers.image.created"])
}
