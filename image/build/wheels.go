package build

import (
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
	"time"

	"github.com/synapse-image/synapse-image/image/layer"
)

// wheelsLayer installs the wheels in WheelsDir with the image's own Python.
// pip is needed only to install them, so it runs in a throw-away root file
// system (the recipe's packages plus python3-pip); the layer holds only what
// pip wrote (below /usr/local), byte-compiled with checked-hash bytecode so it
// does not depend on file times. No wheels, no layer.
func (b *builder) wheelsLayer(ctx context.Context, mirror MirrorState) (*builtLayer, error) {
	if b.WheelsDir == "" {
		return nil, nil
	}
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
	key, err := Key("wheels", b.r.Debian, b.Arch, mirror, sums)
	if err != nil {
		return nil, err
	}
	l, dir, err := b.cached("wheels", key, func(out string) error {
		work, err := os.MkdirTemp("", "builder-wheels-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(work)
		root := filepath.Join(work, "root")
		t := time.Now()
		fmt.Fprintf(b.Log, "[wheels] mmdebstrap a build root with python3-pip for %d wheel(s)\n", len(wheels))
		if err := b.RootFS.Make(ctx, b.r.Debian, []string{"python3-pip"}, b.Arch, mirror.Date, root); err != nil {
			return fmt.Errorf("wheels build root: %w", err)
		}
		b.logf("wheels", "build root done in %s", since(t))
		if err := os.MkdirAll(filepath.Join(root, "tmp/wheels"), 0o755); err != nil {
			return err
		}
		args := []string{"python3", "-m", "pip", "install", "--no-index", "--find-links", "/tmp/wheels",
			"--root", "/tmp/wheelroot", "--break-system-packages", "--no-compile", "--no-warn-script-location",
			"--disable-pip-version-check", "--root-user-action=ignore"}
		for _, w := range wheels {
			data, err := os.ReadFile(w)
			if err != nil {
				return err
			}
			if err := os.WriteFile(filepath.Join(root, "tmp/wheels", filepath.Base(w)), data, 0o644); err != nil {
				return err
			}
			args = append(args, "/tmp/wheels/"+filepath.Base(w))
		}
		if err := chroot(ctx, root, mirror.Date, args...); err != nil {
			return fmt.Errorf("wheels: pip install (every dependency must be installed by debian.packages or be a wheel in %s): %w", b.WheelsDir, err)
		}
		if err := chroot(ctx, root, mirror.Date, "python3", "-m", "compileall", "-q", "--invalidation-mode", "checked-hash",
			"-s", "/tmp/wheelroot", "-p", "/", "/tmp/wheelroot"); err != nil {
			return fmt.Errorf("wheels: compileall: %w", err)
		}
		var paths []string
		_, err = layer.Write(out, func(w io.Writer) error {
			_, err := layer.WriteDir(w, filepath.Join(root, "tmp/wheelroot"), layer.DirOptions{
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

// chroot runs a command inside root.
func chroot(ctx context.Context, root string, epoch time.Time, args ...string) error {
	cmd := exec.CommandContext(ctx, "chroot", append([]string{root}, args...)...)
	cmd.Env = []string{"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "LANG=C.UTF-8", "HOME=/root",
		"SOURCE_DATE_EPOCH=" + strconv.FormatInt(epoch.Unix(), 10)}
	out, err := cmd.CombinedOutput()
	if err != nil {
		return fmt.Errorf("%s: %w\n%s", strings.Join(args, " "), err, lastLines(out, 15))
	}
	return nil
}
