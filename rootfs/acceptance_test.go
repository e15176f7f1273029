package rootfs_test

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/synapse-image/synapse-image/internal/dockertest"
)

// The acceptance tests run the static /start binary inside the Synapse
// image against a temporary /data and have real Synapse 1.160 load every
// golden config. They need a Docker engine and an image: SYNAPSE_IMAGE, or
// synapse:latest, or (only when SYNAPSE_IMAGE is unset) synapse-rootfs:dev.
// Without them they skip, unless E2E_REQUIRED is set (dockertest.Unavailable).

// loadConfigs is run by the image's python3: Synapse parses and validates
// each config file fully (as at start, without listening or connecting).
const loadConfigs = `
import sys
from synapse.config.homeserver import HomeServerConfig
for path in sys.argv[1:]:
    HomeServerConfig.load_config("acceptance", ["--config-path", path])
    print("synapse accepted", path)
`

type dockerEnv struct {
	image string
	bin   string // static /start for the image's architecture
}

func setupDocker(t *testing.T) dockerEnv {
	t.Helper()
	if testing.Short() {
		dockertest.Unavailable(t, "acceptance tests need Docker; skipped in -short mode")
	}
	dockertest.RequireEngine(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	image := dockertest.SynapseImageRef()
	candidates := []string{image}
	if os.Getenv("SYNAPSE_IMAGE") == "" {
		candidates = append(candidates, "synapse-rootfs:dev")
	}
	var arch string
	for _, c := range candidates {
		out, err := dockertest.Combined(ctx, "image", "inspect", "--format", "{{.Architecture}}", c)
		if err == nil {
			image, arch = c, strings.TrimSpace(out)
			break
		}
	}
	if arch == "" {
		dockertest.Unavailable(t, "no Synapse image: none of %v is loaded (build one with go run . build --load)", candidates)
	}
	t.Logf("image %s (%s)", image, arch)

	bin := filepath.Join(t.TempDir(), "start")
	build := exec.CommandContext(ctx, "go", "build", "-trimpath", "-ldflags=-s -w", "-o", bin, "./start")
	build.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux", "GOARCH="+arch)
	out, err := build.CombinedOutput()
	require.NoError(t, err, "build /start: %s", out)
	return dockerEnv{image: image, bin: bin}
}

// dataDir is a temporary /data for one container, removed afterwards even
// when the container left files owned by other users.
func dataDir(t *testing.T) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "start-acceptance-")
	require.NoError(t, err)
	require.NoError(t, os.Chmod(dir, 0o755))
	t.Cleanup(func() { os.RemoveAll(dir) })
	return dir
}

// start mounts the static /start over the image's for an Options.
func (d dockerEnv) start(dir string) []string {
	return []string{d.bin + ":/start:ro", dir + ":/data"}
}

// TestSynapseAcceptsGoldenConfigs: for every golden case, /start (run or
// generate) prepares /data inside the image, then real Synapse loads both
// the config /start wrote there and the golden file itself.
func TestSynapseAcceptsGoldenConfigs(t *testing.T) {
	d := setupDocker(t)
	for _, c := range goldenCases {
		t.Run(c.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
			defer cancel()
			dir := dataDir(t)
			c.copyInputs(t, dir)
			golden, err := os.ReadFile(c.golden())
			require.NoError(t, err)
			require.NoError(t, os.WriteFile(filepath.Join(dir, "golden.yaml"), golden, 0o644))

			// 1. /start itself, as the image runs it (as root, dropping to 991).
			// In run mode Synapse is exec'd with --generate-keys, so it exits
			// after checking its key files instead of serving.
			args := []string{c.mode}
			if c.mode == "run" {
				args = append(args, "--generate-keys")
			}
			out, err := dockertest.RunOnce(ctx, dockertest.Options{Image: d.image, Name: dockertest.UniqueName("start-accept"),
				Mounts: d.start(dir), Entrypoint: "/start", Env: c.env, Args: args})
			require.NoError(t, err, "/start %s in %s: %s", c.mode, d.image, out)
			t.Logf("/start %s:\n%s", c.mode, out)
			assert.NotContains(t, out, "error")

			// 2. Synapse loads what /start wrote and the golden file, as the
			// user it runs as.
			out, err = dockertest.RunOnce(ctx, dockertest.Options{Image: d.image, Name: dockertest.UniqueName("start-load"), User: "991:991",
				Mounts: []string{dir + ":/data"}, Entrypoint: "python3", Args: []string{"-c", loadConfigs, "/data/" + c.output(), "/data/golden.yaml"}})
			require.NoError(t, err, "Synapse rejected a config: %s", out)
			assert.Contains(t, out, "synapse accepted /data/golden.yaml")

			// 3. What Synapse understood is what the environment asked for.
			out, err = dockertest.RunOnce(ctx, dockertest.Options{Image: d.image, Name: dockertest.UniqueName("start-parse"), User: "991:991",
				Mounts: []string{dir + ":/data"}, Entrypoint: "python3", Args: []string{"-c", parsedValues, "/data/" + c.output(), "/data/golden.yaml"}})
			require.NoError(t, err, "Synapse rejected a config: %s", out)
			parsed := parsedFrom(t, out)
			understood(t, c, dir, parsed["/data/"+c.output()], true)
			understood(t, c, dir, parsed["/data/golden.yaml"], false)
		})
	}
}

