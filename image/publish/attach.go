package publish

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
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

// referrer is the artifact manifest of an attachment, as pushed to a
// registry and as written to an OCI layout: the same bytes in both.
type referrer struct {
	raw    []byte
	digest v1.Hash
	// blobs are the empty config and the file, with their media types.
	blobs []blob
}

// blob is a blob of an artifact manifest.
type blob struct {
	data []byte
	mt   types.MediaType
}

// referrerOf builds a's artifact manifest with subject as its subject.
func referrerOf(a Attachment, subject v1.Descriptor) (referrer, error) {
	cfg, _, err := v1.SHA256(bytes.NewReader(emptyConfig))
	if err != nil {
		return referrer{}, err
	}
	layer, _, err := v1.SHA256(bytes.NewReader(a.Data))
	if err != nil {
		return referrer{}, err
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
	raw, err := json.Marshal(m)
	if err != nil {
		return referrer{}, err
	}
	d, _, err := v1.SHA256(bytes.NewReader(raw))
	if err != nil {
		return referrer{}, err
	}
	return referrer{raw: raw, digest: d, blobs: []blob{
		{emptyConfig, mediaTypeEmpty},
		{a.Data, types.MediaType(a.ArtifactType)},
	}}, nil
}

// descriptor is r's descriptor, with its artifact type (as the OCI 1.1
// referrers API lists it).
func (r referrer) descriptor(artifactType string) v1.Descriptor {
	return v1.Descriptor{MediaType: types.OCIManifestSchema1, Digest: r.digest, Size: int64(len(r.raw)), ArtifactType: artifactType}
}

// maxAttachment bounds what is read of an attached file.
const maxAttachment = 64 << 20

// ReadAttachment reads a referrer, from a registry or an OCI layout: its
// subject, its type (from its manifest: some registries list the config's
// media type instead) and, for the types a build attaches
// (ArtifactTypeSPDX, ArtifactTypeInToto), its one layer, the file. Other
// referrers (signatures, other tools') come back without Data.
func ReadAttachment(img v1.Image) (Attachment, error) {
	m, err := img.Manifest()
	if err != nil {
		return Attachment{}, err
	}
	if m.Subject == nil {
		return Attachment{}, errors.New("no subject: not a referrer")
	}
	a := Attachment{Subject: m.Subject.Digest, ArtifactType: m.ArtifactType}
	if a.ArtifactType == "" {
		a.ArtifactType = string(m.Config.MediaType)
	}
	if c, ok := m.Annotations[annotationCreated]; ok {
		if a.Created, err = time.Parse(time.RFC3339, c); err != nil {
			return Attachment{}, fmt.Errorf("annotation %s: %w", annotationCreated, err)
		}
	}
	if a.ArtifactType != ArtifactTypeSPDX && a.ArtifactType != ArtifactTypeInToto {
		return a, nil
	}
	if len(m.Layers) != 1 {
		return Attachment{}, fmt.Errorf("%s: %d layers, expected 1", a.ArtifactType, len(m.Layers))
	}
	l, err := img.LayerByDigest(m.Layers[0].Digest)
	if err != nil {
		return Attachment{}, err
	}
	rc, err := l.Compressed() // the file itself: no compression
	if err != nil {
		return Attachment{}, err
	}
	defer rc.Close()
	if a.Data, err = io.ReadAll(io.LimitReader(rc, maxAttachment+1)); err != nil {
		return Attachment{}, err
	}
	if len(a.Data) > maxAttachment {
		return Attachment{}, fmt.Errorf("%s: more than %d bytes", a.ArtifactType, maxAttachment)
	}
	return a, nil
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
		r, err := referrerOf(a, subject)
		if err != nil {
			return nil, err
		}
		res := AttachResult{Attachment: a, Digest: r.digest}
		ref := repo.Digest(r.digest.String())
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
		for _, blob := range r.blobs {
			if err := remote.WriteLayer(repo, static.NewLayer(blob.data, blob.mt), ropts...); err != nil {
				return nil, explain(repo, fmt.Errorf("%s: %w", a.Name, err))
			}
		}
		if err := remote.Put(ref, rawManifest{r.raw, types.OCIManifestSchema1}, append(ropts, remote.WithReferrersTagFallback(true))...); err != nil {
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
