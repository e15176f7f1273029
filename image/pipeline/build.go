package pipeline

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/google/go-containerregistry/pkg/name"

	"github.com/synapse-image/synapse-image/image/build"
	"github.com/synapse-image/synapse-image/image/names"
	"github.com/synapse-image/synapse-image/image/publish"
	"github.com/synapse-image/synapse-image/image/recipe"
	"github.com/synapse-image/synapse-image/image/source"
	"github.com/synapse-image/synapse-image/image/tags"
)

// cacheMaxAge is how long a cache entry is kept after its last use.
const cacheMaxAge = 14 * 24 * time.Hour

// BuildOptions are the build command's flags.
type BuildOptions struct {
	// Recipe is the recipe file (relative to the working directory).
	Recipe string
	// Repository names the image for Load and Tarball; empty: the recipe's.
	Repository string
	// WheelsDir, Arch, CacheDir (empty: build.DefaultCacheDir), NoCache: see build.Options.
	WheelsDir, Arch, CacheDir string
	NoCache                   bool
	// Revision overrides the git revision (label and sha tag).
	Revision string
	// Tags are extra tags besides the computed ones.
	Tags []string
	// Outputs besides the OCI layout in .build/<name>/oci (always written).
	OCI, Tarball string
	Load         bool
	// Getenv reads SOURCE_DATE_EPOCH; nil means os.Getenv.
	Getenv func(string) string
	// Stdout gets the image's digest and tags, one reference a line;
	// Log the progress; Verbose the tools' output.
	Stdout, Log, Verbose io.Writer
}

// Build builds the recipe, writes it to every output and prints
// "REPOSITORY@DIGEST" and "REPOSITORY:TAG" lines to Stdout.
func Build(ctx context.Context, o BuildOptions) error {
	if o.Getenv == nil {
		o.Getenv = os.Getenv
	}
	if o.Verbose == nil {
		o.Verbose = io.Discard
	}
	start := time.Now()
	r, err := recipe.Load(o.Recipe)
	if err != nil {
		return err
	}
	repository := r.Repository
	if o.Repository != "" {
		repository = o.Repository
	}
	if _, err := name.NewRepository(repository); err != nil {
		return UsageError{fmt.Errorf("--repository %q: %w", repository, err)}
	}
	wd, err := os.Getwd()
	if err != nil {
		return err
	}
	root, err := source.Root(wd)
	if err != nil {
		return err
	}
	cacheDir := o.CacheDir
	if cacheDir == "" {
		if cacheDir, err = build.DefaultCacheDir(); err != nil {
			return err
		}
	}
	revision := o.Revision
	if revision == "" {
		if revision = source.Revision(ctx, root); revision == "" {
			fmt.Fprintln(o.Log, "[build] no git revision (not a git checkout?): no revision label or sha tag; use --revision")
		}
	}
	epoch, found, err := source.DateEpoch(ctx, root, o.Getenv)
	if err != nil {
		return err
	}
	if !found {
		fmt.Fprintln(o.Log, "[build] no SOURCE_DATE_EPOCH and no git history: using 1970-01-01 as the creation time")
	}

	res, err := build.Build(ctx, build.Options{
		Recipe:    r,
		RepoRoot:  root,
		WheelsDir: o.WheelsDir,
		Arch:      o.Arch,
		Epoch:     epoch,
		Revision:  revision,
		Cache:     &build.Cache{Dir: cacheDir, Refresh: o.NoCache},
		Log:       o.Log,
		Verbose:   o.Verbose,
	})
	if err != nil {
		return err
	}

	tagNames := tags.ForBuild(res.PackageVersion, revision, o.Tags)
	refs := make([]name.Tag, 0, len(tagNames))
	for _, t := range tagNames {
		ref, err := name.NewTag(repository+":"+t, name.WeakValidation)
		if err != nil {
			return fmt.Errorf("tag %s: %w", t, err)
		}
		refs = append(refs, ref)
	}
	digest, err := res.Image.Digest()
	if err != nil {
		return err
	}

	outputs := []publish.Publisher{publish.Layout{Dir: filepath.Join(root, names.LayoutDir(r.Name)), RefName: tagNames[0]}}
	if o.OCI != "" {
		outputs = append(outputs, publish.Layout{Dir: o.OCI, RefName: tagNames[0]})
	}
	if o.Tarball != "" {
		outputs = append(outputs, publish.Tarball{File: o.Tarball, Refs: refs})
	}
	if o.Load {
		outputs = append(outputs, publish.Daemon{Refs: refs})
	}
	for i, p := range outputs {
		outputs[i] = timed{p, o.Log, root}
	}
	if _, err := publish.Multi(outputs...).Publish(ctx, res.Image); err != nil {
		return err
	}
	if err := writePackageList(filepath.Join(root, names.PackagesFile(r.Name)), res.Packages); err != nil {
		return err
	}

	if n, err := (&build.Cache{Dir: cacheDir}).Prune(cacheMaxAge); err != nil {
		fmt.Fprintf(o.Log, "[cache] %v\n", err)
	} else if n > 0 {
		fmt.Fprintf(o.Log, "[cache] removed %d entries unused for %s\n", n, cacheMaxAge)
	}

	var total, compressed int64
	for _, l := range res.Layers {
		total += l.Meta.UncompressedSize
		compressed += l.Meta.Size
		fmt.Fprintf(o.Log, "[layer] %-8s %8.1f MB uncompressed %8.1f MB compressed  %s\n",
			l.Name, float64(l.Meta.UncompressedSize)/1e6, float64(l.Meta.Size)/1e6, l.Meta.Digest.Hex[:12])
	}
	fmt.Fprintf(o.Log, "[build] done in %.1fs: %d layers, %.1f MB uncompressed, %.1f MB compressed\n",
		time.Since(start).Seconds(), len(res.Layers), float64(total)/1e6, float64(compressed)/1e6)
	fmt.Fprintf(o.Stdout, "%s@%s\n", repository, digest)
	for _, t := range tagNames {
		fmt.Fprintf(o.Stdout, "%s:%s\n", repository, t)
	}
	return nil
}

// timed logs how long its publisher took.
type timed struct {
	publish.Publisher
	log  io.Writer
	root string
}

func (t timed) Publish(ctx context.Context, a publish.Artifact) ([]publish.Result, error) {
	start := time.Now()
	res, err := t.Publisher.Publish(ctx, a)
	if err == nil {
		fmt.Fprintf(t.log, "[output] %s (%.1fs)\n", strings.Replace(t.String(), t.root+string(filepath.Separator), "", 1), time.Since(start).Seconds())
	}
	return res, err
}

// writePackageList writes "<package> <version>" lines, sorted: what the
// image holds, for audits and diffs between builds.
func writePackageList(file string, pkgs map[string]string) error {
	list := make([]string, 0, len(pkgs))
	for n := range pkgs {
		list = append(list, n)
	}
	sort.Strings(list)
	var b strings.Builder
	for _, n := range list {
		fmt.Fprintf(&b, "%s %s\n", n, pkgs[n])
	}
	tmp := file + ".tmp"
	if err := os.WriteFile(tmp, []byte(b.String()), 0o644); err != nil {
		return err
	}
	return os.Rename(tmp, file)
}
