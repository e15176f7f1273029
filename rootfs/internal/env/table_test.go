package env

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestTableWellFormed: every variable has what help, docs and parsing need;
// defaults are valid values of their own parser; Requires points at an
// earlier text variable.
func TestTableWellFormed(t *testing.T) {
	seen := map[string]bool{}
	for _, v := range Vars {
		t.Run(v.Name, func(t *testing.T) {
			assert.False(t, seen[v.Name], "listed twice")
			seen[v.Name] = true
			assert.NotEmpty(t, v.Section)
			assert.NotEmpty(t, v.Help)
			require.NotNil(t, v.Parse)
			assert.False(t, v.Required != "" && (v.Default != "" || v.Shown != ""), "a mandatory variable has no default")
			if v.Default != "" {
				_, err := v.Parse("", v.Default)
				assert.NoError(t, err, "the default %q must parse", v.Default)
			}
			if v.Requires != "" {
				assert.True(t, seen[v.Requires], "Requires %s must come earlier in the table", v.Requires)
			} else {
				assert.Empty(t, v.Ignored, "Ignored needs Requires")
			}
			for _, k := range v.Keys {
				assert.Regexp(t, `^[a-z_]+(\.[a-z_]+)*$`, k, "a top-level or dotted homeserver.yaml key")
			}
		})
	}
}

// TestVariablesDoc: docs/variables.md is what the table generates.
func TestVariablesDoc(t *testing.T) {
	path := filepath.Join("..", "..", "..", "docs", "variables.md")
	got, err := os.ReadFile(path)
	require.NoError(t, err, "docs/variables.md is generated from the table: go generate ./rootfs/internal/env")
	if string(got) != string(Vars.Markdown()) {
		t.Fatalf("docs/variables.md differs from the variable table in rootfs/internal/env/vars.go; regenerate it with:\n\tgo generate ./rootfs/internal/env")
	}
	for _, v := range Vars {
		assert.Contains(t, string(got), "| `"+v.Name+"` |")
	}
}

// TestIsSet: a variable counts as set by the operator with a non-empty
// value, or for a secret also through NAME_FILE.
func TestIsSet(t *testing.T) {
	reg, _ := Vars.Lookup("SYNAPSE_ENABLE_REGISTRATION")
	pw, _ := Vars.Lookup("POSTGRES_PASSWORD")
	assert.False(t, reg.IsSet(Map(map[string]string{"SYNAPSE_ENABLE_REGISTRATION": ""})))
	assert.True(t, reg.IsSet(Map(map[string]string{"SYNAPSE_ENABLE_REGISTRATION": "no"})))
	assert.False(t, reg.IsSet(Map(map[string]string{"SYNAPSE_ENABLE_REGISTRATION_FILE": "/x"})))
	assert.True(t, pw.IsSet(Map(map[string]string{"POSTGRES_PASSWORD_FILE": "/run/secrets/pg"})))
	assert.Equal(t, []string{"enable_registration", "enable_registration_without_verification"}, reg.Keys)
}

// TestValuesTypes: with every variable set, every one is read and has a
// value; TestLoadValid checks that each reaches its Settings field (a
// getter of the wrong type would give zero there).
func TestValuesTypes(t *testing.T) {
	full := with("POSTGRES_PASSWORD", "p", "SYNAPSE_SMTP_HOST", "m", "SYNAPSE_SMTP_FROM", "a@b", "SYNAPSE_TURN_URIS", "turn:a", "SYNAPSE_TURN_SECRET", "t",
		"SYNAPSE_CONFIG_PATH", "/c", "SYNAPSE_MAX_UPLOAD_SIZE", "1M", "SYNAPSE_PUBLIC_BASEURL", "https://x/",
		"SYNAPSE_REGISTRATION_SHARED_SECRET", "r", "SYNAPSE_MACAROON_SECRET_KEY", "m", "SYNAPSE_FORM_SECRET", "f", "SYNAPSE_ENABLE_METRICS", "1",
		"SYNAPSE_SMTP_USER", "u", "SYNAPSE_SMTP_PASSWORD", "p", "SYNAPSE_REPORT_STATS", "yes", "SYNAPSE_NO_TLS", "1", "SYNAPSE_ENABLE_REGISTRATION", "1",
		"SYNAPSE_ALLOW_GUEST", "1", "SYNAPSE_RECAPTCHA_PUBLIC_KEY", "a", "SYNAPSE_RECAPTCHA_PRIVATE_KEY", "b",
		"SYNAPSE_REDIS_HOST", "redis", "SYNAPSE_REDIS_PORT", "6380", "SYNAPSE_REDIS_PASSWORD", "rp", "SYNAPSE_REDIS_DB", "1",
		"SYNAPSE_WORKERS", "pusher", "SYNAPSE_WORKER_NAME", "pusher-1", "SYNAPSE_WORKER_MAIN_HOST", "main", "SYNAPSE_REPLICATION_SECRET", "s",
		"SYNAPSE_WORKER_WAIT_TIMEOUT", "5", "HOSTNAME", "5fa9a14f2f3d")
	s, err := Load(Map(full))
	require.NoError(t, err)
	for _, v := range Vars {
		val, ok := s.Values[v.Name]
		require.True(t, ok, "%s was read", v.Name)
		assert.False(t, reflect.ValueOf(val).IsZero(), "%s has a value (%T)", v.Name, val)
	}
	assert.True(t, strings.HasPrefix(s.Values.String("SYNAPSE_PUBLIC_BASEURL"), "https://"))
}
