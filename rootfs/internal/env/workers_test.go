package env

import (
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// withWorkers is an environment where workers may run: PostgreSQL and Redis.
func withWorkers(kv ...string) map[string]string {
	return with(append([]string{"POSTGRES_PASSWORD", "pw", "SYNAPSE_REDIS_HOST", "redis"}, kv...)...)
}

func TestLoadWorkersValid(t *testing.T) {
	for _, tc := range []struct {
		name  string
		env   map[string]string
		check func(t *testing.T, s Settings)
	}{
		{"no workers, no redis", base(), func(t *testing.T, s Settings) {
			assert.Nil(t, s.Workers)
			assert.Nil(t, s.Redis)
		}},
		{"redis defaults", with("SYNAPSE_REDIS_HOST", "redis"), func(t *testing.T, s Settings) {
			assert.Equal(t, &Redis{Host: "redis", Port: 6379}, s.Redis)
			assert.Nil(t, s.Workers, "Redis alone is no worker")
		}},
		{"redis", with("SYNAPSE_REDIS_HOST", " redis.internal ", "SYNAPSE_REDIS_PORT", "6380", "SYNAPSE_REDIS_PASSWORD", "p w", "SYNAPSE_REDIS_DB", "3"), func(t *testing.T, s Settings) {
			assert.Equal(t, &Redis{Host: "redis.internal", Port: 6380, Password: "p w", DB: 3}, s.Redis)
		}},
		{"redis variables without host warn", with("SYNAPSE_REDIS_PORT", "6380"), func(t *testing.T, s Settings) {
			assert.Nil(t, s.Redis)
			require.Len(t, s.Warnings, 1)
			assert.Contains(t, s.Warnings[0], "SYNAPSE_REDIS_PORT is set but SYNAPSE_REDIS_HOST is not")
		}},
		{"main of a topology", withWorkers("SYNAPSE_WORKERS", "synchrotron:2, pusher"), func(t *testing.T, s Settings) {
			require.NotNil(t, s.Workers)
			assert.Equal(t, []string{"pusher-1", "synchrotron-1", "synchrotron-2"}, s.Workers.Topology.Names())
			assert.Equal(t, "", s.Workers.Name)
			assert.Equal(t, "synapse", s.Workers.MainHost)
			assert.Equal(t, time.Minute, s.Workers.WaitTimeout)
			_, isWorker := s.Workers.Worker()
			assert.False(t, isWorker)
		}},
		{"a worker", withWorkers("SYNAPSE_WORKERS", "synchrotron:2", "SYNAPSE_WORKER_NAME", "synchrotron-2", "SYNAPSE_WORKER_MAIN_HOST", "synapse-main", "SYNAPSE_REPLICATION_SECRET", "s", "SYNAPSE_WORKER_WAIT_TIMEOUT", "2m"), func(t *testing.T, s Settings) {
			in, ok := s.Workers.Worker()
			require.True(t, ok)
			assert.Equal(t, "synchrotron-2", in.Name)
			assert.Equal(t, "synchrotron", in.Type.Name)
			assert.Equal(t, "synapse-main", s.Workers.MainHost)
			assert.Equal(t, "s", s.Workers.ReplicationSecret)
			assert.Equal(t, 2*time.Minute, s.Workers.WaitTimeout)
		}},
		{"a replica of a scalable type", withWorkers("SYNAPSE_WORKERS", "synchrotron", "SYNAPSE_WORKER_NAME", "synchrotron", "HOSTNAME", "5fa9a14f2f3d"), func(t *testing.T, s Settings) {
			in, ok := s.Workers.Worker()
			require.True(t, ok)
			assert.Equal(t, "synchrotron-5fa9a14f2f3d", in.Name)
			assert.Equal(t, "synchrotron-5fa9a14f2f3d", s.Workers.Name)
			got, ok, err := WorkerInstance(Map(withWorkers("SYNAPSE_WORKERS", "synchrotron", "SYNAPSE_WORKER_NAME", "synchrotron", "HOSTNAME", "5fa9a14f2f3d")))
			require.NoError(t, err)
			assert.True(t, ok)
			assert.Equal(t, in, got)
		}},
		{"worker variables without workers warn", with("SYNAPSE_WORKER_MAIN_HOST", "main", "SYNAPSE_REPLICATION_SECRET", "s", "SYNAPSE_WORKER_WAIT_TIMEOUT", "2m"), func(t *testing.T, s Settings) {
			assert.Nil(t, s.Workers)
			assert.Len(t, s.Warnings, 3)
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, err := Load(Map(tc.env))
			require.NoError(t, err)
			tc.check(t, s)
		})
	}
}

// TestLoadWorkersInvalid: the refusals of bad topologies, one line each
// naming the variable.
func TestLoadWorkersInvalid(t *testing.T) {
	for _, tc := range []struct {
		env     map[string]string
		varName string
		expect  string
	}{
		{withWorkers("SYNAPSE_WORKERS", "synchrotron,nope"), "SYNAPSE_WORKERS", `unknown worker type "nope"`},
		{withWorkers("SYNAPSE_WORKERS", "typing:2"), "SYNAPSE_WORKERS", "only one typing may run"},
		{withWorkers("SYNAPSE_WORKERS", "background_worker:2"), "SYNAPSE_WORKERS", "only one background_worker may run"},
		{withWorkers("SYNAPSE_WORKERS", "pusher,pusher"), "SYNAPSE_WORKERS", "lists pusher twice"},
		{withWorkers("SYNAPSE_WORKERS", "synchrotron:2", "SYNAPSE_WORKER_NAME", "synchrotron-3"), "SYNAPSE_WORKER_NAME", `expected an instance of SYNAPSE_WORKERS (synchrotron-1, synchrotron-2), a scalable type of it for a replica (synchrotron), or unset for the main process, got "synchrotron-3"`},
		{withWorkers("SYNAPSE_WORKER_NAME", "synchrotron-1"), "SYNAPSE_WORKER_NAME", "SYNAPSE_WORKERS is empty"},
		{withWorkers("SYNAPSE_WORKERS", "pusher", "SYNAPSE_WORKER_NAME", "pusher", "HOSTNAME", "abc"), "SYNAPSE_WORKER_NAME", "name one of them (pusher-N)"},
		{with("SYNAPSE_REDIS_HOST", "redis", "SYNAPSE_WORKERS", "synchrotron"), "SYNAPSE_WORKERS", "workers need PostgreSQL"},
		{with("POSTGRES_PASSWORD", "pw", "SYNAPSE_WORKERS", "synchrotron"), "SYNAPSE_WORKERS", "workers need Redis"},
		{withWorkers("SYNAPSE_WORKERS", "synchrotron", "SYNAPSE_WORKER_MAIN_HOST", "http://main"), "SYNAPSE_WORKER_MAIN_HOST", "host name"},
		{withWorkers("SYNAPSE_WORKERS", "synchrotron", "SYNAPSE_WORKER_MAIN_HOST", "synapse_main"), "SYNAPSE_WORKER_MAIN_HOST", "host name"},
		{withWorkers("SYNAPSE_REDIS_PORT", "0"), "SYNAPSE_REDIS_PORT", "port number"},
		{withWorkers("SYNAPSE_REDIS_DB", "-1"), "SYNAPSE_REDIS_DB", "whole number"},
		{withWorkers("SYNAPSE_WORKERS", "pusher", "SYNAPSE_WORKER_WAIT_TIMEOUT", "soon"), "SYNAPSE_WORKER_WAIT_TIMEOUT", "expected seconds or a duration"},
	} {
		t.Run(tc.varName+"/"+tc.expect, func(t *testing.T) {
			_, err := Load(Map(tc.env))
			require.Error(t, err)
			var e *Error
			require.True(t, errors.As(err, &e), "want *env.Error, got %T", err)
			assert.Equal(t, tc.varName, e.Var)
			assert.Contains(t, err.Error(), tc.expect)
			assert.NotContains(t, err.Error(), "\n")
		})
	}
}
