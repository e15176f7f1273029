package publish

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"
)

// Layout writes the artifact as an OCI image layout in Dir, replacing what
// was there: the layout holds exactly the last build, which is what
// ReadLayout and `go run . publish` expect. The new layout is written next
// to Dir and renamed into place, so a failed write leaves the old one whole.
//
// The attachments go into the layout as OCI 1.1 referrers: artifact
// manifests whose subject is a manifest of the artifact, listed in
// index.json beside it, the same bytes a registry gets. The layout alone
// is then the whole build.
type Layout struct {
	Dir string
	// RefName annotates the manifest in index.json (the first tag); optional.
	RefName string
	// Attachments are each attached to its Subject, a manifest of the artifact.
	Attachments []Attachment
}

// annotationRefName names a manifest in an OCI layout's index.json.
const annotationRefName = "org.opencontainers.image.ref.name"

func (l Layout) String() string { return "OCI layout " + l.Dir }

// Publish implements Publisher.
func (l Layout) Publish(_ context.Context, a Artifact) ([]Result, error) {
	d, err := digestOf(a)
	if err != nil {
		return nil, err
	}
	if err := l.write(a); err != nil {
		return nil, fmt.Errorf("OCI layout %s: %w", l.Dir, err)
	}
	return []Result{{Dest: l.String(), Digest: d, Action: Written}}, nil
}

func (l Layout) write(a Artifact) error {
	subjects, err := manifestsOf(a)
	if err != nil {
		return err
	}
	parent := filepath.Dir(l.Dir)
	if err := os.MkdirAll(parent, 0o755); err != nil {
		return err
	}
	tmp, err := os.MkdirTemp(parent, "."+filepath.Base(l.Dir)+"-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	p, err := layout.Write(tmp, empty.Index)
	if err != nil {
		return err
	}
	var opts []layout.Option
	if l.RefName != "" {
		opts = append(opts, layout.WithAnnotations(map[string]string{annotationRefName: l.RefName}))
	}
	switch a := a.(type) {
	case v1.Image:
		err = p.AppendImage(a, opts...)
	case v1.ImageIndex:
		err = p.AppendIndex(a, opts...)
	default:
		err = fmt.Errorf("cannot write a %T", a)
	}
	if err != nil {
		return err
	}
	for _, att := range l.Attachments {
		if err := writeReferrer(p, att, subjects); err != nil {
			return err
		}
	}
	old := tmp + ".old"
	if err := os.Rename(l.Dir, old); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	if err := os.Rename(tmp, l.Dir); err != nil {
		return err
	}
	return os.RemoveAll(old)
}

// writeReferrer writes att's artifact manifest and blobs to the layout and
// lists the manifest in index.json.
func writeReferrer(p layout.Path, att Attachment, subjects map[v1.Hash]v1.Descriptor) error {
	subject, ok := subjects[att.Subject]
	if !ok {
		return fmt.Errorf("%s: its subject %s is not a manifest of the image", att.Name, att.Subject)
	}
	r, err := referrerOf(att, subject)
	if err != nil {
		return err
	}
	for _, b := range append(r.blobs, blob{data: r.raw}) {
		h, _, err := v1.SHA256(bytes.NewReader(b.data))
		if err != nil {
			return err
		}
		if err := p.WriteBlob(h, io.NopCloser(bytes.NewReader(b.data))); err != nil {
			return err
		}
	}
	return p.AppendDescriptor(r.descriptor(att.ArtifactType))
}

// ReadLayout opens the OCI layout dir: the one image or image index
// (several platforms) it holds, and the attachments (referrers) of its
// manifests. It checks that every blob is there, so a half-written layout
// fails here and not halfway through a push.
func ReadLayout(dir string) (Artifact, []Attachment, error) {
	a, atts, err := readLayout(dir)
	if err != nil {
		return nil, nil, fmt.Errorf("OCI layout %s: %w", dir, err)
	}
	return a, atts, nil
}

func readLayout(dir string) (Artifact, []Attachment, error) {
	if _, err := os.Stat(filepath.Join(dir, "index.json")); err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, nil, errors.New("not there: run `go run . build` first")
		}
		return nil, nil, err
	}
	p, err := layout.FromPath(dir)
	if err != nil {
		return nil, nil, err
	}
	idx, err := p.ImageIndex()
	if err != nil {
		return nil, nil, err
	}
	im, err := idx.IndexManifest()
	if err != nil {
		return nil, nil, fmt.Errorf("index.json: %w", err)
	}
	// index.json lists the artifact and the referrers of its manifests.
	var artifacts []Artifact
	var atts []Attachment
	for _, desc := range im.Manifests {
		switch {
		case desc.MediaType.IsIndex():
			child, err := idx.ImageIndex(desc.Digest)
			if err != nil {
				return nil, nil, fmt.Errorf("index %s: %w", desc.Digest, err)
			}
			artifacts = append(artifacts, child)
		case desc.MediaType.IsImage():
			img, err := idx.Image(desc.Digest)
			if err != nil {
				return nil, nil, fmt.Errorf("image %s: %w", desc.Digest, err)
			}
			m, err := img.Manifest()
			if err != nil {
				return nil, nil, fmt.Errorf("image %s: %w", desc.Digest, err)
			}
			if m.Subject == nil {
				artifacts = append(artifacts, img)
				continue
			}
			att, err := ReadAttachment(img)
			if err != nil {
				return nil, nil, fmt.Errorf("referrer %s: %w", desc.Digest, err)
			}
			if att.Data == nil {
				continue // another tool's referrer (a signature): not the build's to publish
			}
			atts = append(atts, att)
		default:
			return nil, nil, fmt.Errorf("manifest %s is a %s, expected an image or an index", desc.Digest, desc.MediaType)
		}
	}
	if len(artifacts) != 1 {
		return nil, nil, fmt.Errorf("holds %d images or indexes besides referrers, expected exactly one: run `go run . build` again", len(artifacts))
	}
	a := artifacts[0]
	images, err := Images(a)
	if err != nil {
		return nil, nil, err
	}
	for _, img := range images {
		if err := checkBlobs(dir, img); err != nil {
			return nil, nil, err
		}
	}
	subjects, err := manifestsOf(a)
	if err != nil {
		return nil, nil, err
	}
	for _, att := range atts {
		if _, ok := subjects[att.Subject]; !ok {
			return nil, nil, fmt.Errorf("a %s referrer names subject %s, which is not a manifest of the image: run `go run . build` again", att.ArtifactType, att.Subject)
		}
	}
	return a, atts, nil
}

func checkBlobs(dir string, img v1.Image) error {
	d, err := img.Digest()
	if err != nil {
		return err
	}
	m, err := img.Manifest()
	if err != nil {
		return fmt.Errorf("image %s: %w", d, err)
	}
	blobs := append([]v1.Descriptor{m.Config}, m.Layers...)
	for _, b := range blobs {
		path := filepath.Join(dir, "blobs", b.Digest.Algorithm, b.Digest.Hex)
		st, err := os.Stat(path)
		if err != nil {
			return fmt.Errorf("incomplete: blob %s is missing: run `go run . build` again", b.Digest)
		}
		if st.Size() != b.Size {
			return fmt.Errorf("damaged: blob %s has %d bytes, the manifest says %d: run `go run . build` again", b.Digest, st.Size(), b.Size)
		}
	}
	return nil
}
