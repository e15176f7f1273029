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

// docker runs the docker CLI through the module's Docker harness and
// returns its combined output.
var docker = dockertest.Combined

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
		out, err := docker(ctx, "image", "inspect", "--format", "{{.Architecture}}", c)
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

// waitHealthy polls /start health inside the container for up to 90 s and
// returns how long it took; it fails the test with the container's log when
// Synapse never answers.
func waitHealthy(ctx context.Context, t *testing.T, name, what string) time.Duration {
	t.Helper()
	start := time.Now()
	for {
		if _, err := docker(ctx, "exec", name, "/start", "health"); err == nil {
			return time.Since(start)
		}
		if time.Since(start) > 90*time.Second {
			logs, _ := docker(ctx, "logs", name)
			t.Fatalf("%snot healthy after 90 s:\n%s", what, logs)
		}
		time.Sleep(500 * time.Millisecond)
	}
}

// envArgs turns a map into -e flags.
func envArgs(vars map[string]string) []string {
	var args []string
	for k, v := range vars {
		args = append(args, "-e", k+"="+v)
	}
	return args
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
			args := []string{"run", "--rm", "--name", dockertest.UniqueName("start-accept"), "-v", d.bin + ":/start:ro", "-v", dir + ":/data", "--entrypoint", "/start"}
			args = append(args, envArgs(c.env)...)
			args = append(args, d.image, c.mode)
			if c.mode == "run" {
				args = append(args, "--generate-keys")
			}
			out, err := docker(ctx, args...)
			require.NoError(t, err, "/start %s in %s: %s", c.mode, d.image, out)
			t.Logf("/start %s:\n%s", c.mode, out)
			assert.NotContains(t, out, "error")

			// 2. Synapse loads what /start wrote and the golden file, as the
			// user it runs as.
			out, err = docker(ctx, "run", "--rm", "--name", dockertest.UniqueName("start-load"), "--user", "991:991", "-v", dir+":/data",
				"--entrypoint", "python3", d.image, "-c", loadConfigs, "/data/"+c.output(), "/data/golden.yaml")
			require.NoError(t, err, "Synapse rejected a config: %s", out)
			assert.Contains(t, out, "synapse accepted /data/golden.yaml")

			// 3. What Synapse understood is what the environment asked for.
			out, err = docker(ctx, "run", "--rm", "--name", dockertest.UniqueName("start-parse"), "--user", "991:991", "-v", dir+":/data",
				"--entrypoint", "python3", d.image, "-c", parsedValues, "/data/"+c.output(), "/data/golden.yaml")
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
	name := dockertest.UniqueName("start-health")
	out, err := docker(ctx, "run", "-d", "--name", name, "-v", d.bin+":/start:ro", "-v", dir+":/data",
		"-e", "SYNAPSE_SERVER_NAME=example.com", "-e", "SYNAPSE_REPORT_STATS=no", "--entrypoint", "/start", d.image)
	require.NoError(t, err, out)
	t.Cleanup(func() { docker(context.Background(), "rm", "-f", name) })

	took := waitHealthy(ctx, t, name, "")
	t.Logf("healthy %s after docker run", took.Round(100*time.Millisecond))

	cmdline, err := docker(ctx, "exec", name, "cat", "/proc/1/cmdline")
	require.NoError(t, err)
	assert.Contains(t, strings.ReplaceAll(cmdline, "\x00", " "), "python3 -P -m synapse.app.homeserver --config-path /data/generated/homeserver.yaml")
	status, err := docker(ctx, "exec", name, "cat", "/proc/1/status")
	require.NoError(t, err)
	assert.Regexp(t, `Uid:\s+991\s+991\s+991\s+991`, status)
	assert.Regexp(t, `Gid:\s+991\s+991\s+991\s+991`, status)

	reg := `cmd=register_new_matrix_user; command -v $cmd >/dev/null || cmd=synapse_register_new_matrix_user; ` +
		`$cmd -c /data/generated/homeserver.yaml -u admin -p correct-horse --admin http://localhost:8008`
	out, err = docker(ctx, "exec", name, "sh", "-c", reg)
	require.NoError(t, err, out)
	assert.Contains(t, out, "Success")

	logs, _ := docker(ctx, "logs", name)
	for _, f := range []string{"example.com.registration.key", "example.com.macaroon.key", "example.com.form.key"} {
		secret, err := os.ReadFile(filepath.Join(dir, f))
		require.NoError(t, err)
		assert.NotContains(t, logs, string(secret), "secret of %s in the log", f)
	}

	out, err = docker(ctx, "stop", "-t", "30", name)
	require.NoError(t, err, out)
	code, err := docker(ctx, "inspect", "-f", "{{.State.ExitCode}}", name)
	require.NoError(t, err)
	assert.Equal(t, "0", strings.TrimSpace(code), "Synapse (PID 1) exits cleanly on SIGTERM")
}

