package overrides

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"gopkg.in/yaml.v3"
)

// TestScalarsAsPyYAML: each value means what PyYAML (Synapse's reader)
// makes of it, with an explicit tag and one canonical spelling.
func TestScalarsAsPyYAML(t *testing.T) {
	for _, c := range []struct{ in, tag, value string }{
		// Booleans: YAML 1.1 words, three casings each; y and n are strings.
		{"yes", "!!bool", "true"}, {"Yes", "!!bool", "true"}, {"YES", "!!bool", "true"},
		{"no", "!!bool", "false"}, {"on", "!!bool", "true"}, {"On", "!!bool", "true"},
		{"off", "!!bool", "false"}, {"OFF", "!!bool", "false"}, {"true", "!!bool", "true"},
		{"False", "!!bool", "false"}, {"y", "!!str", "y"}, {"n", "!!str", "n"}, {"yEs", "!!str", "yEs"},
		// Integers.
		{"5", "!!int", "5"}, {"+5", "!!int", "5"}, {"-5", "!!int", "-5"}, {"0", "!!int", "0"},
		{"0777", "!!int", "511"}, {"0b101", "!!int", "5"}, {"0x1F", "!!int", "31"}, {"-0x10", "!!int", "-16"},
		{"1_000", "!!int", "1000"}, {"1:20", "!!int", "80"}, {"-1:20", "!!int", "-80"}, {"1:20:30", "!!int", "4830"},
		{"123456789012345678901234567890", "!!int", "123456789012345678901234567890"},
		{"12:60", "!!str", "12:60"}, {"0o17", "!!str", "0o17"}, {"08", "!!str", "08"},
		// Floats: a dot is needed, an exponent needs its sign.
		{"1.5", "!!float", "1.5"}, {"0.5", "!!float", "0.5"}, {".5", "!!float", "0.5"}, {"1.", "!!float", "1.0"},
		{"1_000.5", "!!float", "1000.5"}, {"1:30.5", "!!float", "90.5"}, {"-2.0", "!!float", "-2.0"},
		{"1.0e+5", "!!float", "100000.0"}, {"1.5E-3", "!!float", "0.0015"}, {"1.0e+20", "!!float", "1.0e+20"},
		{".inf", "!!float", ".inf"}, {"-.Inf", "!!float", "-.inf"}, {".NaN", "!!float", ".nan"},
		{"1e5", "!!str", "1e5"}, {"1.0e5", "!!str", "1.0e5"}, {"inf", "!!str", "inf"},
		// Nulls.
		{"~", "!!null", "null"}, {"null", "!!null", "null"}, {"Null", "!!null", "null"}, {"NULL", "!!null", "null"},
		{"", "!!null", "null"}, {"nULL", "!!str", "nULL"},
		// Timestamps stay as written (PyYAML makes a date of them).
		{"2026-11-29", "!!timestamp", "2026-11-29"},
		// Strings: plain words, quoted forms, explicit tags, comments.
		{"hello world", "!!str", "hello world"}, {`"yes"`, "!!str", "yes"}, {"'0777'", "!!str", "0777"},
		{`"="`, "!!str", "="}, {`"<<"`, "!!str", "<<"}, {"!!str 5", "!!str", "5"}, {"!!int '12'", "!!int", "12"},
		{"!!float '3'", "!!float", "3.0"}, {"5 # five", "!!int", "5"}, {"matrix.org", "!!str", "matrix.org"},
		{"https://example.com/x?a=b", "!!str", "https://example.com/x?a=b"}, {`"@bot:example.com"`, "!!str", "@bot:example.com"},
		{"|\n  two\n  lines\n", "!!str", "two\nlines\n"},
	} {
		t.Run(c.in, func(t *testing.T) {
			n, err := parse([]byte(c.in))
			require.NoError(t, err)
			assert.Equal(t, yaml.ScalarNode, n.Kind)
			assert.Equal(t, c.tag, n.Tag)
			assert.Equal(t, c.value, n.Value)
		})
	}
}

