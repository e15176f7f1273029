package entrypoint

import (
	"bytes"
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/synapse-image/synapse-image/rootfs/internal/env"
)

// TestOneTableDrivesAllFour: a variable added to the table shows up in
// parsing, help, the secret stripping before exec and the generated docs,
// with nothing else to change.
func TestOneTableDrivesAllFour(t *testing.T) {
	vars := append(env.Table{}, env.Vars...)
	vars = append(vars,
		env.Var{Name: "SYNAPSE_TEST_LIMIT", Section: "Testing", Default: "7", Keys: []string{"test.limit"},
			Parse: func(raw, def string) (any, error) {
				if raw == "" {
					raw = def
				}
				if raw != "7" && raw != "9" {
					return nil, errors.New("expected 7 or 9")
				}
				return raw, nil
			},
			Help: "a limit only this test knows"},
		env.Var{Name: "SYNAPSE_TEST_TOKEN", Section: "Testing", Secret: true, Keys: []string{"test.token"},
			Parse: func(raw, def string) (any, error) { return raw, nil },
			Help:  "a token only this test knows"},
	)
	base := map[string]string{"SYNAPSE_SERVER_NAME": "example.com", "SYNAPSE_REPORT_STATS": "no"}
	with := func(kv ...string) env.Source {
		m := map[string]string{}
		for k, v := range base {
			m[k] = v
		}
		for i := 0; i+1 < len(kv); i += 2 {
			m[kv[i]] = kv[i+1]
		}
		return env.Map(m)
	}

	// 1. Parsing: default, value, bad value naming the variable, secret.
	s, err := vars.Load(with())
	require.NoError(t, err)
	assert.Equal(t, "7", s.Values.String("SYNAPSE_TEST_LIMIT"))
	s, err = vars.Load(with("SYNAPSE_TEST_LIMIT", "9", "SYNAPSE_TEST_TOKEN", "tok"))
	require.NoError(t, err)
	assert.Equal(t, "9", s.Values.String("SYNAPSE_TEST_LIMIT"))
	assert.Equal(t, "tok", s.Values.String("SYNAPSE_TEST_TOKEN"))
	_, err = vars.Load(with("SYNAPSE_TEST_LIMIT", "8"))
	assert.EqualError(t, err, "SYNAPSE_TEST_LIMIT: expected 7 or 9")
	_, err = vars.Load(with("SYNAPSE_TEST_TOKEN", "a", "SYNAPSE_TEST_TOKEN_FILE", "/x"))
	assert.ErrorContains(t, err, "SYNAPSE_TEST_TOKEN: set both")

	// 2. Help.
	var help bytes.Buffer
	Usage(&help, vars)
	assert.Contains(t, help.String(), "\nTesting:\n  SYNAPSE_TEST_LIMIT (default: 7)\n      a limit only this test knows\n")
	assert.Contains(t, help.String(), "  SYNAPSE_TEST_TOKEN * (default: (unset))\n")

	// 3. Secret stripping before exec.
	envv := withoutSecrets([]string{"SYNAPSE_TEST_TOKEN=tok", "SYNAPSE_TEST_LIMIT=9", "SYNAPSE_TEST_TOKEN_FILE=/run/secrets/t"}, vars)
	assert.Equal(t, []string{"SYNAPSE_TEST_LIMIT=9", "SYNAPSE_TEST_TOKEN_FILE=/run/secrets/t"}, envv)

	// 4. The generated docs.
	doc := string(vars.Markdown())
	assert.Contains(t, doc, "## Testing\n")
	assert.Contains(t, doc, "| `SYNAPSE_TEST_LIMIT` | `7` |  | `test.limit` | a limit only this test knows |\n")
	assert.Contains(t, doc, "| `SYNAPSE_TEST_TOKEN` | (unset) | yes (or `SYNAPSE_TEST_TOKEN_FILE`) | `test.token` |")

	// And the table of /start knows nothing of them.
	var real bytes.Buffer
	Usage(&real, env.Vars)
	assert.NotContains(t, real.String(), "SYNAPSE_TEST_")
	assert.NotContains(t, string(env.Vars.Markdown()), "SYNAPSE_TEST_")
}

// TestSecretsStripped: every secret of the table, and nothing else, is
// removed from Synapse's environment.
func TestSecretsStripped(t *testing.T) {
	var envv, want []string
	for _, v := range env.Vars {
		envv = append(envv, v.Name+"=x", v.Name+"_FILE=/run/secrets/x")
		if !v.Secret {
			want = append(want, v.Name+"=x")
		}
		want = append(want, v.Name+"_FILE=/run/secrets/x")
	}
	assert.Equal(t, want, withoutSecrets(envv, env.Vars))
	for _, name := range []string{"POSTGRES_PASSWORD", "SYNAPSE_SMTP_PASSWORD", "SYNAPSE_TURN_SECRET", "SYNAPSE_MACAROON_SECRET_KEY",
		"SYNAPSE_REGISTRATION_SHARED_SECRET", "SYNAPSE_FORM_SECRET", "SYNAPSE_RECAPTCHA_PRIVATE_KEY"} {
		assert.NotContains(t, withoutSecrets(envv, env.Vars), name+"=x")
	}
}
