package tests

import (
	"context"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/synapse-image/synapse-image/internal/dockertest"
	"github.com/synapse-image/synapse-image/tests/internal/matrixflow"
)

// Scenario 1: docker run with the mandatory variables and a host folder on
// /data, SQLite.
func TestDockerRunSQLite(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	const server = "sqlite.e2e.test"
	data := dockertest.HostDir(t, synapseImage(t))
	s := runSynapse(t, server, data, dockertest.Options{Env: baseEnv(server)})

	hs := s.homeserver(t)
	hs.Run(ctx, t)

	// Synapse itself is PID 1 (it gets docker stop's SIGTERM), runs as
	// 991:991 and has jemalloc preloaded.
	cmdline, err := s.Exec(ctx, "cat", "/proc/1/cmdline")
	require.NoError(t, err)
	assert.Contains(t, strings.ReplaceAll(cmdline, "\x00", " "), "synapse.app.homeserver", "PID 1 is Synapse")
	status, err := s.Exec(ctx, "cat", "/proc/1/status")
	require.NoError(t, err)
	assert.Regexp(t, `(?m)^Uid:\s+991\s+991\s+991\s+991$`, status, "Synapse runs as uid 991")
	assert.Regexp(t, `(?m)^Gid:\s+991\s+991\s+991\s+991$`, status, "Synapse runs as gid 991")
	assert.Regexp(t, `(?m)^Groups:\s*991\s*$`, status, "no supplementary groups left from root")
	maps, err := dockertest.Docker(ctx, "exec", "--user", "991:991", s.Name, "cat", "/proc/1/maps")
	require.NoError(t, err)
	assert.Contains(t, maps.Stdout, "libjemalloc", "jemalloc is preloaded")

	// Synapse's own tool still works (README.md documents /start register,
	// which TestRegisterAtMinimumMemory tests).
	cliUser := "e2e-cli-" + matrixflow.RandomSuffix()
	out, err := s.Exec(ctx, "register_new_matrix_user", "-c", "/data/generated/homeserver.yaml",
		"-u", cliUser, "-p", "cli pass", "--no-admin", "http://localhost:8008")
	require.NoError(t, err, "docker exec register_new_matrix_user: %s", out)
	hs.Login(ctx, t, cliUser, "cli pass")

	assertNoSecretsInLogs(t, s.Container,
		s.readData(t, server+".registration.key"), s.readData(t, server+".macaroon.key"),
		s.readData(t, server+".form.key"), strings.Fields(s.readData(t, server+".signing.key"))[2])

	assert.FileExists(t, filepath.Join(data, "homeserver.db"), "SQLite database in /data")
	assert.FileExists(t, filepath.Join(data, server+".signing.key"))
	assert.Positive(t, countFiles(t, filepath.Join(data, "media")), "the uploaded file lands under /data/media")
	wrong, err := dockertest.Owners(data, synapseUID, synapseUID)
	require.NoError(t, err)
	assert.Empty(t, wrong, "everything in /data belongs to %d:%d", synapseUID, synapseUID)
}

// Scenario 4: an upgrade. A container of the previous release
// (E2E_UPGRADE_FROM_IMAGE; scripts/test.sh builds it with
// scripts/build-previous.sh) creates /data, then a container of the image
// under test on the same /data keeps access tokens, messages, media, secrets
// and keys. Without a from-image that differs from the image under test
// there is no upgrade to test: it skips, or fails with E2E_REQUIRED.
func TestSQLiteUpgradePath(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	const server = "upgrade.e2e.test"
	image := synapseImage(t)
	from := os.Getenv("E2E_UPGRADE_FROM_IMAGE")
	if from == "" {
		dockertest.Unavailable(t, "no image to upgrade from: set E2E_UPGRADE_FROM_IMAGE (scripts/build-previous.sh builds the previous release)")
	}
	dockertest.RequireImage(t, from, "E2E_UPGRADE_FROM_IMAGE: scripts/build-previous.sh builds the previous release")
	fromLayers, toLayers := imageLayers(t, from), imageLayers(t, image)
	if fromLayers == toLayers {
		dockertest.Unavailable(t, "E2E_UPGRADE_FROM_IMAGE %s has the same layers as %s: nothing to upgrade across", from, image)
	}
	t.Logf("upgrade from %s (revision %s) to %s (revision %s)", from, imageRevision(t, from), image, imageRevision(t, image))
	data := dockertest.HostDir(t, image)

	old := runSynapse(t, server, data, dockertest.Options{Image: from, Env: baseEnv(server)})
	hs := old.homeserver(t)
	res := hs.Run(ctx, t)
	keys := []string{".signing.key", ".registration.key", ".macaroon.key", ".form.key"}
	before := map[string]string{}
	for _, k := range keys {
		before[k] = old.readData(t, server+k)
	}
	_, err := old.Stop(ctx)
	require.NoError(t, err)

	s := runSynapse(t, server, data, dockertest.Options{Image: image, Env: baseEnv(server)})
	for _, k := range keys {
		assert.Equal(t, before[k], s.readData(t, server+k), "%s%s must survive a new container", server, k)
	}
	hs = s.homeserver(t)
	hs.Verify(ctx, t, res)
}

