package pipeline

import (
	"context"
	"fmt"
	"io"
	"slices"
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
	artifact, err := ReadArtifact(o.From)
	if err != nil {
		return err
	}
	// The labels (version, revision) are the same on every platform.
	info, inspectErr := publish.Inspect(artifact.Images[0].Image)
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
	for _, p := range artifact.Images {
		for _, kind := range []string{publish.ArtifactTypeSPDX, publish.ArtifactTypeInToto} {
			if !slices.ContainsFunc(p.Attachments, func(a publish.Attachment) bool { return a.ArtifactType == kind }) {
				fmt.Fprintf(o.Log, "note: no %s of %s in %s: none attached\n", kindOf(kind), p.Platform, o.From)
			}
		}
	}
	opt.Attachments = artifact.Attachments()
	if err := opt.Check(); err != nil {
		return UsageError{err}
	}
	what := info.Digest.String()
	if inspectErr == nil {
		what += fmt.Sprintf(" (Synapse %s, package %s)", info.Version, info.Version.Package)
	}
	fmt.Fprintf(o.Log, "publishing %s from %s to %s/%s\n", what, o.From, opt.Registry, opt.Repository)
	reg := publish.NewRegistry(opt)
	results, err := reg.Publish(ctx, artifact.Manifest)
	if err != nil {
		return err
	}
	for _, r := range results {
		fmt.Fprintln(o.Stdout, r)
	}
	return nil
}
