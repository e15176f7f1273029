package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"

	"github.com/synapse-image/synapse-image/image/names"
	"github.com/synapse-image/synapse-image/image/pipeline"
	"github.com/synapse-image/synapse-image/image/platform"
	"github.com/synapse-image/synapse-image/image/progress"
	"github.com/synapse-image/synapse-image/image/tags"
)

// stringList is a repeatable flag.
type stringList []string

func (s *stringList) String() string     { return strings.Join(*s, ",") }
func (s *stringList) Set(v string) error { *s = append(*s, v); return nil }

// runBuild builds the image of a recipe (pipeline.Build).
func runBuild(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	o := pipeline.BuildOptions{Stdout: stdout, Log: stderr}
	var platforms string
	var extraTags stringList
	fs := flag.NewFlagSet("build", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&o.Recipe, "recipe", names.DefaultRecipe, "image recipe `file`")
	fs.BoolVar(&o.Load, "load", false, "load the image into the local Docker engine as <repository>:latest and its version tags")
	fs.StringVar(&o.Repository, "repository", "", "image repository `name` for --load and --tarball (default: the recipe's repository)")
	fs.StringVar(&o.OCI, "oci", "", "also write the OCI image layout to `dir` (it is always written to "+names.LayoutDir("<recipe name>")+")")
	fs.StringVar(&o.Tarball, "tarball", "", "also write a `docker load` tarball to `file`")
	fs.StringVar(&o.WheelsDir, "wheels", "wheels", "`dir` of Python wheels (*.whl) to install in their own layer")
	fs.StringVar(&platforms, "platform", platform.Host().String(), "target `platform`s, comma-separated: linux/amd64, linux/arm64 or both (one OCI index; --load and --tarball take the host's)")
	fs.StringVar(&o.CacheDir, "cache-dir", "", "layer cache `dir` (default $XDG_CACHE_HOME/synapse-image or ~/.cache/synapse-image)")
	fs.BoolVar(&o.NoCache, "no-cache", false, "rebuild every layer, ignoring the cache (results are still cached)")
	fs.StringVar(&o.Revision, "revision", "", "git `revision` for the label and the sha- tag (default: git HEAD, with -dirty for uncommitted changes)")
	fs.Var(&extraTags, "tag", "extra `tag` (repeatable)")
	fs.BoolVar(&o.Verbose, "v", false, "show the output of mmdebstrap")
	defaultProgress := "auto"
	if v := os.Getenv("BUILDKIT_PROGRESS"); v != "" {
		defaultProgress = v // as docker buildx reads it
	}
	fs.StringVar(&o.Progress, "progress", defaultProgress, "how to show the steps: `auto` (tty in a terminal, else plain), tty, plain, rawjson or quiet (BuildKit's display; default $BUILDKIT_PROGRESS, else auto)")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: go run . build [flags]\n\nBuilds the image of a recipe without a Docker daemon (see image/README.md).\n\nflags:")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return usageError{Err: err}
	}
	if fs.NArg() > 0 {
		return usageError{Err: fmt.Errorf("unexpected argument %q (flags only; see build -h)", fs.Arg(0))}
	}
	for _, t := range extraTags {
		if !tags.Valid(t) {
			return usageError{Err: fmt.Errorf("--tag %q: a tag is letters, digits, '_', '.', '-' (at most 128)", t)}
		}
	}
	o.Tags = extraTags
	var err error
	if o.Platforms, err = platform.ParseList(platforms); err != nil {
		return usageError{Err: fmt.Errorf("--platform %w", err)}
	}
	if !slices.Contains(progress.Modes, o.Progress) {
		return usageError{Err: fmt.Errorf("--progress %q: expected one of %s", o.Progress, strings.Join(progress.Modes, ", "))}
	}
	return pipeline.Build(ctx, o)
}
