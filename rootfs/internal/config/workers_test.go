package config

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/synapse-image/synapse-image/rootfs/internal/workers"
)

func workerSettings(kv ...string) []string {
	return append([]string{"POSTGRES_PASSWORD", "pw", "SYNAPSE_REDIS_HOST", "redis", "SYNAPSE_NO_TLS", "no"}, kv...)
}

// TestWorkerKeysCoverTypes: every duty of the table of types reaches its
// key in the config, and the main turns off what the type takes.
func TestWorkerKeysCoverTypes(t *testing.T) {
	for _, typ := range workers.Types {
		t.Run(typ.Name, func(t *testing.T) {
			s := settings(t, workerSettings("SYNAPSE_WORKERS", typ.Name)...)
			m := roundTrip(t, Build(Input{Settings: s, Secrets: Secrets{WorkerReplicationSecret: "rs"}}))
			name := workers.InstanceName(typ.Name, 1)
			if d := typ.Duty; d != nil {
				if d.List {
					assert.Equal(t, []any{name}, m[d.Key])
				} else {
					assert.Equal(t, name, m[d.Key])
				}
				if d.MainOff != "" {
					assert.Equal(t, false, m[d.MainOff])
				}
			}
			if typ.Stream != "" {
				assert.Equal(t, map[string]any{typ.Stream: []any{name}}, m["stream_writers"])
			} else {
				assert.Nil(t, m["stream_writers"])
			}
			im := m["instance_map"].(map[string]any)
			assert.Equal(t, map[string]any{"host": "synapse", "port": 9093}, im["main"])
			if typ.Replication {
				assert.Equal(t, map[string]any{"host": name, "port": 9093}, im[name])
			} else {
				assert.NotContains(t, im, name)
			}
			assert.Equal(t, "rs", m["worker_replication_secret"])
			assert.Equal(t, map[string]any{"enabled": true, "host": "redis", "port": 6379}, m["redis"])
			assert.Nil(t, m["worker_app"], "the main has no worker keys")
		})
	}
}

func TestMainAndWorkerConfig(t *testing.T) {
	topology := "synchrotron:2,media_repository,event_persister,pusher"
	listener := func(port int, typ string, names ...string) map[string]any {
		l := map[string]any{"port": port, "bind_addresses": []any{"0.0.0.0"}, "type": typ, "tls": false}
		if len(names) > 0 {
			var n []any
			for _, s := range names {
				n = append(n, s)
			}
			l["resources"] = []any{map[string]any{"names": n, "compress": false}}
		}
		return l
	}
	main := roundTrip(t, Build(Input{Settings: settings(t, workerSettings("SYNAPSE_WORKERS", topology, "SYNAPSE_ENABLE_METRICS", "1")...)}))
	listeners := main["listeners"].([]any)
	require.Len(t, listeners, 4, "8008, 8448, metrics, replication")
	assert.Equal(t, listener(9093, "http", "replication"), listeners[3])
	assert.Equal(t, false, main["enable_media_repo"])
	assert.NotEmpty(t, main["tls_certificate_path"])

	for _, c := range []struct {
		name      string
		listeners []any
		media     any
	}{
		{"synchrotron-2", []any{withXF(listener(8008, "http", "client")), listener(19090, "metrics")}, nil},
		{"media-repository-1", []any{withXF(listener(8008, "http", "media")), listener(9093, "http", "replication"), listener(19090, "metrics")}, true},
		{"event-persister-1", []any{withXF(listener(8008, "http", "health")), listener(9093, "http", "replication"), listener(19090, "metrics")}, nil},
		{"pusher-1", []any{withXF(listener(8008, "http", "health")), listener(19090, "metrics")}, nil},
	} {
		t.Run(c.name, func(t *testing.T) {
			s := settings(t, workerSettings("SYNAPSE_WORKERS", topology, "SYNAPSE_WORKER_NAME", c.name, "SYNAPSE_ENABLE_METRICS", "1")...)
			m := roundTrip(t, Build(Input{Settings: s, LogConfig: "/data/generated/" + c.name + ".log.config"}))
			assert.Equal(t, "synapse.app.generic_worker", m["worker_app"])
			assert.Equal(t, c.name, m["worker_name"])
			assert.Equal(t, "/data/generated/"+c.name+".log.config", m["worker_log_config"])
			assert.Equal(t, c.listeners, m["worker_listeners"])
			assert.Equal(t, []any{}, m["listeners"], "a worker listens only on worker_listeners")
			assert.Nil(t, m["tls_certificate_path"], "a worker serves no TLS")
			if c.media != nil {
				assert.Equal(t, c.media, m["enable_media_repo"])
			} else {
				assert.Equal(t, false, m["enable_media_repo"])
			}
			for _, k := range []string{"instance_map", "stream_writers", "pusher_instances", "media_instance_running_background_jobs", "start_pushers", "redis"} {
				assert.Equal(t, main[k], m[k], "%s is shared", k)
			}
			cfg, logCfg := GeneratedFiles(s)
			assert.Equal(t, "/data/generated/"+c.name+".yaml", cfg)
			assert.Equal(t, "/data/generated/"+c.name+".log.config", logCfg)
		})
	}
	cfg, logCfg := GeneratedFiles(settings(t, workerSettings("SYNAPSE_WORKERS", topology)...))
	assert.Equal(t, "/data/generated/homeserver.yaml", cfg)
	assert.Equal(t, "/data/generated/log.config", logCfg)
}

func withXF(l map[string]any) map[string]any {
	l["x_forwarded"] = true
	return l
}

func TestRedisWithoutWorkers(t *testing.T) {
	m := roundTrip(t, Build(Input{Settings: settings(t, "SYNAPSE_REDIS_HOST", "r", "SYNAPSE_REDIS_PORT", "6380", "SYNAPSE_REDIS_PASSWORD", "p", "SYNAPSE_REDIS_DB", "2")}))
	assert.Equal(t, map[string]any{"enabled": true, "host": "r", "port": 6380, "password": "p", "dbid": 2}, m["redis"])
	assert.Nil(t, m["instance_map"])
	none := roundTrip(t, Build(Input{Settings: settings(t)}))
	assert.NotContains(t, none, "redis")
	assert.NotContains(t, none, "worker_replication_secret")
}
