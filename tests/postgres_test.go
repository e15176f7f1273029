package tests

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/synapse-image/synapse-image/internal/dockertest"
)

// postgresEnv is the environment of the database as Synapse needs it.
func postgresEnv(user, password, db string) map[string]string {
	return map[string]string{
		"POSTGRES_USER":        user,
		"POSTGRES_PASSWORD":    password,
		"POSTGRES_DB":          db,
		"POSTGRES_INITDB_ARGS": "--encoding=UTF8 --lc-collate=C --lc-ctype=C",
	}
}

// psql runs a query in the database container over its Unix socket.
func psql(ctx context.Context, c *dockertest.Container, user, db, query string) (string, error) {
	out, err := c.Exec(ctx, "psql", "-v", "ON_ERROR_STOP=1", "-At", "-U", user, "-d", db, "-c", query)
	return strings.TrimSpace(out), err
}

// Scenario 2: PostgreSQL over a Docker network, the homeserver started before
// the database exists. Synapse runs under the compose sample's restart
// policy, so an exit while the database is missing would show as a restart:
// the test proves that /start waited instead.
func TestDockerRunPostgres(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	const server = "pg.e2e.test"
	pgImage := postgresImage(t)
	image := synapseImage(t)
	net := dockertest.Network(t)
	data := dockertest.HostDir(t, image)

	env := baseEnv(server)
	env["POSTGRES_PASSWORD"] = "pg secret: with 'quotes'"
	env["POSTGRES_HOST"] = "db"
	// POSTGRES_USER and POSTGRES_DB stay at the image's defaults (matrix, synapse).
	syn := dockertest.Run(t, dockertest.Options{
		Image: image, Env: env, Network: net, Restart: "unless-stopped",
		Mounts: []string{data + ":/data"}, Ports: []string{"8008"},
	})
	// The database starts only once /start says it is waiting for it (the
	// message of rootfs/internal/pgwait), however long Synapse's own start
	// took on this machine.
	syn.WaitForLog(ctx, "waiting for PostgreSQL at db:5432", healthTimeout)

	db := dockertest.Run(t, dockertest.Options{
		Image: pgImage, Network: net, Aliases: []string{"db"},
		Env: postgresEnv("matrix", env["POSTGRES_PASSWORD"], "synapse"),
	})
	syn.WaitHealthy(ctx, healthTimeout)
	logs := syn.WaitForLog(ctx, "PostgreSQL at db:5432 accepts connections", 10*time.Second)
	assert.Equal(t, 1, strings.Count(logs, "PostgreSQL at db:5432 accepts connections"), "one start, one wait")
	restarts, err := syn.RestartCount(ctx)
	require.NoError(t, err)
	assert.Zero(t, restarts, "Synapse waited for the database instead of exiting (restart policy unless-stopped)")

	s := &synapse{Container: syn, ServerName: server, Data: data}
	hs := s.homeserver(t)
	res := hs.Run(ctx, t)

	users, err := psql(ctx, db, "matrix", "synapse", "SELECT name FROM users ORDER BY name")
	require.NoError(t, err)
	assert.Contains(t, users, string(res.Admin.ID), "the accounts are in PostgreSQL")
	assert.NoFileExists(t, filepath.Join(data, "homeserver.db"), "no SQLite database when PostgreSQL is configured")
	assertNoSecretsInLogs(t, syn, env["POSTGRES_PASSWORD"], hs.SharedSecret)
}

// The project's PostgreSQL image honours the official image's environment.
func TestPostgresImage(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	image := postgresImage(t)

	t.Run("first start, password file, C locale, restart", func(t *testing.T) {
		t.Parallel()
		secrets := t.TempDir()
		require.NoError(t, os.WriteFile(filepath.Join(secrets, "pw"), []byte("from a file\n"), 0o644))
		env := postgresEnv("matrix", "", "synapse")
		delete(env, "POSTGRES_PASSWORD")
		env["POSTGRES_PASSWORD_FILE"] = "/run/secrets/pw"
		vol := dockertest.Volume(t)
		db := dockertest.Run(t, dockertest.Options{
			Image: image, Env: env,
			Mounts: []string{secrets + ":/run/secrets:ro", vol + ":/var/lib/postgresql/data"},
		})
		db.WaitHealthy(ctx, healthTimeout)

		got, err := psql(ctx, db, "matrix", "synapse",
			"SELECT pg_encoding_to_char(encoding)||' '||datcollate||' '||datctype FROM pg_database WHERE datname = current_database()")
		require.NoError(t, err)
		assert.Equal(t, "UTF8 C C", got, "encoding, collation and ctype of POSTGRES_DB")
		pid1, err := db.Exec(ctx, "cat", "/proc/1/comm")
		require.NoError(t, err)
		assert.Equal(t, "postgres", strings.TrimSpace(pid1), "postgres is PID 1")

		// Over TCP the password counts (the trailing newline of the file is not part of it).
		tcp := func(pw string) error {
			_, err := db.Exec(ctx, "env", "PGPASSWORD="+pw, "psql", "-h", "127.0.0.1", "-U", "matrix", "-d", "synapse", "-Atc", "SELECT 1")
			return err
		}
		assert.NoError(t, tcp("from a file"), "the password from POSTGRES_PASSWORD_FILE")
		assert.Error(t, tcp("wrong"), "a wrong password is refused over TCP")

		_, err = psql(ctx, db, "matrix", "synapse", "CREATE TABLE kept (v text); INSERT INTO kept VALUES ('still here')")
		require.NoError(t, err)
		_, err = db.Stop(ctx)
		require.NoError(t, err)
		st, err := db.State(ctx)
		require.NoError(t, err)
		assert.Equal(t, 0, st.ExitCode, "postgres ends cleanly on docker stop")
		require.NoError(t, db.Start(ctx))
		db.WaitHealthy(ctx, healthTimeout)
		got, err = psql(ctx, db, "matrix", "synapse", "SELECT v FROM kept")
		require.NoError(t, err)
		assert.Equal(t, "still here", got, "data survives a restart (no second initdb)")
	})

	t.Run("started as root on a host folder", func(t *testing.T) {
		t.Parallel()
		data := dockertest.HostDir(t, image)
		db := dockertest.Run(t, dockertest.Options{
			Image: image, User: "0:0", Env: postgresEnv("matrix", "pw", "synapse"),
			Mounts: []string{data + ":/var/lib/postgresql/data"},
		})
		db.WaitHealthy(ctx, healthTimeout)
		status, err := db.Exec(ctx, "cat", "/proc/1/status")
		require.NoError(t, err)
		assert.Regexp(t, `(?m)^Name:\s+postgres$`, status, "postgres is PID 1")
		assert.NotRegexp(t, `(?m)^Uid:\s+0\s`, status, "postgres dropped root")
		assert.FileExists(t, filepath.Join(data, "PG_VERSION"), "the cluster is in the host folder")
	})

	for _, tc := range []struct {
		name string
		env  map[string]string
		want string
	}{
		{"no password", map[string]string{"POSTGRES_USER": "matrix"}, "POSTGRES_PASSWORD"},
		{"password twice", map[string]string{"POSTGRES_PASSWORD": "a", "POSTGRES_PASSWORD_FILE": "/etc/hostname"}, "POSTGRES_PASSWORD_FILE"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			db := dockertest.Run(t, dockertest.Options{Image: image, Env: tc.env})
			code, err := db.Wait(ctx)
			require.NoError(t, err)
			assert.NotEqual(t, 0, code, "exit status")
			_, stderr, err := db.Logs(ctx)
			require.NoError(t, err)
			assert.Contains(t, stderr, tc.want)
		})
	}
}
