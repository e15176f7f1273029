package overrides

import (
	"fmt"
	"slices"
	"strings"

	"gopkg.in/yaml.v3"
)

// Apply merges layers into base (a mapping, changed in place) in order and
// returns what each layer changed. A layer that sets a key a claim holds
// (or a key above or below it) is an error naming both; so is a variable
// whose path goes through a value that is not a mapping.
func Apply(base *yaml.Node, layers []Layer, claims []Claim) ([]Change, error) {
	if base.Kind == yaml.DocumentNode && len(base.Content) == 1 {
		base = base.Content[0]
	}
	if base.Kind != yaml.MappingNode {
		return nil, fmt.Errorf("merge: the base config is not a mapping")
	}
	m := &merger{claims: claims}
	for _, l := range layers {
		m.layer = l
		var err error
		if l.Kind == Fragment {
			err = m.mergeMapping(base, l.Value, nil)
		} else {
			err = m.setPath(base, l.Path, l.Value)
		}
		if err != nil {
			return nil, err
		}
	}
	return m.changes, nil
}

type merger struct {
	claims  []Claim
	layer   Layer
	changes []Change
}

// source names the current layer, with the line for a fragment.
func (m *merger) source(n *yaml.Node) string {
	if m.layer.Kind == Fragment && n != nil && n.Line > 0 {
		return fmt.Sprintf("%s:%d", m.layer.Name, n.Line)
	}
	return m.layer.Name
}

func (m *merger) fail(at *yaml.Node, format string, args ...any) error {
	e := &Error{Source: m.layer.Name, Msg: fmt.Sprintf(format, args...)}
	if m.layer.Kind == Fragment && at != nil {
		e.Line = at.Line
	}
	return e
}

// setPath applies a variable: walks (creating) mappings down path, then
// sets the value at its end.
func (m *merger) setPath(base *yaml.Node, path []string, v *yaml.Node) error {
	parent := base
	for i, key := range path[:len(path)-1] {
		k := strKey(key)
		j := find(parent, k)
		if j >= 0 && parent.Content[j+1].Kind == yaml.MappingNode {
			parent = parent.Content[j+1]
			continue
		}
		if j >= 0 && !isNull(parent.Content[j+1]) {
			return m.fail(nil, "%s is %s, not a mapping, so it has no key %s; set the whole value with %s",
				Dotted(path[:i+1]), describe(parent.Content[j+1]), path[i+1], m.prefix()+upper(path[:i+1]))
		}
		if isNull(v) {
			// Removing below a key that is not there: nothing to do, but
			// it is still a conflict with a contract variable.
			return m.checkClaims(path, nil)
		}
		child := &yaml.Node{Kind: yaml.MappingNode, Tag: tagMap}
		if j >= 0 {
			parent.Content[j+1] = child
		} else {
			parent.Content = append(parent.Content, k, child)
		}
		parent = child
	}
	return m.set(parent, strKey(path[len(path)-1]), v, path)
}

// mergeMapping merges the pairs of overlay into dst (both mappings).
func (m *merger) mergeMapping(dst, overlay *yaml.Node, path []string) error {
	for i := 0; i+1 < len(overlay.Content); i += 2 {
		k, v := overlay.Content[i], overlay.Content[i+1]
		p := append(slices.Clip(path), k.Value)
		if err := m.set(dst, k, v, p); err != nil {
			return err
		}
	}
	return nil
}