// TestImageAsNonRoot: docker run --user: no chown, no switch; a clear error
// when /data is not writable, and a working start when it is.
func TestImageAsNonRoot(t *testing.T) {
	d := setupDocker(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	vars := []string{"-e", "SYNAPSE_SERVER_NAME=example.com", "-e", "SYNAPSE_REPORT_STATS=no"}

	readOnly := dataDir(t) // owned by root, 0755
	args := append([]string{"run", "--rm", "--name", dockertest.UniqueName("start-nonroot"), "--user", "12345:12345", "-v", d.bin + ":/start:ro", "-v", readOnly + ":/data", "--entrypoint", "/start"}, vars...)
	out, err := docker(ctx, append(args, d.image, "run")...)
	require.Error(t, err)
	assert.Contains(t, out, "start: error: SYNAPSE_DATA_DIR: /data is not writable by uid 12345 gid 12345")
	entries, _ := os.ReadDir(readOnly)
	assert.Empty(t, entries)

	writable := dataDir(t)
	require.NoError(t, os.Chmod(writable, 0o777))
	args = append([]string{"run", "--rm", "--name", dockertest.UniqueName("start-nonroot"), "--user", "12345:12345", "-v", d.bin + ":/start:ro", "-v", writable + ":/data", "--entrypoint", "/start"}, vars...)
	out, err = docker(ctx, append(args, d.image, "run", "--generate-keys")...)
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
	common := []string{"-v", d.bin + ":/start:ro", "-v", dir + ":/data", "--entrypoint", "/start"}
	out, err := docker(ctx, append(append([]string{"run", "--rm", "--name", dockertest.UniqueName("start-generate")}, common...),
		"-e", "SYNAPSE_SERVER_NAME=example.com", "-e", "SYNAPSE_REPORT_STATS=no", "-e", "SYNAPSE_NO_TLS=1", d.image, "generate")...)
	require.NoError(t, err, out)
	cfg, err := os.ReadFile(filepath.Join(dir, "homeserver.yaml"))
	require.NoError(t, err)
	require.NoError(t, os.Remove(filepath.Join(dir, "example.com.signing.key")))

	name := dockertest.UniqueName("start-manual")
	out, err = docker(ctx, append(append([]string{"run", "-d", "--name", name}, common...),
		"-e", "SYNAPSE_CONFIG_PATH=/data/homeserver.yaml", d.image)...)
	require.NoError(t, err, out)
	t.Cleanup(func() { docker(context.Background(), "rm", "-f", name) })
	waitHealthy(ctx, t, name, "manual mode ")
	logs, _ := docker(ctx, "logs", name)
	assert.Contains(t, logs, "start: created signing key /data/example.com.signing.key")
	assert.Contains(t, logs, "start: manual mode: using /data/homeserver.yaml")
	after, err := os.ReadFile(filepath.Join(dir, "homeserver.yaml"))
	require.NoError(t, err)
	assert.Equal(t, string(cfg), string(after), "manual mode never edits the config")
	assert.NoDirExists(t, filepath.Join(dir, "generated"))
}
