package image_test

import (
	"encoding/json"
	"maps"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/synapse-image/synapse-image/internal/dockertest"
)

// startupProbe imports Synapse as it starts and reports what the start-up
// mechanisms of the recipe's python: section did: the PEP 552 flags of the
// bytecode of a Synapse module that start-up does not import (1: unchecked
// hash), whether synapse/__init__ still has a .pyc of its own (the bundle
// is its bytecode: drop-pyc), the loader of synapse.app.homeserver
// (BundleLoader serves it from the bytecode bundle; via "index": found by
// the bundle's meta path finder, without a file look-up), whether
// synapse/app/__init__ ran the dependency check (not when the record of the
// build's check says the distributions are those it passed with) and whether
// the dependency check imported pytz (Debian's check imports every
// dependency).
const startupProbe = `
import json, os, sys
from importlib.util import cache_from_source
import synapse.util.check_dependencies as cd
checks = []
check_requirements = cd.check_requirements
cd.check_requirements = lambda *args: (checks.append(args), check_requirements(*args))[1]
import synapse.app.homeserver as hs
import synapse
unbundled = os.path.join(os.path.dirname(synapse.__file__), "_scripts", "register_new_matrix_user.py")
with open(cache_from_source(unbundled), "rb") as f:
    flags = int.from_bytes(f.read(8)[4:8], "little")
print(json.dumps({
    "pyc_flags": flags,
    "bundled_pyc": os.path.exists(cache_from_source(synapse.__file__)),
    "loader": type(hs.__loader__).__name__,
    "from_bundle": bool(getattr(hs.__loader__, "from_bundle", False)),
    "via": getattr(hs.__loader__, "via", ""),
    "file": hs.__file__,
    "check_ran": len(checks) > 0,
    "pytz_imported": "pytz" in sys.modules,
}))
`

type startupState struct {
	PycFlags     int    `json:"pyc_flags"`
	BundledPyc   bool   `json:"bundled_pyc"`
	Loader       string `json:"loader"`
	FromBundle   bool   `json:"from_bundle"`
	Via          string `json:"via"`
	File         string `json:"file"`
	CheckRan     bool   `json:"check_ran"`
	PytzImported bool   `json:"pytz_imported"`
}

// TestImageStartupMechanisms proves each start-up mechanism is active in
// the image, and that its variable turns it off.
func TestImageStartupMechanisms(t *testing.T) {
	img := synapseImage(t)
	const file = "/usr/lib/python3/dist-packages/synapse/app/homeserver.py"
	tests := []struct {
		name string
		env  []string
		want startupState
	}{
		{"as shipped", nil,
			startupState{PycFlags: 1, Loader: "BundleLoader", FromBundle: true, Via: "index", File: file}},
		{"bundle off", []string{"SYNAPSE_BYTECODE_BUNDLE=off"},
			startupState{PycFlags: 1, Loader: "SourceFileLoader", File: file}},
		{"dependency check record off", []string{"SYNAPSE_DEPENDENCY_CHECK_RECORD=off"},
			startupState{PycFlags: 1, Loader: "BundleLoader", FromBundle: true, Via: "index", File: file, CheckRan: true}},
		{"finder off", []string{"SYNAPSE_BYTECODE_BUNDLE_FINDER=off"},
			startupState{PycFlags: 1, Loader: "BundleLoader", FromBundle: true, Via: "path", File: file}},
		{"dependency check imports, as Debian's", []string{"SYNAPSE_FAST_DEPENDENCY_CHECK=off"},
			startupState{PycFlags: 1, Loader: "BundleLoader", FromBundle: true, Via: "index", File: file, CheckRan: true, PytzImported: true}},
	}
	wheels := wheelDists(t, img)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if wheels != "" {
				// The record is of the root file system: wheels installed in
				// their own layer are other distributions, so the check runs
				// (the recipe's rule).
				tt.want.CheckRan = true
			}
			args := []string{"run", "--rm", "--network", "none", "--read-only", "--user", "991:991", "--entrypoint", "python3"}
			for _, kv := range tt.env {
				args = append(args, "-e", kv)
			}
			out := dockertest.Must(t, t.Context(), append(args, img, "-c", startupProbe)...)
			var got startupState
			require.NoError(t, json.Unmarshal([]byte(lastLine(out)), &got), out)
			assert.Equal(t, tt.want, got)
		})
	}
}

// TestImageStartsWithStartupMechanismsOff starts Synapse to /health with
// the mechanisms on (read-only root file system: the bundle writes
// nothing) and with every one turned off.
func TestImageStartsWithStartupMechanismsOff(t *testing.T) {
	img := synapseImage(t)
	tests := []struct {
		name     string
		env      map[string]string
		readOnly bool
	}{
		{"as shipped, read-only", nil, true},
		{"finder off", map[string]string{"SYNAPSE_BYTECODE_BUNDLE_FINDER": "off"}, false},
		{"dependency check record off", map[string]string{"SYNAPSE_DEPENDENCY_CHECK_RECORD": "off"}, false},
		{"mechanisms off", map[string]string{"SYNAPSE_BYTECODE_BUNDLE": "off", "SYNAPSE_FAST_DEPENDENCY_CHECK": "off"}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env := map[string]string{"SYNAPSE_SERVER_NAME": "startup.test", "SYNAPSE_REPORT_STATS": "no"}
			maps.Copy(env, tt.env)
			c := dockertest.Run(t, dockertest.Options{Image: img, Env: env, ReadOnly: tt.readOnly, Network: "none"})
			c.WaitHealthy(t.Context(), 3*time.Minute)
		})
	}
}

