package overrides

import (
	"errors"
	"fmt"
	"math"
	"math/big"
	"regexp"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

// Synapse reads homeserver.yaml with PyYAML's safe_load, a YAML 1.1 reader.
// yaml.v3 parses YAML 1.2, which resolves plain (unquoted) scalars
// differently. So that a value means what it would mean in homeserver.yaml,
// every scalar of a generic value or fragment is resolved again here with
// PyYAML's rules and given an explicit tag and one canonical spelling:
//
//	yes, no, on, off (any of three casings)  → boolean
//	0777 → 511 (octal), 0b101 → 5, 0x1F → 31, 1_000 → 1000, 1:20 → 80
//	1.5, 1_000.5, .5, 1:30.5, .inf, .nan    → float
//	1e5 and 1.0e5 (no exponent sign)          → string; 1.0e+5 → float
//	0o17                                       → string
//	~, null, Null, NULL, empty                 → null
//	2026-11-29                                 → timestamp (kept as written)
//	=, << as a value                           → refused (Synapse's reader refuses them)
//
// Aliases are expanded and merge keys (<<: *base) applied, so the result
// is a plain tree of mappings, sequences and tagged scalars.

// PyYAML's implicit resolvers (yaml/resolver.py), in the order it tries them.
var (
	bool11  = regexp.MustCompile(`^(?:yes|Yes|YES|no|No|NO|true|True|TRUE|false|False|FALSE|on|On|ON|off|Off|OFF)$`)
	float11 = regexp.MustCompile(`^(?:[-+]?(?:[0-9][0-9_]*)\.[0-9_]*(?:[eE][-+][0-9]+)?` +
		`|\.[0-9][0-9_]*(?:[eE][-+][0-9]+)?` +
		`|[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+\.[0-9_]*` +
		`|[-+]?\.(?:inf|Inf|INF)` +
		`|\.(?:nan|NaN|NAN))$`)
	int11 = regexp.MustCompile(`^(?:[-+]?0b[0-1_]+` +
		`|[-+]?0[0-7_]+` +
		`|[-+]?(?:0|[1-9][0-9_]*)` +
		`|[-+]?0x[0-9a-fA-F_]+` +
		`|[-+]?[1-9][0-9_]*(?::[0-5]?[0-9])+)$`)
	null11      = regexp.MustCompile(`^(?:~|null|Null|NULL|)$`)
	timestamp11 = regexp.MustCompile(`^(?:[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]` +
		`|[0-9][0-9][0-9][0-9]-[0-9][0-9]?-[0-9][0-9]?` +
		`(?:[Tt]|[ \t]+)[0-9][0-9]?` +
		`:[0-9][0-9]:[0-9][0-9](?:\.[0-9]*)?` +
		`(?:[ \t]*(?:Z|[-+][0-9][0-9]?(?::[0-9][0-9])?))?)$`)
)

// Tags of the resolved tree.
const (
	tagStr       = "!!str"
	tagBool      = "!!bool"
	tagInt       = "!!int"
	tagFloat     = "!!float"
	tagNull      = "!!null"
	tagTimestamp = "!!timestamp"
	tagMap       = "!!map"
	tagSeq       = "!!seq"
	tagMerge     = "!!merge"
	tagValue     = "!!value"
)

// Resolve11 is the tag PyYAML gives the plain scalar s: !!bool, !!int,
// !!float, !!null, !!timestamp, !!merge ("<<"), !!value ("=") or !!str.
func Resolve11(s string) string {
	switch {
	case bool11.MatchString(s):
		return tagBool
	case float11.MatchString(s):
		return tagFloat
	case int11.MatchString(s):
		return tagInt
	case s == "<<":
		return tagMerge
	case null11.MatchString(s):
		return tagNull
	case timestamp11.MatchString(s):
		return tagTimestamp
	case s == "=":
		return tagValue
	}
	return tagStr
}

// maxNodes bounds alias expansion ("billion laughs").
const maxNodes = 100_000

// lineError is a problem at a line of a YAML text.
type lineError struct {
	line int
	msg  string
}

func (e *lineError) Error() string { return e.msg }

func atLine(n *yaml.Node, format string, args ...any) error {
	return &lineError{line: n.Line, msg: fmt.Sprintf(format, args...)}
}

// resolver turns a parsed yaml.v3 tree into the resolved tree.
type resolver struct {
	nodes int
	// expanding guards against an alias that refers to its own ancestor.
	expanding map[*yaml.Node]bool
}

// resolve returns a resolved copy of n (never sharing nodes with it).
func (r *resolver) resolve(n *yaml.Node) (*yaml.Node, error) {
	r.nodes++
	if r.nodes > maxNodes {
		return nil, atLine(n, "more than %d values after expanding aliases", maxNodes)
	}
	switch n.Kind {
	case 0, yaml.DocumentNode: // 0: an empty text
		if len(n.Content) == 0 {
			return &yaml.Node{Kind: yaml.ScalarNode, Tag: tagNull, Value: "null", Line: n.Line}, nil
		}
		return r.resolve(n.Content[0])
	case yaml.AliasNode:
		if r.expanding[n.Alias] {
			return nil, atLine(n, "alias *%s refers to a value that contains it", n.Value)
		}
		r.expanding[n.Alias] = true
		defer delete(r.expanding, n.Alias)
		out, err := r.resolve(n.Alias)
		if err != nil {
			return nil, err
		}
		out.Line = n.Line
		return out, nil
	case yaml.ScalarNode:
		return resolveScalar(n)
	case yaml.SequenceNode:
		if err := checkTag(n, tagSeq); err != nil {
			return nil, err
		}
		out := &yaml.Node{Kind: yaml.SequenceNode, Tag: tagSeq, Style: n.Style & yaml.FlowStyle, Line: n.Line, Column: n.Column}
		for _, c := range n.Content {
			rc, err := r.resolve(c)
			if err != nil {
				return nil, err
			}
			out.Content = append(out.Content, rc)
		}
		return out, nil
	case yaml.MappingNode:
		return r.resolveMapping(n)
	}
	return nil, atLine(n, "unexpected YAML node")
}

func (r *resolver) resolveMapping(n *yaml.Node) (*yaml.Node, error) {
	if err := checkTag(n, tagMap); err != nil {
		return nil, err
	}
	out := &yaml.Node{Kind: yaml.MappingNode, Tag: tagMap, Style: n.Style & yaml.FlowStyle, Line: n.Line, Column: n.Column}
	var merged []*yaml.Node // key/value pairs from merge keys, applied last
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if k.Kind == yaml.ScalarNode && k.Style&(yaml.DoubleQuotedStyle|yaml.SingleQuotedStyle|yaml.TaggedStyle) == 0 && k.Value == "<<" {
			pairs, err := r.mergeSources(v)
			if err != nil {
				return nil, err
			}
			merged = append(merged, pairs...)
			continue
		}
		rk, err := r.resolve(k)
		if err != nil {
			return nil, err
		}
		if rk.Kind != yaml.ScalarNode {
			return nil, atLine(k, "a mapping key must be a plain value, not a list or mapping")
		}
		if j := find(out, rk); j >= 0 {
			return nil, atLine(k, "key %s appears twice in the same mapping (first at line %d)", display(rk), out.Content[j].Line)
		}
		rv, err := r.resolve(v)
		if err != nil {
			return nil, err
		}
		out.Content = append(out.Content, rk, rv)
	}
	// Keys given explicitly win over merged ones; of the merged ones, the
	// first source wins (YAML merge key rules, as PyYAML applies them).
	for i := 0; i+1 < len(merged); i += 2 {
		if find(out, merged[i]) < 0 {
			out.Content = append(out.Content, merged[i], merged[i+1])
		}
	}
	return out, nil
}

