package tests

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/synapse-image/synapse-image/internal/dockertest"
)

// TestPortSQLiteToPostgres: a server with users, a room, messages and media
// on SQLite is ported to PostgreSQL with the commands of docs/migration.md,
// as written; the first port is killed midway and the same commands run
// again; the server then starts on PostgreSQL with the same volume and
// serves the same users, history and media.
func TestPortSQLiteToPostgres(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	const server = "port.e2e.test"
	image := synapseImage(t)
	pgImage := postgresImage(t)
	net := dockertest.Network(t)
	vol := dockertest.Volume(t)
	const password = "port secret"

	db := dockertest.Run(t, dockertest.Options{
		Image: pgImage, Network: net, Aliases: []string{"db"},
		Env: postgresEnv("synapse", password, "synapse"),
	})
	sqliteEnv := baseEnv(server)
	// A new server has background updates pending, and synapse_port_db
	// refuses to run until they are done: without sleeps between batches
	// they take seconds instead of minutes.
	sqliteEnv["SYNAPSE_CONFIG__BACKGROUND_UPDATES__SLEEP_ENABLED"] = "false"
	s := runSynapse(t, server, "", dockertest.Options{Env: sqliteEnv, Mounts: []string{vol + ":/data"}})
	hs := s.homeserver(t)
	res := hs.Run(ctx, t)
	db.WaitHealthy(ctx, healthTimeout)
	waitBackgroundUpdates(ctx, t, s)

	vars := map[string]string{
		"SYNAPSE": s.Name, "DATA": vol, "NET": net, "IMAGE": image,
		"SERVER_NAME": server, "POSTGRES_PASSWORD": password,
	}
	portName := s.Name + "-port-db"
	t.Cleanup(func() { _, _ = dockertest.Docker(context.Background(), "rm", "--force", portName) })
	block := docBlock(t, "migration.md", "port-db")

	// First run, killed as soon as synapse_port_db has started copying
	// (its progress table exists in PostgreSQL).
	first := make(chan error, 1)
	go func() {
		out, err := runDocBlock(ctx, t.TempDir(), block, vars)
		t.Logf("interrupted port:\n%s", out)
		first <- err
	}()
	deadline := time.Now().Add(3 * time.Minute)
	for {
		n, err := psql(ctx, db, "synapse", "synapse", "SELECT count(*) FROM port_from_sqlite3")
		if err == nil && n != "0" {
			break
		}
		require.True(t, time.Now().Before(deadline), "synapse_port_db never started copying: %v", err)
		time.Sleep(50 * time.Millisecond)
	}
	dockertest.Must(t, ctx, "kill", portName)
	require.Error(t, <-first, "the first port was killed before it finished")
	done, err := psql(ctx, db, "synapse", "synapse", "SELECT count(*) FROM port_from_sqlite3")
	require.NoError(t, err)
	t.Logf("tables started or done when killed: %s", done)

	// The same commands again finish the port (exit 0: synapse_port_db
	// prints no final line, an error is a non-zero exit).
	out, err := runDocBlock(ctx, t.TempDir(), block, vars)
	require.NoError(t, err, out)
	assert.Contains(t, out, "Copying to postgres...", "synapse_port_db copied")
	assert.Contains(t, out, "porting /data/homeserver.db to PostgreSQL as 991:991", "port-db runs as the Synapse user")
	assert.NotContains(t, out, password, "the password is not printed")

	// The server on PostgreSQL, same volume, the POSTGRES_* variables added.
	dockertest.Must(t, ctx, "rm", s.Name)
	env := baseEnv(server)
	for k, v := range map[string]string{"POSTGRES_HOST": "db", "POSTGRES_USER": "synapse", "POSTGRES_DB": "synapse", "POSTGRES_PASSWORD": password} {
		env[k] = v
	}
	pg := runSynapse(t, server, "", dockertest.Options{Env: env, Network: net, Mounts: []string{vol + ":/data"}})
	hs = pg.homeserver(t)
	hs.Verify(ctx, t, res)
	for _, u := range []string{res.Admin.ID.Localpart(), res.Member.ID.Localpart()} {
		pass := res.Admin.Password
		if u == res.Member.ID.Localpart() {
			pass = res.Member.Password
		}
		hs.Login(ctx, t, u, pass)
	}
	users, err := psql(ctx, db, "synapse", "synapse", "SELECT name FROM users ORDER BY name")
	require.NoError(t, err)
	assert.Contains(t, users, string(res.Admin.ID), "the accounts are in PostgreSQL")
	assert.Contains(t, users, string(res.Member.ID))
	events, err := psql(ctx, db, "synapse", "synapse", "SELECT count(*) FROM events WHERE event_id = '"+strings.ReplaceAll(string(res.EventID), "'", "''")+"'")
	require.NoError(t, err)
	assert.Equal(t, "1", events, "the message is in PostgreSQL")
	// New writes go to PostgreSQL.
	sent, err := hs.Client(t, res.Admin.ID, res.Admin.Client.AccessToken).SendText(ctx, res.RoomID, "after the port")
	require.NoError(t, err)
	hs.WaitForMessage(ctx, t, hs.Client(t, res.Member.ID, res.Member.Client.AccessToken), res.RoomID, sent.EventID, "after the port")
}

// waitBackgroundUpdates waits until Synapse on SQLite has no background
// update left (read as the Synapse user, so that SQLite's -shm and -wal
// files keep their owner).
func waitBackgroundUpdates(ctx context.Context, t *testing.T, s *synapse) {
	t.Helper()
	const query = "import sqlite3; print(sqlite3.connect('/data/homeserver.db').execute('SELECT count(*) FROM background_updates').fetchone()[0])"
	deadline := time.Now().Add(5 * time.Minute)
	for {
		res, err := dockertest.Docker(ctx, "exec", "--user", "991:991", s.Name, "python3", "-c", query)
		require.NoError(t, err)
		n := strings.TrimSpace(res.Stdout)
		if n == "0" {
			return
		}
		require.True(t, time.Now().Before(deadline), "%s background updates still pending", n)
		time.Sleep(time.Second)
	}
}
