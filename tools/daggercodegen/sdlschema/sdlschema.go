// Package sdlschema turns the Dagger engine's API schema as it ships in the
// github.com/dagger/dagger module (docs/docs-graphql/schema.graphqls, printed
// by the engine's cmd/introspect from an introspection response) back into
// the introspection response that the engine's code generator reads with
// --introspection-json-path. With it, a module's bindings can be generated
// exactly as an engine would generate them, without an engine.
package sdlschema

import (
	"fmt"
	"strings"

	"github.com/dagger/dagger/cmd/codegen/introspection"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/parser"
)

// Options say which view of the API to produce.
type Options struct {
	// SchemaVersion is recorded as __schemaVersion (the engine version).
	SchemaVersion string
	// LegacyIDs adds, for every object that implements Node, a scalar <T>ID
	// and a root field load<T>FromID: what engines serve to modules that ask
	// for a version before v0.22.0.
	LegacyIDs bool
	// Hide lists types to remove with their <T>ID scalars and every field
	// that uses them, as the engine does for module code generation.
	Hide []string
}

// ModuleHidden are the types an engine hides from a module's API view.
var ModuleHidden = []string{"Host", "Engine", "EngineCache", "EngineCacheEntry", "EngineCacheEntrySet"}

// The schema printer leaves out the built-in scalars; an engine serves them
// with these descriptions.
var builtinScalars = []struct{ name, description string }{
	{"Boolean", "The `Boolean` scalar type represents `true` or `false`."},
	{"Float", "The `Float` scalar type represents signed double-precision fractional values as specified by [IEEE 754](https://en.wikipedia.org/wiki/IEEE_floating_point)."},
	{"ID", "A unique identifier for an object."},
	{"Int", "The `Int` scalar type represents non-fractional signed whole numeric values. Int can represent values between -(2^31) and 2^31 - 1."},
	{"String", "The `String` scalar type represents textual data, represented as UTF-8 character sequences. The String type is most often used by GraphQL to represent free-form human-readable text."},
}

// The printer leaves out the built-in @deprecated directive too.
var deprecatedDirective = &introspection.DirectiveDef{
	Name:        "deprecated",
	Description: "The @deprecated built-in directive is used within the type system definition language to indicate deprecated portions of a GraphQL service's schema, such as deprecated fields on a type, arguments on a field, input fields on an input type, or values of an enum type.",
	Locations:   []string{"FIELD_DEFINITION", "ARGUMENT_DEFINITION", "INPUT_FIELD_DEFINITION", "ENUM_VALUE"},
	Args: introspection.InputValues{{
		Name:         "reason",
		Description:  "Explains why this element was deprecated, usually also including a suggestion for how to access supported similar data. Formatted using the Markdown syntax, as specified by [CommonMark](https://commonmark.org/).",
		DefaultValue: ptr(`"No longer supported"`),
		TypeRef:      &introspection.TypeRef{Kind: introspection.TypeKindScalar, Name: "String"},
		Directives:   introspection.Directives{},
	}},
}

// The printer wraps descriptions at 120 columns minus the indentation:
// 0 for types and directives, 2 for fields, input fields, enum values and
// directive arguments, 4 for field arguments.
const (
	widthTop      = 120
	widthMember   = 118
	widthArgument = 116
)

// Introspection parses an SDL schema and returns the introspection response
// an engine would have served for it.
func Introspection(name string, sdl []byte, opts Options) (*introspection.Response, error) {
	doc, err := parser.ParseSchema(&ast.Source{Name: name, Input: string(sdl)})
	if err != nil {
		return nil, fmt.Errorf("parse %s: %w", name, err)
	}
	c := converter{kinds: map[string]introspection.TypeKind{}, byName: map[string]*introspection.Type{}}
	for _, s := range builtinScalars {
		c.kinds[s.name] = introspection.TypeKindScalar
	}
	for _, d := range doc.Definitions {
		k, err := kindOf(d.Kind)
		if err != nil {
			return nil, fmt.Errorf("type %s: %w", d.Name, err)
		}
		c.kinds[d.Name] = k
	}

	schema := &introspection.Schema{}
	schema.QueryType.Name = "Query"
	schema.Directives = append(schema.Directives, deprecatedDirective)
	for _, d := range doc.Directives {
		dd, err := c.directiveDef(d)
		if err != nil {
			return nil, fmt.Errorf("directive @%s: %w", d.Name, err)
		}
		schema.Directives = append(schema.Directives, dd)
	}
	for _, s := range builtinScalars {
		schema.Types = append(schema.Types, emptyType(introspection.TypeKindScalar, s.name, s.description))
	}
	for _, d := range doc.Definitions {
		t, err := c.typeDef(d)
		if err != nil {
			return nil, fmt.Errorf("type %s: %w", d.Name, err)
		}
		schema.Types = append(schema.Types, t)
		c.byName[t.Name] = t
	}
	if opts.LegacyIDs {
		if err := c.addLegacyIDs(schema); err != nil {
			return nil, err
		}
	}
	// An interface's possible types are the types that implement it.
	for _, t := range schema.Types {
		for _, iface := range t.Interfaces {
			if it := c.byName[iface.Name]; it != nil && it.Kind == introspection.TypeKindInterface {
				it.PossibleTypes = append(it.PossibleTypes, &introspection.Type{Kind: t.Kind, Name: t.Name})
			}
		}
	}

	resp := &introspection.Response{Schema: schema, SchemaVersion: opts.SchemaVersion}
	for _, h := range opts.Hide {
		resp.Schema.ScrubType(h)
		resp.Schema.ScrubType(h + "ID")
	}
	return resp, nil
}