// mergeSources resolves the value of a merge key: a mapping, or a list of
// mappings, whose pairs are returned in priority order.
func (r *resolver) mergeSources(v *yaml.Node) ([]*yaml.Node, error) {
	rv, err := r.resolve(v)
	if err != nil {
		return nil, err
	}
	var sources []*yaml.Node
	switch rv.Kind {
	case yaml.MappingNode:
		sources = []*yaml.Node{rv}
	case yaml.SequenceNode:
		sources = rv.Content
	}
	if len(sources) == 0 {
		return nil, atLine(v, "a merge key (<<) needs a mapping or a list of mappings")
	}
	var pairs []*yaml.Node
	for _, s := range sources {
		if s.Kind != yaml.MappingNode {
			return nil, atLine(v, "a merge key (<<) needs a mapping or a list of mappings")
		}
		pairs = append(pairs, s.Content...)
	}
	return pairs, nil
}

// checkTag refuses explicit tags other than the collection's own.
func checkTag(n *yaml.Node, want string) error {
	if n.Style&yaml.TaggedStyle != 0 && n.ShortTag() != want {
		return atLine(n, "tag %s is not supported here", n.Tag)
	}
	return nil
}

func resolveScalar(n *yaml.Node) (*yaml.Node, error) {
	out := &yaml.Node{Kind: yaml.ScalarNode, Value: n.Value, Line: n.Line, Column: n.Column}
	tag := tagStr
	switch {
	case n.Style&yaml.TaggedStyle != 0:
		// An explicit tag (!!str 5, !!int "5") decides, as in PyYAML.
		tag = n.ShortTag()
	case n.Style&(yaml.DoubleQuotedStyle|yaml.SingleQuotedStyle|yaml.LiteralStyle|yaml.FoldedStyle) != 0:
		tag = tagStr
	default:
		tag = Resolve11(n.Value)
	}
	var err error
	switch tag {
	case tagStr:
		out.Tag = tagStr
		if Resolve11(n.Value) != tagStr {
			// Written plain, PyYAML would read yes, 0777 or ~ as another
			// type: quoted, it stays this string whatever the writer does.
			out.Style = yaml.DoubleQuotedStyle
		}
	case tagBool:
		out.Tag = tagBool
		if b, ok := bool11Value(n.Value); ok {
			out.Value = strconv.FormatBool(b)
		} else {
			err = atLine(n, "%q is not a boolean", n.Value)
		}
	case tagInt:
		out.Tag = tagInt
		out.Value, err = int11Value(n)
	case tagFloat:
		out.Tag = tagFloat
		out.Value, err = float11Value(n)
	case tagNull:
		out.Tag, out.Value = tagNull, "null"
	case tagTimestamp:
		out.Tag = tagTimestamp
	case tagMerge:
		err = atLine(n, "<< is a merge key in Synapse's YAML reader; quote it (\"<<\") to mean the text")
	case tagValue:
		err = atLine(n, "= is refused by Synapse's YAML reader; quote it (\"=\") to mean the text")
	default:
		err = atLine(n, "tag %s is not supported", n.Tag)
	}
	return out, err
}

