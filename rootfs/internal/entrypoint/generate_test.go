package entrypoint

import (
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"gopkg.in/yaml.v3"

	"github.com/synapse-image/synapse-image/rootfs/internal/config"
)

func TestGenerateAndManualRun(t *testing.T) {
	h := newHarness(t)
	require.Equal(t, ExitOK, h.main("generate"), h.stderr.String())
	cfgPath := h.path("homeserver.yaml")
	assert.Equal(t, fs.FileMode(0o600), h.mode("homeserver.yaml"))
	text := h.read("homeserver.yaml")
	assert.True(t, strings.HasPrefix(text, config.GenerateHeader))
	assert.Contains(t, text, "# The public name of this server")
	var m map[string]any
	require.NoError(t, yaml.Unmarshal([]byte(text), &m))
	assert.Equal(t, h.read("example.com.registration.key"), m["registration_shared_secret"], "inline, and the same as automated mode")
	assert.Equal(t, h.path("example.com.log.config"), m["log_config"])
	assert.FileExists(t, h.path("example.com.log.config"))
	assert.FileExists(t, h.path("example.com.signing.key"))
	assert.NoDirExists(t, h.path("generated"))
	assert.Nil(t, h.exec)

	// Never overwritten; only missing keys are created, and it says so.
	require.NoError(t, os.Remove(h.path("example.com.signing.key")))
	require.NoError(t, os.Remove(h.path("example.com.tls.crt")))
	require.NoError(t, os.Remove(h.path("example.com.tls.key")))
	h.env["SYNAPSE_SERVER_NAME"] = "other.example.com"
	require.Equal(t, ExitOK, h.main("generate"), h.stderr.String())
	assert.Equal(t, text, h.read("homeserver.yaml"))
	assert.Contains(t, h.stderr.String(), "exists and was not changed; created 3 missing key file(s)")
	assert.FileExists(t, h.path("example.com.tls.crt"))
	assert.Equal(t, fs.FileMode(0o600), h.mode("example.com.tls.key"))
	assert.FileExists(t, h.path("example.com.signing.key"), "the key the existing config names")

	// Manual mode runs it untouched.
	h.env = map[string]string{"SYNAPSE_CONFIG_PATH": cfgPath, "SYNAPSE_DATA_DIR": h.data, "UID": h.env["UID"], "GID": h.env["GID"]}
	require.NoError(t, os.Remove(h.path("example.com.signing.key")))
	require.Equal(t, ExitOK, h.main("run", "--x"), h.stderr.String())
	assert.Equal(t, text, h.read("homeserver.yaml"), "manual mode never edits the config")
	assert.Equal(t, []string{"python3", "-s", "-P", "-m", "synapse.app.homeserver", "--config-path", cfgPath, "--x"}, h.exec.argv)
	assert.FileExists(t, h.path("example.com.signing.key"))
	assert.Contains(t, h.stderr.String(), "created signing key")

	// check in manual mode masks secrets.
	require.Equal(t, ExitOK, h.main("check"), h.stderr.String())
	assert.NotContains(t, h.stdout.String(), h.read("example.com.registration.key"))
	assert.Contains(t, h.stdout.String(), config.Masked)
}

func TestGenerateConfigPath(t *testing.T) {
	h := newHarness(t)
	p := filepath.Join(h.data, "conf", "hs.yaml")
	h.env["SYNAPSE_CONFIG_PATH"] = p
	require.Equal(t, ExitOK, h.main("generate"), h.stderr.String())
	assert.FileExists(t, p)
	assert.FileExists(t, filepath.Join(h.data, "conf", "example.com.log.config"))
}
