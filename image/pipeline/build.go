package pipeline

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/synapse-image/synapse-image/image/build"
	"github.com/synapse-image/synapse-image/image/names"
	"github.com/synapse-image/synapse-image/image/platform"
	"github.com/synapse-image/synapse-image/image/progress"
	"github.com/synapse-image/synapse-image/image/publish"
	"github.com/synapse-image/synapse-image/image/recipe"
	"github.com/synapse-image/synapse-image/image/source"
	"github.com/synapse-image/synapse-image/image/tags"
	"github.com/synapse-image/synapse-image/internal/atomicfile"
)

// cacheMaxAge is how long a cache entry is kept after its last use.
const cacheMaxAge = 14 * 24 * time.Hour

// BuildOptions are the build command's flags.
type BuildOptions struct {
	// Recipe is the recipe file (relative to the working directory).
	Recipe string
	// Repository names the image for Load and Tarball; empty: the recipe's.
	Repository string
	// WheelsDir, CacheDir (empty: build.DefaultCacheDir), NoCache: see build.Options.
	WheelsDir, CacheDir string
	NoCache             bool
	// Platforms are the target platforms (none: the host's). Each is
	// built; with several the layout gets one OCI index of them, and Load
	// and Tarball take the host's.
	Platforms []platform.Platform
	// Revision overrides the git revision (label and sha tag).
	Revision string
	// Tags are extra tags besides the computed ones.
	Tags []string
	// Outputs besides the OCI layout in .build/<name>/oci (always written).
	OCI, Tarball string
	Load         bool
	// Root is the module root the recipe's paths are relative to; empty:
	// the nearest go.mod at or above the working directory.
	Root string
	// RootFS and Mirror replace mmdebstrap and the Debian mirror (tests);
	// nil: the real ones.
	RootFS build.RootFS
	Mirror func(ctx context.Context, mirror, suite string) (build.MirrorState, error)
	// Getenv reads SOURCE_DATE_EPOCH; nil means os.Getenv.
	Getenv func(string) string
	// Progress is the display mode (progress.Modes; empty: auto) of the
	// steps on Log; Verbose adds the tools' output to the steps' logs.
	Progress string
	Verbose  bool
	// Stdout gets the image's digest and tags, one reference a line; Log
	// the progress display and the summary.
	Stdout, Log io.Writer
}

