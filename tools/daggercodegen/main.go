// Command daggercodegen regenerates the Go bindings of the project's Dagger
// module (dagger.gen.go, internal/dagger/, go.mod and go.sum in the module's
// source directory) exactly as a Dagger engine would, without an engine: it
// runs the engine's own code generator (github.com/dagger/dagger/cmd/codegen,
// a tool of this module) on the engine's API schema, which ships in the same
// Go module (docs/docs-graphql/schema.graphqls) and is turned back into
// introspection JSON by package sdlschema.
//
// The engine version is the one this module pins in its go.mod; it must equal
// the engineVersion in dagger.json, or the command refuses to run.
//
// Run it from its own module directory (it runs `go tool codegen` there):
//
//	go -C tools/daggercodegen run . [-module DIR] [-schema-out FILE]
//
// -module is the directory holding dagger.json (default: the repository root,
// ../..); -schema-out also keeps the introspection JSON (the API test of the
// module reads it).
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"runtime/debug"
	"strings"

	"github.com/synapse-image/synapse-image/tools/daggercodegen/sdlschema"
)

// The engine's code generator and the SDK it generates code for: both are
// pinned in go.mod, at the engine version the module declares.
const (
	engineModule = "github.com/dagger/dagger"
	sdkModule    = "dagger.io/dagger"
	schemaFile   = "docs/docs-graphql/schema.graphqls"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := run(ctx, os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "daggercodegen:", err)
		var usage usageError
		if errors.As(err, &usage) {
			os.Exit(2)
		}
		os.Exit(1)
	}
}

type usageError struct{ error }

func run(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("daggercodegen", flag.ContinueOnError)
	moduleDir := fs.String("module", "../..", "directory holding the Dagger module's dagger.json")
	schemaOut := fs.String("schema-out", "", "also write the engine's API as introspection JSON to this file")
	checkOnly := fs.Bool("check-version", false, "only check that dagger.json's engineVersion is the pinned version")
	if err := fs.Parse(args); err != nil {
		return usageError{err}
	}
	if fs.NArg() > 0 {
		return usageError{fmt.Errorf("unexpected arguments %q", fs.Args())}
	}

	mod, err := readModule(*moduleDir)
	if err != nil {
		return err
	}
	version, err := pinnedVersion()
	if err != nil {
		return err
	}
	if mod.EngineVersion != version {
		return fmt.Errorf("%s: engineVersion is %s, but the generator pins %s %s (tools/daggercodegen/go.mod); "+
			"change both together: go get %s@%s %s@%s in tools/daggercodegen",
			mod.path, mod.EngineVersion, engineModule, version, engineModule, mod.EngineVersion, sdkModule, mod.EngineVersion)
	}
	if *checkOnly {
		fmt.Printf("dagger.json engineVersion %s is the generator's pinned version\n", version)
		return nil
	}

	schema, err := moduleSchema(ctx, version)
	if err != nil {
		return err
	}
	schemaPath := *schemaOut
	if schemaPath == "" {
		tmp, err := os.MkdirTemp("", "daggercodegen-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(tmp)
		schemaPath = filepath.Join(tmp, "schema.json")
	}
	if err := os.WriteFile(schemaPath, schema, 0o644); err != nil {
		return fmt.Errorf("write the introspection JSON: %w", err)
	}

	codegen, err := codegenBinary(ctx)
	if err != nil {
		return err
	}
	// Run as the engine runs it: from the module's root, which the generator
	// writes into (the source directory is relative to it).
	cmd := exec.CommandContext(ctx, codegen, "generate-module",
		"--output", ".",
		"--module-source-path", "./"+filepath.ToSlash(filepath.Clean(mod.Source)),
		"--module-name", mod.Name,
		"--introspection-json-path", schemaPath,
		"--lib-version", version)
	cmd.Dir = mod.dir
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("the engine's code generator (codegen generate-module): %w", err)
	}
	fmt.Printf("regenerated the bindings of %s in %s (dagger %s)\n", mod.Name, filepath.Join(mod.dir, mod.Source), version)
	return nil
}

// module is what dagger.json says about the module.
type module struct {
	Name          string `json:"name"`
	EngineVersion string `json:"engineVersion"`
	SDK           struct {
		Source string `json:"source"`
	} `json:"sdk"`
	Source string `json:"source"`

	dir, path string
}

