package tests

import (
	"archive/tar"
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/synapse-image/synapse-image/internal/dockertest"
	"github.com/synapse-image/synapse-image/tests/internal/matrixflow"
)

// tarNames lists the members of a tar file, without a leading "./".
func tarNames(t *testing.T, path string) map[string]bool {
	t.Helper()
	f, err := os.Open(path)
	require.NoError(t, err)
	defer f.Close()
	names := map[string]bool{}
	r := tar.NewReader(f)
	for {
		h, err := r.Next()
		if errors.Is(err, io.EOF) {
			return names
		}
		require.NoError(t, err, "read %s", path)
		names[filepath.Clean(h.Name)] = true
	}
}

// loginAll logs both users of res in with their passwords.
func loginAll(ctx context.Context, t *testing.T, hs matrixflow.Homeserver, res *matrixflow.Result) {
	t.Helper()
	for _, u := range []*matrixflow.User{res.Admin, res.Member} {
		hs.Login(ctx, t, u.ID.Localpart(), u.Password)
	}
}

// TestBackupRestoreSQLite: the commands of docs/backups.md back up a
// running server on SQLite (the online backup API, not a copy of the live
// database) and restore it into a new volume; the restored server has the
// same users, history, media and signing key.
func TestBackupRestoreSQLite(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	const server = "backup.e2e.test"
	image := synapseImage(t)
	vol := dockertest.Volume(t)
	s := runSynapse(t, server, "", dockertest.Options{Env: baseEnv(server), Mounts: []string{vol + ":/data"}})
	hs := s.homeserver(t)
	res := hs.Run(ctx, t)
	signingKey := s.readData(t, server+".signing.key")

	dir := t.TempDir()
	newVol := dockertest.UniqueName("v")
	t.Cleanup(func() { _, _ = dockertest.Docker(context.Background(), "volume", "rm", "--force", newVol) })
	vars := map[string]string{"SYNAPSE": s.Name, "IMAGE": image, "NEW_DATA": newVol}

	out, err := runDocBlock(ctx, dir, docBlock(t, "backups.md", "backup-sqlite"), vars)
	require.NoError(t, err, out)
	names := tarNames(t, filepath.Join(dir, "synapse-data.tar"))
	assert.True(t, names["homeserver.db.backup"], "the snapshot is in the archive")
	assert.True(t, names[server+".signing.key"], "the signing key is in the archive")
	for _, live := range []string{"homeserver.db", "homeserver.db-wal", "homeserver.db-shm"} {
		assert.False(t, names[live], "the live database file %s is not archived", live)
	}
	_, err = s.Exec(ctx, "test", "!", "-e", "/data/homeserver.db.backup")
	assert.NoError(t, err, "the snapshot is removed from the running server's /data")

	// The old server stops: the restored one answers on its own.
	_, err = s.Stop(ctx)
	require.NoError(t, err)
	out, err = runDocBlock(ctx, dir, docBlock(t, "backups.md", "restore-sqlite"), vars)
	require.NoError(t, err, out)

	restored := runSynapse(t, server, "", dockertest.Options{Env: baseEnv(server), Mounts: []string{newVol + ":/data"}})
	assert.Equal(t, signingKey, restored.readData(t, server+".signing.key"), "the restored server has the same signing key")
	rhs := restored.homeserver(t)
	rhs.Verify(ctx, t, res)
	loginAll(ctx, t, rhs, res)
}

// TestBackupRestorePostgres: the commands of docs/backups.md back up the
// compose deployment (pg_dump in the database container, /data as the
// Synapse user) while it runs, and restore it into a new deployment with
// new volumes; the restored server has the same users, history and media.
func TestBackupRestorePostgres(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	const server = "matrix.example.com" // the sample's default
	images := []string{"SYNAPSE_IMAGE=" + synapseImage(t), "POSTGRES_IMAGE=" + postgresImage(t)}
	portA, portB := freePort(t), freePort(t)
	a := dockertest.NewCompose(t, composeFile(t), append(images, "SYNAPSE_HTTP_PORT="+itoa(portA))...)
	b := dockertest.NewCompose(t, composeFile(t), append(images, "SYNAPSE_HTTP_PORT="+itoa(portB))...)

	a.Must(ctx, "up", "--detach")
	sa := &synapse{Container: a.Container(ctx, "synapse"), ServerName: server}
	sa.WaitHealthy(ctx, healthTimeout)
	hs := matrixflow.Homeserver{URL: "http://127.0.0.1:" + itoa(portA), ServerName: server,
		SharedSecret: sa.readData(t, server+".registration.key")}
	res := hs.Run(ctx, t)

	// The manual's commands run in the compose file's project, as
	// docker-compose finds it from COMPOSE_FILE and COMPOSE_PROJECT_NAME.
	vars := func(c *dockertest.Compose, port int) map[string]string {
		v := map[string]string{"COMPOSE_FILE": c.File, "COMPOSE_PROJECT_NAME": c.Project, "SYNAPSE_HTTP_PORT": itoa(port)}
		for _, kv := range images {
			k, val, _ := strings.Cut(kv, "=")
			v[k] = val
		}
		return v
	}
	dir := t.TempDir()
	out, err := runDocBlock(ctx, dir, docBlock(t, "backups.md", "backup-postgres"), vars(a, portA))
	require.NoError(t, err, out)
	names := tarNames(t, filepath.Join(dir, "synapse-data.tar"))
	assert.True(t, names[server+".signing.key"], "the signing key is in the archive")
	assert.True(t, names["media"], "the media store is in the archive")

	a.Must(ctx, "stop")
	out, err = runDocBlock(ctx, dir, docBlock(t, "backups.md", "restore-postgres"), vars(b, portB))
	require.NoError(t, err, out)
	sb := &synapse{Container: b.Container(ctx, "synapse"), ServerName: server}
	sb.WaitHealthy(ctx, healthTimeout)
	rhs := matrixflow.Homeserver{URL: "http://127.0.0.1:" + itoa(portB), ServerName: server,
		SharedSecret: sb.readData(t, server+".registration.key")}
	rhs.Verify(ctx, t, res)
	loginAll(ctx, t, rhs, res)
}