// set puts v at key k of mapping dst: merges two mappings, removes the key
// for null, replaces anything else.
func (m *merger) set(dst, k, v *yaml.Node, path []string) error {
	j := find(dst, k)
	if j >= 0 && v.Kind == yaml.MappingNode && dst.Content[j+1].Kind == yaml.MappingNode {
		return m.mergeMapping(dst.Content[j+1], v, path)
	}
	if err := m.checkClaims(path, k); err != nil {
		return err
	}
	existed := j >= 0 && !isNull(dst.Content[j+1])
	if isNull(v) {
		if j >= 0 {
			dst.Content = slices.Delete(dst.Content, j, j+2)
		}
		if existed {
			m.record(Change{Path: path, Source: m.source(k), Removed: true, Replaced: true})
		}
		return nil
	}
	v = withoutNulls(v)
	if v == nil {
		return nil // a new mapping of nothing but nulls
	}
	key := &yaml.Node{Kind: yaml.ScalarNode, Tag: k.Tag, Value: k.Value}
	if j >= 0 {
		dst.Content[j+1] = v
	} else {
		dst.Content = append(dst.Content, key, v)
	}
	m.record(Change{Path: path, Source: m.source(k), Replaced: existed, Secret: m.layer.Kind == FileVariable})
	return nil
}

// record adds c, forgetting earlier changes at or below its path.
func (m *merger) record(c Change) {
	m.changes = slices.DeleteFunc(m.changes, func(old Change) bool { return hasPrefix(old.Path, c.Path) })
	m.changes = append(m.changes, c)
}

// checkClaims refuses a change at path when a contract variable set
// explicitly sets the same key, a key inside it, or the mapping it is in.
func (m *merger) checkClaims(path []string, at *yaml.Node) error {
	for _, c := range m.claims {
		if hasPrefix(c.Path, path) || hasPrefix(path, c.Path) {
			what := Dotted(path)
			if !slices.Equal(c.Path, path) {
				what += " (and so " + Dotted(c.Path) + ")"
				if len(c.Path) < len(path) {
					what = Dotted(path) + " (inside " + Dotted(c.Path) + ")"
				}
			}
			return m.fail(at, "sets %s, which %s also sets; set it with only one of them", what, c.Var)
		}
	}
	return nil
}

// withoutNulls is v without the null values of its mappings (at any depth),
// or nil when v is a mapping that held only nulls.
func withoutNulls(v *yaml.Node) *yaml.Node {
	if v.Kind != yaml.MappingNode || len(v.Content) == 0 {
		return v
	}
	out := *v
	out.Content = nil
	for i := 0; i+1 < len(v.Content); i += 2 {
		if isNull(v.Content[i+1]) {
			continue
		}
		if c := withoutNulls(v.Content[i+1]); c != nil {
			out.Content = append(out.Content, v.Content[i], c)
		}
	}
	if len(out.Content) == 0 {
		return nil
	}
	return &out
}

func (m *merger) prefix() string {
	if m.layer.Kind == FileVariable {
		return FilePrefix
	}
	return VarPrefix
}

func strKey(s string) *yaml.Node { return &yaml.Node{Kind: yaml.ScalarNode, Tag: tagStr, Value: s} }

func isNull(n *yaml.Node) bool { return n.Kind == yaml.ScalarNode && n.ShortTag() == tagNull }

// hasPrefix reports whether prefix is path or one of its ancestors.
func hasPrefix(path, prefix []string) bool {
	return len(prefix) <= len(path) && slices.Equal(path[:len(prefix)], prefix)
}

func upper(path []string) string { return strings.ToUpper(strings.Join(path, "__")) }

// MaskSecrets replaces the values that came from files
// (SYNAPSE_CONFIG_FILE__) with masked, wherever their key names are, for
// `check`: pattern masking by key name cannot know them all.
func MaskSecrets(doc *yaml.Node, changes []Change, masked string) {
	if doc.Kind == yaml.DocumentNode && len(doc.Content) == 1 {
		doc = doc.Content[0]
	}
	for _, c := range changes {
		if !c.Secret {
			continue
		}
		n := doc
		for _, key := range c.Path {
			j := -1
			if n != nil && n.Kind == yaml.MappingNode {
				j = find(n, strKey(key))
			}
			if j < 0 {
				n = nil
				break
			}
			n = n.Content[j+1]
		}
		if n != nil {
			*n = yaml.Node{Kind: yaml.ScalarNode, Tag: tagStr, Value: masked, Style: yaml.DoubleQuotedStyle}
		}
	}
}
