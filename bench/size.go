package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"strings"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/synapse-image/synapse-image/image/pipeline"
	"github.com/synapse-image/synapse-image/image/platform"
)

// layerSize is one layer of the image: its blob as stored and pushed
// (compressed) and its tar (uncompressed).
type layerSize struct {
	What                     string
	MediaType                string
	Compressed, Uncompressed int64
}

// imageFromLayout returns the image for this machine's platform from the
// OCI layout a build wrote.
func imageFromLayout(dir string) (v1.Image, error) {
	a, err := pipeline.ReadArtifact(dir)
	if err != nil {
		return nil, err
	}
	img, err := a.Image(platform.Host())
	if err != nil {
		return nil, fmt.Errorf("OCI layout %s: %w", dir, err)
	}
	return img, nil
}

// layerSizes measures every layer; the uncompressed size is counted by
// reading the layer, since a layer's descriptor only records its blob.
func layerSizes(ctx context.Context, img v1.Image) ([]layerSize, error) {
	cf, err := img.ConfigFile()
	if err != nil {
		return nil, fmt.Errorf("image config: %w", err)
	}
	// The history entries that made a layer, in layer order.
	var what []string
	for _, h := range cf.History {
		if h.EmptyLayer {
			continue
		}
		w := h.Comment
		if h.CreatedBy != "" {
			w = h.CreatedBy
			if h.Comment != "" {
				w = h.Comment + ": " + h.CreatedBy
			}
		}
		what = append(what, w)
	}
	layers, err := img.Layers()
	if err != nil {
		return nil, fmt.Errorf("layers: %w", err)
	}
	var out []layerSize
	for i, l := range layers {
		d, err := l.Digest()
		if err != nil {
			return nil, fmt.Errorf("layer %d: %w", i+1, err)
		}
		ls := layerSize{What: d.String()[:19]}
		if i < len(what) {
			ls.What = what[i]
		}
		if ls.Compressed, err = l.Size(); err != nil {
			return nil, fmt.Errorf("layer %d: %w", i+1, err)
		}
		mt, err := l.MediaType()
		if err != nil {
			return nil, fmt.Errorf("layer %d: %w", i+1, err)
		}
		ls.MediaType = string(mt)
		if ls.Uncompressed, err = uncompressedSize(ctx, l); err != nil {
			return nil, fmt.Errorf("layer %d: %w", i+1, err)
		}
		out = append(out, ls)
	}
	return out, nil
}

func uncompressedSize(ctx context.Context, l v1.Layer) (int64, error) {
	rc, err := l.Uncompressed()
	if err != nil {
		return 0, fmt.Errorf("open uncompressed: %w", err)
	}
	defer rc.Close()
	n, err := io.Copy(io.Discard, ctxReader{ctx, rc})
	if err != nil {
		return n, fmt.Errorf("read uncompressed: %w", err)
	}
	return n, nil
}

// ctxReader stops a long read when the context ends.
type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (c ctxReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(p)
}

// benchSize reports the image's layers from the builder's OCI layout and
// what each optional feature's Debian packages cost (features.go);
// imageID (of o.image in the engine) tells whether the layout holds the
// same image as the other sections measure.
func benchSize(ctx context.Context, o options, imageID string, logf logFunc) []row {
	const section = "size"
	uTarget, cTarget := atMost(300e6, "≤ 300 MB"), atMost(110e6, "≤ 110 MB")
	fail := func(err error) []row {
		return []row{
			failedRow(section, "image, uncompressed", err, uTarget),
			failedRow(section, "image, compressed", err, cTarget),
		}
	}
	if _, err := os.Stat(o.ociDir); err != nil {
		return fail(fmt.Errorf("OCI layout: %w (build it with: go run . build)", err))
	}
	img, err := imageFromLayout(o.ociDir)
	if err != nil {
		return fail(err)
	}
	dg, err := img.Digest()
	if err != nil {
		return fail(fmt.Errorf("image digest: %w", err))
	}
	logf("size: reading the layers of %s in %s", dg, o.ociDir)
	layers, err := layerSizes(ctx, img)
	if err != nil {
		return fail(err)
	}
	var rows []row
	var tu, tc int64
	for i, l := range layers {
		tu += l.Uncompressed
		tc += l.Compressed
		rows = append(rows, measured(section, fmt.Sprintf("layer %d: %s", i+1, l.What),
			fmt.Sprintf("%s uncompressed, %s %s", megabytes(l.Uncompressed), megabytes(l.Compressed), compression(l.MediaType)), 0, nil))
	}
	name := "image " + dg.String()[:19]
	if cfg, err := img.ConfigName(); err == nil && imageID != "" && cfg.String() != imageID {
		// The table's other rows measured o.image: say when this is another build.
		name += " (the OCI layout's; not " + o.image + ")"
		logf("size: the OCI layout holds image ID %s, %s is %s", cfg, o.image, imageID)
	}
	rows = append(rows,
		measured(section, name+", uncompressed", megabytes(tu), float64(tu), uTarget),
		measured(section, name+", compressed (as pushed)", megabytes(tc), float64(tc), cTarget))
	logf("size: the optional features' Debian packages in the root file system layer")
	costs, err := imageFeatureCosts(ctx, img)
	if err != nil {
		return append(rows, failedRow(section, "feature costs", err, nil))
	}
	return append(rows, featureRows(section, costs)...)
}

// compression names a layer media type's compression.
func compression(mediaType string) string {
	switch {
	case strings.HasSuffix(mediaType, "+zstd"):
		return "zstd"
	case strings.HasSuffix(mediaType, "+gzip"), strings.HasSuffix(mediaType, ".tar.gzip"):
		return "gzip"
	}
	return "as stored (" + mediaType + ")"
}
