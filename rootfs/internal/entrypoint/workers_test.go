package entrypoint

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"gopkg.in/yaml.v3"
)

// TestBadTopologies: every refusal of a bad topology is one line, exit 2,
// in check and in run, with nothing written.
func TestBadTopologies(t *testing.T) {
	pg := []string{"POSTGRES_PASSWORD", "pw", "POSTGRES_WAIT_TIMEOUT", "0"}
	redis := []string{"SYNAPSE_REDIS_HOST", "redis"}
	all := append(append([]string{}, pg...), redis...)
	for _, tc := range []struct {
		name    string
		env     []string
		modules map[string]bool
		want    string
	}{
		{"unknown type", append([]string{"SYNAPSE_WORKERS", "synchrotron,frontend_proxy"}, all...), map[string]bool{RedisModule: true},
			`SYNAPSE_WORKERS: unknown worker type "frontend_proxy"`},
		{"singleton twice", append([]string{"SYNAPSE_WORKERS", "presence:2"}, all...), map[string]bool{RedisModule: true},
			"SYNAPSE_WORKERS: presence:2: only one presence may run (Synapse allows one writer of the presence stream)"},
		{"duplicate instance", append([]string{"SYNAPSE_WORKERS", "pusher:2,pusher"}, all...), map[string]bool{RedisModule: true},
			"SYNAPSE_WORKERS: lists pusher twice"},
		{"unknown instance", append([]string{"SYNAPSE_WORKERS", "pusher:2", "SYNAPSE_WORKER_NAME", "pusher-3"}, all...), map[string]bool{RedisModule: true},
			`SYNAPSE_WORKER_NAME: expected an instance of SYNAPSE_WORKERS (pusher-1, pusher-2)`},
		{"sqlite", append([]string{"SYNAPSE_WORKERS", "pusher"}, redis...), map[string]bool{RedisModule: true},
			"SYNAPSE_WORKERS: workers need PostgreSQL"},
		{"no redis", append([]string{"SYNAPSE_WORKERS", "pusher"}, pg...), map[string]bool{RedisModule: true},
			"SYNAPSE_WORKERS: workers need Redis, their replication channel: set SYNAPSE_REDIS_HOST"},
		{"redis without txredisapi", append([]string{"SYNAPSE_WORKERS", "pusher"}, all...), nil,
			"SYNAPSE_REDIS_HOST: redis.enabled is true, but the image lacks the Python module txredisapi"},
	} {
		for _, mode := range []string{"check", "run"} {
			t.Run(tc.name+"/"+mode, func(t *testing.T) {
				h := newHarness(t, tc.env...)
				h.modules = tc.modules
				code := h.main(mode)
				assert.Equal(t, ExitUsage, code, h.stderr.String())
				require.Equal(t, 1, strings.Count(h.stderr.String(), "\n"), h.stderr.String())
				assert.Contains(t, h.stderr.String(), "start: error: "+tc.want)
				assert.NoDirExists(t, h.data, "nothing written")
				assert.Nil(t, h.exec)
			})
		}
	}
}

// workerEnv is a topology with PostgreSQL (not waited for) and Redis.
func workerEnv(kv ...string) []string {
	return append([]string{"SYNAPSE_WORKERS", "synchrotron:2,event_persister,media_repository", "POSTGRES_PASSWORD", "pw", "POSTGRES_WAIT_TIMEOUT", "0",
		"SYNAPSE_REDIS_HOST", "redis", "SYNAPSE_NO_TLS", "1"}, kv...)
}

func workerHarness(t *testing.T, data string, kv ...string) *harness {
	h := newHarness(t, workerEnv(kv...)...)
	h.data = data
	h.env["SYNAPSE_DATA_DIR"] = data
	h.modules = map[string]bool{RedisModule: true}
	return h
}

// secretFiles are the main's key and secret files, by name, with content.
func secretFiles(t *testing.T, h *harness) map[string]string {
	out := map[string]string{}
	for _, f := range []string{"example.com.signing.key", "example.com.registration.key", "example.com.macaroon.key", "example.com.form.key", "example.com.replication.key"} {
		b, err := os.ReadFile(h.path(f))
		if err == nil {
			out[f] = string(b)
		}
	}
	return out
}

