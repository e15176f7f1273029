package publish

import (
	"errors"
	"fmt"
	"sort"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// NewIndex assembles platform images into one OCI image index, each
// manifest with the platform its config names, in platform order
// (linux/amd64 before linux/arm64), so the same images give the same index.
func NewIndex(images ...v1.Image) (v1.ImageIndex, error) {
	if len(images) == 0 {
		return nil, errors.New("an index needs at least one image")
	}
	type entry struct {
		platform v1.Platform
		img      v1.Image
	}
	var entries []entry
	seen := map[string]bool{}
	for _, img := range images {
		cf, err := img.ConfigFile()
		if err != nil {
			return nil, err
		}
		if cf.OS == "" || cf.Architecture == "" {
			d, _ := img.Digest()
			return nil, fmt.Errorf("image %s: its config names no os/architecture", d)
		}
		p := v1.Platform{OS: cf.OS, Architecture: cf.Architecture, Variant: cf.Variant}
		if seen[p.String()] {
			return nil, fmt.Errorf("two images for %s", p.String())
		}
		seen[p.String()] = true
		entries = append(entries, entry{p, img})
	}
	sort.Slice(entries, func(i, j int) bool { return entries[i].platform.String() < entries[j].platform.String() })
	var adds []mutate.IndexAddendum
	for _, e := range entries {
		mt, err := e.img.MediaType()
		if err != nil {
			return nil, err
		}
		p := e.platform
		adds = append(adds, mutate.IndexAddendum{Add: e.img, Descriptor: v1.Descriptor{MediaType: mt, Platform: &p}})
	}
	return mutate.AppendManifests(mutate.IndexMediaType(empty.Index, types.OCIImageIndex), adds...), nil
}

// manifestsOf returns the descriptors of a's manifests: a itself and, for
// an index, each manifest it lists.
func manifestsOf(a Artifact) (map[v1.Hash]v1.Descriptor, error) {
	d, err := a.Digest()
	if err != nil {
		return nil, err
	}
	raw, err := a.RawManifest()
	if err != nil {
		return nil, err
	}
	mt, err := a.MediaType()
	if err != nil {
		return nil, err
	}
	out := map[v1.Hash]v1.Descriptor{d: {MediaType: mt, Digest: d, Size: int64(len(raw))}}
	if idx, ok := a.(v1.ImageIndex); ok {
		im, err := idx.IndexManifest()
		if err != nil {
			return nil, err
		}
		for _, m := range im.Manifests {
			out[m.Digest] = v1.Descriptor{MediaType: m.MediaType, Digest: m.Digest, Size: m.Size}
		}
	}
	return out, nil
}

// Images are the platform images of a: a itself, or the images its index
// lists, in the index's order.
func Images(a Artifact) ([]v1.Image, error) {
	switch a := a.(type) {
	case v1.Image:
		return []v1.Image{a}, nil
	case v1.ImageIndex:
		im, err := a.IndexManifest()
		if err != nil {
			return nil, err
		}
		var images []v1.Image
		for _, m := range im.Manifests {
			img, err := a.Image(m.Digest)
			if err != nil {
				return nil, fmt.Errorf("image %s: %w", m.Digest, err)
			}
			images = append(images, img)
		}
		if len(images) == 0 {
			return nil, errors.New("an index of no images")
		}
		return images, nil
	}
	return nil, fmt.Errorf("a %T is neither an image nor an index", a)
}

// blobSizes are the layers and configs of a (every image of an index).
func blobSizes(a Artifact) (map[v1.Hash]int64, error) {
	images, err := Images(a)
	if err != nil {
		return nil, err
	}
	sizes := map[v1.Hash]int64{}
	for _, img := range images {
		m, err := img.Manifest()
		if err != nil {
			return nil, err
		}
		sizes[m.Config.Digest] = m.Config.Size
		for _, l := range m.Layers {
			sizes[l.Digest] = l.Size
		}
	}
	return sizes, nil
}

func sortedDigests(m map[v1.Hash]v1.Descriptor) []v1.Hash {
	out := make([]v1.Hash, 0, len(m))
	for d := range m {
		out = append(out, d)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].String() < out[j].String() })
	return out
}
