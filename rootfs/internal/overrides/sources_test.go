package overrides

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"gopkg.in/yaml.v3"
)

func TestVariables(t *testing.T) {
	secret := filepath.Join(t.TempDir(), "smtp")
	require.NoError(t, os.WriteFile(secret, []byte("p@ss: yes\n"), 0o600))
	crlf := filepath.Join(t.TempDir(), "crlf")
	require.NoError(t, os.WriteFile(crlf, []byte("s3cret\r\n\r\n"), 0o600))
	empty := filepath.Join(t.TempDir(), "empty")
	require.NoError(t, os.WriteFile(empty, nil, 0o600))

	layers, err := Variables([]string{
		"PATH=/usr/bin",
		"SYNAPSE_CONFIG_PATH=/data/homeserver.yaml", // not a generic variable
		"SYNAPSE_CONFIGX__A=1",                      // nor this
		"SYNAPSE_CONFIG__RC_MESSAGE__PER_SECOND=5",
		"SYNAPSE_CONFIG__RC_MESSAGE={burst_count: 100}",
		"SYNAPSE_CONFIG__URL_PREVIEW_ENABLED=yes",
		"SYNAPSE_CONFIG__PID_FILE=/data/x.pid", // a key that ends in _file is an ordinary key
		"SYNAPSE_CONFIG__FEDERATION_DOMAIN_WHITELIST=[matrix.org, example.com]",
		"SYNAPSE_CONFIG__PRESENCE__ENABLED=off",
		"SYNAPSE_CONFIG__CACHES__PER_CACHE_FACTORS__GET_USERS_WHO_SHARE_ROOM_WITH_USER=2.0",
		"SYNAPSE_CONFIG__SERVER_NOTICES=",
		"SYNAPSE_CONFIG__Mixed_Case=x=y",
		"SYNAPSE_CONFIG__JSON={\"a\": [1, \"two\", null]}",
		"SYNAPSE_CONFIG__EXPERIMENTAL_FEATURES__MSC3026_ENABLED=true",
		"SYNAPSE_CONFIG_FILE__EMAIL__SMTP_PASS=" + secret,
		"SYNAPSE_CONFIG_FILE__FORM_SECRET=" + crlf,
		"SYNAPSE_CONFIG_FILE__TURN_SHARED_SECRET=" + empty,
	}, os.ReadFile)
	require.NoError(t, err)

	var got []string
	for _, l := range layers {
		got = append(got, l.Name+" → "+Dotted(l.Path)+" = "+l.Value.Tag+" "+strings.TrimSpace(encodeValue(t, l)))
	}
	// Parents first, then by name; file forms are strings, whatever they hold.
	assert.Equal(t, []string{
		"SYNAPSE_CONFIG_FILE__FORM_SECRET → form_secret = !!str s3cret",
		"SYNAPSE_CONFIG_FILE__TURN_SHARED_SECRET → turn_shared_secret = !!str \"\"",
		"SYNAPSE_CONFIG__FEDERATION_DOMAIN_WHITELIST → federation_domain_whitelist = !!seq [matrix.org, example.com]",
		"SYNAPSE_CONFIG__JSON → json = !!map {a: [1, two, null]}",
		"SYNAPSE_CONFIG__Mixed_Case → mixed_case = !!str x=y",
		"SYNAPSE_CONFIG__PID_FILE → pid_file = !!str /data/x.pid",
		"SYNAPSE_CONFIG__RC_MESSAGE → rc_message = !!map {burst_count: 100}",
		"SYNAPSE_CONFIG__SERVER_NOTICES → server_notices = !!null null",
		"SYNAPSE_CONFIG__URL_PREVIEW_ENABLED → url_preview_enabled = !!bool true",
		"SYNAPSE_CONFIG_FILE__EMAIL__SMTP_PASS → email.smtp_pass = !!str 'p@ss: yes'",
		"SYNAPSE_CONFIG__EXPERIMENTAL_FEATURES__MSC3026_ENABLED → experimental_features.msc3026_enabled = !!bool true",
		"SYNAPSE_CONFIG__PRESENCE__ENABLED → presence.enabled = !!bool false",
		"SYNAPSE_CONFIG__RC_MESSAGE__PER_SECOND → rc_message.per_second = !!int 5",
		"SYNAPSE_CONFIG__CACHES__PER_CACHE_FACTORS__GET_USERS_WHO_SHARE_ROOM_WITH_USER → caches.per_cache_factors.get_users_who_share_room_with_user = !!float 2.0",
	}, got)
	for _, l := range layers {
		assert.Equal(t, strings.HasPrefix(l.Name, FilePrefix), l.Kind == FileVariable, l.Name)
	}
}

