package workers

// ReplicationPort is the port of the HTTP replication listener of the main
// and of every worker that answers replication; workers reach each other
// at their instance names (their container names or network aliases).
const ReplicationPort = 9093

// Main is the main process's name in instance_map.
const Main = "main"

// Location is an entry of instance_map.
type Location struct {
	Host string `yaml:"host"`
	Port int    `yaml:"port"`
}

// Shared are the settings every process of a topology derives from it, the
// same in each: who answers replication where, who writes which stream,
// who does which job, and which jobs the main no longer does.
type Shared struct {
	InstanceMap   map[string]Location
	StreamWriters map[string][]string
	// Lists are the duties naming every instance of a type
	// (federation_sender_instances…); One those naming one instance
	// (run_background_tasks_on…).
	Lists map[string][]string
	One   map[string]string
	// MainOff are the keys set to false: jobs a worker took from the main.
	MainOff []string
}

// Shared derives the shared settings of the topology; mainHost is where the
// workers reach the main process.
func (top Topology) Shared(mainHost string) Shared {
	sh := Shared{
		InstanceMap:   map[string]Location{Main: {Host: mainHost, Port: ReplicationPort}},
		StreamWriters: map[string][]string{},
		Lists:         map[string][]string{},
		One:           map[string]string{},
	}
	seenOff := map[string]bool{}
	for _, in := range top.Instances {
		t := in.Type
		if t.Replication {
			sh.InstanceMap[in.Name] = Location{Host: in.Name, Port: ReplicationPort}
		}
		if t.Stream != "" {
			sh.StreamWriters[t.Stream] = append(sh.StreamWriters[t.Stream], in.Name)
		}
		if d := t.Duty; d != nil {
			if d.List {
				sh.Lists[d.Key] = append(sh.Lists[d.Key], in.Name)
			} else if _, taken := sh.One[d.Key]; !taken {
				// The first instance: media_instance_running_background_jobs
				// names one of several media workers.
				sh.One[d.Key] = in.Name
			}
			if d.MainOff != "" && !seenOff[d.MainOff] {
				seenOff[d.MainOff] = true
				sh.MainOff = append(sh.MainOff, d.MainOff)
			}
		}
	}
	return sh
}

// HTTPResources are the resources of the worker's HTTP listener: its
// type's, or only health for a type without HTTP traffic of its own (the
// router and the healthcheck still ask it /health).
func (in Instance) HTTPResources() []string {
	if r := in.Type.Resources(); len(r) > 0 {
		return r
	}
	return []string{Health}
}
