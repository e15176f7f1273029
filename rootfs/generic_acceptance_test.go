package rootfs_test

import (
	"context"
	"encoding/json"
	"errors"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/synapse-image/synapse-image/internal/dockertest"
)

// parsedGeneric is run by the image's python3: Synapse loads the config and
// prints, as JSON, the values it parsed for the generic settings of the
// "generic" golden case.
const parsedGeneric = `
import json, sys
from synapse.config.homeserver import HomeServerConfig
c = HomeServerConfig.load_config("generic", ["--config-path", sys.argv[1]])
print(json.dumps({
    "rc_message": [c.ratelimiting.rc_message.per_second, c.ratelimiting.rc_message.burst_count],
    "rc_joins_local": [c.ratelimiting.rc_joins_local.per_second, c.ratelimiting.rc_joins_local.burst_count],
    "presence": c.server.presence_enabled,
    "federation_domain_whitelist": sorted(c.federation.federation_domain_whitelist),
    "allow_public_rooms_over_federation": c.server.allow_public_rooms_over_federation,
    "url_preview_enabled": c.media.url_preview_enabled,
    "url_preview_accept_language": c.media.url_preview_accept_language,
    "max_spider_size": c.media.max_spider_size,
    "retention": [c.retention.retention_enabled, c.retention.retention_default_min_lifetime, len(c.retention.retention_purge_jobs)],
    "event_cache_size": c.caches.event_cache_size,
    "media_store_path": c.media.media_store_path,
    "listeners": [[l.port, l.type, l.http_options.x_forwarded] for l in c.server.listeners],
}))
`

// TestSynapseUnderstandsGenericSettings: real Synapse reads the generic
// golden config with the values the variables and fragments meant — the
// YAML 1.1 words (yes, off) as booleans, the variables over the fragments,
// a key removed with null back to Synapse's default.
func TestSynapseUnderstandsGenericSettings(t *testing.T) {
	d := setupDocker(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	dir := dataDir(t)
	require.NoError(t, os.Chmod(dir, 0o777)) // Synapse makes the media store and uploads as 991
	golden, err := os.ReadFile(filepath.Join("testdata", "golden", "generic.homeserver.yaml"))
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(filepath.Join(dir, "generic.yaml"), golden, 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "example.com.signing.key"), []byte("ed25519 a_test 7Pw/z3PvR5q0J6G7y+2TxV8mZ4m1wQYrTgTq2aVZK0g\n"), 0o644))
	out, err := dockertest.RunOnce(ctx, dockertest.Options{Image: d.image, User: "991:991", Mounts: []string{dir + ":/data"},
		Entrypoint: "python3", Args: []string{"-P", "-c", parsedGeneric, "/data/generic.yaml"}})
	require.NoError(t, err, out)
	lines := strings.Split(strings.TrimSpace(out), "\n")
	var got map[string]any
	require.NoError(t, json.Unmarshal([]byte(lines[len(lines)-1]), &got), out)
	want := map[string]any{
		"rc_message":                         []any{100.0, 1000.0},
		"rc_joins_local":                     []any{10.0, 100.0},
		"presence":                           false,
		"federation_domain_whitelist":        []any{"example.org", "matrix.org"},
		"allow_public_rooms_over_federation": true,
		"url_preview_enabled":                true,
		"url_preview_accept_language":        []any{"en"}, // Synapse's default: null removed the fragment's
		"max_spider_size":                    10.0 * 1024 * 1024,
		"retention":                          []any{true, 86400000.0, 2.0},
		"event_cache_size":                   51200.0,
		"media_store_path":                   "/data/media-store",
		"listeners":                          []any{[]any{8080.0, "http", true}},
	}
	assert.Equal(t, want, got)
}

// TestCheckSynapseInImage: /start check --synapse in the image, as root
// with a fresh data directory (before the first start): Synapse parses the
// merged config as the Synapse user, a config it refuses is exit 2 with
// Synapse's own message on one line, and nothing is written.
func TestCheckSynapseInImage(t *testing.T) {
	d := setupDocker(t)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	dir := dataDir(t)
	require.NoError(t, os.MkdirAll(filepath.Join(dir, "conf.d"), 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "conf.d", "10-previews.yaml"), []byte("url_preview_enabled: yes\n"), 0o644))
	check := func(env map[string]string) (string, int) {
		env["SYNAPSE_SERVER_NAME"], env["SYNAPSE_REPORT_STATS"] = "example.com", "no"
		out, err := dockertest.RunOnce(ctx, dockertest.Options{Image: d.image, Mounts: d.start(dir), Env: env,
			Entrypoint: "/start", Args: []string{"check", "--synapse"}})
		var exit *exec.ExitError
		if errors.As(err, &exit) {
			return out, exit.ExitCode()
		}
		require.NoError(t, err, out)
		return out, 0
	}
	before := snapshotDir(t, dir)

	out, code := check(map[string]string{})
	assert.Equal(t, 2, code, out)
	lines := strings.Split(strings.TrimSpace(out), "\n")
	assert.Equal(t, "start: error: synapse: error in configuration: For security, you must specify an explicit target IP address blacklist in url_preview_ip_range_blacklist for url previewing to work",
		lines[len(lines)-1])

	out, code = check(map[string]string{"SYNAPSE_CONFIG__URL_PREVIEW_IP_RANGE_BLACKLIST": "['127.0.0.0/8', '10.0.0.0/8']"})
	assert.Equal(t, 0, code, out)
	assert.Contains(t, out, "start: Synapse accepts the config")
	assert.Equal(t, before, snapshotDir(t, dir), "check --synapse writes nothing (not even the media store)")
}

// snapshotDir lists the entries below dir.
func snapshotDir(t *testing.T, dir string) []string {
	t.Helper()
	var out []string
	require.NoError(t, filepath.WalkDir(dir, func(p string, e fs.DirEntry, err error) error {
		out = append(out, p)
		return err
	}))
	return out
}
