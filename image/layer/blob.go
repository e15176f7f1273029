package layer

import (
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"hash"
	"io"
	"os"
	"path/filepath"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/partial"
	"github.com/google/go-containerregistry/pkg/v1/types"
	"github.com/klauspost/compress/gzip"
)

// BlobFile and MetaFile are the names of a stored layer's files.
const (
	BlobFile = "layer.tar.gz"
	MetaFile = "layer.json"
)

// Meta describes a stored layer.
type Meta struct {
	Digest           v1.Hash `json:"digest"`  // of the compressed blob
	DiffID           v1.Hash `json:"diff_id"` // of the uncompressed tar
	Size             int64   `json:"size"`    // compressed
	UncompressedSize int64   `json:"uncompressed_size"`
}

// Write stores the tar stream produced by fill, gzip-compressed, in dir as
// BlobFile plus MetaFile. gzip output depends only on its input and level,
// so the same tar always gives the same digest. klauspost/compress/gzip
// writes the same format as compress/gzip about three times as fast at the
// default level, for about 2% larger layers (measured on the Synapse root
// file system).
func Write(dir string, fill func(io.Writer) error) (Meta, error) {
	f, err := os.Create(filepath.Join(dir, BlobFile))
	if err != nil {
		return Meta{}, err
	}
	defer f.Close()
	compressed := newCounter(sha256.New())
	uncompressed := newCounter(sha256.New())
	zw, err := gzip.NewWriterLevel(io.MultiWriter(f, compressed), gzip.DefaultCompression)
	if err != nil {
		return Meta{}, err
	}
	if err := fill(io.MultiWriter(zw, uncompressed)); err != nil {
		return Meta{}, err
	}
	if err := zw.Close(); err != nil {
		return Meta{}, err
	}
	if err := f.Close(); err != nil {
		return Meta{}, err
	}
	m := Meta{
		Digest:           compressed.sum(),
		DiffID:           uncompressed.sum(),
		Size:             compressed.n,
		UncompressedSize: uncompressed.n,
	}
	data, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return Meta{}, err
	}
	return m, os.WriteFile(filepath.Join(dir, MetaFile), data, 0o644)
}

// Open returns the layer stored in dir by Write.
func Open(dir string) (v1.Layer, Meta, error) {
	data, err := os.ReadFile(filepath.Join(dir, MetaFile))
	if err != nil {
		return nil, Meta{}, err
	}
	var m Meta
	if err := json.Unmarshal(data, &m); err != nil {
		return nil, Meta{}, fmt.Errorf("%s: %w", filepath.Join(dir, MetaFile), err)
	}
	info, err := os.Stat(filepath.Join(dir, BlobFile))
	if err != nil {
		return nil, Meta{}, err
	}
	if info.Size() != m.Size {
		return nil, Meta{}, fmt.Errorf("%s: size %d, expected %d", filepath.Join(dir, BlobFile), info.Size(), m.Size)
	}
	l, err := partial.CompressedToLayer(&stored{file: filepath.Join(dir, BlobFile), meta: m})
	return l, m, err
}

// stored is a gzip layer on disk with known digests, so nothing has to be
// read or hashed again until the blob is copied somewhere.
type stored struct {
	file string
	meta Meta
}

func (s *stored) Digest() (v1.Hash, error)            { return s.meta.Digest, nil }
func (s *stored) DiffID() (v1.Hash, error)            { return s.meta.DiffID, nil }
func (s *stored) Size() (int64, error)                { return s.meta.Size, nil }
func (s *stored) MediaType() (types.MediaType, error) { return types.OCILayer, nil }
func (s *stored) Compressed() (io.ReadCloser, error)  { return os.Open(s.file) }

type counter struct {
	h hash.Hash
	n int64
}

func newCounter(h hash.Hash) *counter { return &counter{h: h} }

func (c *counter) Write(p []byte) (int, error) {
	c.n += int64(len(p))
	return c.h.Write(p)
}

func (c *counter) sum() v1.Hash {
	return v1.Hash{Algorithm: "sha256", Hex: fmt.Sprintf("%x", c.h.Sum(nil))}
}
