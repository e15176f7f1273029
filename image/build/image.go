package build

import (
	"bytes"
	"encoding/json"
	"fmt"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/partial"
	"github.com/google/go-containerregistry/pkg/v1/static"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// image is an OCI image from a raw config and stored layers. It exists
// because mutate.ConfigFile re-encodes the config through v1.ConfigFile,
// which would drop fields go-containerregistry does not know (the
// healthcheck's StartInterval).
type image struct {
	config   []byte
	manifest []byte
	layers   map[v1.Hash]v1.Layer
}

func newImage(config []byte, layers []v1.Layer) (v1.Image, error) {
	m := v1.Manifest{
		SchemaVersion: 2,
		MediaType:     types.OCIManifestSchema1,
		Config: v1.Descriptor{
			MediaType: types.OCIConfigJSON,
			Size:      int64(len(config)),
		},
	}
	var err error
	if m.Config.Digest, _, err = v1.SHA256(bytes.NewReader(config)); err != nil {
		return nil, err
	}
	img := &image{config: config, layers: map[v1.Hash]v1.Layer{}}
	for i, l := range layers {
		d, err := partial.Descriptor(l)
		if err != nil {
			return nil, fmt.Errorf("layer %d: %w", i, err)
		}
		m.Layers = append(m.Layers, v1.Descriptor{MediaType: d.MediaType, Size: d.Size, Digest: d.Digest})
		img.layers[d.Digest] = l
	}
	if img.manifest, err = json.Marshal(m); err != nil {
		return nil, err
	}
	return partial.CompressedToImage(img)
}

func (i *image) RawConfigFile() ([]byte, error)      { return i.config, nil }
func (i *image) MediaType() (types.MediaType, error) { return types.OCIManifestSchema1, nil }
func (i *image) RawManifest() ([]byte, error)        { return i.manifest, nil }

func (i *image) LayerByDigest(h v1.Hash) (partial.CompressedLayer, error) {
	if l, ok := i.layers[h]; ok {
		return l, nil
	}
	if d, _, err := v1.SHA256(bytes.NewReader(i.config)); err == nil && d == h {
		return static.NewLayer(i.config, types.OCIConfigJSON), nil
	}
	return nil, fmt.Errorf("image has no blob %s", h)
}
