//go:build dagger_codegen

package contract

import (
	"io/fs"
	"net"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"dagger/synapse/enginefake"
)

// TestModuleAPI records the module's API as an engine registers it (the
// functions, their arguments, descriptions, defaults, +defaultPath and
// +ignore: what `dagger call --help` shows) and compares it with
// testdata/api.golden. The engine's code generator makes that definition
// from the module's source; it needs the generator binary, which
// scripts/check-dagger-bindings.sh builds and passes in:
//
//	DAGGER_CODEGEN=.../bin/codegen DAGGER_SCHEMA_JSON=.../module-schema.json \
//	  go test -tags dagger_codegen -run TestModuleAPI ./contract/
func TestModuleAPI(t *testing.T) {
	codegen, schema := os.Getenv("DAGGER_CODEGEN"), os.Getenv("DAGGER_SCHEMA_JSON")
	require.True(t, codegen != "" && schema != "",
		"set DAGGER_CODEGEN and DAGGER_SCHEMA_JSON (scripts/check-dagger-bindings.sh does)")

	const token = "api-test-token"
	eng := enginefake.New(token, nil)
	srv := httptest.NewServer(eng)
	t.Cleanup(srv.Close)
	_, port, err := net.SplitHostPort(srv.Listener.Addr().String())
	require.NoError(t, err)

	// The generator writes next to the module's source: give it a copy.
	mod := t.TempDir()
	require.NoError(t, copyModule("..", mod))
	cmd := exec.Command(codegen, "generate-typedefs",
		"--module-name", "synapse", "--module-source-path", ".",
		"--introspection-json-path", schema, "--output", "typedefs.json")
	cmd.Dir = mod
	cmd.Env = append(os.Environ(), "DAGGER_SESSION_PORT="+port, "DAGGER_SESSION_TOKEN="+token)
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, "generate-typedefs: %s", out)
	require.Empty(t, eng.Failures())

	// typedefs.json is the ID of the module definition the generator built.
	id, err := os.ReadFile(filepath.Join(mod, "typedefs.json"))
	require.NoError(t, err)
	got, err := eng.RenderJSON(string(id), "sourceMap", "withSourceMap")
	require.NoError(t, err)
	got = "# the module's API as `dagger call --help` shows it (source positions left out)\n\n" + got + "\n"

	checkGolden(t, filepath.Join("testdata", "api.golden"), got,
		"run `UPDATE_API=1 scripts/check-dagger-bindings.sh` and review the diff")
}

// copyModule copies the module's source (not its tests) from src to dst.
func copyModule(src, dst string) error {
	return filepath.WalkDir(src, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(src, path)
		if err != nil {
			return err
		}
		if d.IsDir() {
			if rel == "contract" || rel == "enginefake" {
				return filepath.SkipDir
			}
			return os.MkdirAll(filepath.Join(dst, rel), 0o755)
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(dst, rel), b, 0o644)
	})
}
