package publish

import (
	"context"
	"fmt"
	"strings"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/daemon"
)

// Daemon loads the image into the local Docker engine (DOCKER_HOST) under
// every tag in Refs. The engine skips the upload when it has the image
// already (same image ID).
type Daemon struct {
	Refs []name.Tag
}

func (d Daemon) String() string {
	s := make([]string, len(d.Refs))
	for i, r := range d.Refs {
		s[i] = r.String()
	}
	return "Docker engine as " + strings.Join(s, ", ")
}

// Publish implements Publisher.
func (d Daemon) Publish(ctx context.Context, a Artifact) ([]Result, error) {
	img, err := asImage(a, "the Docker engine")
	if err != nil {
		return nil, err
	}
	dg, err := digestOf(a)
	if err != nil {
		return nil, err
	}
	if len(d.Refs) == 0 {
		return nil, fmt.Errorf("load into Docker: no tags")
	}
	if _, err := daemon.Write(d.Refs[0], img, daemon.WithContext(ctx)); err != nil {
		return nil, fmt.Errorf("load into Docker (is the Docker engine running and DOCKER_HOST right?): %w", err)
	}
	for _, t := range d.Refs[1:] {
		if err := daemon.Tag(d.Refs[0], t, daemon.WithContext(ctx)); err != nil {
			return nil, fmt.Errorf("tag %s in Docker: %w", t, err)
		}
	}
	res := make([]Result, len(d.Refs))
	for i, r := range d.Refs {
		res[i] = Result{Dest: "docker", Ref: r, Digest: dg, Action: Loaded}
	}
	return res, nil
}
