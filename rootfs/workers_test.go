package rootfs_test

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/synapse-image/synapse-image/internal/dockertest"
	"github.com/synapse-image/synapse-image/rootfs/internal/workers"
)

// TestWorkerTypesMatchImage: the table of worker types agrees with what the
// image's Synapse says about workers in its own config code (streams and
// whether they allow several writers, the keys of each duty, the app).
func TestWorkerTypesMatchImage(t *testing.T) {
	d := setupDocker(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	script := filepath.Join(t.TempDir(), "facts.py")
	require.NoError(t, os.WriteFile(script, workers.FactsScript, 0o644))
	require.NoError(t, os.Chmod(filepath.Dir(script), 0o755))
	res, err := dockertest.Docker(ctx, "run", "--rm", "--user", "991:991", "-v", script+":/facts.py:ro", "--entrypoint", "python3",
		d.image, "-P", "/facts.py")
	require.NoError(t, err, "%s", res.Stderr)
	facts, err := workers.ParseFacts([]byte(res.Stdout))
	require.NoError(t, err, res.Stdout)
	require.NotEmpty(t, facts.Streams, "facts.py found no streams")
	for _, problem := range workers.Compare(workers.Types, workers.MainOnlyStreams, facts) {
		t.Error(problem)
	}
}

// workersTopology is the example: every type but the event
// creator, several instances where Synapse allows them.
const workersTopology = "synchrotron:2,client_reader,federation_inbound,federation_reader,federation_sender:2,media_repository,pusher,appservice,user_dir,background_worker,event_persister:2,typing,to_device,account_data,receipts,presence,push_rules,device_lists"

// workerEnv is the environment of one process of the topology: the main
// when name is "".
func workerEnv(name string) map[string]string {
	env := map[string]string{
		"SYNAPSE_SERVER_NAME": "matrix.example.org", "SYNAPSE_REPORT_STATS": "no", "SYNAPSE_NO_TLS": "1",
		"POSTGRES_PASSWORD": "pg-password", "POSTGRES_HOST": "postgres", "POSTGRES_WAIT_TIMEOUT": "0",
		"SYNAPSE_REDIS_HOST": "redis", "SYNAPSE_REDIS_PASSWORD": "redis-password",
		"SYNAPSE_WORKERS": workersTopology, "SYNAPSE_WORKER_MAIN_HOST": "synapse",
	}
	if name != "" {
		env["SYNAPSE_WORKER_NAME"] = name
	}
	return env
}

// workerOutput is the config /start writes for name, relative to /data.
func workerOutput(name string) string {
	if name == "" {
		return "generated/homeserver.yaml"
	}
	return "generated/" + name + ".yaml"
}

// goldenWorkers are the processes whose configs are kept as golden files:
// the main and one worker of each kind of listener.
var goldenWorkers = []string{"", "synchrotron-2", "media-repository-1", "event-persister-1", "federation-sender-1", "federation-inbound-1"}

// TestWorkersGolden: the main's config, then the workers' in the same data
// directory, against their golden files (-update rewrites them).
func TestWorkersGolden(t *testing.T) {
	dir := t.TempDir()
	for _, name := range goldenWorkers {
		runCase(t, goldenCase{name: "workers " + name, mode: "run", env: workerEnv(name)}, dir)
		got, err := os.ReadFile(filepath.Join(dir, workerOutput(name)))
		require.NoError(t, err)
		got = asData(got, dir)
		file := name
		if file == "" {
			file = "main"
		}
		path := filepath.Join("testdata", "golden", "workers", file+".yaml")
		if *update {
			require.NoError(t, os.MkdirAll(filepath.Dir(path), 0o755))
			require.NoError(t, os.WriteFile(path, got, 0o644))
			continue
		}
		want, err := os.ReadFile(path)
		require.NoError(t, err, "missing golden file; run go test ./rootfs -run TestWorkersGolden -update")
		assert.Equal(t, string(want), string(got), "%s differs; if intended, run go test ./rootfs -run TestWorkersGolden -update", path)
	}
}

// workerFacts is run by the image's python3: Synapse loads each config (as
// a process of the topology would) and prints, as JSON, who it thinks does
// what.
const workerFacts = `
import json, sys
from synapse.config.homeserver import HomeServerConfig

out = {}
for path in sys.argv[1:]:
    c = HomeServerConfig.load_config("acceptance", ["--config-path", path])
    w = c.worker
    listeners = w.worker_listeners if w.worker_app else c.server.listeners
    out[path] = {
        "instance_name": w.instance_name,
        "worker_app": w.worker_app,
        "writers": {s: list(getattr(w.writers, s)) for s in ("events", "typing", "to_device", "account_data", "receipts", "presence", "push_rules", "device_lists", "quarantined_media_changes")},
        "instance_map": sorted(w.instance_map),
        "send_federation": w.send_federation,
        "start_pushers": w.start_pushers,
        "run_background_tasks": w.run_background_tasks,
        "should_notify_appservices": w.should_notify_appservices,
        "should_update_user_directory": w.should_update_user_directory,
        "can_load_media_repo": c.media.can_load_media_repo,
        "media_background": getattr(c.media, "media_instance_running_background_jobs", None),
        "redis": [c.redis.redis_enabled, c.redis.redis_host, c.redis.redis_port],
        "listeners": [[l.port, sorted(n for r in l.http_options.resources for n in r.names)] for l in listeners if l.http_options],
        "replication_secret": bool(w.worker_replication_secret),
    }
print(json.dumps(out))
`

type synapseWorkerFacts struct {
	InstanceName              string              `json:"instance_name"`
	WorkerApp                 *string             `json:"worker_app"`
	Writers                   map[string][]string `json:"writers"`
	InstanceMap               []string            `json:"instance_map"`
	SendFederation            bool                `json:"send_federation"`
	StartPushers              bool                `json:"start_pushers"`
	RunBackgroundTasks        bool                `json:"run_background_tasks"`
	ShouldNotifyAppservices   bool                `json:"should_notify_appservices"`
	ShouldUpdateUserDirectory bool                `json:"should_update_user_directory"`
	CanLoadMediaRepo          bool                `json:"can_load_media_repo"`
	MediaBackground           *string             `json:"media_background"`
	Redis                     []any               `json:"redis"`
	Listeners                 [][]any             `json:"listeners"`
	ReplicationSecret         bool                `json:"replication_secret"`
}

// TestSynapseAcceptsWorkerConfigs: /start in the image writes the main's
// config and then each worker's, in one data directory, and the image's
// Synapse loads every one and agrees on who does what: each instance
// writes its stream, does its job, listens with its type's resources, and
// the main no longer does what the workers took.
func TestSynapseAcceptsWorkerConfigs(t *testing.T) {
	d := setupDocker(t)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	requireModule(ctx, t, d.image, "txredisapi")
	dir := dataDir(t)
	top, err := workers.ParseTopology(workersTopology)
	require.NoError(t, err)
	names := append([]string{""}, top.Names()...)

	// The main first (Synapse only checks its keys: --generate-keys), then
	// every worker in one container: /start writes the worker's config and
	// runs its app with --help, which exits before serving.
	args := []string{"run", "--rm", "--name", dockertest.UniqueName("start-workers"), "-v", d.bin + ":/start:ro", "-v", dir + ":/data", "--entrypoint", "sh"}
	args = append(args, envArgs(workerEnv(""))...)
	script := "set -e; /start run --generate-keys; for n in " + strings.Join(top.Names(), " ") + "; do SYNAPSE_WORKER_NAME=$n /start run --help >/dev/null; done"
	out, err := dockertest.Combined(ctx, append(args, d.image, "-c", script)...)
	require.NoError(t, err, "/start in %s: %s", d.image, out)
	assert.NotContains(t, out, "error")

	var paths []string
	for _, n := range names {
		paths = append(paths, "/data/"+workerOutput(n))
	}
	res, err := dockertest.Docker(ctx, append([]string{"run", "--rm", "--name", dockertest.UniqueName("start-workers-load"), "--user", "991:991", "-v", dir + ":/data",
		"--entrypoint", "python3", d.image, "-P", "-c", workerFacts}, paths...)...)
	require.NoError(t, err, "Synapse rejected a config: %s", res.Stderr)
	var facts map[string]synapseWorkerFacts
	require.NoError(t, json.Unmarshal([]byte(res.Stdout), &facts), res.Stdout)

	sh := top.Shared("synapse")
	var replicated []string
	for name := range sh.InstanceMap {
		if name != workers.Main {
			replicated = append(replicated, name)
		}
	}
	replicated = append(replicated, "master")
	sort.Strings(replicated)
	for _, n := range names {
		t.Run("process "+n, func(t *testing.T) {
			f, ok := facts["/data/"+workerOutput(n)]
			require.True(t, ok)
			in, isWorker := top.Lookup(n)
			typ := in.Type.Name
			if !isWorker {
				assert.Equal(t, "master", f.InstanceName)
				assert.Nil(t, f.WorkerApp)
				assert.Equal(t, [][]any{{8008.0, []any{"client", "federation"}}, {9093.0, []any{"replication"}}}, f.Listeners)
			} else {
				assert.Equal(t, n, f.InstanceName)
				require.NotNil(t, f.WorkerApp)
				assert.Equal(t, in.Type.App, *f.WorkerApp)
				want := [][]any{{8008.0, toAny(in.HTTPResources())}}
				if in.Type.Replication {
					want = append(want, []any{9093.0, []any{"replication"}})
				}
				assert.Equal(t, want, f.Listeners)
			}
			for stream, writers := range f.Writers {
				want := sh.StreamWriters[stream]
				if want == nil {
					want = []string{"master"}
				}
				assert.Equal(t, want, writers, "writers of %s", stream)
			}
			wantMap := replicated
			if !isWorker {
				// Only workers rename the main's entry to Synapse's "master".
				wantMap = sortedCopy(append(slices.DeleteFunc(slices.Clone(replicated), func(s string) bool { return s == "master" }), "main"))
			}
			assert.Equal(t, wantMap, sortedCopy(f.InstanceMap))
			assert.Equal(t, typ == "federation_sender", f.SendFederation, "send_federation")
			assert.Equal(t, typ == "pusher", f.StartPushers, "start_pushers")
			assert.Equal(t, typ == "background_worker", f.RunBackgroundTasks, "run_background_tasks")
			assert.Equal(t, typ == "appservice", f.ShouldNotifyAppservices, "notify appservices")
			assert.Equal(t, typ == "user_dir", f.ShouldUpdateUserDirectory, "update user directory")
			assert.Equal(t, typ == "media_repository", f.CanLoadMediaRepo, "media repository")
			if f.CanLoadMediaRepo {
				require.NotNil(t, f.MediaBackground)
				assert.Equal(t, "media-repository-1", *f.MediaBackground)
			}
			assert.Equal(t, []any{true, "redis", 6379.0}, f.Redis)
			assert.True(t, f.ReplicationSecret)
		})
	}
}

func toAny(s []string) []any {
	out := make([]any, len(s))
	for i, v := range s {
		out[i] = v
	}
	return out
}

func sortedCopy(s []string) []string {
	out := append([]string(nil), s...)
	sort.Strings(out)
	return out
}

// requireModule skips (without its wheel at hand) or fails (with one,
// under E2E_REQUIRED) a test that needs a Python module the image may
// lack: txredisapi comes from the build's wheel cache (wheels/README.md).
func requireModule(ctx context.Context, t *testing.T, image, module string) {
	t.Helper()
	dockertest.RequirePythonModule(t, image, module)
}

// envArgs is vars as docker run's -e arguments.
func envArgs(vars map[string]string) []string {
	var args []string
	for k, v := range vars {
		args = append(args, "-e", k+"="+v)
	}
	return args
}
