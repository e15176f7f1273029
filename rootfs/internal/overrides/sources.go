package overrides

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"gopkg.in/yaml.v3"

	"github.com/synapse-image/synapse-image/rootfs/internal/safefs"
)

// Variables reads the generic variables of environ (NAME=value entries).
// File forms are read with readFile. Errors never contain a value.
func Variables(environ []string, readFile func(string) ([]byte, error)) ([]Layer, error) {
	var layers []Layer
	seen := map[string]string{} // dotted path → variable
	for _, kv := range environ {
		name, value, _ := strings.Cut(kv, "=")
		kind := Variable
		rest, ok := strings.CutPrefix(name, VarPrefix)
		if !ok {
			if rest, ok = strings.CutPrefix(name, FilePrefix); !ok {
				continue
			}
			kind = FileVariable
		}
		path, err := keyPath(name, rest)
		if err != nil {
			return nil, err
		}
		if other, dup := seen[Dotted(path)]; dup {
			a, b := min(name, other), max(name, other)
			return nil, &Error{Source: a, Msg: fmt.Sprintf("sets %s, which %s also sets; set it once", Dotted(path), b)}
		}
		seen[Dotted(path)] = name
		l := Layer{Kind: kind, Name: name, Path: path}
		if kind == FileVariable {
			l.Value, err = fileValue(name, value, readFile)
		} else {
			l.Value, err = variableValue(name, value)
		}
		if err != nil {
			return nil, err
		}
		layers = append(layers, l)
	}
	// Parents before children (SYNAPSE_CONFIG__RC_MESSAGE before
	// SYNAPSE_CONFIG__RC_MESSAGE__PER_SECOND), then by name: the order of
	// the environment does not matter.
	slices.SortFunc(layers, func(a, b Layer) int {
		if len(a.Path) != len(b.Path) {
			return len(a.Path) - len(b.Path)
		}
		return strings.Compare(a.Name, b.Name)
	})
	return layers, nil
}

// segment is one key of a variable's path, after lower-casing.
var segment = regexp.MustCompile(`^[a-z0-9.-]+(?:_[a-z0-9.-]+)*$`)

// keyPath splits the part of name after the prefix into lower-cased keys.
func keyPath(name, rest string) ([]string, error) {
	prefix := strings.TrimSuffix(name, rest)
	if rest == "" {
		return nil, &Error{Source: name, Msg: fmt.Sprintf("no key after %s; expected %sKEY[__SUBKEY...], e.g. %sRC_MESSAGE__PER_SECOND", prefix, prefix, prefix)}
	}
	parts := strings.Split(rest, "__")
	for i, p := range parts {
		parts[i] = strings.ToLower(p)
		switch {
		case p == "":
			return nil, &Error{Source: name, Msg: fmt.Sprintf("empty key in the path; expected %sKEY[__SUBKEY...], keys separated by exactly two underscores", prefix)}
		case !segment.MatchString(parts[i]):
			return nil, &Error{Source: name, Msg: fmt.Sprintf("key %q: expected letters, digits, '.', '-' and single underscores between them (keys are separated by exactly two underscores)", p)}
		}
	}
	return parts, nil
}

// variableValue parses the value of SYNAPSE_CONFIG__… as YAML.
func variableValue(name, value string) (*yaml.Node, error) {
	n, err := parse([]byte(value))
	if err != nil {
		return nil, sourceError(name, err, false, strings.Contains(strings.TrimSpace(value), "\n"))
	}
	return n, nil
}

// fileValue reads the file named by SYNAPSE_CONFIG_FILE__…: its content is
// a string, whatever it looks like (a secret is never YAML-parsed).
func fileValue(name, path string, readFile func(string) ([]byte, error)) (*yaml.Node, error) {
	if strings.TrimSpace(path) == "" {
		return nil, &Error{Source: name, Msg: "expected the path of a file whose content is the value, got an empty value"}
	}
	b, err := readFile(path)
	if err != nil {
		var pe *fs.PathError
		if errors.As(err, &pe) {
			err = pe.Err
		}
		return nil, &Error{Source: name, Msg: fmt.Sprintf("cannot read %s: %v", path, err)}
	}
	if !utf8.Valid(b) {
		return nil, &Error{Source: name, Msg: fmt.Sprintf("%s is not UTF-8 text", path)}
	}
	return &yaml.Node{Kind: yaml.ScalarNode, Tag: tagStr, Value: strings.TrimRight(string(b), "\r\n")}, nil
}

// maxFragment bounds the size of one fragment.
const maxFragment = 1 << 20

// Fragments reads conf.d/*.yaml and *.yml of the data directory data, in
// name order. A missing conf.d is no error. Files are read through safefs:
// a link cannot lead out of conf.d (the directory is writable by Synapse's
// user), and a FIFO, a device, a hard link or a file over
// safefs.FragmentLimit bytes is refused.
func Fragments(data *os.Root) ([]Layer, error) {
	dir := filepath.Join(data.Name(), "conf.d")
	root, err := data.OpenRoot("conf.d")
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, &Error{Source: dir, Msg: fmt.Sprintf("cannot open: %v (expected a directory of *.yaml fragments inside %s)", unwrap(err), data.Name())}
	}
	defer root.Close()
	entries, err := fs.ReadDir(root.FS(), ".")
	if err != nil {
		return nil, &Error{Source: dir, Msg: fmt.Sprintf("cannot list: %v", unwrap(err))}
	}
	var layers []Layer
	for _, e := range entries { // sorted by name
		name := e.Name()
		if strings.HasPrefix(name, ".") || !(strings.HasSuffix(name, ".yaml") || strings.HasSuffix(name, ".yml")) {
			continue
		}
		path := filepath.Join(dir, name)
		b, err := safefs.ReadFile(root, name, safefs.FragmentLimit)
		if err != nil {
			return nil, &Error{Source: path, Msg: fragmentReadError(err)}
		}
		l, err := fragment(path, b)
		if err != nil {
			return nil, err
		}
		if l.Value != nil {
			layers = append(layers, l)
		}
	}
	return layers, nil
}

