package config

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"gopkg.in/yaml.v3"
)

func TestIsSecretKey(t *testing.T) {
	for _, k := range []string{
		"registration_shared_secret", "macaroon_secret_key", "form_secret", "password", "smtp_pass",
		"turn_shared_secret", "turn_password", "bind_password", "recaptcha_private_key", "client_secret",
		"worker_replication_secret", "secret", "as_token", "hs_token", "admin_token", "signing_key",
		"redis_password", "dsn", "pepper", "api_key", "Client-Secret", "SMTP_PASS", "access_tokens",
	} {
		assert.True(t, IsSecretKey(k), k)
	}
	for _, k := range []string{
		"server_name", "recaptcha_public_key", "tls_private_key_path", "signing_key_path",
		"registration_shared_secret_path", "client_secret_file", "refresh_token_lifetime",
		"smtp_user", "turn_username", "enable_registration_captcha", "trusted_key_servers",
		"key_refresh_interval", "passwords_enabled", "", "bypass", "public_baseurl",
	} {
		assert.False(t, IsSecretKey(k), k)
	}
}

// TestMaskManual: a hand-written config with secrets the image never
// writes itself: in nested mappings, in lists of mappings, as lists, as
// numbers and behind an alias.
func TestMaskManual(t *testing.T) {
	const in = `server_name: example.com
turn_password: SECRET-1
sentry: {dsn: "https://SECRET-2@sentry.example/1", environment: prod}
oidc_providers:
  - idp_id: x
    client_id: public-id
    client_secret: SECRET-3
password_providers:
  - module: ldap_auth_provider.LdapAuthProvider
    config: {uri: "ldap://ldap", bind_password: SECRET-4}
password_config: {enabled: true, pepper: SECRET-5}
experimental_features: {msc3861: {admin_token: SECRET-6, enabled: true}}
redis: {enabled: true, password: 12345678}
app_secrets: [SECRET-7, SECRET-8]
registration_requires_token: true
anchor: &a SECRET-9
macaroon_secret_key: *a
refresh_token_lifetime: 5m
signing_key_path: /data/x.signing.key
recaptcha_public_key: PUBLIC
`
	var doc yaml.Node
	require.NoError(t, yaml.Unmarshal([]byte(in), &doc))
	Mask(&doc)
	b, err := Marshal("", &doc)
	require.NoError(t, err)
	out := string(b)
	for i := 1; i <= 8; i++ {
		assert.NotContains(t, out, "SECRET-"+string(rune('0'+i)), out)
	}
	assert.NotContains(t, out, "12345678")
	var m map[string]any
	require.NoError(t, yaml.Unmarshal(b, &m))
	assert.Equal(t, Masked, m["macaroon_secret_key"])
	assert.Equal(t, true, m["registration_requires_token"])
	assert.Equal(t, "5m", m["refresh_token_lifetime"])
	assert.Equal(t, "/data/x.signing.key", m["signing_key_path"])
	assert.Equal(t, "PUBLIC", m["recaptcha_public_key"])
	assert.Equal(t, map[string]any{"enabled": true, "pepper": Masked}, m["password_config"])
	assert.Equal(t, "public-id", m["oidc_providers"].([]any)[0].(map[string]any)["client_id"])
	assert.Equal(t, "ldap_auth_provider.LdapAuthProvider", m["password_providers"].([]any)[0].(map[string]any)["module"])
	assert.Equal(t, []any{Masked, Masked}, m["app_secrets"])
	assert.Equal(t, "prod", m["sentry"].(map[string]any)["environment"])
}
