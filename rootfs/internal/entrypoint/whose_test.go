package entrypoint

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestServerNameBelongsToData: once a server has run on a data directory,
// another SYNAPSE_SERVER_NAME is refused in every mode, with one line,
// before anything is written; the same name still starts.
func TestServerNameBelongsToData(t *testing.T) {
	for _, tc := range []struct {
		name   string
		before func(h *harness)
		source string
	}{
		{"the generated config names it", func(h *harness) {}, "generated/homeserver.yaml"},
		{"only the signing key names it", func(h *harness) {
			require.NoError(t, os.RemoveAll(h.path("generated")))
		}, "example.com.signing.key"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t)
			require.Equal(t, ExitOK, h.main("run"), h.stderr.String())
			tc.before(h)
			before := snapshot(t, h.data)

			h.env["SYNAPSE_SERVER_NAME"] = "other.example.org"
			for _, mode := range []string{"run", "check", "generate"} {
				assert.Equal(t, ExitUsage, h.main(mode), mode)
				assert.Equal(t, "start: error: SYNAPSE_SERVER_NAME: other.example.org, but "+h.data+" belongs to example.com ("+h.path(tc.source)+
					"): a server name cannot change once Synapse has run on its data; set SYNAPSE_SERVER_NAME=example.com, or start the new server on a new volume\n",
					h.stderr.String(), mode)
				assert.Nil(t, h.exec, mode)
			}
			assert.Equal(t, before, snapshot(t, h.data), "nothing written")
			matches, _ := filepath.Glob(h.path("other.example.org.*"))
			assert.Empty(t, matches)

			h.env["SYNAPSE_SERVER_NAME"] = "example.com"
			require.Equal(t, ExitOK, h.main("run"), h.stderr.String())
			assert.False(t, strings.Contains(h.stderr.String(), "created"), h.stderr.String())
		})
	}
}

// TestOfficialLayoutRunsAsIs: a homeserver.yaml in the data directory and
// no SYNAPSE_CONFIG_PATH (the official image's layout, with
// SYNAPSE_SERVER_NAME still in the compose file) runs that config in
// manual mode, saying so; no fresh config or database beside it.
func TestOfficialLayoutRunsAsIs(t *testing.T) {
	h := newHarness(t)
	require.NoError(t, os.MkdirAll(h.path("media_store"), 0o755))
	cfg := "server_name: official.example.org\nsigning_key_path: " + h.path("official.example.org.signing.key") +
		"\nmedia_store_path: " + h.path("media_store") + "\nlisteners: [{port: 8008, type: http, resources: [{names: [client]}]}]\n"
	require.NoError(t, os.WriteFile(h.path("homeserver.yaml"), []byte(cfg), 0o600))

	require.Equal(t, ExitOK, h.main("run"), h.stderr.String())
	assert.Contains(t, h.stderr.String(), "start: found "+h.path("homeserver.yaml")+" (the official image's layout, or generate's): running it as it is, in manual mode")
	assert.Equal(t, h.path("homeserver.yaml"), h.exec.argv[len(h.exec.argv)-1], "Synapse runs the config found")
	assert.NoDirExists(t, h.path("generated"), "no automated config beside it")
	assert.NoFileExists(t, h.path("example.com.signing.key"), "no keys for SYNAPSE_SERVER_NAME")
	assert.FileExists(t, h.path("official.example.org.signing.key"), "the key the config names, as in manual mode")
	assert.Equal(t, cfg, h.read("homeserver.yaml"), "the config is not touched")

	require.Equal(t, ExitOK, h.main("check"), h.stderr.String())
	assert.Contains(t, h.stdout.String(), `server_name: "official.example.org"`)
	assert.Contains(t, h.stderr.String(), "manual mode")
}

// TestMigrateConfigSaysWhatToUse: the official image's migrate_config mode
// is refused with one line naming this image's modes.
func TestMigrateConfigSaysWhatToUse(t *testing.T) {
	h := newHarness(t)
	assert.Equal(t, ExitUsage, h.main("migrate_config"))
	assert.Equal(t, "start: error: migrate_config: a mode of the official image; this image writes the config from the variables at every start (run, automated mode), or once for hand editing (generate); check prints it\n", h.stderr.String())
	assert.NoDirExists(t, h.data)
}
