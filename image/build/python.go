package build

import (
	"context"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"time"

	"github.com/synapse-image/synapse-image/image/platform"
	"github.com/synapse-image/synapse-image/image/recipe"
)

// pythonTools are run inside the new root (tune.py) or installed into it
// (_bytecode_bundle.py, the run-time hook of a bytecode bundle).
//
//go:embed python/tune.py python/_bytecode_bundle.py
var pythonTools embed.FS

// pythonJob is what tune.py reads.
type pythonJob struct {
	// Root is where the image's root is for tune.py ("": it runs in it);
	// Python is the command of the image's own python3 from there.
	Root             string        `json:"root,omitempty"`
	Python           []string      `json:"python,omitempty"`
	Epoch            int64         `json:"epoch"`
	Edits            []pythonEdit  `json:"edits"`
	InvalidationMode string        `json:"invalidation-mode"`
	Bundle           *pythonBundle `json:"bundle,omitempty"`
	Checks           []pythonCheck `json:"checks,omitempty"`
}

type pythonCheck struct {
	Code string `json:"code"`
	File string `json:"file"`
}

type pythonEdit struct {
	File    string `json:"file"`
	Line    string `json:"line"`
	Replace string `json:"replace"`
}

type pythonBundle struct {
	Modules []string `json:"modules"`
	Dir     string   `json:"dir"`
	Env     string   `json:"env"`
	Hook    string   `json:"hook"`
	DropPyc bool     `json:"drop-pyc"`
	Finder  string   `json:"finder,omitempty"`
}

// pythonToolsKey is part of the root file system's cache key, so a change
// of the tools makes the layer again.
func pythonToolsKey() (map[string]string, error) {
	out := map[string]string{}
	for _, name := range []string{"python/tune.py", "python/_bytecode_bundle.py"} {
		data, err := pythonTools.ReadFile(name)
		if err != nil {
			return nil, err
		}
		out[name] = string(data)
	}
	return out, nil
}

// compilesPython tells whether tunePython byte-compiles the packages' Python
// files (so Debian's installation need not).
func (b *builder) compilesPython() bool {
	return b.r.Python != nil && b.r.Python.InvalidationMode != ""
}

// tunePython does the recipe's python: section in root: edits, bytecode
// invalidation mode, bytecode bundle, checks. It runs tune.py with the root's own
// python3 or, for another architecture, with the same Python of the build
// host's architecture.
func (b *builder) tunePython(ctx context.Context, root string, mirror MirrorState) error {
	epoch := mirror.Date
	py := b.r.Python
	if py == nil {
		return nil
	}
	job := pythonJob{Epoch: epoch.Unix(), InvalidationMode: py.InvalidationMode}
	for _, e := range py.Edits {
		job.Edits = append(job.Edits, pythonEdit(e))
	}
	for _, c := range py.Checks {
		job.Checks = append(job.Checks, pythonCheck(c))
	}
	if bu := py.Bundle; bu != nil {
		hook, err := pythonTools.ReadFile("python/_bytecode_bundle.py")
		if err != nil {
			return err
		}
		job.Bundle = &pythonBundle{Modules: bu.Modules, Dir: bu.Dir, Env: bu.Env, Hook: string(hook), DropPyc: bu.DropPyc, Finder: bu.Finder}
	}
	tool, err := pythonTools.ReadFile("python/tune.py")
	if err != nil {
		return err
	}
	// A work directory below the root's /tmp, which never goes into a layer.
	work := filepath.Join(root, pythonWork)
	if err := os.MkdirAll(work, 0o755); err != nil {
		return fmt.Errorf("python: %w", err)
	}
	defer os.RemoveAll(work)
	if err := os.WriteFile(filepath.Join(work, "tune.py"), tool, 0o644); err != nil {
		return fmt.Errorf("python: %w", err)
	}
	t := time.Now()
	if b.Platform != platform.Host() {
		// Under qemu, compiling thousands of files takes many minutes; the
		// same Python version of the host's architecture writes the same
		// bytecode (it does not depend on the CPU) in seconds.
		native, err := b.nativeRoot(ctx, mirror, "python")
		if err != nil {
			return err
		}
		job.Root = nativeTarget
		job.Python = []string{"chroot", nativeTarget, "python3"}
		err = b.runTune(ctx, work, job, epoch, func(args ...string) []string {
			// A mount namespace of its own: the bind mount of the image's
			// root ends with the process, whatever happens to the build.
			return append([]string{"unshare", "--mount", "--propagation", "private", "sh", "-c",
				`mount --bind "$1" "$2` + nativeTarget + `" && shift 2 && exec chroot "$@"`,
				"sh", root, native, native}, args...)
		}, nativeTarget+pythonWork)
		if err == nil {
			b.logf("python", "done in %s", since(t))
			return nil
		}
		if !errors.Is(err, errOtherPython) {
			return err
		}
		b.logf("python", "%v: running it with the image's own python3 under emulation instead (slow)", err)
		job.Root, job.Python = "", nil
	}
	if err := b.runTune(ctx, work, job, epoch, func(args ...string) []string {
		return append([]string{"chroot", root}, args...)
	}, pythonWork); err != nil {
		return err
	}
	b.logf("python", "done in %s", since(t))
	return nil
}

