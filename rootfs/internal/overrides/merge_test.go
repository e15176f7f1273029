package overrides

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"gopkg.in/yaml.v3"

	"github.com/synapse-image/synapse-image/rootfs/internal/knownkeys"
)

// base is a small contract config, as config.Node makes it (yaml.v3 tags).
const base = `server_name: example.com
enable_registration: false
listeners:
  - port: 8008
    type: http
database:
  name: sqlite3
  args:
    database: /data/homeserver.db
media_store_path: /data/media
caches:
  global_factor: 0.5
email:
  smtp_host: mail
  smtp_port: 25
`

func baseNode(t *testing.T) *yaml.Node {
	t.Helper()
	var doc yaml.Node
	require.NoError(t, yaml.Unmarshal([]byte(base), &doc))
	return &doc
}

// layers builds fragments (name: YAML) and variables (NAME=value) in the
// order given.
func layers(t *testing.T, sources ...string) []Layer {
	t.Helper()
	var out []Layer
	for _, s := range sources {
		if name, value, ok := strings.Cut(s, "="); ok && IsGeneric(name) {
			ls, err := Variables([]string{name + "=" + value}, func(string) ([]byte, error) { return []byte(value), nil })
			require.NoError(t, err)
			out = append(out, ls...)
			continue
		}
		name, content, _ := strings.Cut(s, "|")
		l, err := fragment(name, []byte(content))
		require.NoError(t, err)
		out = append(out, l)
	}
	return out
}

func TestApply(t *testing.T) {
	for _, c := range []struct {
		name    string
		sources []string
		want    string // the keys of the result that differ from base, as YAML
		changes []string
	}{
		{
			name:    "scalar replaced, new key added",
			sources: []string{"SYNAPSE_CONFIG__MEDIA_STORE_PATH=/media", "SYNAPSE_CONFIG__URL_PREVIEW_ENABLED=on"},
			want:    "media_store_path: /media\nurl_preview_enabled: true",
			changes: []string{"media_store_path replaced by SYNAPSE_CONFIG__MEDIA_STORE_PATH", "url_preview_enabled set by SYNAPSE_CONFIG__URL_PREVIEW_ENABLED"},
		},
		{
			name:    "mappings merge",
			sources: []string{"/c/10.yaml|caches:\n  per_cache_factors: {a: 2.0}\n", "SYNAPSE_CONFIG__DATABASE__ARGS__CP_MIN=2"},
			want:    "database:\n  name: sqlite3\n  args:\n    database: /data/homeserver.db\n    cp_min: 2\ncaches:\n  global_factor: 0.5\n  per_cache_factors: {a: 2.0}",
			changes: []string{"caches.per_cache_factors set by /c/10.yaml:2", "database.args.cp_min set by SYNAPSE_CONFIG__DATABASE__ARGS__CP_MIN"},
		},
		{
			name:    "lists replace",
			sources: []string{"/c/10.yaml|listeners:\n  - port: 9000\n    type: http\n"},
			want:    "listeners:\n  - port: 9000\n    type: http",
			changes: []string{"listeners replaced by /c/10.yaml:1"},
		},
		{
			name:    "a mapping replaces a scalar, a scalar a mapping",
			sources: []string{"/c/10.yaml|media_store_path: {a: 1}\ncaches: 5\n"},
			want:    "media_store_path: {a: 1}\ncaches: 5",
			changes: []string{"media_store_path replaced by /c/10.yaml:1", "caches replaced by /c/10.yaml:2"},
		},
		{
			name:    "null removes",
			sources: []string{"/c/10.yaml|caches:\n  global_factor: ~\n", "SYNAPSE_CONFIG__EMAIL=null"},
			want:    "caches: {}",
			changes: []string{"caches.global_factor removed by /c/10.yaml:2", "email removed by SYNAPSE_CONFIG__EMAIL"},
		},
		{
			name:    "null for a key that is not there changes nothing",
			sources: []string{"SYNAPSE_CONFIG__NOPE=", "SYNAPSE_CONFIG__NOPE2__DEEPER=~"},
		},
		{
			name:    "nulls inside a new mapping are dropped",
			sources: []string{"/c/10.yaml|retention:\n  enabled: true\n  default_policy: null\nall_null:\n  a: null\n"},
			want:    "retention:\n  enabled: true",
			changes: []string{"retention set by /c/10.yaml:1"},
		},
		{
			name: "order: fragments by name, then variables, parents before children",
			sources: []string{
				"/c/10.yaml|rc_message: {per_second: 1, burst_count: 2}\n",
				"/c/20.yaml|rc_message: {per_second: 3}\n",
				"SYNAPSE_CONFIG__RC_MESSAGE={burst_count: 50}",
				"SYNAPSE_CONFIG__RC_MESSAGE__PER_SECOND=100",
			},
			want:    "rc_message: {per_second: 100, burst_count: 50}",
			changes: []string{"rc_message set by /c/10.yaml:1", "rc_message.burst_count replaced by SYNAPSE_CONFIG__RC_MESSAGE", "rc_message.per_second replaced by SYNAPSE_CONFIG__RC_MESSAGE__PER_SECOND"},
		},
		{
			name:    "a variable creates the mappings of its path; null in the path counts as missing",
			sources: []string{"/c/10.yaml|presence: ~\nexperimental_features:\n", "SYNAPSE_CONFIG__PRESENCE__ENABLED=false", "SYNAPSE_CONFIG__A__B__C=1"},
			want:    "presence:\n  enabled: false\na:\n  b:\n    c: 1",
			changes: []string{"presence.enabled set by SYNAPSE_CONFIG__PRESENCE__ENABLED", "a.b.c set by SYNAPSE_CONFIG__A__B__C"},
		},
		{
			name:    "the file form is a secret",
			sources: []string{"SYNAPSE_CONFIG_FILE__EMAIL__SMTP_PASS=hunter2\n"},
			want:    "email:\n  smtp_host: mail\n  smtp_port: 25\n  smtp_pass: hunter2",
			changes: []string{"email.smtp_pass set by SYNAPSE_CONFIG_FILE__EMAIL__SMTP_PASS (secret)"},
		},
	} {
		t.Run(c.name, func(t *testing.T) {
			doc := baseNode(t)
			changes, err := Apply(doc, layers(t, c.sources...), nil)
			require.NoError(t, err)
			assert.Equal(t, c.want, diff(t, doc))
			var got []string
			for _, ch := range changes {
				s := ch.String()
				if ch.Secret {
					s += " (secret)"
				}
				got = append(got, s)
			}
			assert.Equal(t, c.changes, got)
		})
	}
}

