package sdlschema

import (
	"strings"
	"testing"

	"github.com/dagger/dagger/cmd/codegen/introspection"
)

const testSDL = `
"""An object with an ID."""
interface Node {
  id: ID!
}

type Query {
  """Load a container."""
  container(
    """The platform."""
    platform: String = "linux/amd64"
  ): Container!
  host: Host!
}

type Container implements Node {
  id: ID!
  old: String! @deprecated(reason: "Use new.")
  new(args: [String!]!): Container!
}

type Host implements Node {
  id: ID!
}

enum Sharing {
  SHARED
  LOCKED @deprecated
}
`

func TestIntrospection(t *testing.T) {
	resp, err := Introspection("test.graphqls", []byte(testSDL), Options{
		SchemaVersion: "v0.21.8", LegacyIDs: true, Hide: []string{"Host"},
	})
	if err != nil {
		t.Fatal(err)
	}
	if resp.SchemaVersion != "v0.21.8" {
		t.Errorf("__schemaVersion = %q", resp.SchemaVersion)
	}
	s := resp.Schema
	if s.Directives[0].Name != "deprecated" {
		t.Errorf("the built-in @deprecated directive is missing")
	}
	for _, name := range []string{"String", "Boolean", "ID", "Int", "Float", "ContainerID"} {
		if s.Types.Get(name) == nil || s.Types.Get(name).Kind != introspection.TypeKindScalar {
			t.Errorf("scalar %s is missing", name)
		}
	}
	for _, name := range []string{"Host", "HostID"} {
		if s.Types.Get(name) != nil {
			t.Errorf("hidden type %s is still there", name)
		}
	}

	query := s.Types.Get("Query")
	if field(query, "host") != nil {
		t.Errorf("the field returning the hidden type Host is still there")
	}
	load := field(query, "loadContainerFromID")
	if load == nil {
		t.Fatalf("loadContainerFromID is missing")
	}
	if got := typeString(load.Args[0].TypeRef); got != "ContainerID!" {
		t.Errorf("loadContainerFromID(id: %s), want ContainerID!", got)
	}
	arg := field(query, "container").Args[0]
	if arg.DefaultValue == nil || *arg.DefaultValue != `"linux/amd64"` {
		t.Errorf("default of container(platform) = %v, want the literal \"linux/amd64\"", arg.DefaultValue)
	}
	if arg.Description != "The platform." {
		t.Errorf("argument description = %q", arg.Description)
	}

	ctr := s.Types.Get("Container")
	if got := typeString(field(ctr, "new").Args[0].TypeRef); got != "[String!]!" {
		t.Errorf("new(args: %s), want [String!]!", got)
	}
	old := field(ctr, "old")
	if !old.IsDeprecated || old.DeprecationReason == nil || *old.DeprecationReason != "Use new." {
		t.Errorf("old: deprecated %v, reason %v", old.IsDeprecated, old.DeprecationReason)
	}
	locked := s.Types.Get("Sharing").EnumValues[1]
	if !locked.IsDeprecated || *locked.DeprecationReason != "No longer supported" {
		t.Errorf("LOCKED: deprecated %v, reason %v", locked.IsDeprecated, locked.DeprecationReason)
	}

	var possible []string
	for _, p := range s.Types.Get("Node").PossibleTypes {
		possible = append(possible, p.Name)
	}
	// Hiding removes types and the fields that use them, not the names in
	// an interface's list, as the engine's own scrubbing does.
	if strings.Join(possible, ",") != "Container,Host" {
		t.Errorf("possible types of Node = %v, want [Container Host]", possible)
	}
}

func TestIntrospectionErrors(t *testing.T) {
	for name, sdl := range map[string]string{
		"syntax":       "type Query {",
		"unknown type": "type Query { a: Missing }",
	} {
		if _, err := Introspection("bad.graphqls", []byte(sdl), Options{}); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
	if _, err := Introspection("noquery.graphqls", []byte("type A { a: String }"), Options{LegacyIDs: true}); err == nil {
		t.Errorf("legacy IDs without a Query type: no error")
	}
}

func TestUnwrap(t *testing.T) {
	// A 100-character sentence as the printer writes it at width 120-40:
	// cut at spaces into chunks of at most 80 characters.
	long := strings.Repeat("word ", 25) + "end."
	wrapped := strings.Repeat("word ", 15) + "word\n" + strings.Repeat("word ", 9) + "end."
	for _, tc := range []struct {
		name, in string
		maxLen   int
		want     string
	}{
		{"empty", "", widthTop, ""},
		{"one short line", "Returns a file.", widthTop, "Returns a file."},
		{"short lines stay apart", "First line.\nSecond line.", widthTop, "First line.\nSecond line."},
		{"a long line cut by the printer", wrapped, widthTop, long},
		{"a joined line too short to have been cut", "word word word word\nword", widthTop, "word word word word\nword"},
		{"paragraphs", wrapped + "\n\n" + wrapped, widthTop, long + "\n\n" + long},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := Unwrap(tc.in, tc.maxLen); got != tc.want {
				t.Errorf("Unwrap(%q)\n got %q\nwant %q", tc.in, got, tc.want)
			}
		})
	}
}

func typeString(r *introspection.TypeRef) string {
	switch r.Kind {
	case introspection.TypeKindNonNull:
		return typeString(r.OfType) + "!"
	case introspection.TypeKindList:
		return "[" + typeString(r.OfType) + "]"
	}
	return r.Name
}

func field(t *introspection.Type, name string) *introspection.Field {
	for _, f := range t.Fields {
		if f.Name == name {
			return f
		}
	}
	return nil
}
