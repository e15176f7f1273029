package env

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestOfficialVariablesRefused: each variable of the official image that
// this image does not read is refused with one line saying what to use.
func TestOfficialVariablesRefused(t *testing.T) {
	for _, tc := range []struct{ name, value, want string }{
		{"SYNAPSE_CONFIG_DIR", "/data", "set SYNAPSE_CONFIG_PATH"},
		{"SYNAPSE_HTTP_PORT", "8080", "-p PORT:8008"},
		{"SYNAPSE_WORKER", "synapse.app.generic_worker", "SYNAPSE_WORKERS"},
		{"SYNAPSE_LOG_CONFIG", "/data/log.config", "SYNAPSE_CONFIG__LOG_CONFIG"},
		{"SYNAPSE_TLS_CERT", "/certs/fullchain.pem", "SYNAPSE_CONFIG__TLS_CERTIFICATE_PATH"},
		{"SYNAPSE_TLS_KEY", "/certs/privkey.pem", "SYNAPSE_CONFIG__TLS_PRIVATE_KEY_PATH"},
		{"SYNAPSE_AS_REGISTRATION_DIR", "/bridges", "appservices/"},
		{"SYNAPSE_USE_UNIX_SOCKET", "1", "SYNAPSE_CONFIG__LISTENERS"},
		{"SYNAPSE_CONFIG_DIR", "", "set SYNAPSE_CONFIG_PATH"}, // set, even empty
	} {
		t.Run(tc.name+"="+tc.value, func(t *testing.T) {
			_, err := LoadCommon(Map(map[string]string{"SYNAPSE_SERVER_NAME": "a.test", tc.name: tc.value}))
			var e *Error
			require.ErrorAs(t, err, &e)
			assert.Equal(t, tc.name, e.Var)
			assert.Contains(t, e.Msg, "a variable of the official image that this image does not read: ")
			assert.Contains(t, e.Msg, tc.want)
			assert.NotContains(t, err.Error(), "\n")
			assert.False(t, strings.Contains(err.Error(), tc.value) && tc.value != "", "the value is not shown")
		})
	}
	_, err := LoadCommon(Map(map[string]string{"SYNAPSE_SERVER_NAME": "a.test"}))
	assert.NoError(t, err)
}
