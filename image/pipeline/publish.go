package pipeline

import (
	"context"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	"github.com/sigstore/sigstore/pkg/signature"

	"github.com/synapse-image/synapse-image/image/names"
	"github.com/synapse-image/synapse-image/image/publish"
	"github.com/synapse-image/synapse-image/image/tags"
)

// PublishOptions are the publish command's flags.
type PublishOptions struct {
	// From is the OCI layout the build wrote.
	From string
	// Registry is HOST[:PORT]; Repository the repository in it (empty: the
	// image's title label in lower case, else "synapse").
	Registry, Repository string
	// Tags replace the computed ones when set; TagRules shape those.
	Tags     []string
	TagRules tags.Options
	// NoOverwrite, DryRun, Insecure, Auth (nil: the Docker config) and
	// Signer: see publish.Options.
	NoOverwrite, DryRun, Insecure bool
	Auth                          authn.Authenticator
	Signer                        signature.SignerVerifier
	// Stdout gets one "HOST/REPO:TAG → DIGEST (what happened)" line per tag;
	// Log the progress.
	Stdout, Log io.Writer
}

// Publish pushes the artifact in the layout, attachments included, under
// its tags: computed here from its labels, unless given.
func Publish(ctx context.Context, o PublishOptions) error {
	artifact, err := ReadArtifact(o.From)
	if err != nil {
		return err
	}
	digest, err := artifact.Digest()
	if err != nil {
		return err
	}
	// The labels (version, revision, title) are the same on every platform.
	cf, err := artifact.Images[0].Image.ConfigFile()
	if err != nil {
		return fmt.Errorf("OCI layout %s: image config: %w", o.From, err)
	}
	labels := cf.Config.Labels
	labeled, labelErr := tags.FromLabels(labels)
	refs, err := references(o, labeled, labelErr, labels[names.LabelTitle])
	if err != nil {
		return err
	}
	if rev := labels[names.LabelRevision]; strings.HasSuffix(rev, "-dirty") {
		fmt.Fprintf(o.Log, "warning: the image was built from a tree with uncommitted changes (revision %s)\n", rev)
	}
	noteMissingAttachments(o, artifact)
	what := digest.String()
	if labelErr == nil {
		what += fmt.Sprintf(" (Synapse %s, package %s)", labeled.Version, labeled.Version.Package)
	}
	fmt.Fprintf(o.Log, "publishing %s from %s to %s\n", what, o.From, refs[0].Context())
	results, err := publish.NewRegistry(publish.Options{
		Refs:        refs,
		NoOverwrite: o.NoOverwrite,
		DryRun:      o.DryRun,
		Insecure:    o.Insecure,
		Auth:        o.Auth,
		Log:         func(format string, a ...any) { fmt.Fprintf(o.Log, "  "+format+"\n", a...) },
		Attachments: artifact.Attachments(),
		Signer:      o.Signer,
	}).Publish(ctx, artifact.Manifest)
	if err != nil {
		return err
	}
	for _, r := range results {
		fmt.Fprintln(o.Stdout, r)
	}
	return nil
}

// references are the tags to push: o.Tags, or those the image's labels
// give by the rules of package tags, in o.Repository or the one its title
// names.
func references(o PublishOptions, labeled tags.Labeled, labelErr error, title string) ([]name.Tag, error) {
	tagList := o.Tags
	if len(tagList) == 0 {
		if labelErr != nil {
			return nil, fmt.Errorf("OCI layout %s: the image has %w", o.From, labelErr)
		}
		tagList = labeled.Tags(o.TagRules)
		if _, err := tags.ShortRevision(labeled.Revision); err != nil {
			fmt.Fprintf(o.Log, "note: no sha tag: image label %s: %v\n", names.LabelRevision, err)
		}
	}
	repository := o.Repository
	if repository == "" {
		repository = "synapse"
		if title != "" {
			repository = strings.ToLower(title)
		}
	}
	refs, err := publish.References(o.Registry, repository, tagList, o.Insecure)
	if err != nil {
		return nil, UsageError{err}
	}
	return refs, nil
}

// noteMissingAttachments says which platform has no SBOM or provenance in
// the layout: it is published without.
func noteMissingAttachments(o PublishOptions, artifact *Artifact) {
	for _, p := range artifact.Images {
		for _, kind := range []string{publish.ArtifactTypeSPDX, publish.ArtifactTypeInToto} {
			if !slices.ContainsFunc(p.Attachments, func(a publish.Attachment) bool { return a.ArtifactType == kind }) {
				fmt.Fprintf(o.Log, "note: no %s of %s in %s: none attached\n", kindOf(kind), p.Platform, o.From)
			}
		}
	}
}