func lastLine(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	return lines[len(lines)-1]
}

// TestImageBundleFinderFallsBack shows the bundle's meta path finder
// answering only when the normal search would find the bundled file: a
// package of the same name earlier on sys.path (a wheel in /usr/local)
// wins, and a module whose directory changed after the build is looked up
// the normal way (the path hook then serves its unchanged file's bytecode).
func TestImageBundleFinderFallsBack(t *testing.T) {
	img := synapseImage(t)
	// argv: the module to import, then the directory to touch, if any.
	const probe = `
import importlib, json, os, sys
if len(sys.argv) > 2:
    os.utime(sys.argv[2])
m = importlib.import_module(sys.argv[1])
print(json.dumps({"file": m.__file__, "loader": type(m.__loader__).__name__, "via": getattr(m.__loader__, "via", ""), "from_bundle": bool(getattr(m.__loader__, "from_bundle", False))}))
`
	type state struct {
		File       string `json:"file"`
		Loader     string `json:"loader"`
		Via        string `json:"via"`
		FromBundle bool   `json:"from_bundle"`
	}
	wheel := t.TempDir()
	require.NoError(t, os.MkdirAll(filepath.Join(wheel, "idna"), 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(wheel, "idna", "__init__.py"), []byte("WHEEL = True\n"), 0o644))
	require.NoError(t, os.Chmod(wheel, 0o755))
	const (
		local = "/usr/local/lib/python3.14/dist-packages"
		dist  = "/usr/lib/python3/dist-packages"
	)
	user := []string{"--read-only", "--user", "991:991"}
	tests := []struct {
		name string
		args []string // docker run flags
		argv []string // the probe's
		want state
	}{
		{"as shipped", user, []string{"idna"},
			state{File: dist + "/idna/__init__.py", Loader: "BundleLoader", Via: "index", FromBundle: true}},
		{"a wheel's idna in /usr/local", append(user, "-v", wheel+":"+local+":ro"), []string{"idna"},
			state{File: local + "/idna/__init__.py", Loader: "SourceFileLoader"}},
		{"synapse/app changed", []string{"--user", "0:0"}, []string{"synapse.app.homeserver", dist + "/synapse/app"},
			state{File: dist + "/synapse/app/homeserver.py", Loader: "BundleLoader", Via: "path", FromBundle: true}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			args := append([]string{"run", "--rm", "--network", "none", "--entrypoint", "python3"}, tt.args...)
			out := dockertest.Must(t, t.Context(), append(append(args, img, "-c", probe), tt.argv...)...)
			var got state
			require.NoError(t, json.Unmarshal([]byte(lastLine(out)), &got), out)
			assert.Equal(t, tt.want, got)
		})
	}
}

// TestImageDependencyCheckRecord shows the dependency check running again
// when the distributions are not those the build's check passed with: a
// wheel's distribution in /usr/local (its metadata only: the check then
// finds it, and this one is no requirement of Synapse's).
func TestImageDependencyCheckRecord(t *testing.T) {
	img := synapseImage(t)
	const probe = `
import json
import synapse.util.check_dependencies as cd
checks = []
check_requirements = cd.check_requirements
cd.check_requirements = lambda *args: (checks.append(args), check_requirements(*args))[1]
import synapse.app
print(json.dumps({"check_ran": len(checks) > 0}))
`
	wheel := t.TempDir()
	info := filepath.Join(wheel, "synapse_image_test-1.0.dist-info")
	require.NoError(t, os.MkdirAll(info, 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(info, "METADATA"), []byte("Metadata-Version: 2.1\nName: synapse-image-test\nVersion: 1.0\n"), 0o644))
	require.NoError(t, os.Chmod(wheel, 0o755))
	user := []string{"--read-only", "--user", "991:991"}
	tests := []struct {
		name string
		args []string
		ran  bool
	}{
		{"as built", user, wheelDists(t, img) != ""},
		{"a wheel's distribution in /usr/local", append(user, "-v", wheel+":/usr/local/lib/python3.14/dist-packages:ro"), true},
		{"another sys.path", append(user, "-e", "PYTHONPATH=/nonexistent"), true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			args := append([]string{"run", "--rm", "--network", "none", "--entrypoint", "python3"}, tt.args...)
			out := dockertest.Must(t, t.Context(), append(args, img, "-c", probe)...)
			var got struct {
				CheckRan bool `json:"check_ran"`
			}
			require.NoError(t, json.Unmarshal([]byte(lastLine(out)), &got), out)
			assert.Equal(t, tt.ran, got.CheckRan)
		})
	}
}

// wheelDists lists the distributions the image's wheels layer installed in
// /usr/local (txredisapi when built with --wheels), "" for none. The
// dependency check record covers the root file system only, so with any of
// them the check runs at start: it is logged, since it costs start-up time.
func wheelDists(t *testing.T, img string) string {
	t.Helper()
	out := dockertest.Must(t, t.Context(), "run", "--rm", "--network", "none", "--entrypoint", "sh", img, "-c",
		"ls -d /usr/local/lib/python3*/dist-packages/*.dist-info 2>/dev/null | xargs -r -n1 basename; true")
	dists := strings.Join(strings.Fields(out), " ")
	if dists != "" {
		t.Logf("image %s has wheels (%s): the dependency check record does not cover them, so the check runs at start", img, dists)
	}
	return dists
}
