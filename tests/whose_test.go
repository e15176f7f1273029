package tests

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/synapse-image/synapse-image/internal/dockertest"
)

// TestServerNameChangeRefused: a volume first started as one server, then
// with another SYNAPSE_SERVER_NAME (a copied compose file), once got a
// second set of keys and Synapse on the same database. /start refuses it
// with one line, exit 2, and writes nothing.
func TestServerNameChangeRefused(t *testing.T) {
	t.Parallel()
	image := synapseImage(t)
	data := dockertest.HostDir(t, image)
	first := baseEnv("a.e2e.test")
	code, _, stderr := runToExit(t, dockertest.Options{Image: image, Env: first, Mounts: []string{data + ":/data"}, Args: []string{"run", "--generate-keys"}})
	require.Zero(t, code, stderr)
	before, err := dockertest.Snapshot(data)
	require.NoError(t, err)

	second := baseEnv("b.e2e.test")
	code, _, stderr = runToExit(t, dockertest.Options{Image: image, Env: second, Mounts: []string{data + ":/data"}})
	assert.Equal(t, 2, code, stderr)
	assert.Contains(t, stderr, "start: error: SYNAPSE_SERVER_NAME: b.e2e.test, but /data belongs to a.e2e.test (/data/generated/homeserver.yaml)")
	assert.Equal(t, 1, strings.Count(strings.TrimSpace(stderr), "\n")+1, stderr)
	after, err := dockertest.Snapshot(data)
	require.NoError(t, err)
	assert.Equal(t, before, after, "nothing written")
	matches, _ := filepath.Glob(filepath.Join(data, "b.e2e.test.*"))
	assert.Empty(t, matches)
	_, err = os.Stat(filepath.Join(data, "a.e2e.test.signing.key"))
	assert.NoError(t, err)
}

// TestOfficialLayoutRunsAsIs: /data/homeserver.yaml (the official image's
// layout; here made by generate) with SYNAPSE_SERVER_NAME still set and no
// SYNAPSE_CONFIG_PATH once started a fresh automated server beside it (a
// new SQLite database, media moved). It runs the config as it is, in
// manual mode, and says so.
func TestOfficialLayoutRunsAsIs(t *testing.T) {
	t.Parallel()
	const server = "official.e2e.test"
	image := synapseImage(t)
	data := dockertest.HostDir(t, image)
	code, _, stderr := runToExit(t, dockertest.Options{Image: image, Env: baseEnv(server), Mounts: []string{data + ":/data"}, Args: []string{"generate"}})
	require.Zero(t, code, stderr)

	s := runSynapse(t, server, data, dockertest.Options{Image: image, Env: baseEnv("compose-leftover.e2e.test")})
	_, stderr, err := s.Logs(context.Background())
	require.NoError(t, err)
	assert.Contains(t, stderr, "start: found /data/homeserver.yaml (the official image's layout, or generate's): running it as it is, in manual mode")
	assert.NoDirExists(t, filepath.Join(data, "generated"), "no automated config beside it")
	matches, _ := filepath.Glob(filepath.Join(data, "compose-leftover.e2e.test.*"))
	assert.Empty(t, matches, "no keys for the leftover SYNAPSE_SERVER_NAME")
}

// TestJSONLogs: SYNAPSE_LOG_FORMAT=json has Synapse write one JSON object
// a line (its TerseJsonFormatter) to the container's log, for log shippers,
// from the moment its logging starts (config warnings that Synapse prints
// before, and /start's own lines, stay text).
func TestJSONLogs(t *testing.T) {
	t.Parallel()
	const server = "json-logs.e2e.test"
	env := baseEnv(server)
	env["SYNAPSE_LOG_FORMAT"] = "json"
	s := runSynapse(t, server, "", dockertest.Options{Env: env})
	_, stderr, err := s.Logs(context.Background())
	require.NoError(t, err)
	objects := 0
	for _, line := range strings.Split(strings.TrimSpace(stderr), "\n") {
		if objects == 0 && !strings.HasPrefix(line, "{") {
			continue // /start's own lines, and what Synapse prints before its logging starts
		}
		var event struct {
			Log       string  `json:"log"`
			Namespace string  `json:"namespace"`
			Level     string  `json:"level"`
			Time      float64 `json:"time"`
		}
		require.NoError(t, json.Unmarshal([]byte(line), &event), "not a JSON object: %q", line)
		assert.NotEmpty(t, event.Namespace, line)
		assert.NotEmpty(t, event.Level, line)
		assert.NotZero(t, event.Time, line)
		objects++
	}
	assert.Greater(t, objects, 5, "Synapse logged its start as JSON:\n%s", stderr)
}
