// Package overrides sets any key of Synapse's homeserver.yaml on top of the
// config automated mode builds from its own variables:
//
//   - SYNAPSE_CONFIG__<KEY>[__<SUBKEY>...]=<YAML value>: `__` nests into
//     mappings, names are lower-cased, the value is read as Synapse reads
//     homeserver.yaml (YAML 1.1, see yaml11.go);
//   - SYNAPSE_CONFIG_FILE__<KEY>[__<SUBKEY>...]=<path>: the file's content
//     is the value, as a string (trailing line breaks stripped, as for the
//     image's NAME_FILE variables), for secrets;
//   - <data dir>/conf.d/*.yaml and *.yml: fragments, each a mapping, in
//     name order.
//
// One merge rule: mappings merge recursively, lists and scalars replace,
// null removes the key. Order: the contract's config, then the fragments,
// then the variables (parents before children, then by name).
package overrides

import (
	"fmt"
	"strings"

	"gopkg.in/yaml.v3"
)

// Prefixes of the generic variables.
const (
	VarPrefix  = "SYNAPSE_CONFIG__"
	FilePrefix = "SYNAPSE_CONFIG_FILE__"
)

// IsGeneric reports whether the variable name is a generic setting. Synapse
// never needs them in its environment (they may hold secrets).
func IsGeneric(name string) bool {
	return strings.HasPrefix(name, VarPrefix) || strings.HasPrefix(name, FilePrefix)
}

// Kind is where a layer comes from.
type Kind int

const (
	Fragment     Kind = iota // a file in conf.d
	Variable                 // SYNAPSE_CONFIG__...
	FileVariable             // SYNAPSE_CONFIG_FILE__...: a secret
)

// Layer is one source of settings, applied on top of the ones before it.
type Layer struct {
	Kind Kind
	// Name is the variable's name or the fragment's path.
	Name string
	// Path is the key path a variable sets; nil for a fragment (its root).
	Path []string
	// Value is the resolved value; a mapping for a fragment.
	Value *yaml.Node
}

// Error is bad input: one line naming the variable or file (and line).
type Error struct {
	Source string
	Line   int // 0 when not about a line
	Msg    string
}

func (e *Error) Error() string {
	if e.Line > 0 {
		return fmt.Sprintf("%s:%d: %s", e.Source, e.Line, e.Msg)
	}
	return e.Source + ": " + e.Msg
}

// Claim says that a contract variable set explicitly sets the key at Path;
// a generic setting may not set that key too.
type Claim struct {
	Var  string
	Path []string
}

// Change records which source set (or removed) a key, for `check`.
type Change struct {
	Path    []string
	Source  string // variable name, or file:line
	Removed bool
	// Replaced: the key had a value before (the contract's, or an earlier source's).
	Replaced bool
	// Secret: the value came from a file (SYNAPSE_CONFIG_FILE__): mask it.
	Secret bool
}

// Dotted is a key path as a.b.c.
func Dotted(path []string) string { return strings.Join(path, ".") }

func (c Change) String() string {
	verb := "set"
	switch {
	case c.Removed:
		verb = "removed"
	case c.Replaced:
		verb = "replaced"
	}
	return fmt.Sprintf("%s %s by %s", Dotted(c.Path), verb, c.Source)
}