// TestScalarsRefused: what Synapse's reader refuses is refused here, with
// the line.
func TestScalarsRefused(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"=", "= is refused by Synapse's YAML reader; quote it"},
		{"<<", "<< is a merge key in Synapse's YAML reader; quote it"},
		{"a: <<", "<< is a merge key"},
		{"!!binary aGk=", "tag !!binary is not supported"},
		{"!custom x", "tag !custom is not supported"},
		{"!!bool maybe", `"maybe" is not a boolean`},
		{"!!int x", `"x" is not a number`},
		{"!!map [a]", "tag !!map is not supported here"},
		{"? [a, b]\n: c", "a mapping key must be a plain value"},
		{"a: 1\nb: 2\na: 3", "key a appears twice in the same mapping (first at line 1)"},
		{"a: &x [*x]", "alias *x refers to a value that contains it"},
		// Reserved indicators cannot start a plain value, in YAML 1.1 and 1.2.
		{"@bot:example.com", "cannot start any token"},
		{"`x`", "cannot start any token"},
	} {
		t.Run(c.in, func(t *testing.T) {
			_, err := parse([]byte(c.in))
			require.Error(t, err)
			assert.Contains(t, err.Error(), c.want)
		})
	}
}

func TestCollections(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"[a, b]", "[a, b]"},
		{"[yes, 0777, '1:20', 1:20, 'yes', '~']", `[true, 511, "1:20", 80, "yes", "~"]`},
		{`{"a": 1, "b": [true, null], "c": "x"}`, `{a: 1, b: [true, null], c: x}`},
		{"{k: v}", "{k: v}"},
		{"a:\n  b: on\n", "a:\n    b: true"},
		// Aliases are copied and merge keys applied; explicit keys win,
		// then the first merged mapping.
		{"base: &b {x: 1, y: 2}\nuse:\n  <<: *b\n  y: 3", "base: {x: 1, y: 2}\nuse:\n    y: 3\n    x: 1"},
		{"a: &a {x: 1}\nb: &b {x: 2, z: 2}\nc:\n  <<: [*a, *b]", "a: {x: 1}\nb: {x: 2, z: 2}\nc:\n    x: 1\n    z: 2"},
		{"l: &l [1, 2]\nm: *l", "l: [1, 2]\nm: [1, 2]"},
		// Keys are resolved too: on is a boolean key, as in PyYAML.
		{"on: 1\n'on': 2", "true: 1\n\"on\": 2"},
	} {
		t.Run(c.in, func(t *testing.T) {
			n, err := parse([]byte(c.in))
			require.NoError(t, err)
			assert.Equal(t, c.want, strings.TrimSpace(encode(t, n)))
		})
	}
}

// TestAliasBomb: expanding aliases is bounded.
func TestAliasBomb(t *testing.T) {
	in := "a: &a [x, x, x, x, x, x, x, x, x, x]\n"
	prev := "a"
	for _, name := range []string{"b", "c", "d", "e", "f", "g"} {
		in += name + ": &" + name + " [" + strings.Repeat("*"+prev+", ", 9) + "*" + prev + "]\n"
		prev = name
	}
	_, err := parse([]byte(in))
	require.Error(t, err)
	assert.Contains(t, err.Error(), "more than 100000 values after expanding aliases")
}

func TestFormatFloat(t *testing.T) {
	for f, want := range map[float64]string{
		0: "0.0", 1: "1.0", -1.5: "-1.5", 1e20: "1.0e+20", 1e-7: "1.0e-07", 0.1: "0.1", 123456.789: "123456.789",
	} {
		got := FormatFloat(f)
		assert.Equal(t, want, got)
		assert.Equal(t, "!!float", Resolve11(got), "%s must read as a float in YAML 1.1", got)
		var back float64
		require.NoError(t, yaml.Unmarshal([]byte(got), &back))
		assert.Equal(t, f, back, "%s must read as the same float in YAML 1.2", got)
	}
}

// encode writes n with yaml.v3 (for comparisons: tags that differ from
// yaml.v3's own resolution are shown as quotes or tags).
func encode(t *testing.T, n *yaml.Node) string {
	t.Helper()
	b, err := yaml.Marshal(n)
	require.NoError(t, err)
	return string(b)
}
