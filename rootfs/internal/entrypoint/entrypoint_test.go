package entrypoint

import (
	"os"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/synapse-image/synapse-image/rootfs/internal/env"
)

// TestBadInput: every kind of bad input ends with one line naming the
// variable or file, exit 2, and nothing written to the data directory.
func TestBadInput(t *testing.T) {
	for _, tc := range []struct {
		name  string
		env   []string
		setup func(h *harness)
		want  string
	}{
		{"server name missing", []string{"SYNAPSE_SERVER_NAME", ""}, nil, "SYNAPSE_SERVER_NAME: is mandatory"},
		{"report stats missing", []string{"SYNAPSE_REPORT_STATS", ""}, nil, "SYNAPSE_REPORT_STATS: is mandatory"},
		{"bad boolean", []string{"SYNAPSE_NO_TLS", "maybe"}, nil, `SYNAPSE_NO_TLS: expected a boolean`},
		{"bad server name", []string{"SYNAPSE_SERVER_NAME", "https://example.com"}, nil, "SYNAPSE_SERVER_NAME: expected a host name"},
		{"bad cache size", []string{"SYNAPSE_EVENT_CACHE_SIZE", "big"}, nil, "SYNAPSE_EVENT_CACHE_SIZE:"},
		{"bad cache factor", []string{"SYNAPSE_CACHE_FACTOR", "0"}, nil, "SYNAPSE_CACHE_FACTOR:"},
		{"bad port", []string{"POSTGRES_PASSWORD", "pw", "POSTGRES_PORT", "x"}, nil, "POSTGRES_PORT:"},
		{"bad smtp port", []string{"SYNAPSE_SMTP_HOST", "mail", "SYNAPSE_SMTP_PORT", "0"}, nil, "SYNAPSE_SMTP_PORT:"},
		{"captcha half", []string{"SYNAPSE_RECAPTCHA_PUBLIC_KEY", "pub"}, nil, "SYNAPSE_RECAPTCHA_PRIVATE_KEY:"},
		{"turn without secret", []string{"SYNAPSE_TURN_URIS", "turn:x"}, nil, "SYNAPSE_TURN_SECRET:"},
		{"turn bad uri", []string{"SYNAPSE_TURN_URIS", "x", "SYNAPSE_TURN_SECRET", "s"}, nil, "SYNAPSE_TURN_URIS:"},
		{"both X and X_FILE", []string{"POSTGRES_PASSWORD", "a", "POSTGRES_PASSWORD_FILE", "/etc/hostname"}, nil, "POSTGRES_PASSWORD: set both"},
		{"unreadable _FILE", []string{"SYNAPSE_MACAROON_SECRET_KEY_FILE", "/nonexistent/secret"}, nil, "SYNAPSE_MACAROON_SECRET_KEY_FILE: cannot read"},
		{"bad UID", []string{"UID", "nobody"}, nil, "UID:"},
		{"bad log level", []string{"SYNAPSE_LOG_LEVEL", "verbose"}, nil, "SYNAPSE_LOG_LEVEL:"},
		{"broken appservice", nil, func(h *harness) {
			h.addAppservice("a.yaml", "a")
			require.NoError(t, os.WriteFile(h.path("appservices/b.yaml"), []byte("id: [broken\n"), 0o644))
		}, "appservices/b.yaml: app service registration is not valid YAML"},
		{"appservice without token", nil, func(h *harness) {
			require.NoError(t, os.MkdirAll(h.path("appservices"), 0o755))
			require.NoError(t, os.WriteFile(h.path("appservices/c.yml"), []byte("id: c\nurl: null\n"), 0o644))
		}, `appservices/c.yml: app service registration needs "as_token"`},
		{"empty secret file", nil, func(h *harness) {
			require.NoError(t, os.MkdirAll(h.data, 0o755))
			require.NoError(t, os.WriteFile(h.path("example.com.macaroon.key"), nil, 0o600))
		}, "example.com.macaroon.key is empty"},
		{"half a TLS pair", nil, func(h *harness) {
			require.NoError(t, os.MkdirAll(h.data, 0o755))
			require.NoError(t, os.WriteFile(h.path("example.com.tls.crt"), []byte("x"), 0o644))
		}, "example.com.tls.crt exists but"},
	} {
		for _, mode := range []string{"run", "generate", "check"} {
			t.Run(tc.name+"/"+mode, func(t *testing.T) {
				h := newHarness(t, tc.env...)
				if tc.setup != nil {
					tc.setup(h)
				}
				before := snapshot(t, h.data)
				code := h.main(mode)
				assert.Equal(t, ExitUsage, code, "stderr: %s", h.stderr.String())
				lines := strings.Split(strings.TrimSpace(h.stderr.String()), "\n")
				assert.Len(t, lines, 1, "one line: %q", h.stderr.String())
				assert.True(t, strings.HasPrefix(lines[0], "start: error: "), lines[0])
				assert.Contains(t, lines[0], tc.want)
				assert.Equal(t, before, snapshot(t, h.data), "nothing written to the data directory")
				assert.Nil(t, h.exec)
				assert.Empty(t, h.stdout.String())
			})
		}
	}
}

func TestModes(t *testing.T) {
	for _, arg := range []string{"help", "--help", "-h"} {
		h := newHarness(t)
		assert.Equal(t, ExitOK, h.main(arg))
		for _, v := range env.Vars {
			assert.Contains(t, h.stdout.String(), v.Name)
		}
		assert.Empty(t, h.stderr.String())
	}
	h := newHarness(t)
	assert.Equal(t, ExitUsage, h.main("serve"))
	assert.Contains(t, h.stderr.String(), `unknown mode "serve"`)
	assert.Contains(t, h.stderr.String(), "Usage: /start")
	assert.Empty(t, h.stdout.String())
	assert.NoDirExists(t, h.data)
}
