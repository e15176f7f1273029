package build

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/synapse-image/synapse-image/image/layer"
)

// wheelsLayer installs the wheels in WheelsDir with the image's own Python.
// pip is needed only to install them, so it runs in a separate build root
// (the recipe's packages plus python3-pip, cached); the layer holds only what
// pip wrote (below /usr/local, which comes first on Python's path, so a wheel
// of a newer Synapse or library wins over Debian's), byte-compiled with
// hash-based bytecode (the recipe's python.invalidation-mode, else
// checked-hash) so it does not depend on file times. No wheels, no layer.
func (b *builder) wheelsLayer(ctx context.Context, mirror MirrorState) (*builtLayer, error) {
	if !b.r.Wheels || b.WheelsDir == "" {
		return nil, nil // this image takes no wheels
	}
	b.begin("wheels", "pip install "+filepath.Join(b.WheelsDir, "*.whl"))
	wheels, err := filepath.Glob(filepath.Join(b.WheelsDir, "*.whl"))
	if err != nil {
		return nil, err
	}
	if len(wheels) == 0 {
		b.logf("wheels", "no *.whl in %s: no wheels layer", b.WheelsDir)
		return nil, nil
	}
	sort.Strings(wheels)
	sums := map[string]string{}
	for _, w := range wheels {
		sum, err := fileSHA256(w)
		if err != nil {
			return nil, fmt.Errorf("wheels: %w", err)
		}
		sums[filepath.Base(w)] = sum
	}
	b.wheels = sums
	// The recipe's bytecode invalidation mode (python:), else checked-hash.
	mode := "checked-hash"
	parts := []any{b.r.Debian, b.Platform.Arch(), mirror, sums}
	if py := b.r.Python; py != nil && py.InvalidationMode != "" && py.InvalidationMode != mode {
		mode = py.InvalidationMode
		parts = append(parts, mode) // only then: other recipes keep their cached layers
	}
	key, err := Key("wheels", parts...)
	if err != nil {
		return nil, err
	}
	l, dir, err := b.cached("wheels", key, func(out string) error {
		root, err := b.wheelsBuildRoot(ctx, mirror)
		if err != nil {
			return err
		}
		// The work directory inside the cached build root has a fixed name,
		// as pip records the wheels' path (direct_url.json) in the layer; a
		// lock keeps two builds sharing the cache apart.
		unlock, err := lockFile(filepath.Join(root, "tmp", ".synapse-image-wheels.lock"))
		if err != nil {
			return fmt.Errorf("wheels: %w", err)
		}
		defer unlock()
		const inRoot = "/tmp/synapse-image-wheels"
		work := filepath.Join(root, inRoot)
		if err := os.RemoveAll(work); err != nil {
			return err
		}
		if err := os.Mkdir(work, 0o755); err != nil {
			return err
		}
		defer os.RemoveAll(work)
		args := []string{"python3", "-m", "pip", "install", "--no-index", "--find-links", inRoot + "/wheels",
			"--root", inRoot + "/out", "--break-system-packages", "--no-compile", "--no-warn-script-location",
			"--disable-pip-version-check", "--root-user-action=ignore"}
		if err := os.Mkdir(filepath.Join(work, "wheels"), 0o755); err != nil {
			return err
		}
		for _, w := range wheels {
			data, err := os.ReadFile(w)
			if err != nil {
				return err
			}
			if err := os.WriteFile(filepath.Join(work, "wheels", filepath.Base(w)), data, 0o644); err != nil {
				return err
			}
			args = append(args, inRoot+"/wheels/"+filepath.Base(w))
		}
		t := time.Now()
		if err := chroot(ctx, root, mirror.Date, args...); err != nil {
			return fmt.Errorf("wheels: every dependency must be installed by debian.packages or be a wheel in %s: %w", b.WheelsDir, err)
		}
		if err := chroot(ctx, root, mirror.Date, "python3", "-m", "compileall", "-q", "--invalidation-mode", mode,
			"-s", inRoot+"/out", "-p", "/", inRoot+"/out"); err != nil {
			return fmt.Errorf("wheels: compileall: %w", err)
		}
		b.logf("wheels", "pip install of %d wheel(s) in %s", len(wheels), since(t))
		var paths []string
		_, err = layer.Write(out, func(w io.Writer) error {
			_, err := layer.WriteDir(w, filepath.Join(work, "out"), layer.DirOptions{
				Epoch: mirror.Date,
				Keep:  func(p string, _ fs.FileInfo) { paths = append(paths, p) },
			})
			return err
		})
		if err != nil {
			return fmt.Errorf("wheels layer: %w", err)
		}
		return os.WriteFile(filepath.Join(out, "paths"), []byte(strings.Join(paths, "\n")), 0o644)
	})
	if err != nil {
		return nil, err
	}
	return l, b.addPaths(filepath.Join(dir, "paths"))
}

// wheelsBuildRoot is a root file system with the recipe's packages and
// python3-pip, cached like a layer (by the Debian section and the mirror
// state), so changing a wheel does not run mmdebstrap again.
func (b *builder) wheelsBuildRoot(ctx context.Context, mirror MirrorState) (string, error) {
	key, err := Key("wheels-root", b.r.Debian, b.Platform.Arch(), mirror)
	if err != nil {
		return "", err
	}
	in := Install{Debian: b.r.Debian, Extra: []string{"python3-pip"}, Platform: b.Platform, Epoch: mirror.Date}
	return b.cachedRoot(ctx, "wheels", "wheels build root (python3-pip)", key, in, nil)
}

// lockFile takes an exclusive lock on file (created when missing).
func lockFile(file string) (func(), error) {
	f, err := os.OpenFile(file, os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return nil, err
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX); err != nil {
		f.Close()
		return nil, err
	}
	return func() { f.Close() }, nil
}

// chroot runs a command inside root.
func chroot(ctx context.Context, root string, epoch time.Time, args ...string) error {
	_, err := chrootOutput(ctx, root, epoch, args...)
	return err
}

// chrootOutput runs a command inside root and returns its standard output;
// an error carries the reasons from its output.
func chrootOutput(ctx context.Context, root string, epoch time.Time, args ...string) (string, error) {
	return commandOutput(ctx, epoch, append([]string{"chroot", root}, args...)...)
}

// commandOutput runs args (a command that chroots) with a plain environment
// and returns its standard output; its error has the reasons from its output.
func commandOutput(ctx context.Context, epoch time.Time, args ...string) (string, error) {
	cmd := exec.CommandContext(ctx, args[0], args[1:]...)
	cmd.Env = []string{"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "LANG=C.UTF-8", "HOME=/root",
		"SOURCE_DATE_EPOCH=" + strconv.FormatInt(epoch.Unix(), 10)}
	var stdout, both bytes.Buffer
	cmd.Stdout = io.MultiWriter(&stdout, &both)
	cmd.Stderr = &both
	err := cmd.Run()
	if err == nil {
		return stdout.String(), nil
	}
	out := both.Bytes()
	// pip says what is wrong on its "ERROR:" lines.
	var reasons []string
	for _, l := range strings.Split(string(out), "\n") {
		if strings.HasPrefix(l, "ERROR:") {
			reasons = append(reasons, l)
		}
	}
	if len(reasons) == 0 {
		reasons = []string{lastLines(out, 15)}
	}
	return stdout.String(), fmt.Errorf("%s %s: %w\n%s", args[0], strings.Join(args[1:min(len(args), 4)], " "), err, strings.Join(reasons, "\n"))
}
