// Package build turns a recipe (package image/recipe) into an OCI image
// without a Docker daemon: a Debian root file system made with mmdebstrap,
// an optional layer of local Python wheels, and a layer with the project's
// own programs and files, assembled with go-containerregistry. Every layer is
// cached by the hash of its inputs and written deterministically, so the same
// inputs give the same digests.
package build

import (
	"context"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/synapse-image/synapse-image/image/layer"
	"github.com/synapse-image/synapse-image/image/platform"
	"github.com/synapse-image/synapse-image/image/progress"
	"github.com/synapse-image/synapse-image/image/recipe"
)

// Options are the inputs of a build.
type Options struct {
	Recipe *recipe.Recipe
	// RepoRoot is the module root: files: sources and programs: packages
	// are relative to it.
	RepoRoot string
	// WheelsDir holds *.whl files for the wheels layer (none: no layer).
	WheelsDir string
	// Platform is the target platform.
	Platform platform.Platform
	// Epoch is SOURCE_DATE_EPOCH: the modification time of the project
	// layer's files and the image's creation time.
	Epoch time.Time
	// Revision is the git revision of the recipe (label and sha tag).
	Revision string
	Cache    *Cache
	// RootFS makes root file systems (default: Mmdebstrap).
	RootFS RootFS
	// Mirror reads the state of the Debian mirror (default: FetchMirrorState).
	Mirror func(ctx context.Context, mirror, suite string) (MirrorState, error)
	// Progress shows each step (nil: nothing shown); with Verbose, the
	// tools' output (mmdebstrap) goes to the step's log too.
	Progress *progress.Display
	Verbose  bool
}

// Result is a built image and what was learned on the way.
type Result struct {
	Image v1.Image
	// Version is the upstream version of Recipe.Version.Package ("1.160.0"),
	// PackageVersion its Debian version ("1.160.0-1"); empty without version:.
	Version, PackageVersion string
	Layers                  []LayerInfo
	// Packages are the Debian packages in the image and their versions.
	Packages map[string]string
	// Mirror is the state of the Debian mirror the packages came from;
	// Wheels maps each local wheel installed to its SHA-256 (provenance).
	Mirror MirrorState
	Wheels map[string]string
}

// LayerInfo describes one layer of the image.
type LayerInfo struct {
	Name   string
	Meta   layer.Meta
	Cached bool
}

// rootfsFacts is what the root file system step learns, kept in the cache.
type rootfsFacts struct {
	Packages map[string]string `json:"packages"` // installed package → version
	Removed  map[string]int64  `json:"removed"`  // remove glob → bytes dropped
	Files    int               `json:"files"`
	Bytes    int64             `json:"bytes"`
}

// Build builds the image.
func Build(ctx context.Context, opt Options) (*Result, error) {
	b, err := newBuilder(opt)
	if err != nil {
		return nil, err
	}
	return b.build(ctx)
}

type builder struct {
	Options
	r     *recipe.Recipe
	paths map[string]bool // every path in the image so far

	// step is the step running now, named key ("rootfs"); see begin.
	step    *progress.Step
	stepKey string
	// wheels are the wheel files the wheels layer installed, with their SHA-256.
	wheels map[string]string
	// native is the root of the build host's architecture (nativeRoot),
	// once made or found.
	native string
}

func newBuilder(opt Options) (*builder, error) {
	if opt.Recipe == nil {
		return nil, fmt.Errorf("no recipe")
	}
	if opt.Cache == nil {
		return nil, fmt.Errorf("no cache")
	}
	b := &builder{r: opt.Recipe, paths: map[string]bool{"/": true}}
	if opt.RootFS == nil {
		var log io.Writer = io.Discard
		if opt.Verbose {
			log = toolLog{b}
		}
		opt.RootFS = Mmdebstrap{Log: log, DebCache: filepath.Join(opt.Cache.Dir, "debs")}
	}
	if opt.Mirror == nil {
		client := &http.Client{}
		opt.Mirror = RememberMirror(filepath.Join(opt.Cache.Dir, "mirrors"), func(ctx context.Context, mirror, suite string) (MirrorState, error) {
			return FetchMirrorState(ctx, client, mirror, suite)
		})
	}
	if opt.Platform == (platform.Platform{}) {
		return nil, fmt.Errorf("no target platform")
	}
	b.Options = opt
	return b, nil
}

