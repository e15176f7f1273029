package entrypoint

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"gopkg.in/yaml.v3"

	"github.com/synapse-image/synapse-image/rootfs/internal/config"
)

// TestNoSecretInOutput: neither check nor run prints a secret.
func TestNoSecretInOutput(t *testing.T) {
	dir := t.TempDir()
	smtpFile := filepath.Join(dir, "smtp")
	require.NoError(t, os.WriteFile(smtpFile, []byte("SECRET-smtp-file\n"), 0o600))
	h := newHarness(t,
		"SYNAPSE_REGISTRATION_SHARED_SECRET", "SECRET-reg",
		"SYNAPSE_MACAROON_SECRET_KEY", "SECRET-mac",
		"SYNAPSE_FORM_SECRET", "SECRET-form",
		"POSTGRES_PASSWORD", "SECRET-pg", "POSTGRES_WAIT_TIMEOUT", "0",
		"SYNAPSE_SMTP_HOST", "mail", "SYNAPSE_SMTP_PASSWORD_FILE", smtpFile,
		"SYNAPSE_TURN_URIS", "turn:x", "SYNAPSE_TURN_SECRET", "SECRET-turn",
		"SYNAPSE_RECAPTCHA_PUBLIC_KEY", "pub", "SYNAPSE_RECAPTCHA_PRIVATE_KEY", "SECRET-captcha",
	)
	require.Equal(t, ExitOK, h.main("check"), h.stderr.String())
	out := h.stdout.String() + h.stderr.String()
	assert.Contains(t, h.stdout.String(), "registration_shared_secret: \""+config.Masked+"\"")
	require.Equal(t, ExitOK, h.main("run"), h.stderr.String())
	out += h.stdout.String() + h.stderr.String()
	assert.NotContains(t, out, "SECRET-")
	// but they are in the generated config
	assert.Contains(t, h.read("generated/homeserver.yaml"), "SECRET-smtp-file")
}

func TestCheckWritesNothing(t *testing.T) {
	h := newHarness(t)
	h.addAppservice("a.yaml", "a")
	before := snapshot(t, h.data)
	require.Equal(t, ExitOK, h.main("check"), h.stderr.String())
	assert.Equal(t, before, snapshot(t, h.data))
	var m map[string]any
	require.NoError(t, yaml.Unmarshal(h.stdout.Bytes(), &m))
	assert.Equal(t, "example.com", m["server_name"])
	assert.Equal(t, []any{h.path("appservices/a.yaml")}, m["app_service_config_files"])
	assert.Contains(t, h.stderr.String(), "the environment is valid")
}
