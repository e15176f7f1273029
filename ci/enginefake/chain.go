package enginefake

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/vektah/gqlparser/v2/ast"
)

// A chain is an object as the module built it: the fields selected from the
// root, each with its arguments, e.g. container.from(address: "x").withExec(…).
type chain []step

// A step is one field selection with its arguments sorted by name.
type step struct {
	field string
	args  []arg
}

type arg struct {
	name string
	val  value
}

// A value is a literal (GraphQL syntax), an object (a chain the module
// passed by ID), a list or an input object.
type value struct {
	literal string
	object  chain
	list    []value
	fields  []arg
	kind    valueKind
}

type valueKind int

const (
	literalValue valueKind = iota
	objectValue
	listValue
	inputObjectValue
)

// id is the object's ID: a hash of its one-line rendering, so equal chains
// get equal IDs whatever order the module asked in.
func (c chain) id() string {
	sum := sha256.Sum256([]byte(c.oneLine()))
	return "fake:" + hex.EncodeToString(sum[:8])
}

// without is the chain without the steps and arguments named in omit, at
// any depth.
func (c chain) without(omit []string) chain {
	out := chain{}
	for _, s := range c {
		if slices.Contains(omit, s.field) {
			continue
		}
		out = append(out, step{field: s.field, args: argsWithout(s.args, omit)})
	}
	return out
}

func argsWithout(args []arg, omit []string) []arg {
	var out []arg
	for _, a := range args {
		if !slices.Contains(omit, a.name) {
			out = append(out, arg{name: a.name, val: a.val.without(omit)})
		}
	}
	return out
}

func (v value) without(omit []string) value {
	switch v.kind {
	case objectValue:
		v.object = v.object.without(omit)
	case listValue:
		list := make([]value, len(v.list))
		for i, e := range v.list {
			list[i] = e.without(omit)
		}
		v.list = list
	case inputObjectValue:
		v.fields = argsWithout(v.fields, omit)
	}
	return v
}

func (c chain) with(s step) chain {
	out := make(chain, 0, len(c)+1)
	return append(append(out, c...), s)
}

// decodeArgs turns the arguments of a field into values, resolving every
// string that is a known ID into the object it stands for.
func (e *Engine) decodeArgs(list ast.ArgumentList) ([]arg, error) {
	args := make([]arg, 0, len(list))
	for _, a := range list {
		v, err := e.decodeValue(a.Value)
		if err != nil {
			return nil, fmt.Errorf("argument %s: %w", a.Name, err)
		}
		args = append(args, arg{name: a.Name, val: v})
	}
	sort.Slice(args, func(i, j int) bool { return args[i].name < args[j].name })
	return args, nil
}

func (e *Engine) decodeValue(v *ast.Value) (value, error) {
	switch v.Kind {
	case ast.StringValue, ast.BlockValue:
		if obj, ok := e.objects[v.Raw]; ok {
			return value{kind: objectValue, object: obj}, nil
		}
		return value{literal: quote(v.Raw)}, nil
	case ast.IntValue, ast.FloatValue, ast.BooleanValue, ast.EnumValue, ast.NullValue:
		return value{literal: v.Raw}, nil
	case ast.ListValue:
		out := value{kind: listValue, list: []value{}}
		for _, c := range v.Children {
			cv, err := e.decodeValue(c.Value)
			if err != nil {
				return value{}, err
			}
			out.list = append(out.list, cv)
		}
		return out, nil
	case ast.ObjectValue:
		out := value{kind: inputObjectValue}
		for _, c := range v.Children {
			cv, err := e.decodeValue(c.Value)
			if err != nil {
				return value{}, err
			}
			out.fields = append(out.fields, arg{name: c.Name, val: cv})
		}
		sort.Slice(out.fields, func(i, j int) bool { return out.fields[i].name < out.fields[j].name })
		return out, nil
	default:
		return value{}, fmt.Errorf("unsupported value %s (variables are not used by the SDK)", v.String())
	}
}

// quote writes s as a GraphQL/JSON string literal.
func quote(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for _, r := range s {
		switch r {
		case '"':
			b.WriteString(`\"`)
		case '\\':
			b.WriteString(`\\`)
		case '\n':
			b.WriteString(`\n`)
		case '\t':
			b.WriteString(`\t`)
		default:
			if r < 0x20 {
				fmt.Fprintf(&b, `\u%04x`, r)
			} else {
				b.WriteRune(r)
			}
		}
	}
	b.WriteByte('"')
	return b.String()
}

// oneLine renders the chain on one line: its identity.
func (c chain) oneLine() string {
	parts := make([]string, len(c))
	for i, s := range c {
		parts[i] = s.oneLine()
	}
	return strings.Join(parts, ".")
}

func (s step) oneLine() string {
	if len(s.args) == 0 {
		return s.field
	}
	return s.field + "(" + argsOneLine(s.args) + ")"
}

func argsOneLine(args []arg) string {
	parts := make([]string, len(args))
	for i, a := range args {
		parts[i] = a.name + ": " + a.val.oneLine()
	}
	return strings.Join(parts, ", ")
}

func (v value) oneLine() string {
	switch v.kind {
	case objectValue:
		return v.object.oneLine()
	case listValue:
		parts := make([]string, len(v.list))
		for i, e := range v.list {
			parts[i] = e.oneLine()
		}
		return "[" + strings.Join(parts, ", ") + "]"
	case inputObjectValue:
		return "{" + argsOneLine(v.fields) + "}"
	default:
		return v.literal
	}
}

// maxLine is the width under which a step keeps its arguments on one line.
const maxLine = 100

// pretty renders the chain for a golden file: one step per line, and the
// arguments of a long step one per line, objects among them indented.
func (c chain) pretty(indent string) string {
	var b strings.Builder
	for i, s := range c {
		if i == 0 {
			b.WriteString(s.pretty(indent))
			continue
		}
		b.WriteString("\n" + indent + "  ." + s.pretty(indent+"  "))
	}
	return b.String()
}

func (s step) pretty(indent string) string {
	one := s.oneLine()
	if len(indent)+len(one) <= maxLine && !s.hasChainArg() {
		return one
	}
	var b strings.Builder
	b.WriteString(s.field + "(")
	for _, a := range s.args {
		b.WriteString("\n" + indent + "    " + a.name + ": " + a.val.pretty(indent+"    "))
	}
	b.WriteString(")")
	return b.String()
}

// hasChainArg says whether an argument is an object of more than one step,
// which reads better on lines of its own.
func (s step) hasChainArg() bool {
	for _, a := range s.args {
		if a.val.hasChain() {
			return true
		}
	}
	return false
}

func (v value) hasChain() bool {
	switch v.kind {
	case objectValue:
		return len(v.object) > 1
	case listValue:
		for _, e := range v.list {
			if e.hasChain() {
				return true
			}
		}
	case inputObjectValue:
		for _, f := range v.fields {
			if f.val.hasChain() {
				return true
			}
		}
	}
	return false
}

func (v value) pretty(indent string) string {
	switch v.kind {
	case objectValue:
		return v.object.pretty(indent)
	case listValue:
		// A list of literals (a command line) reads best on one line, however long.
		if !v.hasChain() {
			return v.oneLine()
		}
		var b strings.Builder
		b.WriteString("[")
		for _, e := range v.list {
			b.WriteString("\n" + indent + "    " + e.pretty(indent+"    ") + ",")
		}
		b.WriteString("\n" + indent + "]")
		return b.String()
	default:
		return v.oneLine()
	}
}
