package publish

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"

	"github.com/synapse-image/synapse-image/image/names"
	"github.com/synapse-image/synapse-image/image/tags"
)

// Layout writes the artifact as an OCI image layout in Dir, replacing what
// was there: the layout holds exactly the last build, which is what
// ReadLayout and `go run . publish` expect. The new layout is written next
// to Dir and renamed into place, so a failed write leaves the old one whole.
type Layout struct {
	Dir string
	// RefName annotates the manifest in index.json (the first tag); optional.
	RefName string
}

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
		opts = append(opts, layout.WithAnnotations(map[string]string{names.AnnotationRefName: l.RefName}))
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
	old := tmp + ".old"
	if err := os.Rename(l.Dir, old); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	if err := os.Rename(tmp, l.Dir); err != nil {
		return err
	}
	return os.RemoveAll(old)
}

// ReadLayout opens the image in the OCI layout dir, which must hold an index
// with exactly one image (what the builder writes for one platform). It
// checks that every blob the image needs is there, so a half-written layout
// fails here and not halfway through a push.
func ReadLayout(dir string) (v1.Image, error) {
	a, err := ReadLayoutArtifact(dir)
	if err != nil {
		return nil, err
	}
	img, ok := a.(v1.Image)
	if !ok {
		mt, _ := a.MediaType()
		return nil, fmt.Errorf("OCI layout %s: the manifest is a %s, expected an image", dir, mt)
	}
	return img, nil
}

// ReadLayoutArtifact opens the one image or image index (several
// platforms) in the OCI layout dir, checking that every blob is there.
func ReadLayoutArtifact(dir string) (Artifact, error) {
	if _, err := os.Stat(filepath.Join(dir, "index.json")); err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("no OCI layout in %s: run `go run . build` first", dir)
		}
		return nil, fmt.Errorf("OCI layout %s: %w", dir, err)
	}
	p, err := layout.FromPath(dir)
	if err != nil {
		return nil, fmt.Errorf("OCI layout %s: %w", dir, err)
	}
	idx, err := p.ImageIndex()
	if err != nil {
		return nil, fmt.Errorf("OCI layout %s: %w", dir, err)
	}
	im, err := idx.IndexManifest()
	if err != nil {
		return nil, fmt.Errorf("OCI layout %s: index.json: %w", dir, err)
	}
	if len(im.Manifests) != 1 {
		return nil, fmt.Errorf("OCI layout %s holds %d manifests, expected exactly one image or index: run `go run . build` again", dir, len(im.Manifests))
	}
	desc := im.Manifests[0]
	switch {
	case desc.MediaType.IsImage():
		img, err := idx.Image(desc.Digest)
		if err != nil {
			return nil, fmt.Errorf("OCI layout %s: image %s: %w", dir, desc.Digest, err)
		}
		return img, checkBlobs(dir, img)
	case desc.MediaType.IsIndex():
		child, err := idx.ImageIndex(desc.Digest)
		if err != nil {
			return nil, fmt.Errorf("OCI layout %s: index %s: %w", dir, desc.Digest, err)
		}
		cm, err := child.IndexManifest()
		if err != nil {
			return nil, fmt.Errorf("OCI layout %s: index %s: %w", dir, desc.Digest, err)
		}
		for _, m := range cm.Manifests {
			img, err := child.Image(m.Digest)
			if err != nil {
				return nil, fmt.Errorf("OCI layout %s: image %s: %w", dir, m.Digest, err)
			}
			if err := checkBlobs(dir, img); err != nil {
				return nil, err
			}
		}
		return child, nil
	}
	return nil, fmt.Errorf("OCI layout %s: the manifest is a %s, expected an image or an index", dir, desc.MediaType)
}

