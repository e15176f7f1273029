package pipeline

import (
	"fmt"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/synapse-image/synapse-image/image/platform"
	"github.com/synapse-image/synapse-image/image/publish"
)

// Artifact is what a build makes and what publish pushes: the manifest the
// tags point at (the one platform's image, or the index of every
// platform's), and each platform's image with its SBOM and provenance. The
// OCI layout holds it whole, the attachments as referrers of their image
// (Layout, ReadArtifact): nothing of a build lives beside the layout.
type Artifact struct {
	// Manifest is a v1.Image or a v1.ImageIndex.
	Manifest publish.Artifact
	// Images are the platform images, in the index's order.
	Images []PlatformImage
}

// PlatformImage is one platform's image and what is attached to it.
type PlatformImage struct {
	// Platform is the one the image config names.
	Platform platform.Platform
	Image    v1.Image
	// Attachments are referrers of Image: its SBOM and provenance.
	Attachments []publish.Attachment
}

// newArtifact puts platform images together: the image itself for one,
// an index (publish.NewIndex, in platform order) for several.
func newArtifact(images []PlatformImage) (*Artifact, error) {
	var m publish.Artifact = images[0].Image
	if len(images) > 1 {
		imgs := make([]v1.Image, len(images))
		for i, p := range images {
			imgs[i] = p.Image
		}
		idx, err := publish.NewIndex(imgs...)
		if err != nil {
			return nil, err
		}
		m = idx
	}
	return artifactOf(m, attachmentsOf(images))
}

// ReadArtifact reads the artifact a build wrote to the OCI layout dir.
func ReadArtifact(dir string) (*Artifact, error) {
	m, atts, err := publish.ReadLayout(dir)
	if err != nil {
		return nil, err
	}
	a, err := artifactOf(m, atts)
	if err != nil {
		return nil, fmt.Errorf("OCI layout %s: %w", dir, err)
	}
	return a, nil
}

// artifactOf lists m's platform images and gives each the attachments
// whose subject it is.
func artifactOf(m publish.Artifact, atts []publish.Attachment) (*Artifact, error) {
	imgs, err := publish.Images(m)
	if err != nil {
		return nil, err
	}
	a := &Artifact{Manifest: m}
	for _, img := range imgs {
		d, err := img.Digest()
		if err != nil {
			return nil, err
		}
		cf, err := img.ConfigFile()
		if err != nil {
			return nil, fmt.Errorf("image %s: config: %w", d, err)
		}
		p := PlatformImage{Platform: platform.Of(cf), Image: img}
		for _, att := range atts {
			if att.Subject == d {
				att.Name = kindOf(att.ArtifactType) + " " + p.Platform.String()
				p.Attachments = append(p.Attachments, att)
			}
		}
		a.Images = append(a.Images, p)
	}
	return a, nil
}

// kindOf names an attachment's type in the log.
func kindOf(artifactType string) string {
	switch artifactType {
	case publish.ArtifactTypeSPDX:
		return "SBOM"
	case publish.ArtifactTypeInToto:
		return "provenance"
	}
	return artifactType
}

func attachmentsOf(images []PlatformImage) []publish.Attachment {
	var out []publish.Attachment
	for _, p := range images {
		out = append(out, p.Attachments...)
	}
	return out
}

// Attachments are every platform's attachments.
func (a *Artifact) Attachments() []publish.Attachment { return attachmentsOf(a.Images) }

// Digest is the digest the tags point at.
func (a *Artifact) Digest() (v1.Hash, error) { return a.Manifest.Digest() }

// Layout is the publisher that writes the artifact, attachments included,
// as an OCI layout to dir.
func (a *Artifact) Layout(dir, refName string) publish.Layout {
	return publish.Layout{Dir: dir, RefName: refName, Attachments: a.Attachments()}
}

// Image is the image of p.
func (a *Artifact) Image(p platform.Platform) (v1.Image, error) {
	var have []string
	for _, img := range a.Images {
		if img.Platform == p {
			return img.Image, nil
		}
		have = append(have, img.Platform.String())
	}
	return nil, fmt.Errorf("no %s image (it has %v): build it with `go run . build --platform %s`", p, have, p)
}