func readModule(dir string) (module, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return module{}, err
	}
	m := module{dir: abs, path: filepath.Join(abs, "dagger.json")}
	b, err := os.ReadFile(m.path)
	if err != nil {
		return module{}, usageError{fmt.Errorf("read the module's dagger.json: %w", err)}
	}
	if err := json.Unmarshal(b, &m); err != nil {
		return module{}, fmt.Errorf("%s: %w", m.path, err)
	}
	switch {
	case m.Name == "":
		return module{}, fmt.Errorf("%s: name is empty", m.path)
	case m.EngineVersion == "":
		return module{}, fmt.Errorf("%s: engineVersion is empty", m.path)
	case m.SDK.Source != "go":
		return module{}, fmt.Errorf("%s: sdk.source is %q; this generator makes Go bindings only", m.path, m.SDK.Source)
	}
	if m.Source == "" {
		m.Source = "."
	}
	return m, nil
}

// pinnedVersion is the version of the engine's module this program was built
// with, which is the one its go.mod pins. The SDK must be at the same version.
func pinnedVersion() (string, error) {
	info, ok := debug.ReadBuildInfo()
	if !ok {
		return "", fmt.Errorf("no build information in the binary: build it as a module (go run .)")
	}
	versions := map[string]string{}
	for _, d := range info.Deps {
		v := d.Version
		if d.Replace != nil {
			v = d.Replace.Version
		}
		versions[d.Path] = v
	}
	engine, sdk := versions[engineModule], versions[sdkModule]
	if engine == "" || sdk == "" {
		return "", fmt.Errorf("the binary was built without %s or %s", engineModule, sdkModule)
	}
	if engine != sdk {
		return "", fmt.Errorf("go.mod pins %s %s but %s %s: they must be the same version", engineModule, engine, sdkModule, sdk)
	}
	return engine, nil
}

// moduleSchema is the engine's API at version as a module sees it, in the
// introspection JSON the code generator reads.
func moduleSchema(ctx context.Context, version string) ([]byte, error) {
	dir, err := moduleDir(ctx, engineModule, version)
	if err != nil {
		return nil, err
	}
	path := filepath.Join(dir, schemaFile)
	sdl, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("the engine's API schema: %w", err)
	}
	resp, err := sdlschema.Introspection(path, sdl, sdlschema.Options{
		SchemaVersion: version,
		// Engines before v0.22.0 serve per-type ID scalars.
		LegacyIDs: legacyIDs(version),
		Hide:      sdlschema.ModuleHidden,
	})
	if err != nil {
		return nil, err
	}
	return json.Marshal(resp)
}

// legacyIDs says whether an engine of this version serves per-type IDs
// (FooID scalars and loadFooFromID): every version before v0.22.0.
func legacyIDs(version string) bool {
	var major, minor int
	if _, err := fmt.Sscanf(version, "v%d.%d.", &major, &minor); err != nil {
		return false
	}
	return major == 0 && minor < 22
}

// codegenBinary builds the engine's code generator, the tool pinned in this
// module's go.mod, and returns the path of the binary. The go command caches
// it, so only the first run takes minutes.
func codegenBinary(ctx context.Context) (string, error) {
	var stderr bytes.Buffer
	cmd := exec.CommandContext(ctx, "go", "tool", "-n", "codegen")
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return "", fmt.Errorf("build the engine's code generator (go tool -n codegen; run this command from tools/daggercodegen: go -C tools/daggercodegen run .): %w: %s",
			err, strings.TrimSpace(stderr.String()))
	}
	return strings.TrimSpace(string(out)), nil
}

// moduleDir downloads a module version through the Go module proxy (or finds
// it in the module cache) and returns its directory.
func moduleDir(ctx context.Context, path, version string) (string, error) {
	var stderr bytes.Buffer
	cmd := exec.CommandContext(ctx, "go", "mod", "download", "-json", path+"@"+version)
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return "", fmt.Errorf("go mod download %s@%s: %w: %s", path, version, err, strings.TrimSpace(stderr.String()))
	}
	var info struct {
		Dir   string
		Error string
	}
	if err := json.Unmarshal(out, &info); err != nil {
		return "", fmt.Errorf("go mod download %s@%s: %w", path, version, err)
	}
	if info.Error != "" || info.Dir == "" {
		return "", fmt.Errorf("go mod download %s@%s: %s", path, version, info.Error)
	}
	return info.Dir, nil
}
