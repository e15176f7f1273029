// Package enginefake stands in for the GraphQL endpoint of a Dagger engine,
// so that a module's functions can run where no engine can: it serves one
// function call at a time the way the engine hands it to a module
// (currentFunctionCall), answers what the SDK asks for (object IDs, and the
// few values a test supplies), and records every query that would make an
// engine do something, rendered as the chain of calls the module built.
//
// IDs are hashes of the chain they stand for, and IDs passed back as
// arguments are rendered as that chain, so a recording does not depend on
// the order in which the SDK resolved them: it is stable enough for a golden
// file, and any change in what the module asks an engine to do shows up in it.
package enginefake

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"sort"
	"strings"
	"sync"

	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/parser"
)

// Call is the function call the engine hands to the module.
type Call struct {
	// ParentName is the module's main object, e.g. "Synapse".
	ParentName string
	// Name is the function (the Go method name, e.g. "Build"); empty for the constructor.
	Name string
	// Parent is the JSON of the parent object: what the constructor returned.
	Parent string
	// Args are the arguments, each a JSON value (an object is its ID, see Engine.Seed).
	Args []Arg
}

// Arg is one argument of a Call; Value is JSON.
type Arg struct {
	Name  string
	Value string
}

// Answer gives the value of a field the fake has no built-in answer for:
// object is the one-line chain of the object the field is selected on, args
// the one-line renderings of the arguments. ok=false makes the query fail
// as one the fake cannot answer; a Failed value makes it fail as a real
// engine's query fails (an exec that exits non-zero).
type Answer func(object, field string, args map[string]string) (v any, ok bool)

// Failed is an answer that fails the query with its message, the way an
// engine reports a failed exec; unlike an unanswered query, it is not one of
// the fake's Failures.
type Failed string

func (f Failed) Error() string { return string(f) }

// Engine is the fake endpoint. Use New, then Start a call before the module runs.
type Engine struct {
	token  string
	answer Answer

	mu       sync.Mutex
	objects  map[string]chain
	call     Call
	log      []string
	returned *string
	retError *string
	failures []string
}

// New returns an engine that accepts the session token and asks answer for
// values it does not know.
func New(token string, answer Answer) *Engine {
	return &Engine{token: token, answer: answer, objects: map[string]chain{}}
}

// Seed registers an object that comes from outside the module (a host
// directory, a secret) and returns its ID; recordings show it as label.
func (e *Engine) Seed(label string) string {
	e.mu.Lock()
	defer e.mu.Unlock()
	c := chain{{field: label}}
	id := c.id()
	e.objects[id] = c
	return id
}

// Start makes call the current function call and clears the recording.
func (e *Engine) Start(call Call) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.call, e.log, e.returned, e.retError, e.failures = call, nil, nil, nil, nil
}

// Recording is the queries of the current call that would make an engine
// do something (everything but IDs and the call's own bookkeeping), in the
// order the module sent them.
func (e *Engine) Recording() []string {
	e.mu.Lock()
	defer e.mu.Unlock()
	return append([]string(nil), e.log...)
}

// Returned is the JSON the module returned (ok=false: it returned nothing).
func (e *Engine) Returned() (string, bool) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.returned == nil {
		return "", false
	}
	return *e.returned, true
}

// ReturnedError is the error the module returned, rendered (ok=false: none).
func (e *Engine) ReturnedError() (string, bool) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.retError == nil {
		return "", false
	}
	return *e.retError, true
}

// Failures are the queries the fake could not answer, with why.
func (e *Engine) Failures() []string {
	e.mu.Lock()
	defer e.mu.Unlock()
	return append([]string(nil), e.failures...)
}

