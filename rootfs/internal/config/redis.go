package config

import (
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/synapse-image/synapse-image/rootfs/internal/overrides"
)

// truthy is Python's truth value of the YAML value n as PyYAML (YAML 1.1)
// constructs it: Synapse tests `redis.enabled` with a plain `if`, so a
// quoted "false" enables Redis and 0 or an empty list does not.
func truthy(n *yaml.Node) bool {
	for n != nil && n.Kind == yaml.AliasNode {
		n = n.Alias
	}
	if n == nil {
		return false
	}
	switch n.Kind {
	case yaml.MappingNode, yaml.SequenceNode:
		return len(n.Content) > 0
	case yaml.ScalarNode:
	default:
		return false
	}
	tag := "!!str"
	switch {
	case n.Style&yaml.TaggedStyle != 0:
		tag = n.ShortTag()
	case n.Style == 0:
		tag = overrides.Resolve11(n.Value)
	}
	v := n.Value
	switch tag {
	case "!!null":
		return false
	case "!!bool":
		switch strings.ToLower(v) {
		case "yes", "true", "on":
			return true
		}
		return false
	case "!!int":
		// Zero in any of YAML 1.1's spellings: 0, -0, 0x0, 0b0, 00, 0:0, 0_0.
		v = strings.TrimLeft(v, "+-")
		v = strings.TrimPrefix(strings.TrimPrefix(v, "0x"), "0b")
		return strings.Trim(v, "0_:") != ""
	case "!!float":
		f, err := strconv.ParseFloat(strings.ReplaceAll(v, "_", ""), 64)
		return err != nil || f != 0 // .inf, .nan and sexagesimal floats are not zero
	}
	return v != ""
}
