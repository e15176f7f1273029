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

// Fault: two containers on one /data (an operator's mistake, or a restart
// policy bringing back the loser of a race). Started together on a fresh
// volume, exactly one serves and the other exits 2; a third started later
// is refused with a line naming the holder; the server keeps serving.
func TestOneServerPerDataDir(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	const server = "lock.e2e.test"
	image := synapseImage(t)
	vol := dockertest.Volume(t)
	opts := dockertest.Options{Image: image, Env: baseEnv(server), Mounts: []string{vol + ":/data"}, Ports: []string{"8008"}}
	a, b := dockertest.Run(t, opts), dockertest.Run(t, opts)

	// The loser of the race exits by itself; the winner becomes healthy.
	var winner, loser *dockertest.Container
	deadline := time.Now().Add(healthTimeout)
	for winner == nil && time.Now().Before(deadline) {
		for _, c := range []*dockertest.Container{a, b} {
			st, err := c.State(ctx)
			require.NoError(t, err)
			if !st.Running {
				winner, loser = a, b
				if c == a {
					winner, loser = b, a
				}
			}
		}
		time.Sleep(200 * time.Millisecond)
	}
	require.NotNil(t, loser, "one of two containers on one /data exits")
	code, err := loser.Wait(ctx)
	require.NoError(t, err)
	assert.Equal(t, 2, code, "the second server on one /data exits 2")
	_, stderr, err := loser.Logs(ctx)
	require.NoError(t, err)
	assert.Contains(t, stderr, "start: error: SYNAPSE_DATA_DIR: /data is in use by another Synapse")
	winner.WaitHealthy(ctx, healthTimeout)

	// Later, with the first one serving: refused, naming the holder (its
	// host name, the container's short id).
	third := dockertest.Run(t, opts)
	code, err = third.Wait(ctx)
	require.NoError(t, err)
	assert.Equal(t, 2, code, "a start on a /data in use exits 2")
	_, stderr, err = third.Logs(ctx)
	require.NoError(t, err)
	host, err := winner.Exec(ctx, "cat", "/etc/hostname")
	require.NoError(t, err)
	lines := strings.Split(strings.TrimSpace(stderr), "\n")
	assert.Regexp(t, `^start: error: SYNAPSE_DATA_DIR: /data is in use by another Synapse \(container `+strings.TrimSpace(host)+`, since [0-9T:Z-]+\): one server per data directory`, lines[len(lines)-1], "one line naming the holder")

	// The first one is untouched: still healthy, never restarted, serving.
	st, err := winner.State(ctx)
	require.NoError(t, err)
	assert.True(t, st.Running)
	s := &synapse{Container: winner, ServerName: server}
	hs := s.homeserver(t)
	hs.Run(ctx, t)
}

// Fault: docker stop during start-up. As PID 1, Synapse ignored SIGTERM
// until Twisted installed its handler: every stop in the first seconds
// waited Docker's 10 s and ended in SIGKILL (137). Now it exits within 2 s
// at any moment: 0.5 s after the start (imports), and while it waits in a
// database call before the reactor runs, where a schema upgrade runs (here:
// another process holds SQLite's lock, so Synapse's first statements wait
// in C, as in a long migration).
func TestStopDuringStart(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	const server = "stop.e2e.test"
	image := synapseImage(t)

	stopWithin := func(t *testing.T, c *dockertest.Container) {
		t.Helper()
		took, err := c.Stop(ctx)
		require.NoError(t, err)
		st, err := c.State(ctx)
		require.NoError(t, err)
		assert.Less(t, took, 2*time.Second, "docker stop returns within 2 s")
		assert.NotEqual(t, 137, st.ExitCode, "not killed by SIGKILL after Docker's timeout")
		assert.Contains(t, []int{0, 143}, st.ExitCode, "ended by the SIGTERM (143) or Twisted's shutdown (0)")
	}

	t.Run("at 0.5 s", func(t *testing.T) {
		t.Parallel()
		c := dockertest.Run(t, dockertest.Options{Image: image, Env: baseEnv(server), Mounts: []string{dockertest.Volume(t) + ":/data"}})
		time.Sleep(500 * time.Millisecond)
		stopWithin(t, c)
	})

	t.Run("in a database call before the reactor runs", func(t *testing.T) {
		t.Parallel()
		vol := dockertest.Volume(t)
		opts := dockertest.Options{Image: image, Env: baseEnv(server), Mounts: []string{vol + ":/data"}}
		first := dockertest.Run(t, opts)
		first.WaitHealthy(ctx, healthTimeout)
		_, err := first.Stop(ctx)
		require.NoError(t, err)

		// Another process (not a server: no /start, no data directory lock)
		// holds SQLite's exclusive lock.
		holder := dockertest.Run(t, dockertest.Options{
			Image: image, User: "991:991", Mounts: []string{vol + ":/data"},
			Args: []string{"-c", "import sqlite3, time\n" +
				"c = sqlite3.connect('/data/homeserver.db', isolation_level=None)\n" +
				"c.execute('BEGIN EXCLUSIVE')\n" +
				"print('locked', flush=True)\n" +
				"time.sleep(600)\n"},
			Entrypoint: "python3",
		})
		holder.WaitForLog(ctx, "locked", time.Minute)

		c := dockertest.Run(t, opts)
		c.WaitForLog(ctx, "Setting up server", time.Minute)
		time.Sleep(300 * time.Millisecond)
		stopWithin(t, c)
	})
}

