package workers

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
)

// MaxCount is the most instances of one type a topology may ask for.
const MaxCount = 64

// Instance is one worker process of a topology.
type Instance struct {
	// Name is the worker_name and the host name other processes reach the
	// instance at (its container name or network alias): the type with
	// dashes for underscores (host names have no underscores), then -N, N
	// from 1: event-persister-2.
	Name string
	Type Type
}

// Topology is the worker processes of a deployment, in the order of Types
// and then by number, whatever order SYNAPSE_WORKERS lists them in: every
// process derives the same shared settings from it.
type Topology struct {
	Instances []Instance
}

// ParseTopology reads a comma-separated list of TYPE or TYPE:COUNT (spaces
// around items ignored; empty means no workers). The error is the text
// after "SYNAPSE_WORKERS: ".
func ParseTopology(s string) (Topology, error) {
	counts := map[string]int{}
	for _, item := range strings.Split(s, ",") {
		item = strings.TrimSpace(item)
		if item == "" {
			continue
		}
		name, count, hasCount := strings.Cut(item, ":")
		name = strings.TrimSpace(name)
		t, ok := Lookup(name)
		if !ok {
			return Topology{}, fmt.Errorf("unknown worker type %q; expected TYPE or TYPE:COUNT, comma-separated, with TYPE one of %s", name, strings.Join(Names(), ", "))
		}
		n := 1
		if hasCount {
			var err error
			n, err = strconv.Atoi(strings.TrimSpace(count))
			if err != nil || n < 1 || n > MaxCount {
				return Topology{}, fmt.Errorf("%s: expected a count from 1 to %d after the colon, got %q", item, MaxCount, count)
			}
		}
		if _, dup := counts[name]; dup {
			return Topology{}, fmt.Errorf("lists %s twice, which would name two instances %s; list it once with a count (%s:N)", name, InstanceName(name, 1), name)
		}
		if n > 1 && !t.Multiple {
			return Topology{}, fmt.Errorf("%s: only one %s may run (%s); expected %s without a count or with :1", item, name, t.singleReason(), name)
		}
		counts[name] = n
	}
	var top Topology
	for _, t := range Types {
		for i := 1; i <= counts[t.Name]; i++ {
			top.Instances = append(top.Instances, Instance{Name: InstanceName(t.Name, i), Type: t})
		}
	}
	return top, nil
}

// InstanceName is the name of the n-th instance of the type called typ.
func InstanceName(typ string, n int) string {
	return strings.ReplaceAll(typ, "_", "-") + "-" + strconv.Itoa(n)
}

// singleReason says why only one instance of t may run.
func (t Type) singleReason() string {
	if t.Stream != "" {
		return "Synapse allows one writer of the " + t.Stream + " stream"
	}
	if t.Duty != nil {
		return t.Duty.Key + " names one instance"
	}
	return "a singleton"
}

// Names are the names of the types, in table order.
func Names() []string {
	out := make([]string, len(Types))
	for i, t := range Types {
		out[i] = t.Name
	}
	return out
}

// Empty reports whether the topology has no workers (one process).
func (top Topology) Empty() bool { return len(top.Instances) == 0 }

// Lookup returns the instance called name.
func (top Topology) Lookup(name string) (Instance, bool) {
	for _, in := range top.Instances {
		if in.Name == name {
			return in, true
		}
	}
	return Instance{}, false
}

// Names are the instance names, in topology order.
func (top Topology) Names() []string {
	var out []string
	for _, in := range top.Instances {
		out = append(out, in.Name)
	}
	return out
}

// Of are the instances of the type called name.
func (top Topology) Of(name string) []Instance {
	var out []Instance
	for _, in := range top.Instances {
		if in.Type.Name == name {
			out = append(out, in)
		}
	}
	return out
}

// String is the topology in SYNAPSE_WORKERS form, in table order.
func (top Topology) String() string {
	counts := map[string]int{}
	for _, in := range top.Instances {
		counts[in.Type.Name]++
	}
	var items []string
	for _, t := range Types {
		switch n := counts[t.Name]; {
		case n == 1:
			items = append(items, t.Name)
		case n > 1:
			items = append(items, t.Name+":"+strconv.Itoa(n))
		}
	}
	return strings.Join(items, ",")
}

// namedBy says which shared setting names the instances of t.
func (t Type) namedBy() string {
	switch {
	case t.Stream != "":
		return "stream_writers"
	case t.Duty != nil:
		return t.Duty.Key
	}
	return "instance_map"
}

// Scalable reports whether instances of t may be replicas of one container
// definition (docker-compose --scale): nothing shared names them (no
// stream, no duty, no replication), so any unique name will do.
func (t Type) Scalable() bool {
	return t.Stream == "" && t.Duty == nil && !t.Replication
}

// ServiceName is the host name that finds every replica of a scaled type
// through Docker's DNS (its compose service): the type with dashes.
func (t Type) ServiceName() string { return strings.ReplaceAll(t.Name, "_", "-") }

// Resolve finds the instance SYNAPSE_WORKER_NAME names: one of the
// topology's, or, for a scalable type of the topology named by itself
// (synchrotron, or client-reader), a replica named after its container:
// TYPE-HOSTNAME (Docker sets HOSTNAME to the container's ID). The error is
// the text after "SYNAPSE_WORKER_NAME: ".
func (top Topology) Resolve(name, hostname string) (Instance, error) {
	if in, ok := top.Lookup(name); ok {
		return in, nil
	}
	for _, in := range top.Instances {
		t := in.Type
		if name != t.Name && name != t.ServiceName() {
			continue
		}
		if !t.Scalable() {
			return Instance{}, fmt.Errorf("%q is a type whose instances are named in the shared config (%s): name one of them (%s-N)", name, t.namedBy(), t.ServiceName())
		}
		if !hostLabel.MatchString(hostname) {
			return Instance{}, fmt.Errorf("%q names a replica after its container, but HOSTNAME is %q: expected the container's ID (Docker sets it)", name, hostname)
		}
		return Instance{Name: t.ServiceName() + "-" + strings.ToLower(hostname), Type: t}, nil
	}
	var scalable []string
	for _, t := range Types {
		if t.Scalable() && len(top.Of(t.Name)) > 0 {
			scalable = append(scalable, t.ServiceName())
		}
	}
	hint := ""
	if len(scalable) > 0 {
		hint = ", a scalable type of it for a replica (" + strings.Join(scalable, ", ") + ")"
	}
	return Instance{}, fmt.Errorf("expected an instance of SYNAPSE_WORKERS (%s)%s, or unset for the main process, got %q", strings.Join(top.Names(), ", "), hint, name)
}

var hostLabel = regexp.MustCompile(`^[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?$`)
