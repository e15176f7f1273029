package build

import (
	"context"
	"embed"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// pythonTools are run inside the new root (tune.py) or installed into it
// (_bytecode_bundle.py, the run-time hook of a bytecode bundle).
//
//go:embed python/tune.py python/_bytecode_bundle.py
var pythonTools embed.FS

// pythonJob is what tune.py reads.
type pythonJob struct {
	Epoch            int64         `json:"epoch"`
	Edits            []pythonEdit  `json:"edits"`
	InvalidationMode string        `json:"invalidation-mode"`
	Bundle           *pythonBundle `json:"bundle,omitempty"`
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

// tunePython does the recipe's python: section in root with the root's own
// python3: edits, bytecode invalidation mode, bytecode bundle.
func (b *builder) tunePython(ctx context.Context, root string, epoch time.Time) error {
	py := b.r.Python
	if py == nil {
		return nil
	}
	job := pythonJob{Epoch: epoch.Unix(), InvalidationMode: py.InvalidationMode}
	for _, e := range py.Edits {
		job.Edits = append(job.Edits, pythonEdit(e))
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
	data, err := json.Marshal(job)
	if err != nil {
		return err
	}
	// A work directory below the root's /tmp, which never goes into a layer.
	const inRoot = "/tmp/synapse-image-python"
	work := filepath.Join(root, inRoot)
	if err := os.MkdirAll(work, 0o755); err != nil {
		return fmt.Errorf("python: %w", err)
	}
	defer os.RemoveAll(work)
	if err := os.WriteFile(filepath.Join(work, "tune.py"), tool, 0o644); err != nil {
		return fmt.Errorf("python: %w", err)
	}
	if err := os.WriteFile(filepath.Join(work, "job.json"), data, 0o644); err != nil {
		return fmt.Errorf("python: %w", err)
	}
	t := time.Now()
	// -I: nothing from the environment or the current directory; -B: the
	// tool writes no bytecode of its own.
	out, err := chrootOutput(ctx, root, epoch, "python3", "-I", "-B", inRoot+"/tune.py", inRoot+"/job.json")
	for _, l := range strings.Split(strings.TrimSpace(out), "\n") {
		if l != "" {
			b.logf("python", "%s", l)
		}
	}
	if err != nil {
		return fmt.Errorf("python: %w", err)
	}
	b.logf("python", "done in %s", since(t))
	return nil
}