func encodeValue(t *testing.T, l Layer) string {
	t.Helper()
	return encodeFlow(t, l.Value)
}

// encodeFlow writes n with collections on one line.
func encodeFlow(t *testing.T, n *yaml.Node) string {
	t.Helper()
	var flow func(n *yaml.Node) *yaml.Node
	flow = func(n *yaml.Node) *yaml.Node {
		c := *n
		if c.Kind == yaml.MappingNode || c.Kind == yaml.SequenceNode {
			c.Style |= yaml.FlowStyle
		}
		c.Content = nil
		for _, k := range n.Content {
			c.Content = append(c.Content, flow(k))
		}
		return &c
	}
	return encode(t, flow(n))
}

// TestVariablesBad: every bad variable is one error naming it, without
// its value.
func TestVariablesBad(t *testing.T) {
	dir := t.TempDir()
	notUTF8 := filepath.Join(dir, "latin1")
	require.NoError(t, os.WriteFile(notUTF8, []byte("caf\xe9"), 0o600))
	unreadable := filepath.Join(dir, "unreadable")
	require.NoError(t, os.WriteFile(unreadable, []byte("x"), 0o000))
	for _, c := range []struct {
		env  []string
		want string
	}{
		{[]string{"SYNAPSE_CONFIG__=1"}, "SYNAPSE_CONFIG__: no key after SYNAPSE_CONFIG__; expected SYNAPSE_CONFIG__KEY[__SUBKEY...]"},
		{[]string{"SYNAPSE_CONFIG_FILE__=/x"}, "SYNAPSE_CONFIG_FILE__: no key after SYNAPSE_CONFIG_FILE__"},
		{[]string{"SYNAPSE_CONFIG____X=1"}, "SYNAPSE_CONFIG____X: empty key in the path; expected SYNAPSE_CONFIG__KEY[__SUBKEY...], keys separated by exactly two underscores"},
		{[]string{"SYNAPSE_CONFIG__A__=1"}, "SYNAPSE_CONFIG__A__: empty key in the path"},
		{[]string{"SYNAPSE_CONFIG__A____B=1"}, "SYNAPSE_CONFIG__A____B: empty key in the path"},
		{[]string{"SYNAPSE_CONFIG__A___B=1"}, `SYNAPSE_CONFIG__A___B: key "_B": expected letters, digits`},
		{[]string{"SYNAPSE_CONFIG__A B=1"}, `SYNAPSE_CONFIG__A B: key "A B": expected letters, digits`},
		{[]string{"SYNAPSE_CONFIG__RC_MESSAGE=[1, 2"}, "SYNAPSE_CONFIG__RC_MESSAGE: not valid YAML: did not find expected ',' or ']'"},
		{[]string{"SYNAPSE_CONFIG__X={a: 1"}, "SYNAPSE_CONFIG__X: not valid YAML"},
		{[]string{"SYNAPSE_CONFIG__X=a: b: c"}, "SYNAPSE_CONFIG__X: not valid YAML: mapping values are not allowed in this context"},
		{[]string{"SYNAPSE_CONFIG__X=a\n---\nb"}, "SYNAPSE_CONFIG__X: line 2 of the value: a second YAML document (---); expected one"},
		{[]string{"SYNAPSE_CONFIG__X=="}, "SYNAPSE_CONFIG__X: = is refused by Synapse's YAML reader"},
		{[]string{"SYNAPSE_CONFIG__X=@me"}, "SYNAPSE_CONFIG__X: not valid YAML: found character that cannot start any token"},
		{[]string{"SYNAPSE_CONFIG__A=1", "SYNAPSE_CONFIG__a=2"}, "SYNAPSE_CONFIG__A: sets a, which SYNAPSE_CONFIG__a also sets; set it once"},
		{[]string{"SYNAPSE_CONFIG__FORM_SECRET=x", "SYNAPSE_CONFIG_FILE__FORM_SECRET=/x"}, "SYNAPSE_CONFIG_FILE__FORM_SECRET: sets form_secret, which SYNAPSE_CONFIG__FORM_SECRET also sets"},
		{[]string{"SYNAPSE_CONFIG_FILE__FORM_SECRET="}, "SYNAPSE_CONFIG_FILE__FORM_SECRET: expected the path of a file whose content is the value, got an empty value"},
		{[]string{"SYNAPSE_CONFIG_FILE__FORM_SECRET=" + filepath.Join(dir, "missing")}, "SYNAPSE_CONFIG_FILE__FORM_SECRET: cannot read " + filepath.Join(dir, "missing") + ": no such file or directory"},
		{[]string{"SYNAPSE_CONFIG_FILE__FORM_SECRET=" + dir}, "SYNAPSE_CONFIG_FILE__FORM_SECRET: cannot read " + dir + ": is a directory"},
		{[]string{"SYNAPSE_CONFIG_FILE__FORM_SECRET=" + notUTF8}, "SYNAPSE_CONFIG_FILE__FORM_SECRET: " + notUTF8 + " is not UTF-8 text"},
	} {
		t.Run(c.env[0], func(t *testing.T) {
			_, err := Variables(c.env, os.ReadFile)
			require.Error(t, err)
			assert.IsType(t, &Error{}, err)
			assert.Contains(t, err.Error(), c.want)
			assert.NotContains(t, err.Error(), "\n")
		})
	}
	if os.Geteuid() != 0 {
		_, err := Variables([]string{"SYNAPSE_CONFIG_FILE__FORM_SECRET=" + unreadable}, os.ReadFile)
		require.Error(t, err)
		assert.Equal(t, "SYNAPSE_CONFIG_FILE__FORM_SECRET: cannot read "+unreadable+": permission denied", err.Error())
	}
}