func (b *builder) build(ctx context.Context) (res *Result, err error) {
	defer func() { b.step.Done(err) }()
	b.begin("mirror", fmt.Sprintf("%s %s: InRelease", b.r.Debian.Mirror, b.r.Debian.Suite))
	mirror, err := b.Mirror(ctx, b.r.Debian.Mirror, b.r.Debian.Suite)
	if err != nil {
		return nil, err
	}
	if mirror.Remembered {
		b.logf("mirror", "%s unreachable: using the state the last build saw, %s of %s (only cached layers can be used)",
			b.r.Debian.Mirror, mirror.InReleaseSHA256[:12], mirror.Date.Format(time.DateOnly))
	} else {
		b.logf("mirror", "%s %s of %s", b.r.Debian.Suite, mirror.InReleaseSHA256[:12], mirror.Date.Format(time.DateOnly))
	}

	res = &Result{}
	var layers []v1.Layer
	var history []v1.History

	b.begin("rootfs", fmt.Sprintf("mmdebstrap --variant=%s %s: %s", b.r.Debian.Variant, b.r.Debian.Suite, strings.Join(b.r.Debian.Packages, " ")))
	rootfs, facts, err := b.rootfsLayer(ctx, mirror)
	if err != nil {
		return nil, err
	}
	layers = append(layers, rootfs.layer)
	res.Layers = append(res.Layers, rootfs.info)
	history = append(history, v1.History{
		Created:   v1.Time{Time: mirror.Date},
		CreatedBy: fmt.Sprintf("mmdebstrap --variant=%s %s: %s", b.r.Debian.Variant, b.r.Debian.Suite, strings.Join(b.r.Debian.Packages, " ")),
		Comment:   "root file system",
	})

	wheels, err := b.wheelsLayer(ctx, mirror)
	if err != nil {
		return nil, err
	}
	if wheels != nil {
		layers = append(layers, wheels.layer)
		res.Layers = append(res.Layers, wheels.info)
		history = append(history, v1.History{
			Created:   v1.Time{Time: mirror.Date},
			CreatedBy: "pip install --no-index --find-links wheels/",
			Comment:   "local wheels",
		})
	}

	b.begin("project", strings.Join(b.projectSummary(), " "))
	project, err := b.projectLayer(ctx)
	if err != nil {
		return nil, err
	}
	layers = append(layers, project.layer)
	res.Layers = append(res.Layers, project.info)
	history = append(history, v1.History{
		Created:   v1.Time{Time: b.Epoch},
		CreatedBy: "synapse-image build: " + strings.Join(b.projectSummary(), " "),
		Comment:   "project files",
	})

	if err := b.checkSymlinks(); err != nil {
		return nil, err
	}

	res.Packages = facts.Packages
	res.Mirror = mirror
	res.Wheels = b.wheels
	if p := b.r.Version.Package; p != "" {
		v, ok := facts.Packages[p]
		if !ok {
			return nil, fmt.Errorf("version.package: %q is not installed in the root file system (add it to debian.packages)", p)
		}
		res.PackageVersion = v
		res.Version = upstreamVersion(v)
	}

	cfg, err := imageConfig(b.r, configInputs{
		platform:       b.Platform,
		epoch:          b.Epoch,
		revision:       b.Revision,
		version:        res.Version,
		packageVersion: res.PackageVersion,
		layers:         res.Layers,
		history:        history,
	})
	if err != nil {
		return nil, err
	}
	img, err := newImage(cfg, layers)
	if err != nil {
		return nil, err
	}
	res.Image = img
	return res, nil
}

type builtLayer struct {
	layer v1.Layer
	info  LayerInfo
}

// cached returns the layer stored under key, or makes it with fill.
func (b *builder) cached(step, key string, fill func(dir string) error) (*builtLayer, string, error) {
	dir, hit := b.Cache.Lookup(key)
	if !hit {
		var err error
		if dir, err = b.Cache.Store(key, fill); err != nil {
			return nil, "", err
		}
	}
	l, meta, err := layer.Open(dir)
	if err != nil {
		return nil, "", fmt.Errorf("%s: stored layer: %w", step, err)
	}
	if hit {
		b.stepFor(step).Cached()
	} else {
		b.logf(step, "built: %s uncompressed, %s compressed", mb(meta.UncompressedSize), mb(meta.Size))
	}
	return &builtLayer{layer: l, info: LayerInfo{Name: step, Meta: meta, Cached: hit}}, dir, nil
}

// builtinRemove are paths the container runtime provides, never a layer.
var builtinRemove = []string{"/etc/resolv.conf", "/etc/hostname", "/etc/hosts", "/etc/machine-id"}

