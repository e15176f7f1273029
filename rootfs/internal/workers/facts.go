package workers

import (
	_ "embed"
	"encoding/json"
	"fmt"
	"sort"
)

// SynapseVersion is the Synapse whose docs and code the table follows; a
// new Synapse in the image fails TestWorkerTypesMatchImage until the table
// is reviewed against it.
const SynapseVersion = "1.160.0"

// FactsScript prints the Facts of the Synapse it runs with (python3 -P).
//
//go:embed facts.py
var FactsScript []byte

// Facts are what Synapse's own config code says about workers.
type Facts struct {
	Version string          `json:"version"`
	Apps    map[string]bool `json:"apps"`
	Streams map[string]struct {
		Multiple bool `json:"multiple"`
	} `json:"streams"`
	Duties map[string]struct {
		List         bool   `json:"list"`
		One          bool   `json:"one"`
		MainOff      string `json:"main_off"`
		MainOffWorks bool   `json:"main_off_works"`
	} `json:"duties"`
}

// ParseFacts reads the JSON FactsScript prints.
func ParseFacts(b []byte) (Facts, error) {
	var f Facts
	if err := json.Unmarshal(b, &f); err != nil {
		return f, fmt.Errorf("parse the facts of Synapse's workers: %w", err)
	}
	return f, nil
}

// Compare lists where types disagrees with the facts of a Synapse.
func Compare(types []Type, mainOnly map[string]string, f Facts) []string {
	var out []string
	bad := func(format string, args ...any) { out = append(out, fmt.Sprintf(format, args...)) }
	if f.Version != SynapseVersion {
		bad("the table follows Synapse %s, the image has %s: review the types against its docs/workers.md and synapse/config/workers.py, then update SynapseVersion", SynapseVersion, f.Version)
	}
	writers := map[string]string{}
	for _, t := range types {
		if !f.Apps[t.App] {
			bad("%s: Synapse has no module %s", t.Name, t.App)
		}
		if t.Stream != "" {
			writers[t.Stream] = t.Name
			s, ok := f.Streams[t.Stream]
			switch {
			case !ok:
				bad("%s: Synapse has no stream %q", t.Name, t.Stream)
			case s.Multiple != t.Multiple:
				bad("%s: stream %s allows several writers: %v, but the type allows several instances: %v", t.Name, t.Stream, s.Multiple, t.Multiple)
			}
		}
		if d := t.Duty; d != nil {
			fd, ok := f.Duties[d.Key]
			switch {
			case !ok:
				bad("%s: Synapse's facts have no duty %s", t.Name, d.Key)
				continue
			case d.List && !fd.List:
				bad("%s: %s does not take a list of instances", t.Name, d.Key)
			case !d.List && !fd.One:
				bad("%s: %s does not name one instance", t.Name, d.Key)
			case !d.List && t.Multiple && !t.MediaRepo:
				bad("%s: %s names one instance, so the type is a singleton", t.Name, d.Key)
			}
			if d.MainOff != "" && (fd.MainOff != d.MainOff || !fd.MainOffWorks) {
				bad("%s: %s: false does not take the job from the main (Synapse: %q)", t.Name, d.MainOff, fd.MainOff)
			}
		}
	}
	var streams []string
	for s := range f.Streams {
		streams = append(streams, s)
	}
	sort.Strings(streams)
	for _, s := range streams {
		_, left := mainOnly[s]
		switch {
		case writers[s] == "" && !left:
			bad("Synapse's stream %s has no writer type and is not in MainOnlyStreams", s)
		case writers[s] != "" && left:
			bad("stream %s is in MainOnlyStreams but type %s writes it", s, writers[s])
		}
	}
	return out
}
