package tests

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/synapse-image/synapse-image/internal/dockertest"
	"github.com/synapse-image/synapse-image/tests/internal/matrixflow"
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
	wctx, cancel := context.WithTimeout(ctx, healthTimeout)
	defer cancel()
	code, err = third.Wait(wctx)
	require.NoError(t, err, "a start on a /data in use exits by itself")
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
// at any moment: 0.5 s after the start (imports), and while the schema
// upgrade waits in a database call before the reactor runs.
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

	t.Run("in the schema upgrade, waiting on the database", func(t *testing.T) {
		t.Parallel()
		net := dockertest.Network(t)
		db := dockertest.Run(t, dockertest.Options{
			Image: postgresImage(t), Network: net, Aliases: []string{"db"},
			Env: postgresEnv("matrix", "pw", "synapse"),
		})
		db.WaitHealthy(ctx, healthTimeout)
		env := baseEnv(server)
		env["POSTGRES_PASSWORD"] = "pw"
		env["POSTGRES_HOST"] = "db"
		opts := dockertest.Options{Image: image, Env: env, Network: net, Mounts: []string{dockertest.Volume(t) + ":/data"}}
		first := dockertest.Run(t, opts)
		first.WaitHealthy(ctx, healthTimeout)
		_, err := first.Stop(ctx)
		require.NoError(t, err)

		// Another session holds schema_version: Synapse's schema check and
		// upgrade (prepare_database, before the reactor runs) waits in
		// psycopg2, in C, as during a long migration.
		_, err = dockertest.Docker(ctx, "exec", "-d", db.Name, "psql", "-U", "matrix", "-d", "synapse", "-c",
			"BEGIN; LOCK TABLE schema_version IN ACCESS EXCLUSIVE MODE; SELECT pg_sleep(600);")
		require.NoError(t, err)
		require.Eventually(t, func() bool {
			out, err := psql(ctx, db, "matrix", "synapse", "SELECT count(*) FROM pg_locks l JOIN pg_class c ON c.oid = l.relation WHERE c.relname = 'schema_version' AND l.mode = 'AccessExclusiveLock' AND l.granted")
			return err == nil && out == "1"
		}, time.Minute, 200*time.Millisecond, "the lock is taken")

		c := dockertest.Run(t, opts)
		c.WaitForLog(ctx, "Checking existing schema version", healthTimeout)
		time.Sleep(500 * time.Millisecond)
		stopWithin(t, c)
		_, stderr, err := c.Logs(ctx)
		require.NoError(t, err)
		assert.Regexp(t, `synapse-image: SIGTERM \(from pid \d+\) before Synapse could handle it: exiting now \(143\)`, stderr)
	})
}

// healthBound is how long Docker takes at most to call a container
// unhealthy once a probe fails for good: the image's HEALTHCHECK
// (interval 5 s, retries 3, timeout 5 s) — docs/start.md#health.
const healthBound = 3*5*time.Second + 5*time.Second

// earlyHookProbe blocks SIGTERM as /start does before it executes
// Synapse, imports synapse (its __init__ starts the image's early SIGTERM
// waiter) and interrupts the waiter's thread with another signal for two
// seconds: an interrupted sigtimedwait whose deadline had passed returned
// an unset siginfo (CPython), read as a SIGTERM from a random pid, and a
// few starts under load ended with 143 before Synapse was healthy.
const earlyHookProbe = `
import signal, threading, time
signal.signal(signal.SIGUSR1, lambda *a: None)
signal.pthread_sigmask(signal.SIG_BLOCK, [signal.SIGTERM])
import synapse
waiter = [t for t in threading.enumerate() if t.name == "synapse-image-early-sigterm"]
assert waiter, "the early SIGTERM hook is not waiting"
end = time.time() + 2
while time.time() < end:
    signal.pthread_kill(waiter[0].ident, signal.SIGUSR1)
    time.sleep(0.0005)
print("alive")
`

// TestEarlySigtermHookIgnoresOtherSignals: other signals never make the
// early SIGTERM hook end Synapse.
func TestEarlySigtermHookIgnoresOtherSignals(t *testing.T) {
	t.Parallel()
	image := synapseImage(t)
	res, err := dockertest.Docker(context.Background(), "run", "--rm", "--label", "e2e=1", "--entrypoint", "python3", image, "-c", earlyHookProbe)
	require.NoError(t, err, "%s%s", res.Stdout, res.Stderr)
	assert.Equal(t, "alive", strings.TrimSpace(res.Stdout), res.Stderr)
}

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

// minMemory is the image's measured minimum memory limit for a small
// server (SQLite, a few users): docs/configuration.md#memory.
const minMemory = "128m"

// Fault: the documented registration (register_new_matrix_user, a second
// Python process in the container's cgroup) got Synapse OOM-killed under a
// memory limit. The documented command now, /start register, at the
// documented minimum memory: the user is created and Synapse lives on.
func TestRegisterAtMinimumMemory(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	const server = "mem.e2e.test"
	s := runSynapse(t, server, "", dockertest.Options{Env: baseEnv(server), Memory: minMemory, Mounts: []string{dockertest.Volume(t) + ":/data"}})
	hs := s.homeserver(t)
	hs.Run(ctx, t)

	for _, admin := range []bool{false, true} {
		user := "e2e-reg-" + matrixflow.RandomSuffix()
		args := []string{"exec", s.Name, "/start", "register", "-u", user, "-p", "reg pass"}
		role := "user"
		if admin {
			args, role = append(args, "--admin"), "admin"
		}
		out, err := dockertest.Combined(ctx, args...)
		require.NoError(t, err, "/start register: %s", out)
		assert.Equal(t, "registered @"+user+":"+server+" ("+role+")\n", out)
		hs.Login(ctx, t, user, "reg pass")
	}
	// The password from standard input (docker exec -i), not on the command line.
	user := "e2e-stdin-" + matrixflow.RandomSuffix()
	res, err := dockertest.DockerStdin(ctx, strings.NewReader("from stdin\n"), "exec", "-i", s.Name, "/start", "register", "-u", user, "--password-file", "-")
	require.NoError(t, err, "%s", res.Stderr)
	hs.Login(ctx, t, user, "from stdin")

	st, err := s.State(ctx)
	require.NoError(t, err)
	assert.True(t, st.Running, "Synapse still runs")
	assert.False(t, st.OOMKilled, "Synapse was not OOM-killed")
	pid1, err := s.Exec(ctx, "cat", "/proc/1/cmdline")
	require.NoError(t, err)
	assert.Contains(t, pid1, "synapse.app.homeserver", "the same Synapse, PID 1")
}
