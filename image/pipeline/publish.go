package pipeline

import (
	"context"

	"fmt"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"io"
	"strings"

	"github.com/synapse-image/synapse-image/image/names"
	"github.com/synapse-image/synapse-image/image/publish"
	"github.com/synapse-image/synapse-image/image/tags"
)

// PublishOptions are the publish command's flags.
type PublishOptions struct {
	// From is the OCI layout the build wrote.
	From string
	// Registry says where and how to push. Its Tags replace the computed
	// ones when set; its Repository defaults to the image's title label
	// (lower case), else "synapse"; its Log defaults to Log.
	Registry publish.Options
	// Tag options for the computed tags.
	Tags tags.Options
	// Stdout gets one "HOST/REPO:TAG → DIGEST (what happened)" line per tag;
	// Log the progress.
	Stdout, Log io.Writer
}

// Publish pushes the image in the layout under its tags.
func Publish(ctx context.Context, o PublishOptions) error {
	artifact, err := publish.ReadLayoutArtifact(o.From)
	if err != nil {
		return err
	}
	images, err := platformImages(artifact)
	if err != nil {
		return fmt.Errorf("OCI layout %s: %w", o.From, err)
	}
	// The labels (version, revision) are the same on every platform.
	info, inspectErr := publish.Inspect(images[0])
	if info.Digest, err = artifact.Digest(); err != nil {
		return err
	}
	opt := o.Registry
	if len(opt.Tags) == 0 {
		if inspectErr != nil {
			return inspectErr
		}
		opt.Tags = info.Tags(o.Tags)
		if _, err := tags.ShortRevision(info.Revision); err != nil {
			fmt.Fprintf(o.Log, "note: no sha tag: image label %s: %v\n", names.LabelRevision, err)
		}
	}
	if strings.HasSuffix(info.Revision, "-dirty") {
		fmt.Fprintf(o.Log, "warning: the image was built from a tree with uncommitted changes (revision %s)\n", info.Revision)
	}
	if opt.Repository == "" {
		opt.Repository = "synapse"
		if info.Title != "" {
			opt.Repository = strings.ToLower(info.Title)
		}
	}
	if opt.Log == nil {
		opt.Log = func(format string, a ...any) { fmt.Fprintf(o.Log, "  "+format+"\n", a...) }
	}
	for _, img := range images {
		atts, err := attachments(o.From, img, func(f string, a ...any) { fmt.Fprintf(o.Log, "note: "+f+"\n", a...) })
		if err != nil {
			return err
		}
		opt.Attachments = append(opt.Attachments, atts...)
	}
	if err := opt.Check(); err != nil {
		return UsageError{err}
	}
	what := info.Digest.String()
	if inspectErr == nil {
		what += fmt.Sprintf(" (Synapse %s, package %s)", info.Version, info.Version.Package)
	}
	fmt.Fprintf(o.Log, "publishing %s from %s to %s/%s\n", what, o.From, opt.Registry, opt.Repository)
	reg := publish.NewRegistry(opt)
	results, err := reg.Publish(ctx, artifact)
	if err != nil {
		return err
	}
	for _, r := range results {
		fmt.Fprintln(o.Stdout, r)
	}
	return nil
}

// platformImages are the images of an artifact: itself, or those of an index.
func platformImages(a publish.Artifact) ([]v1.Image, error) {
	switch a := a.(type) {
	case v1.Image:
		return []v1.Image{a}, nil
	case v1.ImageIndex:
		im, err := a.IndexManifest()
		if err != nil {
			return nil, err
		}
		var out []v1.Image
		for _, m := range im.Manifests {
			img, err := a.Image(m.Digest)
			if err != nil {
				return nil, err
			}
			out = append(out, img)
		}
		if len(out) == 0 {
			return nil, fmt.Errorf("an empty index")
		}
		return out, nil
	}
	return nil, fmt.Errorf("neither an image nor an index")
}
