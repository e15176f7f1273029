package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/google/go-containerregistry/pkg/name"

	"github.com/synapse-image/synapse-image/image/build"
	"github.com/synapse-image/synapse-image/image/recipe"
	"github.com/synapse-image/synapse-image/image/tags"
)

// cacheMaxAge is how long a cache entry is kept after its last use.
const cacheMaxAge = 14 * 24 * time.Hour

// tagFlags is the repeatable --tag flag.
type tagFlags []string

func (s *tagFlags) String() string     { return strings.Join(*s, ",") }
func (s *tagFlags) Set(v string) error { *s = append(*s, v); return nil }

type buildFlags struct {
	recipe, repository, oci, tarball, wheels, platform, cacheDir, revision string
	load, noCache, verbose                                                 bool
	tags                                                                   tagFlags
}

func parseBuildFlags(args []string, stderr io.Writer) (*buildFlags, error) {
	var f buildFlags
	fs := flag.NewFlagSet("build", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&f.recipe, "recipe", "image/synapse.yaml", "image recipe `file`")
	fs.BoolVar(&f.load, "load", false, "load the image into the local Docker engine as <repository>:latest and its version tags")
	fs.StringVar(&f.repository, "repository", "", "image repository `name` for --load and --tarball (default: the recipe's repository)")
	fs.StringVar(&f.oci, "oci", "", "also write the OCI image layout to `dir` (it is always written to .build/<recipe name>/oci)")
	fs.StringVar(&f.tarball, "tarball", "", "also write a `docker load` tarball to `file`")
	fs.StringVar(&f.wheels, "wheels", "wheels", "`dir` of Python wheels (*.whl) to install in their own layer")
	fs.StringVar(&f.platform, "platform", "linux/"+runtime.GOARCH, "target `platform`: linux/amd64 or linux/arm64")
	fs.StringVar(&f.cacheDir, "cache-dir", "", "layer cache `dir` (default $XDG_CACHE_HOME/synapse-image or ~/.cache/synapse-image)")
	fs.BoolVar(&f.noCache, "no-cache", false, "rebuild every layer, ignoring the cache (results are still cached)")
	fs.StringVar(&f.revision, "revision", "", "git `revision` for the label and the sha- tag (default: git HEAD, with -dirty for uncommitted changes)")
	fs.Var(&f.tags, "tag", "extra `tag` (repeatable)")
	fs.BoolVar(&f.verbose, "v", false, "show the output of mmdebstrap")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: go run . build [flags]\n\nBuilds the image of a recipe without a Docker daemon (see image/README.md).\n\nflags:")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil, err
		}
		return nil, usageError{err}
	}
	if fs.NArg() > 0 {
		return nil, usageError{fmt.Errorf("unexpected argument %q (flags only; see build -h)", fs.Arg(0))}
	}
	for _, t := range f.tags {
		if !tags.Valid(t) {
			return nil, usageError{fmt.Errorf("--tag %q: a tag is letters, digits, '_', '.', '-' (at most 128)", t)}
		}
	}
	return &f, nil
}

func runBuild(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	f, err := parseBuildFlags(args, stderr)
	if err != nil {
		return err
	}
	arch, err := parsePlatform(f.platform)
	if err != nil {
		return usageError{err}
	}
	start := time.Now()
	r, err := recipe.Load(f.recipe)
	if err != nil {
		return err
	}
	repository := r.Repository
	if f.repository != "" {
		repository = f.repository
	}
	if _, err := name.NewRepository(repository); err != nil {
		return usageError{fmt.Errorf("--repository %q: %w", repository, err)}
	}
	root, err := moduleRoot()
	if err != nil {
		return err
	}
	cacheDir := f.cacheDir
	if cacheDir == "" {
		if cacheDir, err = build.DefaultCacheDir(); err != nil {
			return err
		}
	}
	revision := f.revision
	if revision == "" {
		revision = gitRevision(ctx, root)
		if revision == "" {
			fmt.Fprintln(stderr, "[build] no git revision (not a git checkout?): no revision label or sha tag; use --revision")
		}
	}
	epoch, err := sourceDateEpoch(ctx, root, stderr)
	if err != nil {
		return err
	}
	verbose := io.Discard
	if f.verbose {
		verbose = stderr
	}
	res, err := build.Build(ctx, build.Options{
		Recipe:    r,
		RepoRoot:  root,
		WheelsDir: f.wheels,
		Arch:      arch,
		Epoch:     epoch,
		Revision:  revision,
		Cache:     &build.Cache{Dir: cacheDir, Refresh: f.noCache},
		Log:       stderr,
		Verbose:   verbose,
	})
	if err != nil {
		return err
	}

	tagNames := imageTags(res, revision, f.tags)
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

	t := time.Now()
	ociDir := filepath.Join(root, ".build", r.Name, "oci")
	if err := build.WriteLayout(ociDir, res.Image, tagNames[0]); err != nil {
		return err
	}
	fmt.Fprintf(stderr, "[output] OCI layout %s (%.1fs)\n", relPath(root, ociDir), time.Since(t).Seconds())
	pkgFile := filepath.Join(root, ".build", r.Name, "packages.txt")
	if err := writePackageList(pkgFile, res.Packages); err != nil {
		return err
	}
	if f.oci != "" {
		t = time.Now()
		if err := build.WriteLayout(f.oci, res.Image, tagNames[0]); err != nil {
			return err
		}
		fmt.Fprintf(stderr, "[output] OCI layout %s (%.1fs)\n", f.oci, time.Since(t).Seconds())
	}
	if f.tarball != "" {
		t = time.Now()
		if err := build.WriteTarball(f.tarball, res.Image, refs); err != nil {
			return err
		}
		fmt.Fprintf(stderr, "[output] docker-load tarball %s (%.1fs)\n", f.tarball, time.Since(t).Seconds())
	}
	if f.load {
		t = time.Now()
		if err := build.Load(ctx, res.Image, refs); err != nil {
			return err
		}
		fmt.Fprintf(stderr, "[output] loaded into Docker as %s (%.1fs)\n", strings.Join(tagNames, ", "), time.Since(t).Seconds())
	}

	if n, err := (&build.Cache{Dir: cacheDir}).Prune(cacheMaxAge); err != nil {
		fmt.Fprintf(stderr, "[cache] %v\n", err)
	} else if n > 0 {
		fmt.Fprintf(stderr, "[cache] removed %d entries unused for %s\n", n, cacheMaxAge)
	}

	var total, compressed int64
	for _, l := range res.Layers {
		total += l.Meta.UncompressedSize
		compressed += l.Meta.Size
		fmt.Fprintf(stderr, "[layer] %-8s %8.1f MB uncompressed %8.1f MB compressed  %s\n",
			l.Name, float64(l.Meta.UncompressedSize)/1e6, float64(l.Meta.Size)/1e6, l.Meta.Digest.Hex[:12])
	}
	fmt.Fprintf(stderr, "[build] done in %.1fs: %d layers, %.1f MB uncompressed, %.1f MB compressed\n",
		time.Since(start).Seconds(), len(res.Layers), float64(total)/1e6, float64(compressed)/1e6)
	fmt.Fprintf(stdout, "%s@%s\n", repository, digest)
	for _, t := range tagNames {
		fmt.Fprintf(stdout, "%s:%s\n", repository, t)
	}
	return nil
}