// TestMainThenWorkers: the main creates the shared secrets (the
// replication secret too); a worker in the same data directory writes its
// own config, with the main's secrets, creates none, and runs its app.
func TestMainThenWorkers(t *testing.T) {
	data := filepath.Join(t.TempDir(), "data")
	main := workerHarness(t, data)
	require.Equal(t, ExitOK, main.main("run"), main.stderr.String())
	require.NotNil(t, main.exec)
	assert.Equal(t, []string{"python3", "-s", "-P", "-m", "synapse.app.homeserver", "--config-path", main.path("generated/homeserver.yaml")}, main.exec.argv)
	keys := secretFiles(t, main)
	require.Len(t, keys, 5, "the main created every key and secret")
	mainCfg := main.generated()
	assert.Equal(t, keys["example.com.replication.key"], mainCfg["worker_replication_secret"])
	assert.Equal(t, false, mainCfg["enable_media_repo"])
	assert.Nil(t, mainCfg["worker_app"])

	for _, name := range []string{"synchrotron-2", "event-persister-1", "media-repository-1"} {
		t.Run(name, func(t *testing.T) {
			w := workerHarness(t, data, "SYNAPSE_WORKER_NAME", name)
			require.Equal(t, ExitOK, w.main("run"), w.stderr.String())
			require.NotNil(t, w.exec)
			assert.Equal(t, []string{"python3", "-s", "-P", "-m", "synapse.app.generic_worker", "--config-path", w.path("generated/" + name + ".yaml")}, w.exec.argv)
			assert.Equal(t, keys, secretFiles(t, w), "a worker creates and changes no key")
			var cfg map[string]any
			require.NoError(t, yaml.Unmarshal([]byte(w.read("generated/"+name+".yaml")), &cfg))
			assert.Equal(t, name, cfg["worker_name"])
			assert.Equal(t, w.path("generated/"+name+".log.config"), cfg["worker_log_config"])
			assert.FileExists(t, w.path("generated/"+name+".log.config"))
			for _, k := range []string{"macaroon_secret_key", "form_secret", "registration_shared_secret", "worker_replication_secret", "signing_key_path", "instance_map", "stream_writers", "redis", "database"} {
				assert.Equal(t, mainCfg[k], cfg[k], k)
			}
			assert.Equal(t, mainCfg, main.generated(), "the main's config is untouched")
		})
	}
}

// TestWorkerNeverCreatesKeys: a worker started before the main waits,
// bounded, for the main's keys, and exits with one line naming them.
func TestWorkerNeverCreatesKeys(t *testing.T) {
	data := filepath.Join(t.TempDir(), "data")
	w := workerHarness(t, data, "SYNAPSE_WORKER_NAME", "synchrotron-1", "SYNAPSE_WORKER_WAIT_TIMEOUT", "0")
	assert.Equal(t, ExitFailure, w.main("run"))
	assert.Equal(t, 1, strings.Count(w.stderr.String(), "start: error:"), w.stderr.String())
	assert.Contains(t, w.stderr.String(), "start: error: SYNAPSE_WORKER_NAME=synchrotron-1: the main process has not created "+
		w.path("example.com.registration.key")+", "+w.path("example.com.macaroon.key")+", "+w.path("example.com.form.key")+", "+
		w.path("example.com.replication.key")+", "+w.path("example.com.signing.key")+" (waited 0s, SYNAPSE_WORKER_WAIT_TIMEOUT): a worker never creates the main's keys and secrets")
	assert.Empty(t, secretFiles(t, w), "no key created")
	assert.NoFileExists(t, w.path("generated/synchrotron-1.yaml"))
	assert.Nil(t, w.exec)
}

// TestWorkerWaitsForMain: the worker goes on as soon as the main's keys
// appear during its wait.
func TestWorkerWaitsForMain(t *testing.T) {
	data := filepath.Join(t.TempDir(), "data")
	main := workerHarness(t, data)
	require.Equal(t, ExitOK, main.main("run"), main.stderr.String())
	keys := secretFiles(t, main)
	aside := t.TempDir()
	for f := range keys {
		require.NoError(t, os.Rename(main.path(f), filepath.Join(aside, f)))
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		time.Sleep(600 * time.Millisecond)
		for f := range keys {
			if err := os.Rename(filepath.Join(aside, f), main.path(f)); err != nil {
				t.Error(err)
			}
		}
	}()
	w := workerHarness(t, data, "SYNAPSE_WORKER_NAME", "synchrotron-1", "SYNAPSE_WORKER_WAIT_TIMEOUT", "30")
	code := w.main("run")
	<-done
	require.Equal(t, ExitOK, code, w.stderr.String())
	assert.Contains(t, w.stderr.String(), "start: waiting up to 30s for the main process to create ")
	assert.Equal(t, keys, secretFiles(t, w))
	var cfg map[string]any
	require.NoError(t, yaml.Unmarshal([]byte(w.read("generated/synchrotron-1.yaml")), &cfg))
	assert.Equal(t, keys["example.com.macaroon.key"], cfg["macaroon_secret_key"])
}

// TestCheckWorker: check prints the worker's config, secrets masked, and
// writes nothing.
func TestCheckWorker(t *testing.T) {
	data := filepath.Join(t.TempDir(), "data")
	w := workerHarness(t, data, "SYNAPSE_WORKER_NAME", "media-repository-1", "SYNAPSE_REPLICATION_SECRET", "very-secret", "SYNAPSE_REDIS_PASSWORD", "redis-secret")
	require.Equal(t, ExitOK, w.main("check"), w.stderr.String())
	out := w.stdout.String()
	assert.Contains(t, out, "# The config /start run would write to "+w.path("generated/media-repository-1.yaml"))
	assert.Contains(t, out, "worker_app: \"synapse.app.generic_worker\"\n")
	assert.Contains(t, out, "worker_log_config: \""+w.path("generated/media-repository-1.log.config")+"\"\n", "the log config run writes for the worker")
	assert.Contains(t, out, "worker_replication_secret: \"<secret>\"\n")
	assert.NotContains(t, out, "very-secret")
	assert.NotContains(t, out, "redis-secret")
	assert.NoDirExists(t, data)
}