// RenderJSON renders a JSON value for a recording: strings that are IDs
// become the chains they stand for, without the steps and arguments named
// in omit (e.g. source positions, which change with every edit).
func (e *Engine) RenderJSON(raw string, omit ...string) (string, error) {
	var v any
	if err := json.Unmarshal([]byte(raw), &v); err != nil {
		return "", fmt.Errorf("render JSON %q: %w", raw, err)
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	if len(omit) > 0 {
		v = e.omitted(v, omit)
	}
	return e.renderAny(v, ""), nil
}

// omitted replaces the IDs in v by the IDs of their chains without omit.
func (e *Engine) omitted(v any, omit []string) any {
	switch v := v.(type) {
	case string:
		if c, ok := e.objects[v]; ok {
			stripped := c.without(omit)
			id := stripped.id()
			e.objects[id] = stripped
			return id
		}
	case []any:
		for i := range v {
			v[i] = e.omitted(v[i], omit)
		}
	case map[string]any:
		for k := range v {
			v[k] = e.omitted(v[k], omit)
		}
	}
	return v
}

func (e *Engine) renderAny(v any, indent string) string {
	switch v := v.(type) {
	case string:
		if c, ok := e.objects[v]; ok {
			return c.pretty(indent)
		}
		return quote(v)
	case []any:
		if len(v) == 0 {
			return "[]"
		}
		var b strings.Builder
		b.WriteString("[")
		for _, x := range v {
			b.WriteString("\n" + indent + "    " + e.renderAny(x, indent+"    ") + ",")
		}
		b.WriteString("\n" + indent + "]")
		return b.String()
	case map[string]any:
		keys := make([]string, 0, len(v))
		for k := range v {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		var b strings.Builder
		b.WriteString("{")
		for _, k := range keys {
			b.WriteString("\n" + indent + "    " + k + ": " + e.renderAny(v[k], indent+"    "))
		}
		b.WriteString("\n" + indent + "}")
		return b.String()
	default:
		out, _ := json.Marshal(v)
		return string(out)
	}
}

type request struct {
	Query string `json:"query"`
}

type gqlError struct {
	Message string `json:"message"`
}

type response struct {
	Data   any        `json:"data"`
	Errors []gqlError `json:"errors,omitempty"`
}

// ServeHTTP answers GraphQL queries at /query, as the engine's session does.
func (e *Engine) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if user, _, ok := r.BasicAuth(); !ok || user != e.token {
		http.Error(w, "enginefake: wrong or missing session token", http.StatusUnauthorized)
		return
	}
	if r.URL.Path != "/query" || r.Method != http.MethodPost {
		http.Error(w, "enginefake: only POST /query", http.StatusNotFound)
		return
	}
	var req request
	if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
		http.Error(w, "enginefake: bad request: "+err.Error(), http.StatusBadRequest)
		return
	}
	data, err := e.query(req.Query)
	resp := response{Data: data}
	var failed Failed
	switch {
	case errors.As(err, &failed):
		resp = response{Errors: []gqlError{{Message: failed.Error()}}}
	case err != nil:
		e.mu.Lock()
		e.failures = append(e.failures, fmt.Sprintf("%v\n  query: %s", err, req.Query))
		e.mu.Unlock()
		resp = response{Errors: []gqlError{{Message: "enginefake: " + err.Error()}}}
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(resp)
}

func (e *Engine) query(q string) (map[string]any, error) {
	doc, err := parser.ParseQuery(&ast.Source{Input: q})
	if err != nil {
		return nil, fmt.Errorf("parse: %w", err)
	}
	if len(doc.Operations) != 1 {
		return nil, fmt.Errorf("%d operations, expected one", len(doc.Operations))
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.resolve(nil, doc.Operations[0].SelectionSet)
}

// resolve answers a selection set on the object obj (nil: the root).
func (e *Engine) resolve(obj chain, set ast.SelectionSet) (map[string]any, error) {
	out := map[string]any{}
	for _, sel := range set {
		switch sel := sel.(type) {
		case *ast.InlineFragment:
			// The SDK loads objects with node(id:) { ... on Type }: the data is flat.
			m, err := e.resolve(obj, sel.SelectionSet)
			if err != nil {
				return nil, err
			}
			for k, v := range m {
				out[k] = v
			}
		case *ast.Field:
			args, err := e.decodeArgs(sel.Arguments)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", sel.Name, err)
			}
			v, err := e.field(obj, sel.Name, args, sel.SelectionSet)
			if err != nil {
				return nil, err
			}
			key := sel.Alias
			if key == "" {
				key = sel.Name
			}
			out[key] = v
		default:
			return nil, fmt.Errorf("unsupported selection %T", sel)
		}
	}
	return out, nil
}

const (
	callField = "currentFunctionCall"
	argField  = "inputArg"
)

func (e *Engine) field(obj chain, name string, args []arg, set ast.SelectionSet) (any, error) {
	if name == "node" {
		if len(args) != 1 || args[0].name != "id" || args[0].val.kind != objectValue {
			return nil, fmt.Errorf("node(%s): not an ID this engine handed out", argsOneLine(args))
		}
		return e.resolve(args[0].val.object, set)
	}
	if len(set) == 0 {
		return e.leaf(obj, name, args)
	}
	if isCall(obj) && name == "inputArgs" {
		list := make([]any, 0, len(e.call.Args))
		for _, a := range e.call.Args {
			elem := obj.with(step{field: argField, args: []arg{{name: "name", val: value{literal: quote(a.Name)}}}})
			m, err := e.resolve(elem, set)
			if err != nil {
				return nil, err
			}
			list = append(list, m)
		}
		return list, nil
	}
	return e.resolve(obj.with(step{field: name, args: args}), set)
}

func isCall(obj chain) bool { return len(obj) == 1 && obj[0].field == callField }

func (e *Engine) leaf(obj chain, name string, args []arg) (any, error) {
	if name == "id" || name == "sync" {
		id := obj.id()
		e.objects[id] = obj
		if name == "sync" {
			e.log = append(e.log, obj.with(step{field: name}).pretty(""))
		}
		return id, nil
	}
	if isCall(obj) {
		return e.callField(name, args)
	}
	if len(obj) == 2 && obj[0].field == callField && obj[1].field == argField {
		return e.argField(obj[1], name)
	}
	full := obj.with(step{field: name, args: args})
	e.log = append(e.log, full.pretty(""))
	if e.answer != nil {
		rendered := map[string]string{}
		for _, a := range args {
			rendered[a.name] = a.val.oneLine()
		}
		if v, ok := e.answer(obj.oneLine(), name, rendered); ok {
			if f, failed := v.(Failed); failed {
				return nil, f
			}
			return v, nil
		}
	}
	return nil, errors.New("no answer for " + full.oneLine())
}

func (e *Engine) callField(name string, args []arg) (any, error) {
	switch name {
	case "parentName":
		return e.call.ParentName, nil
	case "name":
		return e.call.Name, nil
	case "parent":
		if e.call.Parent == "" {
			return "{}", nil
		}
		return e.call.Parent, nil
	case "returnValue":
		if len(args) != 1 || args[0].name != "value" {
			return nil, fmt.Errorf("returnValue(%s): expected one value", argsOneLine(args))
		}
		var raw string
		if err := json.Unmarshal([]byte(args[0].val.literal), &raw); err != nil {
			return nil, fmt.Errorf("returnValue: value %s is not a JSON string: %w", args[0].val.literal, err)
		}
		e.returned = &raw
		return nil, nil
	case "returnError":
		rendered := argsOneLine(args)
		e.retError = &rendered
		e.log = append(e.log, chain{{field: callField}, {field: name, args: args}}.pretty(""))
		return nil, nil
	}
	return nil, fmt.Errorf("%s.%s: unknown field", callField, name)
}

func (e *Engine) argField(elem step, name string) (any, error) {
	var argName string
	if err := json.Unmarshal([]byte(elem.args[0].val.literal), &argName); err != nil {
		return nil, err
	}
	for _, a := range e.call.Args {
		if a.Name != argName {
			continue
		}
		switch name {
		case "name":
			return a.Name, nil
		case "value":
			return a.Value, nil
		}
		return nil, fmt.Errorf("argument %s: unknown field %s", argName, name)
	}
	return nil, fmt.Errorf("no argument %s", argName)
}
