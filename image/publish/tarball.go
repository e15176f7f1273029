package publish

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
)

// Tarball writes a `docker load` tarball that holds the image under every
// tag in Refs. It is written next to File and renamed into place.
type Tarball struct {
	File string
	Refs []name.Tag
}

func (t Tarball) String() string { return "docker-load tarball " + t.File }

// Publish implements Publisher.
func (t Tarball) Publish(_ context.Context, a Artifact) ([]Result, error) {
	img, err := asImage(a, "a docker-load tarball")
	if err != nil {
		return nil, err
	}
	d, err := digestOf(a)
	if err != nil {
		return nil, err
	}
	if len(t.Refs) == 0 {
		return nil, fmt.Errorf("tarball %s: no tags to write", t.File)
	}
	if err := os.MkdirAll(filepath.Dir(t.File), 0o755); err != nil {
		return nil, err
	}
	refs := map[name.Reference]v1.Image{}
	for _, r := range t.Refs {
		refs[r] = img
	}
	tmp := t.File + ".tmp"
	if err := tarball.MultiRefWriteToFile(tmp, refs); err != nil {
		os.Remove(tmp)
		return nil, fmt.Errorf("tarball %s: %w", t.File, err)
	}
	if err := os.Rename(tmp, t.File); err != nil {
		return nil, fmt.Errorf("tarball %s: %w", t.File, err)
	}
	res := make([]Result, len(t.Refs))
	for i, r := range t.Refs {
		res[i] = Result{Dest: "tarball " + t.File, Ref: r, Digest: d, Action: Written}
	}
	return res, nil
}