// healthBound is how long Docker takes at most to call a container
// unhealthy once a probe fails for good: the image's HEALTHCHECK
// (interval 5 s, retries 3, timeout 5 s) — docs/start.md#health.
const healthBound = 3*5*time.Second + 5*time.Second

// Fault: PostgreSQL stopped. Every send and /sync got a 500 while Docker
// said healthy; now the health check sees it within healthBound, and the
// container is healthy again once PostgreSQL is back, without a restart.
func TestHealthSeesPostgreSQL(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	const server = "pghealth.e2e.test"
	pgImage := postgresImage(t)
	image := synapseImage(t)
	net := dockertest.Network(t)
	env := baseEnv(server)
	env["POSTGRES_PASSWORD"] = "pw"
	env["POSTGRES_HOST"] = "db"
	db := dockertest.Run(t, dockertest.Options{
		Image: pgImage, Network: net, Aliases: []string{"db"},
		Env: postgresEnv("matrix", "pw", "synapse"), Mounts: []string{dockertest.Volume(t) + ":/var/lib/postgresql/data"},
	})
	db.WaitHealthy(ctx, healthTimeout)
	syn := runSynapse(t, server, "", dockertest.Options{Image: image, Env: env, Network: net, Mounts: []string{dockertest.Volume(t) + ":/data"}})
	started := startedAt(t, syn.Container)

	_, err := db.Stop(ctx)
	require.NoError(t, err)
	took := syn.WaitHealth(ctx, "unhealthy", 2*healthBound)
	assert.LessOrEqual(t, took, healthBound, "unhealthy within the documented time")
	out, err := dockertest.Combined(ctx, "exec", syn.Name, "/start", "health")
	assert.Error(t, err, "/start health fails")
	assert.Contains(t, out, "start: error: database: PostgreSQL at db:5432")

	require.NoError(t, db.Start(ctx))
	syn.WaitHealth(ctx, "healthy", 2*healthBound)
	assert.Equal(t, started, startedAt(t, syn.Container), "the same Synapse: not restarted")
	hs := syn.homeserver(t)
	hs.Run(ctx, t)
}

// Fault: /data full (a small tmpfs filled up). Uploads, sends, /sync and
// login got 500 while Docker said healthy; now it is unhealthy, and healthy
// again once there is room.
func TestHealthSeesAFullDisk(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	const server = "full.e2e.test"
	syn := runSynapse(t, server, "", dockertest.Options{Env: baseEnv(server), Tmpfs: []string{"/data:size=160m"}})

	// dd stops at ENOSPC (and fails): the file system is full.
	out, err := dockertest.Combined(ctx, "exec", "--user", "991:991", syn.Name, "dd", "if=/dev/zero", "of=/data/filler", "bs=1M")
	require.Error(t, err, "dd fills /data up: %s", out)
	require.Contains(t, out, "No space left on device")
	took := syn.WaitHealth(ctx, "unhealthy", 2*healthBound)
	assert.LessOrEqual(t, took, healthBound, "unhealthy within the documented time")
	out, err = dockertest.Combined(ctx, "exec", syn.Name, "/start", "health")
	assert.Error(t, err)
	assert.Contains(t, out, "start: error: disk: /data has ")

	_, err = dockertest.Combined(ctx, "exec", syn.Name, "rm", "/data/filler")
	require.NoError(t, err)
	syn.WaitHealth(ctx, "healthy", 2*healthBound)
}

func startedAt(t *testing.T, c *dockertest.Container) string {
	t.Helper()
	res, err := dockertest.Docker(context.Background(), "inspect", "--format", "{{.State.StartedAt}}", c.Name)
	require.NoError(t, err)
	return strings.TrimSpace(res.Stdout)
}
