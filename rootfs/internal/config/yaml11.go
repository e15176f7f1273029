package config

import (
	"fmt"
	"regexp"
	"strconv"

	"gopkg.in/yaml.v3"

	"github.com/synapse-image/synapse-image/rootfs/internal/overrides"
)

// yaml.v3 writes YAML for a YAML 1.2 reader; Synapse reads its config with
// PyYAML, a YAML 1.1 reader, which resolves plain scalars differently: `yes`,
// `on`, `n` are booleans, `0777` is octal, `1:20` is sexagesimal, `=` is a
// "value" tag it refuses, `<<` merges, `1e3` is a string, `0o17` a string.
// forPyYAML rewrites a node tree so that every scalar means to PyYAML what
// it means to /start: every string is double-quoted, and numbers,
// booleans and nulls are written in the one spelling both readers agree on.

// plainKey is a mapping key that reads as the same string in YAML 1.1 and
// 1.2: Synapse's own keys (server_name, x_forwarded, ...).
var plainKey = regexp.MustCompile(`^[a-z][a-z0-9_]*$`)

// yaml11Words are plain scalars that YAML 1.1 resolves to a boolean or null.
var yaml11Words = map[string]bool{
	"y": true, "n": true, "yes": true, "no": true, "on": true, "off": true,
	"true": true, "false": true, "null": true,
}

// forPyYAML normalises every scalar below n in place (see above).
func forPyYAML(n *yaml.Node) error {
	switch n.Kind {
	case yaml.DocumentNode, yaml.SequenceNode:
		for _, c := range n.Content {
			if err := forPyYAML(c); err != nil {
				return err
			}
		}
	case yaml.MappingNode:
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i], n.Content[i+1]
			if k.Kind == yaml.ScalarNode && k.ShortTag() == "!!str" {
				k.Tag = ""
				if plainKey.MatchString(k.Value) && !yaml11Words[k.Value] {
					k.Style &^= yaml.DoubleQuotedStyle | yaml.SingleQuotedStyle | yaml.LiteralStyle | yaml.FoldedStyle
				} else {
					k.Style = yaml.DoubleQuotedStyle
				}
			} else if k.ShortTag() == "!!merge" {
				// A merge key (<<: *base) of a user's fragment stays one.
			} else if err := forPyYAML(k); err != nil {
				return err
			}
			if err := forPyYAML(v); err != nil {
				return err
			}
		}
	case yaml.ScalarNode:
		return scalarForPyYAML(n)
	}
	return nil
}

func scalarForPyYAML(n *yaml.Node) error {
	switch n.ShortTag() {
	case "!!str", "!!merge":
		// A value "<<" is a string that yaml.v3 tags !!merge.
		// Double quotes: no indicator, word or number form can change its
		// type, and escapes keep control characters and line breaks intact.
		n.Style = yaml.DoubleQuotedStyle
		n.Tag = ""
	case "!!bool":
		var b bool
		if err := n.Decode(&b); err != nil {
			return fmt.Errorf("boolean %q: %w", n.Value, err)
		}
		n.Value, n.Style, n.Tag = strconv.FormatBool(b), 0, ""
	case "!!null":
		n.Value, n.Style, n.Tag = "null", 0, ""
	case "!!int":
		var i int64
		if err := n.Decode(&i); err != nil {
			// Too big for int64: YAML 1.1 and Python take any decimal size.
			var u uint64
			if err := n.Decode(&u); err != nil {
				return fmt.Errorf("integer %q: %w", n.Value, err)
			}
			n.Value = strconv.FormatUint(u, 10)
		} else {
			n.Value = strconv.FormatInt(i, 10)
		}
		n.Style, n.Tag = 0, ""
	case "!!float":
		var f float64
		if err := n.Decode(&f); err != nil {
			return fmt.Errorf("number %q: %w", n.Value, err)
		}
		n.Value, n.Style, n.Tag = overrides.FormatFloat(f), 0, ""
	}
	return nil
}
