package build

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/synapse-image/synapse-image/image/layer"
)

// projectLayer holds dirs:, files:, programs: and symlinks:. Its cache key
// covers the content of every file that goes in and every Go source file the
// programs are built from, so changing the config generator rebuilds only this
// layer.
func (b *builder) projectLayer(ctx context.Context) (*builtLayer, error) {
	t := time.Now()
	files := map[string]string{}
	for i, f := range b.r.Files {
		sum, err := fileSHA256(filepath.Join(b.RepoRoot, f.Src))
		if err != nil {
			return nil, fmt.Errorf("files[%d].src: %w", i, err)
		}
		files[f.Src] = sum
	}
	sources := map[string]string{}
	for i, p := range b.r.Programs {
		s, err := goSources(ctx, b.RepoRoot, p.Package, b.Platform.Arch())
		if err != nil {
			return nil, fmt.Errorf("programs[%d].package %s: %w", i, p.Package, err)
		}
		for k, v := range s {
			sources[k] = v
		}
	}
	goVersion, err := goEnv(ctx, b.RepoRoot, "GOVERSION")
	if err != nil && len(b.r.Programs) > 0 {
		return nil, err
	}
	key, err := Key("project", b.r.Dirs, b.r.Files, b.r.Programs, b.r.Symlinks, files, sources, goVersion, b.Platform.Arch(), b.Epoch.Unix())
	if err != nil {
		return nil, err
	}
	b.logf("project", "inputs hashed in %s", since(t))
	l, dir, err := b.cached("project", key, func(out string) error {
		entries, err := b.projectEntries(ctx)
		if err != nil {
			return err
		}
		var paths []string
		for _, e := range entries {
			paths = append(paths, e.Path)
		}
		if err := os.WriteFile(filepath.Join(out, "paths"), []byte(strings.Join(paths, "\n")), 0o644); err != nil {
			return err
		}
		_, err = layer.Write(out, func(w io.Writer) error { return layer.WriteEntries(w, entries, b.Epoch) })
		return err
	})
	if err != nil {
		return nil, err
	}
	return l, b.addPaths(filepath.Join(dir, "paths"))
}

func (b *builder) projectEntries(ctx context.Context) ([]layer.Entry, error) {
	var entries []layer.Entry
	for _, d := range b.r.Dirs {
		entries = append(entries, layer.Entry{Path: d.Path, Mode: fs.ModeDir | fs.FileMode(d.Mode), UID: d.UID, GID: d.GID})
	}
	for i, f := range b.r.Files {
		data, err := os.ReadFile(filepath.Join(b.RepoRoot, f.Src))
		if err != nil {
			return nil, fmt.Errorf("files[%d].src: %w", i, err)
		}
		entries = append(entries, layer.Entry{Path: f.Dst, Mode: fs.FileMode(f.Mode), Data: data})
	}
	for i, p := range b.r.Programs {
		t := time.Now()
		data, err := goBuild(ctx, b.RepoRoot, p.Package, b.Platform.Arch())
		if err != nil {
			return nil, fmt.Errorf("programs[%d]: %w", i, err)
		}
		b.logf("project", "go build %s for %s in %s (%s)", p.Package, b.Platform, since(t), mb(int64(len(data))))
		entries = append(entries, layer.Entry{Path: p.Dst, Mode: 0o755, Data: data})
	}
	for _, s := range b.r.Symlinks {
		entries = append(entries, layer.Entry{Path: s.Path, Mode: fs.ModeSymlink | 0o777, Target: s.Target})
	}
	// Parent directories missing from the root file system are created
	// root-owned with mode 0755.
	have := map[string]bool{}
	for _, e := range entries {
		have[e.Path] = true
	}
	for _, e := range entries {
		for dir := path.Dir(e.Path); dir != "/"; dir = path.Dir(dir) {
			if !b.paths[dir] && !have[dir] {
				have[dir] = true
				entries = append(entries, layer.Entry{Path: dir, Mode: fs.ModeDir | 0o755})
			}
		}
	}
	return entries, nil
}

func (b *builder) projectSummary() []string {
	var out []string
	for _, p := range b.r.Programs {
		out = append(out, p.Dst)
	}
	for _, f := range b.r.Files {
		out = append(out, f.Dst)
	}
	for _, s := range b.r.Symlinks {
		out = append(out, s.Path)
	}
	for _, d := range b.r.Dirs {
		out = append(out, d.Path+"/")
	}
	return out
}

// goBuild builds a static binary of pkg for linux/arch. -trimpath and
// -buildvcs=false keep it independent of where and when it is built.
func goBuild(ctx context.Context, repo, pkg, arch string) ([]byte, error) {
	tmp, err := os.MkdirTemp("", "builder-go-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(tmp)
	out := filepath.Join(tmp, "bin")
	cmd := exec.CommandContext(ctx, "go", "build", "-trimpath", "-buildvcs=false", "-ldflags=-s -w", "-o", out, pkg)
	cmd.Dir = repo
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux", "GOARCH="+arch)
	if msg, err := cmd.CombinedOutput(); err != nil {
		return nil, fmt.Errorf("go build %s: %w\n%s", pkg, err, lastLines(msg, 20))
	}
	return os.ReadFile(out)
}

// goSources hashes every file of the main module that pkg is built from
// (Go and embedded files of pkg and its dependencies in this module), plus
// go.mod and go.sum, which pin everything else.
func goSources(ctx context.Context, repo, pkg, arch string) (map[string]string, error) {
	cmd := exec.CommandContext(ctx, "go", "list", "-deps",
		"-f", `{{if .Module}}{{if .Module.Main}}{{.Dir}}{{range .GoFiles}} {{.}}{{end}}{{range .EmbedFiles}} {{.}}{{end}}{{end}}{{end}}`, pkg)
	cmd.Dir = repo
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux", "GOARCH="+arch)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("go list: %w\n%s", err, lastLines(stderr.Bytes(), 10))
	}
	files := []string{filepath.Join(repo, "go.mod"), filepath.Join(repo, "go.sum")}
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) == 0 {
			continue
		}
		for _, name := range f[1:] {
			files = append(files, filepath.Join(f[0], name))
		}
	}
	sort.Strings(files)
	sums := map[string]string{}
	for _, f := range files {
		rel, err := filepath.Rel(repo, f)
		if err != nil {
			return nil, err
		}
		sum, err := fileSHA256(f)
		if os.IsNotExist(err) && strings.HasSuffix(f, "go.sum") {
			continue
		}
		if err != nil {
			return nil, err
		}
		sums[filepath.ToSlash(rel)] = sum
	}
	return sums, nil
}

func goEnv(ctx context.Context, repo, name string) (string, error) {
	cmd := exec.CommandContext(ctx, "go", "env", name)
	cmd.Dir = repo
	out, err := cmd.Output()
	if err != nil {
		return "", fmt.Errorf("go env %s: %w", name, err)
	}
	return strings.TrimSpace(string(out)), nil
}

func fileSHA256(file string) (string, error) {
	f, err := os.Open(file)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}