// diff is the top-level keys of doc whose value differs from base, and the
// new ones, as block YAML without trailing newline.
func diff(t *testing.T, doc *yaml.Node) string {
	t.Helper()
	var orig map[string]any
	require.NoError(t, yaml.Unmarshal([]byte(base), &orig))
	m := doc.Content[0]
	out := &yaml.Node{Kind: yaml.MappingNode}
	for i := 0; i+1 < len(m.Content); i += 2 {
		k, v := m.Content[i], m.Content[i+1]
		var now any
		require.NoError(t, v.Decode(&now))
		was, ok := orig[k.Value]
		if ok && equalYAML(t, was, now) {
			continue
		}
		out.Content = append(out.Content, k, v)
	}
	var b strings.Builder
	enc := yaml.NewEncoder(&b)
	enc.SetIndent(2)
	require.NoError(t, enc.Encode(out))
	s := strings.TrimSpace(b.String())
	if s == "{}" {
		return ""
	}
	return s
}

func equalYAML(t *testing.T, a, b any) bool {
	ya, err := yaml.Marshal(a)
	require.NoError(t, err)
	yb, err := yaml.Marshal(b)
	require.NoError(t, err)
	return string(ya) == string(yb)
}

// TestApplyRemovedKeysStayRemoved: base keys removed by null are gone from
// the result, not only emptied.
func TestApplyRemovedKeysStayRemoved(t *testing.T) {
	doc := baseNode(t)
	_, err := Apply(doc, layers(t, "SYNAPSE_CONFIG__EMAIL=~"), nil)
	require.NoError(t, err)
	b, err := yaml.Marshal(doc)
	require.NoError(t, err)
	assert.NotContains(t, string(b), "email")
	assert.NotContains(t, string(b), "smtp_host")
}