// TestVariablesErrorsHideValues: no error message shows a value (they may
// be secrets).
func TestVariablesErrorsHideValues(t *testing.T) {
	for _, v := range []string{"[hunter2", "hunter2: x: y", "=", "hunter2\n---\nx"} {
		_, err := Variables([]string{"SYNAPSE_CONFIG__EMAIL__SMTP_PASS=" + v}, os.ReadFile)
		require.Error(t, err)
		assert.NotContains(t, err.Error(), "hunter2")
	}
}

// fragmentsIn reads the fragments of the data directory data.
func fragmentsIn(t *testing.T, data string) ([]Layer, error) {
	t.Helper()
	root, err := os.OpenRoot(data)
	require.NoError(t, err)
	defer root.Close()
	return Fragments(root)
}

func writeFragments(t *testing.T, files map[string]string) string {
	t.Helper()
	data := t.TempDir()
	dir := filepath.Join(data, "conf.d")
	require.NoError(t, os.MkdirAll(dir, 0o755))
	for name, content := range files {
		require.NoError(t, os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644))
	}
	return data
}

func TestFragments(t *testing.T) {
	data := writeFragments(t, map[string]string{
		"20-previews.yaml": "url_preview_enabled: yes\nurl_preview_ip_range_blacklist: ['127.0.0.0/8']\n",
		"10-rate.yml":      "\xef\xbb\xbf# a BOM and a comment\nrc_message:\n  per_second: 0777\n",
		"05-empty.yaml":    "# nothing yet\n",
		"30-null.yaml":     "",
		"README.txt":       "not: a fragment",
		".hidden.yaml":     "[not read]",
		"99-anchors.yaml":  "defaults: &d {per_second: 1, burst_count: 2}\nrc_joins:\n  local: *d\n",
	})
	require.NoError(t, os.Mkdir(filepath.Join(data, "conf.d", "sub"), 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(data, "conf.d", "sub", "x.yaml"), []byte("[ignored]"), 0o644))
	// A symlink that stays inside conf.d is followed (Kubernetes mounts
	// ConfigMaps that way).
	require.NoError(t, os.Symlink("sub/x.yaml", filepath.Join(data, "conf.d", "00-link.txt")))
	require.NoError(t, os.WriteFile(filepath.Join(data, "conf.d", "sub", "ok.yaml"), []byte("presence: {enabled: false}"), 0o644))
	require.NoError(t, os.Symlink("sub/ok.yaml", filepath.Join(data, "conf.d", "40-link.yaml")))

	layers, err := fragmentsIn(t, data)
	require.NoError(t, err)
	var names []string
	for _, l := range layers {
		assert.Equal(t, Fragment, l.Kind)
		names = append(names, filepath.Base(l.Name)+": "+strings.TrimSpace(encodeFlow(t, l.Value)))
	}
	assert.Equal(t, []string{
		"10-rate.yml: {rc_message: {per_second: 511}}",
		"20-previews.yaml: {url_preview_enabled: true, url_preview_ip_range_blacklist: [127.0.0.0/8]}",
		"40-link.yaml: {presence: {enabled: false}}",
		"99-anchors.yaml: {defaults: {per_second: 1, burst_count: 2}, rc_joins: {local: {per_second: 1, burst_count: 2}}}",
	}, names)
	assert.Equal(t, filepath.Join(data, "conf.d", "10-rate.yml"), layers[0].Name)
	assert.Equal(t, 2, layers[0].Value.Content[0].Line, "lines count from the file's start")
}