// imageTags are the version tags (image/tags) when the version is one of
// Synapse's, else latest and the sha tag; then the extra ones.
func imageTags(res *build.Result, revision string, extra []string) []string {
	var out []string
	if v, err := tags.ParseDebian(res.PackageVersion); err == nil {
		out = tags.For(v, revision, tags.Options{})
	} else {
		out = []string{"latest"}
		if short, err := tags.ShortRevision(revision); err == nil {
			out = append(out, "sha-"+short)
		}
	}
	for _, t := range extra {
		seen := false
		for _, o := range out {
			seen = seen || o == t
		}
		if !seen {
			out = append(out, t)
		}
	}
	return out
}

// writePackageList writes "<package> <version>" lines, sorted: what the
// image holds, for audits and diffs between builds.
func writePackageList(file string, pkgs map[string]string) error {
	names := make([]string, 0, len(pkgs))
	for n := range pkgs {
		names = append(names, n)
	}
	sort.Strings(names)
	var b strings.Builder
	for _, n := range names {
		fmt.Fprintf(&b, "%s %s\n", n, pkgs[n])
	}
	tmp := file + ".tmp"
	if err := os.WriteFile(tmp, []byte(b.String()), 0o644); err != nil {
		return err
	}
	return os.Rename(tmp, file)
}

func parsePlatform(p string) (string, error) {
	osName, arch, ok := strings.Cut(p, "/")
	if !ok || osName != "linux" || (arch != "amd64" && arch != "arm64") {
		return "", fmt.Errorf("--platform %q: expected linux/amd64 or linux/arm64", p)
	}
	return arch, nil
}

// moduleRoot is the directory of the nearest go.mod at or above the working
// directory: recipe files and programs are relative to it.
func moduleRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for d := dir; ; d = filepath.Dir(d) {
		if _, err := os.Stat(filepath.Join(d, "go.mod")); err == nil {
			return d, nil
		}
		if filepath.Dir(d) == d {
			return "", fmt.Errorf("no go.mod in %s or above: run the build from the repository", dir)
		}
	}
}

// gitRevision is HEAD, with "-dirty" when the tree has uncommitted changes.
func gitRevision(ctx context.Context, root string) string {
	out, err := exec.CommandContext(ctx, "git", "-C", root, "rev-parse", "HEAD").Output()
	if err != nil {
		return ""
	}
	rev := strings.TrimSpace(string(out))
	status, err := exec.CommandContext(ctx, "git", "-C", root, "status", "--porcelain").Output()
	if err == nil && len(strings.TrimSpace(string(status))) > 0 {
		rev += "-dirty"
	}
	return rev
}

// sourceDateEpoch is $SOURCE_DATE_EPOCH, else the time of the last commit.
func sourceDateEpoch(ctx context.Context, root string, stderr io.Writer) (time.Time, error) {
	if v := os.Getenv("SOURCE_DATE_EPOCH"); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n < 0 {
			return time.Time{}, fmt.Errorf("SOURCE_DATE_EPOCH=%q: expected seconds since 1970", v)
		}
		return time.Unix(n, 0).UTC(), nil
	}
	out, err := exec.CommandContext(ctx, "git", "-C", root, "log", "-1", "--format=%ct").Output()
	if err != nil {
		// Like ko: without a better time, the start of the Unix epoch, so
		// the build stays reproducible.
		fmt.Fprintln(stderr, "[build] no SOURCE_DATE_EPOCH and no git history: using 1970-01-01 as the creation time")
		return time.Unix(0, 0).UTC(), nil
	}
	n, err := strconv.ParseInt(strings.TrimSpace(string(out)), 10, 64)
	if err != nil {
		return time.Time{}, fmt.Errorf("git log: %w", err)
	}
	return time.Unix(n, 0).UTC(), nil
}

func relPath(root, p string) string {
	if r, err := filepath.Rel(root, p); err == nil && !strings.HasPrefix(r, "..") {
		return r
	}
	return p
}
