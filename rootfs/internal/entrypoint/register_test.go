package entrypoint

import (
	"encoding/json"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/synapse-image/synapse-image/rootfs/internal/register"
)

// registrar is a Synapse that checks the MAC with secret.
func registrar(t *testing.T, secret string) (port string) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodGet {
			w.Write([]byte(`{"nonce":"n"}`))
			return
		}
		var req struct {
			Username, Password, Mac string
			Admin                   bool
		}
		json.NewDecoder(r.Body).Decode(&req)
		if req.Mac != register.MAC(secret, "n", register.User{Name: req.Username, Password: req.Password, Admin: req.Admin}) {
			w.WriteHeader(http.StatusForbidden)
			w.Write([]byte(`{"errcode":"M_FORBIDDEN","error":"HMAC incorrect"}`))
			return
		}
		w.Write([]byte(`{"user_id":"@` + req.Username + `:example.com"}`))
	}))
	t.Cleanup(srv.Close)
	_, port, _ = net.SplitHostPort(strings.TrimPrefix(srv.URL, "http://"))
	return port
}

func TestRegisterMode(t *testing.T) {
	port := registrar(t, "from-config")
	for _, tc := range []struct {
		name string
		env  []string
		args []string
		code int
		out  string // stdout, or the stderr line for an error
	}{
		{"user", nil, []string{"-u", "alice", "-p", "pw"}, ExitOK, "registered @alice:example.com (user)\n"},
		{"admin, long names", nil, []string{"--user", "root", "--password", "pw", "--admin"}, ExitOK, "registered @root:example.com (admin)\n"},
		{"password file", nil, []string{"-u", "bob", "--password-file", "PWFILE"}, ExitOK, "registered @bob:example.com (user)\n"},
		{"the variable's secret first", []string{"SYNAPSE_REGISTRATION_SHARED_SECRET", "other"}, []string{"-u", "alice", "-p", "pw"}, ExitFailure,
			"start: error: register: register alice: Synapse refused (403 M_FORBIDDEN): HMAC incorrect\n"},
		{"no user", nil, []string{"-p", "pw"}, ExitUsage, "start: error: register: -u USER is required; usage: /start " + registerUsage + "\n"},
		{"no password", nil, []string{"-u", "a"}, ExitUsage, "start: error: register: give the password with -p PASSWORD or --password-file FILE ('-': standard input), once; usage: /start " + registerUsage + "\n"},
		{"two passwords", nil, []string{"-u", "a", "-p", "x", "--password-file", "PWFILE"}, ExitUsage, "start: error: register: give the password with -p PASSWORD or --password-file FILE ('-': standard input), once; usage: /start " + registerUsage + "\n"},
		{"unknown flag", nil, []string{"-u", "a", "-p", "x", "--bogus"}, ExitUsage, "start: error: register: flag provided but not defined: -bogus; usage: /start " + registerUsage + "\n"},
		{"admin and no-admin", nil, []string{"-u", "a", "-p", "x", "-a", "--no-admin"}, ExitUsage, "start: error: register: --admin and --no-admin together\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t, tc.env...)
			require.NoError(t, os.MkdirAll(h.path("generated"), 0o755))
			require.NoError(t, os.WriteFile(h.path("generated/homeserver.yaml"), []byte("server_name: example.com\nregistration_shared_secret: from-config\nlisteners:\n  - {port: "+port+", tls: false, type: http}\n"), 0o600))
			require.NoError(t, os.WriteFile(h.path("pw"), []byte("from a file\n"), 0o600))
			args := append([]string{"register"}, tc.args...)
			for i, a := range args {
				if a == "PWFILE" {
					args[i] = h.path("pw")
				}
			}
			assert.Equal(t, tc.code, h.main(args...), h.stderr.String())
			if tc.code == ExitOK {
				assert.Equal(t, tc.out, h.stdout.String())
				if os.Geteuid() == 0 {
					assert.Equal(t, []int{testUID, testGID}, h.dropped, "as the Synapse user")
				}
			} else {
				assert.Equal(t, tc.out, h.stderr.String())
			}
		})
	}
}

func TestRegisterModeWithoutConfig(t *testing.T) {
	h := newHarness(t)
	require.NoError(t, os.MkdirAll(h.data, 0o755))
	assert.Equal(t, ExitUsage, h.main("register", "-u", "a", "-p", "b"))
	assert.Equal(t, "start: error: register: "+h.path("generated/homeserver.yaml")+" does not exist: is Synapse running in this container?\n", h.stderr.String())
}
