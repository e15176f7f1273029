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
