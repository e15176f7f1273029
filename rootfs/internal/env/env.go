// Package env reads the environment of /start: strict booleans, `_FILE`
// variants of secret-bearing variables, and validated values. Every error
// names the variable and what is expected, and never shows a secret.
package env

import (
	"fmt"
	"os"
	"strconv"
	"strings"
)

// Error is a bad or missing variable. Its message is the one line /start prints.
type Error struct {
	Var string
	Msg string
}

func (e *Error) Error() string { return e.Var + ": " + e.Msg }

// Source is where variables come from: a lookup function (os.LookupEnv in
// production) and a file reader for `_FILE` variants.
type Source struct {
	Lookup   func(string) (string, bool)
	ReadFile func(string) ([]byte, error)
}

// OS is the process environment.
func OS() Source { return Source{Lookup: os.LookupEnv, ReadFile: os.ReadFile} }

// Map is a fixed environment, for tests; files are still read from disk.
func Map(m map[string]string) Source {
	return Source{
		Lookup:   func(k string) (string, bool) { v, ok := m[k]; return v, ok },
		ReadFile: os.ReadFile,
	}
}

// String returns the value of name, or "" when unset.
func (s Source) String(name string) string {
	v, _ := s.Lookup(name)
	return v
}

// StringOr returns the value of name, or def when unset or empty.
func (s Source) StringOr(name, def string) string {
	if v := strings.TrimSpace(s.String(name)); v != "" {
		return v
	}
	return def
}

// Set reports whether name is set to a non-empty value.
func (s Source) Set(name string) bool { return s.String(name) != "" }

// Bool parses a strict boolean: 1/0, true/false, yes/no, on/off in any case;
// unset or empty is false; anything else is an error.
func (s Source) Bool(name string) (bool, error) {
	v := strings.TrimSpace(s.String(name))
	if v == "" {
		return false, nil
	}
	b, ok := ParseBool(v)
	if !ok {
		return false, &Error{name, fmt.Sprintf("expected a boolean (1/0, true/false, yes/no, on/off), got %q", v)}
	}
	return b, nil
}

// ParseBool is the strict boolean of the contract, for a non-empty value.
func ParseBool(v string) (value, ok bool) {
	switch strings.ToLower(strings.TrimSpace(v)) {
	case "1", "true", "yes", "on":
		return true, true
	case "0", "false", "no", "off":
		return false, true
	}
	return false, false
}

// Secret returns the value of a secret-bearing variable, from name or from
// the file named by name_FILE (trailing newlines stripped). Setting both is
// an error. Errors never contain the value.
func (s Source) Secret(name string) (string, error) {
	v, hasV := s.Lookup(name)
	f, hasF := s.Lookup(name + "_FILE")
	if hasV && v != "" && hasF && f != "" {
		return "", &Error{name, "set both " + name + " and " + name + "_FILE; set only one"}
	}
	if !hasF || f == "" {
		return v, nil
	}
	b, err := s.ReadFile(f)
	if err != nil {
		return "", &Error{name + "_FILE", fmt.Sprintf("cannot read %s: %v", f, unwrapPathError(err))}
	}
	return strings.TrimRight(string(b), "\r\n"), nil
}

// Int parses an integer in [min, max], or def when unset or empty.
func (s Source) Int(name string, def, min, max int) (int, error) {
	v := strings.TrimSpace(s.String(name))
	if v == "" {
		return def, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < min || n > max {
		return 0, &Error{name, fmt.Sprintf("expected a whole number from %d to %d, got %q", min, max, v)}
	}
	return n, nil
}

// Port parses a TCP port (1-65535), or def when unset or empty.
func (s Source) Port(name string, def int) (int, error) {
	v := strings.TrimSpace(s.String(name))
	if v == "" {
		return def, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 || n > 65535 {
		return 0, &Error{name, fmt.Sprintf("expected a port number from 1 to 65535, got %q", v)}
	}
	return n, nil
}

func unwrapPathError(err error) error {
	if pe, ok := err.(*os.PathError); ok {
		return pe.Err
	}
	return err
}