func TestApplyErrors(t *testing.T) {
	claims := []Claim{
		{Var: "SYNAPSE_ENABLE_REGISTRATION", Path: []string{"enable_registration"}},
		{Var: "SYNAPSE_SMTP_HOST", Path: []string{"email", "smtp_host"}},
		{Var: "SYNAPSE_CACHE_FACTOR", Path: []string{"caches", "global_factor"}},
		{Var: "SYNAPSE_ENABLE_METRICS", Path: []string{"enable_metrics"}}, // set explicitly to false: not in the config
	}
	for _, c := range []struct {
		sources []string
		want    string
	}{
		{[]string{"SYNAPSE_CONFIG__ENABLE_REGISTRATION=true"},
			"SYNAPSE_CONFIG__ENABLE_REGISTRATION: sets enable_registration, which SYNAPSE_ENABLE_REGISTRATION also sets; set it with only one of them"},
		{[]string{"SYNAPSE_CONFIG__ENABLE_METRICS=true"},
			"SYNAPSE_CONFIG__ENABLE_METRICS: sets enable_metrics, which SYNAPSE_ENABLE_METRICS also sets"},
		{[]string{"SYNAPSE_CONFIG__EMAIL__SMTP_HOST=other"},
			"SYNAPSE_CONFIG__EMAIL__SMTP_HOST: sets email.smtp_host, which SYNAPSE_SMTP_HOST also sets"},
		{[]string{"SYNAPSE_CONFIG__EMAIL=null"},
			"SYNAPSE_CONFIG__EMAIL: sets email (and so email.smtp_host), which SYNAPSE_SMTP_HOST also sets"},
		{[]string{"SYNAPSE_CONFIG__CACHES=5"},
			"SYNAPSE_CONFIG__CACHES: sets caches (and so caches.global_factor), which SYNAPSE_CACHE_FACTOR also sets"},
		{[]string{"SYNAPSE_CONFIG__ENABLE_REGISTRATION__X=1"},
			"SYNAPSE_CONFIG__ENABLE_REGISTRATION__X: enable_registration is a boolean, not a mapping, so it has no key x; set the whole value with SYNAPSE_CONFIG__ENABLE_REGISTRATION"},
		{[]string{"/data/conf.d/10-reg.yaml|# open registration\nenable_registration: true\n"},
			"/data/conf.d/10-reg.yaml:2: sets enable_registration, which SYNAPSE_ENABLE_REGISTRATION also sets"},
		{[]string{"/data/conf.d/10-mail.yaml|email:\n  smtp_port: 26\n  smtp_host: x\n"},
			"/data/conf.d/10-mail.yaml:3: sets email.smtp_host, which SYNAPSE_SMTP_HOST also sets"},
		// A path through a scalar or a list.
		{[]string{"SYNAPSE_CONFIG__SERVER_NAME__X=1"},
			"SYNAPSE_CONFIG__SERVER_NAME__X: server_name is a string, not a mapping, so it has no key x; set the whole value with SYNAPSE_CONFIG__SERVER_NAME"},
		{[]string{"SYNAPSE_CONFIG__LISTENERS__0__PORT=9000"},
			"SYNAPSE_CONFIG__LISTENERS__0__PORT: listeners is a list, not a mapping, so it has no key 0; set the whole value with SYNAPSE_CONFIG__LISTENERS"},
		{[]string{"SYNAPSE_CONFIG__DATABASE__ARGS__DATABASE__X=~"},
			"SYNAPSE_CONFIG__DATABASE__ARGS__DATABASE__X: database.args.database is a string, not a mapping"},
		{[]string{"/c/10.yaml|rc_message: 5\n", "SYNAPSE_CONFIG__RC_MESSAGE__PER_SECOND=1"},
			"SYNAPSE_CONFIG__RC_MESSAGE__PER_SECOND: rc_message is a number, not a mapping"},
		{[]string{"SYNAPSE_CONFIG_FILE__FORM_SECRET__X=s"},
			"SYNAPSE_CONFIG_FILE__FORM_SECRET__X: form_secret"},
	} {
		t.Run(c.want, func(t *testing.T) {
			doc := baseNode(t)
			// form_secret as a string, to go through it.
			doc.Content[0].Content = append(doc.Content[0].Content, strKey("form_secret"), strKey("x"))
			_, err := Apply(doc, layers(t, c.sources...), claims)
			require.Error(t, err)
			assert.IsType(t, &Error{}, err)
			assert.Contains(t, err.Error(), c.want)
		})
	}
}

// TestApplyClaimsAllowOtherKeys: a contract variable holds only its own
// keys; the rest of the same section stays open.
func TestApplyClaimsAllowOtherKeys(t *testing.T) {
	doc := baseNode(t)
	claims := []Claim{{Var: "SYNAPSE_SMTP_HOST", Path: []string{"email", "smtp_host"}}}
	_, err := Apply(doc, layers(t, "SYNAPSE_CONFIG__EMAIL__SMTP_PORT=587", "/c/10.yaml|email:\n  require_transport_security: true\n"), claims)
	require.NoError(t, err)
	assert.Equal(t, "email:\n  smtp_host: mail\n  smtp_port: 587\n  require_transport_security: true", diff(t, doc))
}

func TestWarnings(t *testing.T) {
	data := writeFragments(t, map[string]string{"10-x.yaml": "# previews\nurl_previews_enabled: true\nretention: {enabled: true}\n"})
	frags, err := fragmentsIn(t, data)
	require.NoError(t, err)
	vars, err := Variables([]string{"SYNAPSE_CONFIG__PRESENSE__ENABLED=false", "SYNAPSE_CONFIG__RC_MESSAGE__PER_SECOND=1", "SYNAPSE_CONFIG__NOTHING_LIKE_IT=1"}, os.ReadFile)
	require.NoError(t, err)
	got := Warnings(append(frags, vars...), knownkeys.Synapse())
	assert.Equal(t, []string{
		filepath.Join(data, "conf.d", "10-x.yaml") + ":2: Synapse 1.160.0 has no setting url_previews_enabled and ignores it (did you mean `url_preview_enabled`?)",
		"SYNAPSE_CONFIG__NOTHING_LIKE_IT: Synapse 1.160.0 has no setting nothing_like_it and ignores it",
		"SYNAPSE_CONFIG__PRESENSE__ENABLED: Synapse 1.160.0 has no setting presense and ignores it (did you mean `presence`?)",
	}, got)
}

func TestMaskSecrets(t *testing.T) {
	doc := baseNode(t)
	changes, err := Apply(doc, layers(t, "SYNAPSE_CONFIG_FILE__SENTRY__DSN=https://key@sentry.example/1", "SYNAPSE_CONFIG__SENTRY__ENVIRONMENT=prod"), nil)
	require.NoError(t, err)
	MaskSecrets(doc, changes, "<secret>")
	assert.Equal(t, "sentry:\n  dsn: \"<secret>\"\n  environment: prod", diff(t, doc))
}
