package config

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"gopkg.in/yaml.v3"
)

// yaml11Strings are strings that a YAML 1.1 reader (PyYAML, Synapse's)
// takes for something else when they are written plain, or refuses.
var yaml11Strings = []string{
	"=", "<<", "yes", "no", "on", "off", "y", "n", "Yes", "ON", "true", "1:20", "0777", "0o17", "0x1F", "1_000",
	"~", "null", "Null", "", " ", ".inf", "-.Inf", ".nan", "1e3", "1.5", "12", "2001-12-14",
	"!tag", "!!python/object:os.system", "&anchor", "*alias", "%percent", "@at", "`backtick", "|", ">", "- dash",
	"? q", "a: b", "a #b", "'", "\"", "\\", "line\nbreak", "tab\there", "\u0085nel", "\ufeffbom", "é ☃ 🐉", "x\x01y",
}

// TestForPyYAMLStrings: every string is written double-quoted, so no
// YAML 1.1 rule can apply, and yaml.v3 reads it back unchanged.
func TestForPyYAMLStrings(t *testing.T) {
	for _, s := range yaml11Strings {
		b, err := Marshal("", map[string]any{"k": s, "l": []string{s}})
		require.NoError(t, err, "%q", s)
		var doc yaml.Node
		require.NoError(t, yaml.Unmarshal(b, &doc), "%q: %s", s, b)
		m := doc.Content[0]
		for _, v := range []*yaml.Node{m.Content[1], m.Content[3].Content[0]} {
			assert.Equal(t, yaml.DoubleQuotedStyle, v.Style, "%q written as %s", s, b)
			assert.Equal(t, s, v.Value)
		}
	}
}

// TestForPyYAMLOtherScalars: numbers, booleans and nulls (as generic
// settings may hold them) are written in the spelling both YAML 1.1 and
// 1.2 read as the same value; keys stay plain only when YAML 1.1 cannot
// read them as anything but the same string.
func TestForPyYAMLOtherScalars(t *testing.T) {
	const in = `a: 0o17
b: 0x1F
c: 1e3
d: .inf
e: -.INF
f: .NaN
g: ~
h: TRUE
i: 1_000
j: 2.50
k: 12345678901234567890
"on": 1
"x y": 2
"no": 3
"1": 4
Server: 5
!!str s: !!str 6
`
	var doc yaml.Node
	require.NoError(t, yaml.Unmarshal([]byte(in), &doc))
	b, err := Marshal("", &doc)
	require.NoError(t, err)
	assert.Equal(t, `a: 15
b: 31
c: 1000.0
d: .inf
e: -.inf
f: .nan
g: null
h: true
i: 1000
j: 2.5
k: 12345678901234567890
"on": 1
"x y": 2
"no": 3
"1": 4
"Server": 5
s: "6"
`, string(b))
}