func bool11Value(s string) (bool, bool) {
	switch strings.ToLower(s) {
	case "yes", "true", "on":
		return true, true
	case "no", "false", "off":
		return false, true
	}
	return false, false
}

// int11Value is PyYAML's construct_yaml_int, written in decimal.
func int11Value(n *yaml.Node) (string, error) {
	v := strings.ReplaceAll(n.Value, "_", "")
	neg := false
	if v != "" && (v[0] == '-' || v[0] == '+') {
		neg = v[0] == '-'
		v = v[1:]
	}
	z := new(big.Int)
	ok := true
	switch {
	case v == "0":
	case strings.HasPrefix(v, "0b"):
		_, ok = z.SetString(v[2:], 2)
	case strings.HasPrefix(v, "0x"):
		_, ok = z.SetString(v[2:], 16)
	case strings.HasPrefix(v, "0"):
		_, ok = z.SetString(v[1:], 8)
	case strings.Contains(v, ":"):
		for _, d := range strings.Split(v, ":") {
			part, ok2 := new(big.Int).SetString(d, 10)
			if !ok2 {
				ok = false
				break
			}
			z.Mul(z, big.NewInt(60)).Add(z, part)
		}
	default:
		_, ok = z.SetString(v, 10)
	}
	if !ok {
		return "", atLine(n, "%q is not a number", n.Value)
	}
	if neg {
		z.Neg(z)
	}
	return z.String(), nil
}

// float11Value is PyYAML's construct_yaml_float, written so that YAML 1.1
// and 1.2 read the same float: with a dot, and a signed exponent.
func float11Value(n *yaml.Node) (string, error) {
	v := strings.ToLower(strings.ReplaceAll(n.Value, "_", ""))
	sign := 1.0
	if v != "" && (v[0] == '-' || v[0] == '+') {
		if v[0] == '-' {
			sign = -1
		}
		v = v[1:]
	}
	var f float64
	switch {
	case v == ".inf":
		f = math.Inf(1)
	case v == ".nan":
		f = math.NaN()
	case strings.Contains(v, ":"):
		for _, d := range strings.Split(v, ":") {
			part, err := strconv.ParseFloat(d, 64)
			if err != nil {
				return "", atLine(n, "%q is not a number", n.Value)
			}
			f = f*60 + part
		}
	default:
		var err error
		if f, err = strconv.ParseFloat(v, 64); err != nil && !errors.Is(err, strconv.ErrRange) {
			return "", atLine(n, "%q is not a number", n.Value)
		}
	}
	return FormatFloat(sign * f), nil
}

// FormatFloat writes f so that YAML 1.1 and 1.2 both read it as this float.
func FormatFloat(f float64) string {
	switch {
	case math.IsNaN(f):
		return ".nan"
	case math.IsInf(f, 1):
		return ".inf"
	case math.IsInf(f, -1):
		return "-.inf"
	}
	s := strconv.FormatFloat(f, 'g', -1, 64)
	mant, exp, hasExp := strings.Cut(s, "e")
	if !strings.Contains(mant, ".") {
		mant += ".0"
	}
	if hasExp {
		return mant + "e" + exp // Go writes the exponent's sign: e+20, e-07
	}
	return mant
}

// find is the index of the key equal to k in mapping m, or -1.
func find(m, k *yaml.Node) int {
	for i := 0; i+1 < len(m.Content); i += 2 {
		if sameKey(m.Content[i], k) {
			return i
		}
	}
	return -1
}

func sameKey(a, b *yaml.Node) bool {
	return a.Kind == yaml.ScalarNode && b.Kind == yaml.ScalarNode && a.ShortTag() == b.ShortTag() && a.Value == b.Value
}

// display is a key as the user would write it.
func display(k *yaml.Node) string {
	if k.Tag == tagStr {
		return k.Value
	}
	return k.Value + " (" + strings.TrimPrefix(k.Tag, "!!") + ")"
}
