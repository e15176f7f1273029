package config

import (
	"fmt"
	"path/filepath"

	"github.com/synapse-image/synapse-image/rootfs/internal/env"
	"github.com/synapse-image/synapse-image/rootfs/internal/workers"
)

// Redis is the `redis` section.
type Redis struct {
	Enabled  bool   `yaml:"enabled"`
	Host     string `yaml:"host"`
	Port     int    `yaml:"port"`
	Password string `yaml:"password,omitempty"`
	DBID     int    `yaml:"dbid,omitempty"`
}

// WorkerKeys are the keys of homeserver.yaml a worker topology sets: the
// shared ones (the same in every process) and, in a worker's config, its
// own (worker_*). All are omitted without workers.
type WorkerKeys struct {
	InstanceMap   map[string]workers.Location `yaml:"instance_map,omitempty"`
	StreamWriters map[string][]string         `yaml:"stream_writers,omitempty"`

	FederationSenderInstances          []string `yaml:"federation_sender_instances,omitempty"`
	PusherInstances                    []string `yaml:"pusher_instances,omitempty"`
	NotifyAppservicesFromWorker        string   `yaml:"notify_appservices_from_worker,omitempty"`
	UpdateUserDirectoryFromWorker      string   `yaml:"update_user_directory_from_worker,omitempty"`
	RunBackgroundTasksOn               string   `yaml:"run_background_tasks_on,omitempty"`
	MediaInstanceRunningBackgroundJobs string   `yaml:"media_instance_running_background_jobs,omitempty"`

	// Off on the main where a worker took the job; enable_media_repo is
	// back on in a media worker's own config.
	EnableMediaRepo *bool `yaml:"enable_media_repo,omitempty"`
	SendFederation  *bool `yaml:"send_federation,omitempty"`
	StartPushers    *bool `yaml:"start_pushers,omitempty"`

	WorkerReplicationSecret string `yaml:"worker_replication_secret,omitempty"`

	WorkerApp       string     `yaml:"worker_app,omitempty"`
	WorkerName      string     `yaml:"worker_name,omitempty"`
	WorkerListeners []Listener `yaml:"worker_listeners,omitempty"`
	WorkerLogConfig string     `yaml:"worker_log_config,omitempty"`
}

// ReplicationKeyFile is where the main keeps the generated replication
// secret, next to the other secrets of server.
func ReplicationKeyFile(dataDir, server string) string {
	return filepath.Join(dataDir, server+".replication.key")
}

// GeneratedFiles are the config and log config automated mode writes for
// the process: generated/homeserver.yaml and generated/log.config for the
// main, generated/NAME.yaml and generated/NAME.log.config for the worker
// NAME (workers may share the main's data directory).
func GeneratedFiles(s env.Settings) (config, logConfig string) {
	gen := GeneratedDir(s.DataDir)
	if in, ok := s.Workers.Worker(); ok {
		return filepath.Join(gen, in.Name+".yaml"), filepath.Join(gen, in.Name+".log.config")
	}
	return filepath.Join(gen, "homeserver.yaml"), filepath.Join(gen, "log.config")
}

// applyRedis adds the redis section of the variables.
func applyRedis(hs *HomeServer, r *env.Redis) {
	if r == nil {
		return
	}
	hs.Redis = &Redis{Enabled: true, Host: r.Host, Port: r.Port, Password: r.Password, DBID: r.DB}
}

// applyWorkers adds what the topology means to hs: the shared settings,
// and then the main's replication listener or the worker's own settings
// (its listeners replace the main's; it serves no TLS, so it needs no
// certificate).
func applyWorkers(hs *HomeServer, in Input) {
	w := in.Settings.Workers
	if w == nil {
		return
	}
	sh := w.Topology.Shared(w.MainHost)
	k := WorkerKeys{
		InstanceMap:             sh.InstanceMap,
		StreamWriters:           sh.StreamWriters,
		WorkerReplicationSecret: in.Secrets.WorkerReplicationSecret,
	}
	for key, names := range sh.Lists {
		*listKey(&k, key) = names
	}
	for key, name := range sh.One {
		*oneKey(&k, key) = name
	}
	off := false
	for _, key := range sh.MainOff {
		*offKey(&k, key) = &off
	}
	bind := BindAddresses(in.IPv6)
	replication := Listener{Port: workers.ReplicationPort, BindAddresses: bind, Type: "http", TLS: false,
		Resources: []Resource{{Names: []string{workers.Replication}}}}
	inst, isWorker := w.Worker()
	if !isWorker {
		hs.Listeners = append(hs.Listeners, replication)
		hs.Workers = k
		return
	}
	k.WorkerApp = inst.Type.App
	k.WorkerName = inst.Name
	k.WorkerLogConfig = hs.LogConfig
	k.WorkerListeners = []Listener{{Port: HTTPPort, BindAddresses: bind, Type: "http", TLS: false, XForwarded: true,
		Resources: []Resource{{Names: inst.HTTPResources(), Compress: false}}}}
	if inst.Type.Replication {
		k.WorkerListeners = append(k.WorkerListeners, replication)
	}
	for _, l := range hs.Listeners {
		if l.Type == "metrics" {
			k.WorkerListeners = append(k.WorkerListeners, l)
		}
	}
	if inst.Type.MediaRepo {
		on := true
		k.EnableMediaRepo = &on
	}
	hs.Listeners = []Listener{}
	hs.TLSCertificatePath, hs.TLSPrivateKeyPath = "", ""
	hs.Workers = k
}

// listKey, oneKey and offKey are the fields of the duty keys of the table
// of types (TestWorkerKeysCoverTypes checks that each has one).
func listKey(k *WorkerKeys, key string) *[]string {
	switch key {
	case "federation_sender_instances":
		return &k.FederationSenderInstances
	case "pusher_instances":
		return &k.PusherInstances
	}
	panic(fmt.Sprintf("config: no field for the duty %s", key))
}

func oneKey(k *WorkerKeys, key string) *string {
	switch key {
	case "notify_appservices_from_worker":
		return &k.NotifyAppservicesFromWorker
	case "update_user_directory_from_worker":
		return &k.UpdateUserDirectoryFromWorker
	case "run_background_tasks_on":
		return &k.RunBackgroundTasksOn
	case "media_instance_running_background_jobs":
		return &k.MediaInstanceRunningBackgroundJobs
	}
	panic(fmt.Sprintf("config: no field for the duty %s", key))
}

func offKey(k *WorkerKeys, key string) **bool {
	switch key {
	case "enable_media_repo":
		return &k.EnableMediaRepo
	case "send_federation":
		return &k.SendFederation
	case "start_pushers":
		return &k.StartPushers
	}
	panic(fmt.Sprintf("config: no field for the key %s", key))
}
