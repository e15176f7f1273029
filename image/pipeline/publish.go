package pipeline

import (
	"context"
	"fmt"
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
	img, err := publish.ReadLayout(o.From)
	if err != nil {
		return err
	}
	info, inspectErr := publish.Inspect(img)
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
	if opt.Attachments, err = attachments(o.From, img, func(f string, a ...any) { fmt.Fprintf(o.Log, "note: "+f+"\n", a...) }); err != nil {
		return err
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
	results, err := reg.Publish(ctx, img)
	if err != nil {
		return err
	}
	for _, r := range results {
		fmt.Fprintln(o.Stdout, r)
	}
	return nil
}
