package publish

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/static"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// Artifact types of what a build attaches to its images.
const (
	ArtifactTypeSPDX   = "application/spdx+json"
	ArtifactTypeInToto = "application/vnd.in-toto+json"
)

// emptyConfig is the OCI 1.1 empty descriptor an artifact manifest without
// a config of its own uses.
var emptyConfig = []byte("{}")

const mediaTypeEmpty types.MediaType = "application/vnd.oci.empty.v1+json"

// annotationCreated dates an artifact manifest (SOURCE_DATE_EPOCH, so the
// same file gives the same manifest).
const annotationCreated = "org.opencontainers.image.created"

// Attachment is a file attached to a pushed manifest as an OCI 1.1
// referrer: an artifact manifest whose one layer is the file and whose
// subject is that manifest. Registries without the referrers API get
// go-containerregistry's fallback tag (sha256-<subject hex>), an index of
// the referrers.
type Attachment struct {
	// Subject is the digest of the manifest the file describes; it must
	// be the published image (or, for an index, one of its manifests).
	Subject v1.Hash
	// ArtifactType is the file's media type (ArtifactTypeSPDX, ArtifactTypeInToto).
	ArtifactType string
	Data         []byte
	Created      time.Time
	// Name says what it is in the log ("SBOM linux/amd64").
	Name string
}

// artifactManifest is the manifest of an attachment.
func artifactManifest(a Attachment, subject v1.Descriptor) ([]byte, error) {
	cfg, _, err := v1.SHA256(bytes.NewReader(emptyConfig))
	if err != nil {
		return nil, err
	}
	layer, _, err := v1.SHA256(bytes.NewReader(a.Data))
	if err != nil {
		return nil, err
	}
	m := v1.Manifest{
		SchemaVersion: 2,
		MediaType:     types.OCIManifestSchema1,
		ArtifactType:  a.ArtifactType,
		Config:        v1.Descriptor{MediaType: mediaTypeEmpty, Digest: cfg, Size: int64(len(emptyConfig)), Data: emptyConfig},
		Layers:        []v1.Descriptor{{MediaType: types.MediaType(a.ArtifactType), Digest: layer, Size: int64(len(a.Data))}},
		Subject:       &v1.Descriptor{MediaType: subject.MediaType, Digest: subject.Digest, Size: subject.Size},
		Annotations:   map[string]string{annotationCreated: a.Created.UTC().Format(time.RFC3339)},
	}
	return json.Marshal(m)
}

// rawManifest is a manifest to put as it is.
type rawManifest struct {
	raw []byte
	mt  types.MediaType
}

func (r rawManifest) RawManifest() ([]byte, error)        { return r.raw, nil }
func (r rawManifest) MediaType() (types.MediaType, error) { return r.mt, nil }

// AttachResult says what happened to one attachment.
type AttachResult struct {
	Attachment Attachment
	// Digest is the artifact manifest's.
	Digest v1.Hash
	Action Action
}

func (r AttachResult) String() string {
	return fmt.Sprintf("%s (%s) of %s → %s (%s)", r.Attachment.Name, r.Attachment.ArtifactType, r.Attachment.Subject, r.Digest, r.Action)
}

// attach pushes each attachment the registry does not have yet; with
// dryRun it only says what it would push. subjects are the descriptors of
// the manifests that may be subjects.
func attach(ctx context.Context, repo name.Repository, list []Attachment, subjects map[v1.Hash]v1.Descriptor, dryRun bool, ropts []remote.Option) ([]AttachResult, error) {
	var out []AttachResult
	for _, a := range list {
		subject, ok := subjects[a.Subject]
		if !ok {
			return nil, fmt.Errorf("%s: its subject %s is not the image being published", a.Name, a.Subject)
		}
		raw, err := artifactManifest(a, subject)
		if err != nil {
			return nil, err
		}
		d, _, err := v1.SHA256(bytes.NewReader(raw))
		if err != nil {
			return nil, err
		}
		res := AttachResult{Attachment: a, Digest: d}
		ref := repo.Digest(d.String())
		if _, err := remote.Head(ref, ropts...); err == nil {
			res.Action = Unchanged
			out = append(out, res)
			continue
		} else if !isNotFound(err) {
			return nil, explain(repo, fmt.Errorf("%s: %w", a.Name, err))
		}
		if dryRun {
			res.Action = WouldPush
			out = append(out, res)
			continue
		}
		for _, blob := range []struct {
			data []byte
			mt   types.MediaType
		}{{emptyConfig, mediaTypeEmpty}, {a.Data, types.MediaType(a.ArtifactType)}} {
			if err := remote.WriteLayer(repo, static.NewLayer(blob.data, blob.mt), ropts...); err != nil {
				return nil, explain(repo, fmt.Errorf("%s: %w", a.Name, err))
			}
		}
		if err := remote.Put(ref, rawManifest{raw, types.OCIManifestSchema1}, append(ropts, remote.WithReferrersTagFallback(true))...); err != nil {
			return nil, explain(repo, fmt.Errorf("%s: %w", a.Name, err))
		}
		res.Action = Pushed
		out = append(out, res)
	}
	return out, nil
}

// IsLoopback reports whether a registry HOST[:PORT] is on loopback, where
// plain HTTP is allowed (the rule publish follows; verify reads the same way).
func IsLoopback(registry string) bool { return isLoopback(registry) }