type converter struct {
	kinds  map[string]introspection.TypeKind
	byName map[string]*introspection.Type
}

func emptyType(kind introspection.TypeKind, name, description string) *introspection.Type {
	return &introspection.Type{
		Kind:          kind,
		Name:          name,
		Description:   description,
		Interfaces:    []*introspection.Type{},
		PossibleTypes: []*introspection.Type{},
		Directives:    introspection.Directives{},
	}
}

func (c *converter) directiveDef(d *ast.DirectiveDefinition) (*introspection.DirectiveDef, error) {
	dd := &introspection.DirectiveDef{Name: d.Name, Description: Unwrap(d.Description, widthTop), Args: introspection.InputValues{}}
	for _, l := range d.Locations {
		dd.Locations = append(dd.Locations, string(l))
	}
	for _, a := range d.Arguments {
		v, err := c.inputValue(a.Name, Unwrap(a.Description, widthMember), a.Type, a.DefaultValue, a.Directives)
		if err != nil {
			return nil, fmt.Errorf("argument %s: %w", a.Name, err)
		}
		dd.Args = append(dd.Args, v)
	}
	return dd, nil
}

func (c *converter) typeDef(d *ast.Definition) (*introspection.Type, error) {
	t := emptyType(c.kinds[d.Name], d.Name, Unwrap(d.Description, widthTop))
	t.Fields = []*introspection.Field{}
	t.InputFields = []introspection.InputValue{}
	t.EnumValues = []introspection.EnumValue{}
	t.Directives = directives(d.Directives)
	for _, iface := range d.Interfaces {
		t.Interfaces = append(t.Interfaces, &introspection.Type{Kind: c.kinds[iface], Name: iface})
	}
	for _, member := range d.Types { // a union's members
		t.PossibleTypes = append(t.PossibleTypes, &introspection.Type{Kind: c.kinds[member], Name: member})
	}
	switch d.Kind {
	case ast.Object, ast.Interface:
		for _, f := range d.Fields {
			ref, err := c.typeRef(f.Type)
			if err != nil {
				return nil, fmt.Errorf("field %s: %w", f.Name, err)
			}
			field := &introspection.Field{
				Name:        f.Name,
				Description: Unwrap(f.Description, widthMember),
				TypeRef:     ref,
				Args:        introspection.InputValues{},
				Directives:  directives(f.Directives),
			}
			for _, a := range f.Arguments {
				v, err := c.inputValue(a.Name, Unwrap(a.Description, widthArgument), a.Type, a.DefaultValue, a.Directives)
				if err != nil {
					return nil, fmt.Errorf("field %s, argument %s: %w", f.Name, a.Name, err)
				}
				field.Args = append(field.Args, v)
			}
			field.IsDeprecated, field.DeprecationReason = deprecation(f.Directives)
			t.Fields = append(t.Fields, field)
		}
	case ast.InputObject:
		for _, f := range d.Fields {
			v, err := c.inputValue(f.Name, Unwrap(f.Description, widthMember), f.Type, f.DefaultValue, f.Directives)
			if err != nil {
				return nil, fmt.Errorf("input field %s: %w", f.Name, err)
			}
			t.InputFields = append(t.InputFields, v)
		}
	case ast.Enum:
		for _, ev := range d.EnumValues {
			v := introspection.EnumValue{Name: ev.Name, Description: Unwrap(ev.Description, widthMember), Directives: directives(ev.Directives)}
			v.IsDeprecated, v.DeprecationReason = deprecation(ev.Directives)
			t.EnumValues = append(t.EnumValues, v)
		}
	}
	return t, nil
}

func kindOf(k ast.DefinitionKind) (introspection.TypeKind, error) {
	switch k {
	case ast.Scalar:
		return introspection.TypeKindScalar, nil
	case ast.Object:
		return introspection.TypeKindObject, nil
	case ast.Interface:
		return introspection.TypeKindInterface, nil
	case ast.Union:
		return introspection.TypeKindUnion, nil
	case ast.Enum:
		return introspection.TypeKindEnum, nil
	case ast.InputObject:
		return introspection.TypeKindInputObject, nil
	}
	return "", fmt.Errorf("unknown kind of definition %q", k)
}