// Scenario 12a: --user 1000:1000 with a /data the user can write; and a
// clear error when it cannot.
func TestRunAsOtherUser(t *testing.T) {
	t.Parallel()
	image := synapseImage(t)
	t.Run("writable /data", func(t *testing.T) {
		t.Parallel()
		ctx := context.Background()
		const server = "user.e2e.test"
		data := dockertest.HostDir(t, image)
		require.NoError(t, os.Chown(data, 1000, 1000))

		s := runSynapse(t, server, data, dockertest.Options{Image: image, Env: baseEnv(server), User: "1000:1000"})
		hs := s.homeserver(t)
		hs.Run(ctx, t)
		wrong, err := dockertest.Owners(data, 1000, 1000)
		require.NoError(t, err)
		assert.Empty(t, wrong, "with --user 1000:1000 everything in /data belongs to 1000:1000")
	})
	t.Run("/data not writable", func(t *testing.T) {
		t.Parallel()
		data := dockertest.HostDir(t, image) // owned by root, mode 0700
		code, _, stderr := runToExit(t, dockertest.Options{
			Image: image, Env: baseEnv("user.e2e.test"), User: "1000:1000", Mounts: []string{data + ":/data"},
		})
		assert.NotEqual(t, 0, code, "exit status; stderr:\n%s", stderr)
		assert.Contains(t, lastLine(stderr), "/data", "a clear error naming /data; stderr:\n%s", stderr)
		entries, err := os.ReadDir(data)
		require.NoError(t, err)
		assert.Empty(t, entries)
	})
}

// Scenario 12b: --read-only with a volume on /data.
func TestReadOnlyRootFS(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	const server = "readonly.e2e.test"
	vol := dockertest.Volume(t)
	s := runSynapse(t, server, "", dockertest.Options{
		Env:      baseEnv(server),
		Mounts:   []string{vol + ":/data"},
		ReadOnly: true,
	})
	hs := s.homeserver(t)
	hs.Run(ctx, t)
}

// Scenario 13: docker stop ends Synapse cleanly, well before Docker's
// SIGKILL after 10 s.
func TestStopIsClean(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	const server = "stop.e2e.test"
	s := runSynapse(t, server, "", dockertest.Options{Env: baseEnv(server)})
	s.homeserver(t).Basics(ctx, t)

	took, err := s.Stop(ctx)
	require.NoError(t, err)
	t.Logf("docker stop took %s", took.Round(10*time.Millisecond))
	st, err := s.State(ctx)
	require.NoError(t, err)
	assert.NotEqual(t, 137, st.ExitCode, "Synapse was SIGKILLed: it did not end on SIGTERM within Docker's 10 s")
	assert.Equal(t, 0, st.ExitCode, "exit status after docker stop")
	assert.False(t, st.OOMKilled)
}

// assertNoSecretsInLogs checks that no secret appears in the container's log.
func assertNoSecretsInLogs(t *testing.T, c *dockertest.Container, secrets ...string) {
	t.Helper()
	stdout, stderr, err := c.Logs(context.Background())
	require.NoError(t, err)
	for i, secret := range secrets {
		require.NotEmpty(t, secret)
		assert.NotContains(t, stdout+stderr, secret, "secret #%d appears in the container log", i+1)
	}
}

// countFiles counts regular files under dir.
func countFiles(t *testing.T, dir string) int {
	t.Helper()
	n := 0
	err := filepath.WalkDir(dir, func(_ string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.Type().IsRegular() {
			n++
		}
		return nil
	})
	require.NoError(t, err, "walk %s", dir)
	return n
}

// TestOwnershipOnRestart: /start does not chown -R /data on every start, only
// when its owner differs from UID:GID (first start, or a changed UID).
func TestOwnershipOnRestart(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	const server = "owner.e2e.test"
	image := synapseImage(t)
	data := dockertest.HostDir(t, image)

	first := runSynapse(t, server, data, dockertest.Options{Image: image, Env: baseEnv(server)})
	_, err := first.Stop(ctx)
	require.NoError(t, err)
	note := filepath.Join(data, "operator-note.txt")
	require.NoError(t, os.WriteFile(note, []byte("root's file\n"), 0o644))

	second := runSynapse(t, server, data, dockertest.Options{Image: image, Env: baseEnv(server)})
	wrong, err := dockertest.Owners(data, synapseUID, synapseUID)
	require.NoError(t, err)
	assert.Equal(t, []string{"operator-note.txt (0:0)"}, wrong, "a restart with the same UID must not chown the tree")
	_, err = second.Stop(ctx)
	require.NoError(t, err)

	env := baseEnv(server)
	env["UID"], env["GID"] = "1234", "1235"
	third := runSynapse(t, server, data, dockertest.Options{Image: image, Env: env})
	third.homeserver(t).Basics(ctx, t)
	wrong, err = dockertest.Owners(data, 1234, 1235)
	require.NoError(t, err)
	assert.Empty(t, wrong, "a changed UID:GID takes over all of /data")
	status, err := third.Exec(ctx, "cat", "/proc/1/status")
	require.NoError(t, err)
	assert.Regexp(t, `(?m)^Uid:\s+1234\s`, status, "Synapse runs as UID")
}

// imageLayers is the list of an image's layer digests: two images with the
// same list run the same software, whatever their labels say.
func imageLayers(t *testing.T, ref string) string {
	t.Helper()
	return dockertest.Must(t, context.Background(), "image", "inspect", "--format", "{{json .RootFS.Layers}}", ref)
}

// imageRevision is the git revision an image was built from (its OCI label).
func imageRevision(t *testing.T, ref string) string {
	t.Helper()
	return dockertest.Must(t, context.Background(), "image", "inspect", "--format",
		`{{index .Config.Labels "org.opencontainers.image.revision"}}`, ref)
}