// Build builds the recipe, writes it to every output and prints
// "REPOSITORY@DIGEST" and "REPOSITORY:TAG" lines to Stdout.
func Build(ctx context.Context, o BuildOptions) error {
	if o.Getenv == nil {
		o.Getenv = os.Getenv
	}
	if len(o.Platforms) == 0 {
		o.Platforms = []platform.Platform{platform.Host()}
	}
	// --load and --tarball take one image: the host's platform.
	if len(o.Platforms) > 1 && !slices.Contains(o.Platforms, platform.Host()) && (o.Load || o.Tarball != "") {
		return UsageError{fmt.Errorf("--load and --tarball take the host's platform, %s, which --platform does not list", platform.Host())}
	}
	if o.Progress == "" {
		o.Progress = "auto"
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
	display, err := progress.New(o.Log, o.Progress)
	if err != nil {
		return UsageError{err}
	}
	built, out, err := buildAndWrite(ctx, o, r, repository, display)
	if cerr := display.Close(); err == nil && cerr != nil {
		err = fmt.Errorf("progress display: %w", cerr)
	}
	if err != nil {
		return err
	}

	var total, compressed int64
	layers := 0
	for _, res := range built {
		prefix := ""
		if len(built) > 1 {
			prefix = res.platform.Arch() + " "
		}
		for _, l := range res.Layers {
			total += l.Meta.UncompressedSize
			compressed += l.Meta.Size
			layers++
			fmt.Fprintf(o.Log, "[layer] %-8s %8.1f MB uncompressed %8.1f MB compressed  %s\n",
				prefix+l.Name, float64(l.Meta.UncompressedSize)/1e6, float64(l.Meta.Size)/1e6, l.Meta.Digest.Hex[:12])
		}
	}
	fmt.Fprintf(o.Log, "[build] done in %.1fs: %d layers, %.1f MB uncompressed, %.1f MB compressed\n",
		time.Since(start).Seconds(), layers, float64(total)/1e6, float64(compressed)/1e6)
	fmt.Fprintf(o.Stdout, "%s@%s\n", repository, out.digest)
	for _, t := range out.tags {
		fmt.Fprintf(o.Stdout, "%s:%s\n", repository, t)
	}
	return nil
}

// written is what buildAndWrite made.
type written struct {
	digest v1.Hash
	tags   []string
}

// sourceFacts are what the source tree says about the build.
type sourceFacts struct {
	root, revision, cacheDir string
	epoch                    time.Time
}

// buildAndWrite runs the steps shown on the display: the source facts, the
// build of each platform, its SBOM and provenance, the outputs and the
// cache clean-up.
func buildAndWrite(ctx context.Context, o BuildOptions, r *recipe.Recipe, repository string, display *progress.Display) ([]archResult, written, error) {
	var out written
	step := display.Start("[source] module root, git revision, SOURCE_DATE_EPOCH")
	src, err := readSource(ctx, o, step)
	step.Done(err)
	if err != nil {
		return nil, out, err
	}
	built, err := buildPlatforms(ctx, o, r, src, display)
	if err != nil {
		return nil, out, err
	}
	artifact, err := attestAll(o, r, repository, src, built, display)
	if err != nil {
		return nil, out, err
	}
	// --load and --tarball take one image: the host's platform.
	host := artifact.Images[0].Image
	if len(built) > 1 {
		host, _ = artifact.Image(platform.Host())
	}
	if out.digest, err = artifact.Digest(); err != nil {
		return nil, out, err
	}
	out.tags = tags.ForBuild(built[0].PackageVersion, src.revision, o.Tags)
	if err := writeOutputs(ctx, o, r, repository, src.root, artifact, host, out.tags, display); err != nil {
		return nil, out, err
	}
	pkgFile := names.PackagesFile(r.Name)
	step = display.Start("[output] package list " + pkgFile)
	err = writePackageList(filepath.Join(src.root, pkgFile), built[0].Packages)
	step.Done(err)
	if err != nil {
		return nil, out, err
	}

	step = display.Start(fmt.Sprintf("[cache] remove entries unused for %d days", cacheMaxAge/(24*time.Hour)))
	if n, err := (&build.Cache{Dir: src.cacheDir}).Prune(cacheMaxAge); err != nil {
		step.Logf("%v", err) // a failed clean-up does not fail the build
	} else {
		step.Logf("%d removed", n)
	}
	step.Done(nil)
	return built, out, nil
}

// readSource finds the module root, the git revision, SOURCE_DATE_EPOCH
// and the cache directory.
func readSource(ctx context.Context, o BuildOptions, step *progress.Step) (sourceFacts, error) {
	src := sourceFacts{root: o.Root, revision: o.Revision, cacheDir: o.CacheDir}
	if src.root == "" {
		wd, err := os.Getwd()
		if err != nil {
			return src, err
		}
		if src.root, err = source.Root(wd); err != nil {
			return src, err
		}
	}
	if src.revision == "" {
		if src.revision = source.Revision(ctx, src.root); src.revision == "" {
			step.Logf("no git revision (not a git checkout?): no revision label or sha tag; use --revision")
		}
	}
	if src.revision != "" {
		step.Logf("revision %s", src.revision)
	}
	epoch, found, err := source.DateEpoch(ctx, src.root, o.Getenv)
	if err != nil {
		return src, err
	}
	src.epoch = epoch
	if !found {
		step.Logf("no SOURCE_DATE_EPOCH and no git history: using 1970-01-01 as the creation time")
	}
	step.Logf("SOURCE_DATE_EPOCH %d (%s)", epoch.Unix(), epoch.Format(time.RFC3339))
	if src.cacheDir == "" {
		if src.cacheDir, err = build.DefaultCacheDir(); err != nil {
			return src, err
		}
	}
	return src, nil
}

// buildPlatforms builds r for each platform asked for; every platform must
// get the same package version.
func buildPlatforms(ctx context.Context, o BuildOptions, r *recipe.Recipe, src sourceFacts, display *progress.Display) ([]archResult, error) {
	var built []archResult
	for _, p := range o.Platforms {
		res, err := build.Build(ctx, build.Options{
			Recipe:    r,
			RepoRoot:  src.root,
			WheelsDir: o.WheelsDir,
			Platform:  p,
			Epoch:     src.epoch,
			Revision:  src.revision,
			Cache:     &build.Cache{Dir: src.cacheDir, Refresh: o.NoCache},
			Progress:  display,
			Verbose:   o.Verbose,
			RootFS:    o.RootFS,
			Mirror:    o.Mirror,
		})
		if err != nil {
			if len(o.Platforms) > 1 {
				err = fmt.Errorf("%s: %w", p, err)
			}
			return nil, err
		}
		if len(built) > 0 && res.PackageVersion != built[0].PackageVersion {
			return nil, fmt.Errorf("%s has %s %s, %s has %s: the mirror changed between the builds; build again",
				p, r.Version.Package, res.PackageVersion, built[0].platform, built[0].PackageVersion)
		}
		built = append(built, archResult{Result: res, platform: p})
	}
	return built, nil
}

// attestAll makes each platform's SBOM and provenance and puts the
// platform images and their attachments together into the artifact.
func attestAll(o BuildOptions, r *recipe.Recipe, repository string, src sourceFacts, built []archResult, display *progress.Display) (*Artifact, error) {
	var images []PlatformImage
	for _, b := range built {
		step := display.Start("[sbom] SBOM and provenance of " + b.platform.String())
		atts, err := attest(attestInputs{
			root: src.root, recipeFile: o.Recipe, recipe: r, result: b.Result, platform: b.platform,
			repository: repository, revision: src.revision, epoch: src.epoch, cacheDir: src.cacheDir,
		}, step)
		step.Done(err)
		if err != nil {
			return nil, err
		}
		images = append(images, PlatformImage{Platform: b.platform, Image: b.Image, Attachments: atts})
	}
	return newArtifact(images)
}

// writeOutputs writes the artifact to the OCI layout in .build/<name>/oci
// and to the outputs asked for: another layout, a tarball and the Docker
// engine (those two get host, one image).
func writeOutputs(ctx context.Context, o BuildOptions, r *recipe.Recipe, repository, root string, artifact *Artifact, host v1.Image, tagList []string, display *progress.Display) error {
	refs := make([]name.Tag, 0, len(tagList))
	for _, t := range tagList {
		ref, err := name.NewTag(repository+":"+t, name.WeakValidation)
		if err != nil {
			return fmt.Errorf("tag %s: %w", t, err)
		}
		refs = append(refs, ref)
	}
	outputs := []publish.Publisher{artifact.Layout(filepath.Join(root, names.LayoutDir(r.Name)), tagList[0])}
	if o.OCI != "" {
		outputs = append(outputs, artifact.Layout(o.OCI, tagList[0]))
	}
	if o.Tarball != "" {
		outputs = append(outputs, only{publish.Tarball{File: o.Tarball, Refs: refs}, host})
	}
	if o.Load {
		outputs = append(outputs, only{publish.Daemon{Refs: refs}, host})
	}
	for i, p := range outputs {
		outputs[i] = shown{p, display, root}
	}
	_, err := publish.Multi(outputs...).Publish(ctx, artifact.Manifest)
	return err
}

// archResult is the build of one platform.
type archResult struct {
	*build.Result
	platform platform.Platform
}

// only publishes img, whatever it is given: an output that holds a single
// image gets the host's platform of a multi-platform build.
type only struct {
	publish.Publisher
	img v1.Image
}

func (o only) Publish(ctx context.Context, _ publish.Artifact) ([]publish.Result, error) {
	return o.Publisher.Publish(ctx, o.img)
}

// shown shows its publisher as a step: "[output] OCI layout DIR" with the
// results as its log.
type shown struct {
	publish.Publisher
	display *progress.Display
	root    string
}

func (s shown) Publish(ctx context.Context, a publish.Artifact) ([]publish.Result, error) {
	rel := func(str string) string { return strings.ReplaceAll(str, s.root+string(filepath.Separator), "") }
	step := s.display.Start("[output] " + rel(s.String()))
	res, err := s.Publisher.Publish(ctx, a)
	for _, r := range res {
		step.Logf("%s", rel(r.String()))
	}
	step.Done(err)
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
	return atomicfile.WriteReplace(file, []byte(b.String()), 0o644)
}