func TestFragmentsMissing(t *testing.T) {
	layers, err := fragmentsIn(t, t.TempDir())
	require.NoError(t, err)
	assert.Empty(t, layers)
}

// TestFragmentsBad: one error naming the file and the line.
func TestFragmentsBad(t *testing.T) {
	for _, c := range []struct {
		content string
		want    string
	}{
		{"- a\n- b\n", "10-x.yaml:1: expected a mapping of homeserver.yaml keys (key: value), got a list"},
		{"# comment\njust words\n", "10-x.yaml:2: expected a mapping of homeserver.yaml keys (key: value), got a string"},
		{"a: 1\nb: [1, 2\n", "10-x.yaml:2: not valid YAML: did not find expected ',' or ']'"},
		{"b: [1, 2\n", "10-x.yaml:2: not valid YAML: did not find expected ',' or ']'"}, // the end of the file
		{"a: 1\nb:\n  - x\n  y: 2\n", "10-x.yaml:3: not valid YAML: did not find expected '-' indicator"},
		{"a: 1\nb: 'x\n", "10-x.yaml:2: not valid YAML: found unexpected end of stream"},
		{"a: 1\nb:\n\tc: 2\n", "10-x.yaml:3: not valid YAML: found character that cannot start any token"},
		{"a: 1\n---\nb: 2\n", "10-x.yaml:2: a second YAML document (---); expected one"},
		{"a: 1\nb: caf\xe9\n", "10-x.yaml:2: not UTF-8 text; expected a UTF-8 YAML mapping"},
		{"a: 1\n\na: 2\n", "10-x.yaml:3: key a appears twice in the same mapping (first at line 1)"},
		{"a:\n  b: =\n", "10-x.yaml:2: = is refused by Synapse's YAML reader; quote it (\"=\") to mean the text"},
		{"5: x\n", "10-x.yaml:1: top-level key 5 (int) is not a string; expected homeserver.yaml keys"},
		{"a: !!python/object:os.system x\n", "10-x.yaml:1: tag !!python/object:os.system is not supported"},
	} {
		t.Run(c.want, func(t *testing.T) {
			data := writeFragments(t, map[string]string{"10-x.yaml": c.content, "20-ok.yaml": "a: 1"})
			_, err := fragmentsIn(t, data)
			require.Error(t, err)
			assert.IsType(t, &Error{}, err)
			assert.Equal(t, filepath.Join(data, "conf.d")+"/"+c.want, err.Error())
		})
	}
}

// TestFragmentsStayInConfD: conf.d is writable by Synapse's user, and
// `check` reads it as root: no symlink may lead out of it.
func TestFragmentsStayInConfD(t *testing.T) {
	outside := filepath.Join(t.TempDir(), "secret.yaml")
	require.NoError(t, os.WriteFile(outside, []byte("root_only: hunter2"), 0o600))
	for name, setup := range map[string]func(data string){
		"file symlink": func(data string) {
			require.NoError(t, os.Symlink(outside, filepath.Join(data, "conf.d", "10-x.yaml")))
		},
		"relative file symlink": func(data string) {
			require.NoError(t, os.WriteFile(filepath.Join(data, "up.yaml"), []byte("a: 1"), 0o644))
			require.NoError(t, os.Symlink("../up.yaml", filepath.Join(data, "conf.d", "10-x.yaml")))
		},
		"conf.d symlink": func(data string) {
			require.NoError(t, os.Remove(filepath.Join(data, "conf.d")))
			require.NoError(t, os.Symlink(filepath.Dir(outside), filepath.Join(data, "conf.d")))
		},
	} {
		t.Run(name, func(t *testing.T) {
			data := writeFragments(t, nil)
			setup(data)
			layers, err := fragmentsIn(t, data)
			require.Error(t, err)
			assert.Empty(t, layers)
			assert.IsType(t, &Error{}, err)
			assert.NotContains(t, err.Error(), "hunter2")
		})
	}
	data := writeFragments(t, nil)
	require.NoError(t, syscall.Mkfifo(filepath.Join(data, "conf.d", "fifo.yaml"), 0o644))
	_, err := fragmentsIn(t, data)
	assert.EqualError(t, err, filepath.Join(data, "conf.d", "fifo.yaml")+": not a regular file (a FIFO); expected a YAML fragment", "a FIFO does not block")

	data = writeFragments(t, nil)
	require.NoError(t, os.Mkdir(filepath.Join(data, "conf.d", "dir.yaml"), 0o755))
	_, err = fragmentsIn(t, data)
	assert.EqualError(t, err, filepath.Join(data, "conf.d", "dir.yaml")+": not a regular file (a directory); expected a YAML fragment")
}