// ReadLayoutImages opens every platform's image of the OCI layout dir: its
// one image, or the images of its index, in the index's order.
func ReadLayoutImages(dir string) ([]v1.Image, error) {
	a, err := ReadLayoutArtifact(dir)
	if err != nil {
		return nil, err
	}
	idx, ok := a.(v1.ImageIndex)
	if !ok {
		return []v1.Image{a.(v1.Image)}, nil
	}
	im, err := idx.IndexManifest()
	if err != nil {
		return nil, fmt.Errorf("OCI layout %s: %w", dir, err)
	}
	var imgs []v1.Image
	for _, m := range im.Manifests {
		img, err := idx.Image(m.Digest)
		if err != nil {
			return nil, fmt.Errorf("OCI layout %s: image %s: %w", dir, m.Digest, err)
		}
		imgs = append(imgs, img)
	}
	return imgs, nil
}

// ReadLayoutPlatform opens the linux/arch image of the OCI layout dir: its
// one image, or that platform's image of its index.
func ReadLayoutPlatform(dir, arch string) (v1.Image, error) {
	imgs, err := ReadLayoutImages(dir)
	if err != nil {
		return nil, err
	}
	var found []string
	for _, img := range imgs {
		cf, err := img.ConfigFile()
		if err != nil {
			return nil, fmt.Errorf("OCI layout %s: image config: %w", dir, err)
		}
		if cf.OS == "linux" && cf.Architecture == arch {
			return img, nil
		}
		found = append(found, cf.OS+"/"+cf.Architecture)
	}
	return nil, fmt.Errorf("OCI layout %s has no linux/%s image (it has %v): build it with `go run . build --platform linux/%s`", dir, arch, found, arch)
}

func checkBlobs(dir string, img v1.Image) error {
	d, err := img.Digest()
	if err != nil {
		return err
	}
	m, err := img.Manifest()
	if err != nil {
		return fmt.Errorf("OCI layout %s: image %s: %w", dir, d, err)
	}
	blobs := append([]v1.Descriptor{m.Config}, m.Layers...)
	for _, b := range blobs {
		path := filepath.Join(dir, "blobs", b.Digest.Algorithm, b.Digest.Hex)
		st, err := os.Stat(path)
		if err != nil {
			return fmt.Errorf("OCI layout %s is incomplete: blob %s is missing: run `go run . build` again", dir, b.Digest)
		}
		if st.Size() != b.Size {
			return fmt.Errorf("OCI layout %s is damaged: blob %s has %d bytes, the manifest says %d: run `go run . build` again", dir, b.Digest, st.Size(), b.Size)
		}
	}
	return nil
}

// Info is what publishing needs to know about an image, from its config labels.
type Info struct {
	Digest v1.Hash
	// Version is the Synapse version inside, from the Debian package version
	// label or, without it, the OCI version label.
	Version tags.Version
	// Revision is the git revision of the recipe (may be empty).
	Revision string
	// Title is the image title label (may be empty).
	Title string
}

// Inspect reads the labels of img.
func Inspect(img v1.Image) (Info, error) {
	var info Info
	d, err := img.Digest()
	if err != nil {
		return info, fmt.Errorf("image digest: %w", err)
	}
	info.Digest = d
	cf, err := img.ConfigFile()
	if err != nil {
		return info, fmt.Errorf("image %s: config: %w", d, err)
	}
	labels := cf.Config.Labels
	info.Revision = labels[names.LabelRevision]
	info.Title = labels[names.LabelTitle]
	switch {
	case labels[names.LabelPackageVersion] != "":
		info.Version, err = tags.ParseDebian(labels[names.LabelPackageVersion])
	case labels[names.LabelVersion] != "":
		info.Version, err = tags.ParseUpstream(labels[names.LabelVersion])
	default:
		return info, fmt.Errorf("image %s has neither label %s nor %s: give the tags with --tag", d, names.LabelPackageVersion, names.LabelVersion)
	}
	if err != nil {
		return info, fmt.Errorf("image %s: %w", d, err)
	}
	return info, nil
}

// Tags are the image's tags by the rules of package tags.
func (i Info) Tags(opt tags.Options) []string {
	return tags.For(i.Version, i.Revision, opt)
}
