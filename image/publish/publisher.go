// Package publish writes a built image to where it is used: an OCI image
// layout, a `docker load` tarball, the local Docker engine or an OCI
// registry. Each destination is a Publisher; Multi writes to several, so the
// build command fans its outputs out through one interface, the shape of
// ko's pkg/publish.
package publish

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// Artifact is what the builder makes: a v1.Image, or a v1.ImageIndex once
// several platforms are built. Publishers that can only hold an image
// (tarball, Docker engine) say so for an index.
type Artifact interface {
	MediaType() (types.MediaType, error)
	Digest() (v1.Hash, error)
	RawManifest() ([]byte, error)
}

// Publisher writes an artifact to one destination.
type Publisher interface {
	// Publish writes a and says what happened, one Result per tag (or one
	// for a destination without tags, like an OCI layout).
	Publish(ctx context.Context, a Artifact) ([]Result, error)
	// String names the destination, e.g. "OCI layout .build/synapse/oci".
	String() string
}

// Action is what happened at a destination.
type Action string

const (
	Pushed    Action = "pushed"    // the tag is new
	Moved     Action = "moved"     // the tag pointed at another image before
	Unchanged Action = "unchanged" // the tag already pointed at this image: nothing written
	WouldPush Action = "would push"
	WouldMove Action = "would move"
	Written   Action = "written" // a file or directory was (re)written
	Loaded    Action = "loaded"  // the Docker engine has the image under the tag
)

// Result is the outcome at one destination, for one tag.
type Result struct {
	// Dest names a destination that is not a registry ("OCI layout DIR",
	// "tarball FILE", "docker"); empty for a registry, whose Ref says all.
	Dest string
	// Ref is the tag written; zero for an OCI layout.
	Ref    name.Tag
	Digest v1.Hash
	Action Action
	// Previous is the digest the tag pointed at before (Moved, WouldMove).
	Previous v1.Hash
}

// String is the line the CLI prints, for a registry
// "HOST/REPO:TAG → sha256:… (pushed)".
func (r Result) String() string {
	var where []string
	if r.Dest != "" {
		where = append(where, r.Dest)
	}
	if r.Ref != (name.Tag{}) {
		where = append(where, r.Ref.String())
	}
	s := fmt.Sprintf("%s → %s (%s", strings.Join(where, " "), r.Digest, r.Action)
	if r.Previous != (v1.Hash{}) {
		s += " from " + r.Previous.String()
	}
	return s + ")"
}

// Multi publishes to every publisher in turn, like tee(1), and returns all
// their results. It stops at the first error: the outputs written before it
// are complete (each publisher writes atomically), the rest untouched.
func Multi(publishers ...Publisher) Publisher { return multi(publishers) }

type multi []Publisher

func (m multi) Publish(ctx context.Context, a Artifact) ([]Result, error) {
	if len(m) == 0 {
		return nil, errors.New("no outputs to publish to")
	}
	var all []Result
	for _, p := range m {
		if err := ctx.Err(); err != nil {
			return all, err
		}
		res, err := p.Publish(ctx, a)
		if err != nil {
			return all, err
		}
		all = append(all, res...)
	}
	return all, nil
}

func (m multi) String() string {
	s := make([]string, len(m))
	for i, p := range m {
		s[i] = p.String()
	}
	return strings.Join(s, ", ")
}

// asImage is a as an image, for destinations that take no index (yet: the
// registry publisher could push one).
func asImage(a Artifact, dest string) (v1.Image, error) {
	if img, ok := a.(v1.Image); ok {
		return img, nil
	}
	mt, _ := a.MediaType()
	return nil, fmt.Errorf("%s takes a single image, not a %s", dest, mt)
}

// digestOf is a's digest with context.
func digestOf(a Artifact) (v1.Hash, error) {
	d, err := a.Digest()
	if err != nil {
		return d, fmt.Errorf("image digest: %w", err)
	}
	return d, nil
}
