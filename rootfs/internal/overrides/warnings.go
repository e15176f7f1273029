package overrides

import (
	"fmt"

	"github.com/synapse-image/synapse-image/rootfs/internal/knownkeys"
)

// Warnings names each top-level key a layer sets that the image's Synapse
// does not read (Synapse silently ignores it), with the closest known key.
func Warnings(layers []Layer, known knownkeys.Set) []string {
	var out []string
	warn := func(source, key string) {
		if known.Known(key) {
			return
		}
		msg := fmt.Sprintf("%s: Synapse %s has no setting %s and ignores it", source, known.Version, key)
		if c := known.Closest(key); c != "" {
			msg += fmt.Sprintf(" (did you mean `%s`?)", c)
		}
		out = append(out, msg)
	}
	for _, l := range layers {
		if l.Kind != Fragment {
			warn(l.Name, l.Path[0])
			continue
		}
		for i := 0; i+1 < len(l.Value.Content); i += 2 {
			k := l.Value.Content[i]
			warn(fmt.Sprintf("%s:%d", l.Name, k.Line), k.Value)
		}
	}
	return out
}
