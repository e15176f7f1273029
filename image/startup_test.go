package image_test

import (
	"encoding/json"
	"maps"
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
// (BundleLoader serves it from the bytecode bundle) and whether the
// dependency check imported pytz (Debian's check imports every dependency).
const startupProbe = `
import json, os, sys
from importlib.util import cache_from_source
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
    "file": hs.__file__,
    "pytz_imported": "pytz" in sys.modules,
}))
`

type startupState struct {
	PycFlags     int    `json:"pyc_flags"`
	BundledPyc   bool   `json:"bundled_pyc"`
	Loader       string `json:"loader"`
	FromBundle   bool   `json:"from_bundle"`
	File         string `json:"file"`
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
			startupState{PycFlags: 1, Loader: "BundleLoader", FromBundle: true, File: file}},
		{"bundle off", []string{"SYNAPSE_BYTECODE_BUNDLE=off"},
			startupState{PycFlags: 1, Loader: "SourceFileLoader", File: file}},
		{"dependency check imports, as Debian's", []string{"SYNAPSE_FAST_DEPENDENCY_CHECK=off"},
			startupState{PycFlags: 1, Loader: "BundleLoader", FromBundle: true, File: file, PytzImported: true}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
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