func (b *builder) rootfsLayer(ctx context.Context, mirror MirrorState) (*builtLayer, *rootfsFacts, error) {
	parts := []any{b.r.Debian, b.r.Users, b.r.Remove, builtinRemove, b.Platform.Arch(), mirror}
	if b.r.Python != nil {
		// Only then, so recipes without python: keep their cached layers.
		tools, err := pythonToolsKey()
		if err != nil {
			return nil, nil, err
		}
		parts = append(parts, b.r.Python, tools)
	}
	key, err := Key("rootfs", parts...)
	if err != nil {
		return nil, nil, err
	}
	l, dir, err := b.cached("rootfs", key, func(out string) error {
		work, err := os.MkdirTemp("", "builder-rootfs-")
		if err != nil {
			return err
		}
		defer func() {
			if err := removeAll(work); err != nil {
				b.logf("rootfs", "%v", err)
			}
		}()
		root := filepath.Join(work, "root")
		t := time.Now()
		b.logf("rootfs", "mmdebstrap %s (takes a minute or two)", b.r.Debian.Suite)
		in := Install{Debian: b.r.Debian, Platform: b.Platform, Epoch: mirror.Date, DeferByteCompile: b.compilesPython()}
		if b.Platform != platform.Host() {
			if in.NativeRoot, err = b.nativeRoot(ctx, mirror, "rootfs"); err != nil {
				return err
			}
		}
		if err := b.RootFS.Make(ctx, in, root); err != nil {
			return fmt.Errorf("root file system: %w", err)
		}
		b.logf("rootfs", "mmdebstrap done in %s", since(t))
		if err := addUsers(root, b.r.Users); err != nil {
			return fmt.Errorf("users: %w", err)
		}
		if err := b.tunePython(ctx, root, mirror); err != nil {
			return err
		}
		pkgs, err := readDpkgStatus(filepath.Join(root, "var/lib/dpkg/status"))
		if err != nil {
			return fmt.Errorf("root file system: %w", err)
		}
		var paths []string
		var stats layer.DirStats
		if _, err := layer.Write(out, func(w io.Writer) error {
			var err error
			stats, err = layer.WriteDir(w, root, layer.DirOptions{
				Epoch:  mirror.Date,
				Remove: append(append([]string{}, b.r.Remove...), builtinRemove...),
				Keep:   func(p string, _ fs.FileInfo) { paths = append(paths, p) },
			})
			return err
		}); err != nil {
			return fmt.Errorf("root file system layer: %w", err)
		}
		for _, g := range b.r.Remove {
			if _, ok := stats.Removed[g]; !ok {
				b.logf("rootfs", "remove %s: matched nothing", g)
			}
		}
		if err := os.WriteFile(filepath.Join(out, "paths"), []byte(strings.Join(paths, "\n")), 0o644); err != nil {
			return err
		}
		return writeJSON(filepath.Join(out, "facts.json"), rootfsFacts{Packages: pkgs, Removed: stats.Removed, Files: stats.Files, Bytes: stats.Bytes})
	})
	if err != nil {
		return nil, nil, err
	}
	var facts rootfsFacts
	if err := readJSON(filepath.Join(dir, "facts.json"), &facts); err != nil {
		return nil, nil, err
	}
	if err := b.addPaths(filepath.Join(dir, "paths")); err != nil {
		return nil, nil, err
	}
	if !l.info.Cached {
		b.logRemoved(facts.Removed)
	}
	return l, &facts, nil
}

func (b *builder) logRemoved(removed map[string]int64) {
	globs := make([]string, 0, len(removed))
	for g := range removed {
		globs = append(globs, g)
	}
	sort.Slice(globs, func(i, j int) bool { return removed[globs[i]] > removed[globs[j]] })
	for _, g := range globs {
		b.logf("rootfs", "remove %-45s saved %s", g, mb(removed[g]))
	}
}

func (b *builder) addPaths(file string) error {
	data, err := os.ReadFile(file)
	if err != nil {
		return err
	}
	for _, p := range strings.Split(string(data), "\n") {
		if p != "" {
			b.paths[p] = true
		}
	}
	return nil
}

// checkSymlinks makes sure every symlinks: entry points at something.
func (b *builder) checkSymlinks() error {
	for i, s := range b.r.Symlinks {
		target := s.Target
		if !path.IsAbs(target) {
			target = path.Join(path.Dir(s.Path), target)
		}
		if !b.paths[path.Clean(target)] {
			return fmt.Errorf("symlinks[%d]: target %s of %s does not exist in the image", i, s.Target, s.Path)
		}
	}
	return nil
}

// begin ends the step running now and starts the step key ("rootfs"),
// shown as "[key] title".
func (b *builder) begin(key, title string) *progress.Step {
	b.step.Done(nil)
	name := "[" + key + "]"
	if title != "" {
		name += " " + title
	}
	b.step, b.stepKey = b.Progress.Start(name), key
	return b.step
}

// stepFor is the step key, begun (without a title) unless it runs now.
func (b *builder) stepFor(key string) *progress.Step {
	if b.step == nil || b.stepKey != key {
		return b.begin(key, "")
	}
	return b.step
}

// logf adds a line to the log of step key.
func (b *builder) logf(key, format string, args ...any) {
	b.stepFor(key).Logf(format, args...)
}

// toolLog sends the output of the tools a step runs to the step's log.
type toolLog struct{ b *builder }

func (t toolLog) Write(p []byte) (int, error) { return t.b.step.Write(p) }

func since(t time.Time) string {
	d := time.Since(t)
	if d < 10*time.Second {
		return fmt.Sprintf("%.1fs", d.Seconds())
	}
	return d.Round(time.Second).String()
}

func mb(n int64) string { return fmt.Sprintf("%.1f MB", float64(n)/1e6) }
