// Package env reads the environment of /start. One table (Vars) lists every
// variable with its parser, default, secrecy, help text and the
// homeserver.yaml keys it sets; parsing, `/start help`, the removal of
// secrets from Synapse's environment and docs/variables.md all come from it.
// Booleans are strict, secret variables have `_FILE` variants, and every
// error names the variable and what is expected, never showing a secret.
package env

import (
	"fmt"
	"os"
	"strings"
)

// Error is a bad or missing variable. Its message is the one line /start prints.
type Error struct {
	Var string
	Msg string
}

func (e *Error) Error() string { return e.Var + ": " + e.Msg }

// Source is where variables come from: a lookup function (os.LookupEnv in
// production), a file reader for `_FILE` variants, and the list of every
// NAME=value (os.Environ), for the generic SYNAPSE_CONFIG__ variables.
type Source struct {
	Lookup   func(string) (string, bool)
	ReadFile func(string) ([]byte, error)
	Environ  func() []string
}

// OS is the process environment.
func OS() Source { return Source{Lookup: os.LookupEnv, ReadFile: os.ReadFile, Environ: os.Environ} }

// Map is a fixed environment, for tests; files are still read from disk.
func Map(m map[string]string) Source {
	return Source{
		Lookup:   func(k string) (string, bool) { v, ok := m[k]; return v, ok },
		ReadFile: os.ReadFile,
		Environ: func() []string {
			out := make([]string, 0, len(m))
			for k, v := range m {
				out = append(out, k+"="+v)
			}
			return out
		},
	}
}

// String returns the value of name, or "" when unset.
func (s Source) String(name string) string {
	v, _ := s.Lookup(name)
	return v
}

// Set reports whether name is set to a non-empty value.
func (s Source) Set(name string) bool { return s.String(name) != "" }

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

func unwrapPathError(err error) error {
	if pe, ok := err.(*os.PathError); ok {
		return pe.Err
	}
	return err
}