// pythonWork is tune.py's work directory in the image's root; nativeTarget
// is where the image's root is mounted in the native Python's root.
const (
	pythonWork   = "/tmp/synapse-image-python"
	nativeTarget = "/target"
)

// errOtherPython: the native Python is not the image's version.
var errOtherPython = errors.New("the native python3 is another version than the image's")

// runTune writes job next to tune.py in work and runs tune.py with the
// command that command makes; dir is work as that command sees it.
func (b *builder) runTune(ctx context.Context, work string, job pythonJob, epoch time.Time, command func(args ...string) []string, dir string) error {
	data, err := json.Marshal(job)
	if err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(work, "job.json"), data, 0o644); err != nil {
		return fmt.Errorf("python: %w", err)
	}
	// -I: nothing from the environment or the current directory; -B: the
	// tool writes no bytecode of its own.
	args := command("python3", "-I", "-B", dir+"/tune.py", dir+"/job.json")
	out, err := commandOutput(ctx, epoch, args...)
	for _, l := range strings.Split(strings.TrimSpace(out), "\n") {
		if l != "" {
			b.logf("python", "%s", l)
		}
	}
	var exit *exec.ExitError
	if errors.As(err, &exit) && exit.ExitCode() == 3 && job.Root != "" {
		return fmt.Errorf("%w (%s)", errOtherPython, strings.TrimSpace(lastLines([]byte(err.Error()), 1)))
	}
	if err != nil {
		return fmt.Errorf("python: %w", err)
	}
	return nil
}

// nativeRoot is a root file system of the build host's architecture with
// the recipe's suite's python3 (and dpkg), from the same mirror state as
// the image (so the same versions), kept in the cache; step is the step
// that needs it, for the log.
func (b *builder) nativeRoot(ctx context.Context, mirror MirrorState, step string) (string, error) {
	// Made once per build, also with --no-cache (rootfs and python use it).
	if b.native != "" {
		return b.native, nil
	}
	deb := recipe.Debian{
		Suite: b.r.Debian.Suite, Mirror: b.r.Debian.Mirror, Variant: "essential", Components: b.r.Debian.Components,
		AptOptions: b.r.Debian.AptOptions, DpkgOptions: b.r.Debian.DpkgOptions, Packages: []string{"python3"},
	}
	key, err := Key("native-python", deb, runtime.GOARCH, mirror)
	if err != nil {
		return "", err
	}
	in := Install{Debian: deb, Platform: platform.Host(), Epoch: mirror.Date, ReadDebCache: true}
	root, err := b.cachedRoot(ctx, step, fmt.Sprintf("native root (%s, python3 and dpkg)", platform.Host()), key, in, func(root string) error {
		return os.MkdirAll(filepath.Join(root, nativeTarget), 0o755)
	})
	if err != nil {
		return "", err
	}
	b.native = root
	return root, nil
}

// cachedRoot is a root file system that b.RootFS makes from in, kept in the
// cache under key (prepare, when set, finishes it before it is stored);
// what names it in step's log and errors.
func (b *builder) cachedRoot(ctx context.Context, step, what, key string, in Install, prepare func(root string) error) (string, error) {
	if dir, ok := b.Cache.Lookup(key); ok {
		b.logf(step, "%s cached", what)
		return filepath.Join(dir, "root"), nil
	}
	t := time.Now()
	b.logf(step, "mmdebstrap the %s (a minute or two)", what)
	dir, err := b.Cache.Store(key, func(out string) error {
		root := filepath.Join(out, "root")
		if err := b.RootFS.Make(ctx, in, root); err != nil {
			return fmt.Errorf("%s: %w", what, err)
		}
		if prepare != nil {
			return prepare(root)
		}
		return nil
	})
	if err != nil {
		return "", err
	}
	b.logf(step, "%s made in %s", what, since(t))
	return filepath.Join(dir, "root"), nil
}
