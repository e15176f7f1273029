package env

import (
	"fmt"
	"strings"
)

// Parser turns the value of a variable into a typed value. raw is the value
// as given (not trimmed); def is the variable's Default, for a parser to use
// when raw is empty. The error is what follows "NAME: " in the message.
type Parser func(raw, def string) (any, error)

// Values are the parsed variables, by name. A variable that was not read
// (its Requires unset) is absent.
type Values map[string]any

// Parse reads and parses every variable of t in table order. It reads
// NAME_FILE files but writes nothing; warnings never contain a value.
func (t Table) Parse(src Source) (Values, []string, error) {
	vals := Values{}
	var warnings []string
	for _, v := range t {
		if v.Requires != "" && vals.String(v.Requires) == "" {
			if v.Ignored != "" {
				for _, n := range v.names() {
					if src.Set(n) {
						warnings = append(warnings, fmt.Sprintf("%s is set but %s is not: %s", n, v.Requires, v.Ignored))
					}
				}
			}
			continue
		}
		val, err := v.Value(src)
		if err != nil {
			return nil, warnings, err
		}
		vals[v.Name] = val
	}
	return vals, warnings, nil
}

// Value reads and parses the variable v from src.
func (v Var) Value(src Source) (any, error) {
	var raw string
	if v.Secret {
		var err error
		if raw, err = src.Secret(v.Name); err != nil {
			return nil, err
		}
	} else {
		raw = src.String(v.Name)
	}
	if v.Required != "" && strings.TrimSpace(raw) == "" {
		return nil, &Error{v.Name, "is mandatory: " + v.Required}
	}
	val, err := v.Parse(raw, v.Default)
	if err != nil {
		return nil, &Error{v.Name, err.Error()}
	}
	return val, nil
}

// names are the spellings of v in the environment.
func (v Var) names() []string {
	if v.Secret {
		return []string{v.Name, v.Name + "_FILE"}
	}
	return []string{v.Name}
}

// The typed getters return the zero value for a variable that was not read;
// Load's tests check that each one reads the type its parser makes.

// String is a variable parsed as text.
func (vs Values) String(name string) string { s, _ := vs[name].(string); return s }

// Bool is a variable parsed as a boolean.
func (vs Values) Bool(name string) bool { b, _ := vs[name].(bool); return b }

// Int is a variable parsed as a whole number.
func (vs Values) Int(name string) int { n, _ := vs[name].(int); return n }

// get is a variable of any other type.
func get[T any](vs Values, name string) T { v, _ := vs[name].(T); return v }