// TestImageStartsToHealth: the minimal SQLite config, started the way the
// image starts: /start as entrypoint, Synapse becomes PID 1 as 991:991,
// /start health turns healthy, register_new_matrix_user works with the
// generated config, and SIGTERM stops Synapse cleanly.
func TestImageStartsToHealth(t *testing.T) {
	d := setupDocker(t)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	dir := dataDir(t)
	c := dockertest.Run(t, dockertest.Options{Image: d.image, Name: dockertest.UniqueName("start-health"), Mounts: d.start(dir),
		Env: map[string]string{"SYNAPSE_SERVER_NAME": "example.com", "SYNAPSE_REPORT_STATS": "no"}, Entrypoint: "/start"})
	c.WaitHealthy(ctx, 90*time.Second)

	cmdline, err := c.Exec(ctx, "cat", "/proc/1/cmdline")
	require.NoError(t, err)
	assert.Contains(t, strings.ReplaceAll(cmdline, "\x00", " "), "python3 -s -P -m synapse.app.homeserver --config-path /data/generated/homeserver.yaml")
	status, err := c.Exec(ctx, "cat", "/proc/1/status")
	require.NoError(t, err)
	assert.Regexp(t, `Uid:\s+991\s+991\s+991\s+991`, status)
	assert.Regexp(t, `Gid:\s+991\s+991\s+991\s+991`, status)

	reg := `cmd=register_new_matrix_user; command -v $cmd >/dev/null || cmd=synapse_register_new_matrix_user; ` +
		`$cmd -c /data/generated/homeserver.yaml -u admin -p correct-horse --admin http://localhost:8008`
	out, err := c.Exec(ctx, "sh", "-c", reg)
	require.NoError(t, err, out)
	assert.Contains(t, out, "Success")

	stdout, stderr, _ := c.Logs(ctx)
	logs := stdout + stderr
	for _, f := range []string{"example.com.registration.key", "example.com.macaroon.key", "example.com.form.key"} {
		secret, err := os.ReadFile(filepath.Join(dir, f))
		require.NoError(t, err)
		assert.NotContains(t, logs, string(secret), "secret of %s in the log", f)
	}

	_, err = c.Stop(ctx)
	require.NoError(t, err)
	state, err := c.State(ctx)
	require.NoError(t, err)
	assert.Equal(t, 0, state.ExitCode, "Synapse (PID 1) exits cleanly on SIGTERM")
}

// TestImageAsNonRoot: docker run --user: no chown, no switch; a clear error
// when /data is not writable, and a working start when it is.
func TestImageAsNonRoot(t *testing.T) {
	d := setupDocker(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	nonRoot := func(dir string, args ...string) (string, error) {
		return dockertest.RunOnce(ctx, dockertest.Options{Image: d.image, Name: dockertest.UniqueName("start-nonroot"), User: "12345:12345",
			Mounts: d.start(dir), Env: map[string]string{"SYNAPSE_SERVER_NAME": "example.com", "SYNAPSE_REPORT_STATS": "no"},
			Entrypoint: "/start", Args: args})
	}

	readOnly := dataDir(t) // owned by root, 0755
	out, err := nonRoot(readOnly, "run")
	require.Error(t, err)
	assert.Contains(t, out, "start: error: SYNAPSE_DATA_DIR: /data is not writable by uid 12345 gid 12345")
	entries, _ := os.ReadDir(readOnly)
	assert.Empty(t, entries)

	writable := dataDir(t)
	require.NoError(t, os.Chmod(writable, 0o777))
	out, err = nonRoot(writable, "run", "--generate-keys")
	require.NoError(t, err, out)
	assert.NotContains(t, out, "changing owner")
	assert.Contains(t, out, "starting Synapse as 12345:12345")
	for _, f := range []string{"example.com.signing.key", "generated/homeserver.yaml"} {
		fi, err := os.Stat(filepath.Join(writable, f))
		require.NoError(t, err)
		assert.Equal(t, uint32(12345), fi.Sys().(*syscall.Stat_t).Uid, f)
	}
}

// TestImageManualMode: generate a config in the image, then start with
// SYNAPSE_CONFIG_PATH to /health; the signing key the config names is
// created when missing and the config itself is left untouched.
func TestImageManualMode(t *testing.T) {
	d := setupDocker(t)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	dir := dataDir(t)
	out, err := dockertest.RunOnce(ctx, dockertest.Options{Image: d.image, Name: dockertest.UniqueName("start-generate"), Mounts: d.start(dir),
		Env: map[string]string{"SYNAPSE_SERVER_NAME": "example.com", "SYNAPSE_REPORT_STATS": "no", "SYNAPSE_NO_TLS": "1"}, Entrypoint: "/start", Args: []string{"generate"}})
	require.NoError(t, err, out)
	cfg, err := os.ReadFile(filepath.Join(dir, "homeserver.yaml"))
	require.NoError(t, err)
	require.NoError(t, os.Remove(filepath.Join(dir, "example.com.signing.key")))

	c := dockertest.Run(t, dockertest.Options{Image: d.image, Name: dockertest.UniqueName("start-manual"), Mounts: d.start(dir),
		Env: map[string]string{"SYNAPSE_CONFIG_PATH": "/data/homeserver.yaml"}, Entrypoint: "/start"})
	c.WaitHealthy(ctx, 90*time.Second)
	stdout, stderr, _ := c.Logs(ctx)
	logs := stdout + stderr
	assert.Contains(t, logs, "start: created signing key /data/example.com.signing.key")
	assert.Contains(t, logs, "start: manual mode: using /data/homeserver.yaml")
	after, err := os.ReadFile(filepath.Join(dir, "homeserver.yaml"))
	require.NoError(t, err)
	assert.Equal(t, string(cfg), string(after), "manual mode never edits the config")
	assert.NoDirExists(t, filepath.Join(dir, "generated"))
}