// fragmentReadError is the reason a fragment could not be read, without
// its path (the error names the source).
func fragmentReadError(err error) string {
	var fe *safefs.FileError
	if errors.As(err, &fe) {
		return fe.Reason + "; expected a YAML fragment"
	}
	return fmt.Sprintf("cannot read: %v", unwrap(err))
}

// fragment parses one conf.d file: UTF-8, one YAML document, a mapping.
// An empty file (or only comments) gives a layer with a nil Value.
func fragment(path string, b []byte) (Layer, error) {
	b = bytes.TrimPrefix(b, []byte("\xef\xbb\xbf"))
	if !utf8.Valid(b) {
		line := 1 + bytes.Count(b[:invalidUTF8(b)], []byte("\n"))
		return Layer{}, &Error{Source: path, Line: line, Msg: "not UTF-8 text; expected a UTF-8 YAML mapping"}
	}
	n, err := parse(b)
	if err != nil {
		return Layer{}, sourceError(path, err, true, true)
	}
	l := Layer{Kind: Fragment, Name: path}
	switch {
	case n.Tag == tagNull:
		return l, nil
	case n.Kind != yaml.MappingNode:
		return Layer{}, &Error{Source: path, Line: n.Line, Msg: fmt.Sprintf("expected a mapping of homeserver.yaml keys (key: value), got %s", describe(n))}
	}
	for i := 0; i < len(n.Content); i += 2 {
		if k := n.Content[i]; k.Tag != tagStr {
			return Layer{}, &Error{Source: path, Line: k.Line, Msg: fmt.Sprintf("top-level key %s is not a string; expected homeserver.yaml keys", display(k))}
		}
	}
	l.Value = n
	return l, nil
}

func invalidUTF8(b []byte) int {
	for i := 0; i < len(b); {
		r, size := utf8.DecodeRune(b[i:])
		if r == utf8.RuneError && size <= 1 {
			return i
		}
		i += size
	}
	return len(b)
}

// parse reads one YAML document and resolves it as PyYAML would.
func parse(b []byte) (*yaml.Node, error) {
	dec := yaml.NewDecoder(bytes.NewReader(b))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil && !errors.Is(err, io.EOF) {
		return nil, err
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); !errors.Is(err, io.EOF) {
		if err != nil {
			return nil, err
		}
		return nil, &lineError{line: extra.Line, msg: "a second YAML document (---); expected one"}
	}
	r := &resolver{expanding: map[*yaml.Node]bool{}}
	return r.resolve(&doc)
}

// yamlLine finds the line in yaml.v3's error messages ("yaml: line 3: ...").
var yamlLine = regexp.MustCompile(`^yaml: line (\d+): (.*)$`)

// parserErrors are the messages of libyaml's parser (not its scanner), for
// which yaml.v3 reports a line counted from 0 (and none for the first).
var parserErrors = map[string]bool{
	"did not find expected <document start>": true,
	"did not find expected node content":     true,
	"did not find expected key":              true,
	"did not find expected '-' indicator":    true,
	"did not find expected ',' or ']'":       true,
	"did not find expected ',' or '}'":       true,
	"found duplicate %YAML directive":        true,
	"found incompatible YAML document":       true,
	"found duplicate %TAG directive":         true,
	"found undefined tag handle":             true,
}

// sourceError turns a parse error into an Error naming source (a file, or
// a variable); lines are given for files and multi-line values.
func sourceError(source string, err error, file, lines bool) error {
	line, msg := 0, err.Error()
	var le *lineError
	if errors.As(err, &le) {
		line, msg = le.line, le.msg
	} else if m := yamlLine.FindStringSubmatch(msg); m != nil {
		line, _ = strconv.Atoi(m[1])
		if parserErrors[m[2]] {
			line++
		}
		msg = "not valid YAML: " + m[2]
	} else {
		msg = strings.TrimPrefix(msg, "yaml: ")
		if parserErrors[msg] {
			line = 1
		}
		msg = "not valid YAML: " + msg
	}
	if !lines {
		line = 0
	}
	if line > 0 && !file {
		return &Error{Source: source, Msg: fmt.Sprintf("line %d of the value: %s", line, msg)}
	}
	return &Error{Source: source, Line: line, Msg: msg}
}

func describe(n *yaml.Node) string {
	switch n.Kind {
	case yaml.SequenceNode:
		return "a list"
	case yaml.MappingNode:
		return "a mapping"
	}
	switch n.ShortTag() {
	case tagStr:
		return "a string"
	case tagNull:
		return "null"
	case tagBool:
		return "a boolean"
	case tagInt, tagFloat:
		return "a number"
	case tagTimestamp:
		return "a date"
	}
	return "a value"
}

func unwrap(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}
