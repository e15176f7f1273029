package tests

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"gopkg.in/yaml.v3"

	"github.com/synapse-image/synapse-image/internal/dockertest"
	"github.com/synapse-image/synapse-image/tests/internal/matrixflow"
)

// runToExit runs the image with args to completion and returns its exit
// status, stdout and stderr.
func runToExit(t *testing.T, opts dockertest.Options) (int, string, string) {
	t.Helper()
	ctx := context.Background()
	c := dockertest.Run(t, opts)
	code, err := c.Wait(ctx)
	require.NoError(t, err)
	stdout, stderr, err := c.Logs(ctx)
	require.NoError(t, err)
	return code, stdout, stderr
}

// Scenario 10: generate a config, then run with SYNAPSE_CONFIG_PATH (manual
// mode).
func TestGenerateThenManualMode(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	const server = "manual.e2e.test"
	image := synapseImage(t)
	data := dockertest.HostDir(t, image)
	gen := dockertest.Options{Image: image, Env: baseEnv(server), Mounts: []string{data + ":/data"}, Args: []string{"generate"}}

	code, _, stderr := runToExit(t, gen)
	require.Equal(t, 0, code, "generate: %s", stderr)
	config := filepath.Join(data, "homeserver.yaml")
	first, err := os.ReadFile(config)
	require.NoError(t, err, "generate writes /data/homeserver.yaml")
	var cfg map[string]any
	require.NoError(t, yaml.Unmarshal(first, &cfg), "the generated homeserver.yaml is YAML")
	assert.Equal(t, server, cfg["server_name"])
	assert.Contains(t, string(first), "#", "the generated config is commented")

	// A second generate never overwrites the file.
	code, _, stderr = runToExit(t, gen)
	require.Equal(t, 0, code, "second generate: %s", stderr)
	again, err := os.ReadFile(config)
	require.NoError(t, err)
	assert.Equal(t, string(first), string(again), "generate must not overwrite an existing homeserver.yaml")

	// Manual mode creates the signing key the config names when it is missing.
	keyPath, ok := cfg["signing_key_path"].(string)
	require.True(t, ok && strings.HasPrefix(keyPath, "/data/"), "signing_key_path %v in /data", cfg["signing_key_path"])
	hostKey := filepath.Join(data, strings.TrimPrefix(keyPath, "/data/"))
	require.FileExists(t, hostKey, "generate creates the signing key")
	require.NoError(t, os.Remove(hostKey))

	s := runSynapse(t, server, data, dockertest.Options{
		Image: image,
		Env:   map[string]string{"SYNAPSE_CONFIG_PATH": "/data/homeserver.yaml"},
	})
	assert.FileExists(t, hostKey, "manual mode adds the missing signing key")
	hs := matrixflow.Homeserver{URL: s.URL("http", "8008"), ServerName: server, SharedSecret: sharedSecret(t, cfg, data)}
	hs.Run(ctx, t)
	after, err := os.ReadFile(config)
	require.NoError(t, err)
	assert.Equal(t, string(first), string(after), "manual mode never edits the config")
}

// TestHelpAndHealthModes: help lists every variable of the contract; health
// fails when no Synapse answers.
func TestHelpAndHealthModes(t *testing.T) {
	t.Parallel()
	image := synapseImage(t)
	code, stdout, stderr := runToExit(t, dockertest.Options{Image: image, Args: []string{"help"}})
	require.Equal(t, 0, code, "help: %s", stderr)
	for _, v := range []string{
		"SYNAPSE_SERVER_NAME", "SYNAPSE_REPORT_STATS", "SYNAPSE_NO_TLS", "SYNAPSE_ENABLE_REGISTRATION",
		"SYNAPSE_ALLOW_GUEST", "SYNAPSE_EVENT_CACHE_SIZE", "SYNAPSE_CACHE_FACTOR", "SYNAPSE_RECAPTCHA_PUBLIC_KEY",
		"SYNAPSE_RECAPTCHA_PRIVATE_KEY", "SYNAPSE_TURN_URIS", "SYNAPSE_TURN_SECRET", "SYNAPSE_REGISTRATION_SHARED_SECRET",
		"SYNAPSE_MACAROON_SECRET_KEY", "POSTGRES_PASSWORD", "POSTGRES_DB", "POSTGRES_HOST", "POSTGRES_USER",
		"POSTGRES_PORT", "SYNAPSE_SMTP_HOST", "SYNAPSE_SMTP_PORT", "SYNAPSE_SMTP_USER", "SYNAPSE_SMTP_PASSWORD",
		"SYNAPSE_LOG_LEVEL", "SYNAPSE_CONFIG_PATH", "UID", "GID",
	} {
		assert.Contains(t, stdout, v, "help documents %s", v)
	}

	code, _, stderr = runToExit(t, dockertest.Options{Image: image, Args: []string{"health"}})
	assert.Equal(t, 1, code, "health without a running Synapse; stderr:\n%s", stderr)
}

// TestCheckMode: check validates and prints the config run would use,
// secrets masked, and writes nothing.
func TestCheckMode(t *testing.T) {
	t.Parallel()
	const server = "check.e2e.test"
	image := synapseImage(t)
	data := dockertest.HostDir(t, image)
	before, err := dockertest.Snapshot(data)
	require.NoError(t, err)
	env := baseEnv(server)
	secrets := map[string]string{
		"SYNAPSE_REGISTRATION_SHARED_SECRET": "e2e-check-registration-secret",
		"SYNAPSE_MACAROON_SECRET_KEY":        "e2e-check-macaroon-secret",
		"POSTGRES_PASSWORD":                  "e2e-check-postgres-password",
		"SYNAPSE_TURN_SECRET":                "e2e-check-turn-secret",
	}
	for k, v := range secrets {
		env[k] = v
	}
	env["SYNAPSE_TURN_URIS"] = "turn:turn.e2e.test"

	code, stdout, stderr := runToExit(t, dockertest.Options{Image: image, Env: env, Mounts: []string{data + ":/data"}, Args: []string{"check"}})
	require.Equal(t, 0, code, "check: %s", stderr)
	var cfg map[string]any
	require.NoError(t, yaml.Unmarshal([]byte(stdout), &cfg), "check prints YAML on stdout")
	assert.Equal(t, server, cfg["server_name"])
	for k, v := range secrets {
		assert.NotContains(t, stdout+stderr, v, "check must mask %s", k)
	}
	after, err := dockertest.Snapshot(data)
	require.NoError(t, err)
	assert.Empty(t, dockertest.DiffSnapshots(before, after), "check writes nothing to /data")
}

// sharedSecret finds the registration shared secret of a generated config:
// inline, or in the file registration_shared_secret_path names (a /data path).
func sharedSecret(t *testing.T, cfg map[string]any, data string) string {
	t.Helper()
	if s, ok := cfg["registration_shared_secret"].(string); ok && s != "" {
		return s
	}
	p, ok := cfg["registration_shared_secret_path"].(string)
	require.True(t, ok, "the generated config has neither registration_shared_secret nor registration_shared_secret_path")
	require.True(t, strings.HasPrefix(p, "/data/"), "registration_shared_secret_path %q is outside /data", p)
	b, err := os.ReadFile(filepath.Join(data, strings.TrimPrefix(p, "/data/")))
	require.NoError(t, err)
	return strings.TrimRight(string(b), "\r\n")
}