func (c *converter) typeRef(t *ast.Type) (*introspection.TypeRef, error) {
	var ref *introspection.TypeRef
	if t.Elem != nil {
		elem, err := c.typeRef(t.Elem)
		if err != nil {
			return nil, err
		}
		ref = &introspection.TypeRef{Kind: introspection.TypeKindList, OfType: elem}
	} else {
		k, ok := c.kinds[t.NamedType]
		if !ok {
			return nil, fmt.Errorf("unknown type %s", t.NamedType)
		}
		ref = &introspection.TypeRef{Kind: k, Name: t.NamedType}
	}
	if t.NonNull {
		return &introspection.TypeRef{Kind: introspection.TypeKindNonNull, OfType: ref}, nil
	}
	return ref, nil
}

func (c *converter) inputValue(name, description string, t *ast.Type, def *ast.Value, dirs ast.DirectiveList) (introspection.InputValue, error) {
	ref, err := c.typeRef(t)
	if err != nil {
		return introspection.InputValue{}, err
	}
	v := introspection.InputValue{Name: name, Description: description, TypeRef: ref, Directives: directives(dirs)}
	if def != nil {
		v.DefaultValue = ptr(def.String())
	}
	v.IsDeprecated, v.DeprecationReason = deprecation(dirs)
	return v, nil
}

func directives(list ast.DirectiveList) introspection.Directives {
	out := introspection.Directives{}
	for _, d := range list {
		dir := &introspection.Directive{Name: d.Name, Args: []*introspection.DirectiveArg{}}
		for _, a := range d.Arguments {
			dir.Args = append(dir.Args, &introspection.DirectiveArg{Name: a.Name, Value: ptr(a.Value.String())})
		}
		out = append(out, dir)
	}
	return out
}

func deprecation(list ast.DirectiveList) (bool, *string) {
	d := list.ForName("deprecated")
	if d == nil {
		return false, nil
	}
	if a := d.Arguments.ForName("reason"); a != nil {
		return true, ptr(a.Value.Raw)
	}
	return true, ptr("No longer supported")
}

// addLegacyIDs mirrors the engine's core/schema/legacy_id.go: for views
// before v0.22.0 every object or interface that implements Node (the Query
// root aside) gets a scalar <T>ID and a root field load<T>FromID(id: <T>ID!): <T>!.
func (c *converter) addLegacyIDs(schema *introspection.Schema) error {
	query := c.byName["Query"]
	if query == nil {
		return fmt.Errorf("the schema has no Query type")
	}
	var names []string
	for _, t := range schema.Types {
		if t.Name == "Query" {
			continue
		}
		for _, iface := range t.Interfaces {
			if iface.Name == "Node" {
				names = append(names, t.Name)
				break
			}
		}
	}
	for _, n := range names {
		t := c.byName[n]
		id := emptyType(introspection.TypeKindScalar, n+"ID", "A unique identifier for an object.")
		schema.Types = append(schema.Types, id)
		c.byName[id.Name] = id
		query.Fields = append(query.Fields, &introspection.Field{
			Name:        "load" + n + "FromID",
			Description: "Load a " + n + " from its ID.",
			TypeRef:     &introspection.TypeRef{Kind: introspection.TypeKindNonNull, OfType: &introspection.TypeRef{Kind: t.Kind, Name: n}},
			Args: introspection.InputValues{{
				Name:       "id",
				TypeRef:    &introspection.TypeRef{Kind: introspection.TypeKindNonNull, OfType: &introspection.TypeRef{Kind: introspection.TypeKindScalar, Name: n + "ID"}},
				Directives: introspection.Directives{},
			}},
			Directives: introspection.Directives{},
		})
	}
	return nil
}

// Unwrap undoes the schema printer's line wrapping of descriptions (its
// descriptionLines and breakLine): a line of maxLen+5 characters or more was
// cut at spaces into chunks of at most maxLen-40. Consecutive lines that look
// like such chunks are joined again when the joined line is that long.
func Unwrap(description string, maxLen int) string {
	if description == "" {
		return description
	}
	lines := strings.Split(description, "\n")
	maxChunk := maxLen - 40
	// a, b are consecutive chunks if b's first word would not have fit on a.
	isChunk := func(a, b string) bool {
		if b == "" || len(a) < 15 || len(a) > maxChunk {
			return false
		}
		firstWord, _, _ := strings.Cut(b, " ")
		return len(a)+1+len(firstWord) > maxChunk
	}
	var out []string
	for i := 0; i < len(lines); {
		j := i
		for j+1 < len(lines) && isChunk(lines[j], lines[j+1]) {
			j++
		}
		if joined := strings.Join(lines[i:j+1], " "); j > i && len(joined) >= maxLen+5 {
			out = append(out, joined)
			i = j + 1
			continue
		}
		out = append(out, lines[i])
		i++
	}
	return strings.Join(out, "\n")
}

func ptr[T any](v T) *T { return &v }
