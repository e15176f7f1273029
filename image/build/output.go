package build

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/daemon"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
)

// The outputs follow ko's publishers: one image, written to any number of
// places. Files and directories are written next to their destination and
// renamed, so a failed build never leaves a half-written output.

// WriteLayout writes img as an OCI image layout in dir (replacing it), its
// manifest annotated with ref name refName.
func WriteLayout(dir string, img v1.Image, refName string) error {
	parent := filepath.Dir(dir)
	if err := os.MkdirAll(parent, 0o755); err != nil {
		return err
	}
	tmp, err := os.MkdirTemp(parent, "."+filepath.Base(dir)+"-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	p, err := layout.Write(tmp, empty.Index)
	if err != nil {
		return fmt.Errorf("OCI layout: %w", err)
	}
	var opts []layout.Option
	if refName != "" {
		opts = append(opts, layout.WithAnnotations(map[string]string{"org.opencontainers.image.ref.name": refName}))
	}
	if err := p.AppendImage(img, opts...); err != nil {
		return fmt.Errorf("OCI layout: %w", err)
	}
	old := tmp + ".old"
	if err := os.Rename(dir, old); err != nil && !os.IsNotExist(err) {
		return fmt.Errorf("OCI layout: %w", err)
	}
	if err := os.Rename(tmp, dir); err != nil {
		return fmt.Errorf("OCI layout: %w", err)
	}
	return os.RemoveAll(old)
}

// WriteTarball writes a `docker load` tarball of img under every tag.
func WriteTarball(file string, img v1.Image, tags []name.Tag) error {
	if err := os.MkdirAll(filepath.Dir(file), 0o755); err != nil {
		return err
	}
	refs := map[name.Reference]v1.Image{}
	for _, t := range tags {
		refs[t] = img
	}
	tmp := file + ".tmp"
	if err := tarball.MultiRefWriteToFile(tmp, refs); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("tarball %s: %w", file, err)
	}
	return os.Rename(tmp, file)
}

// Load loads img into the local Docker engine under every tag. The engine
// is skipped when it has the image already (same image ID).
func Load(ctx context.Context, img v1.Image, tags []name.Tag) error {
	if len(tags) == 0 {
		return nil
	}
	if _, err := daemon.Write(tags[0], img, daemon.WithContext(ctx)); err != nil {
		return fmt.Errorf("load into Docker (is the Docker engine running and DOCKER_HOST right?): %w", err)
	}
	for _, t := range tags[1:] {
		if err := daemon.Tag(tags[0], t, daemon.WithContext(ctx)); err != nil {
			return fmt.Errorf("tag %s: %w", t, err)
		}
	}
	return nil
}
