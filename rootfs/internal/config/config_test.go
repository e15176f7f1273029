package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"gopkg.in/yaml.v3"

	"github.com/synapse-image/synapse-image/rootfs/internal/env"
)

func settings(t *testing.T, kv ...string) env.Settings {
	t.Helper()
	m := map[string]string{"SYNAPSE_SERVER_NAME": "example.com", "SYNAPSE_REPORT_STATS": "no"}
	for i := 0; i+1 < len(kv); i += 2 {
		m[kv[i]] = kv[i+1]
	}
	s, err := env.Load(env.Map(m))
	require.NoError(t, err)
	return s
}

// roundTrip marshals hs and reads it back as generic YAML, as Synapse would.
func roundTrip(t *testing.T, hs HomeServer) map[string]any {
	t.Helper()
	b, err := Marshal(Header, hs)
	require.NoError(t, err)
	var m map[string]any
	require.NoError(t, yaml.Unmarshal(b, &m))
	return m
}

func TestBuild(t *testing.T) {
	for _, tc := range []struct {
		name  string
		in    Input
		check func(t *testing.T, hs HomeServer, m map[string]any)
	}{
		{"minimal: 8008 + 8448 TLS, SQLite, no IPv6", Input{Settings: settings(t)}, func(t *testing.T, hs HomeServer, m map[string]any) {
			require.Len(t, hs.Listeners, 2)
			assert.Equal(t, Listener{Port: 8008, BindAddresses: []string{"0.0.0.0"}, Type: "http", XForwarded: true,
				Resources: []Resource{{Names: []string{"client", "federation"}}}}, hs.Listeners[0])
			assert.Equal(t, 8448, hs.Listeners[1].Port)
			assert.True(t, hs.Listeners[1].TLS)
			assert.Equal(t, "/data/example.com.tls.crt", hs.TLSCertificatePath)
			assert.Equal(t, "/data/example.com.tls.key", hs.TLSPrivateKeyPath)
			assert.Equal(t, Database{Name: "sqlite3", Args: DatabaseArgs{Database: "/data/homeserver.db"}}, hs.Database)
			assert.Equal(t, "/data/media", hs.MediaStorePath)
			assert.Equal(t, "/data/uploads", hs.UploadsPath)
			assert.Equal(t, "/data/example.com.signing.key", hs.SigningKeyPath)
			assert.Equal(t, "/data/generated/log.config", hs.LogConfig)
			assert.Equal(t, []KeyServer{{ServerName: "matrix.org"}}, hs.TrustedKeyServers)
			assert.Equal(t, "10K", m["event_cache_size"])
			assert.Equal(t, map[string]any{"global_factor": 0.5}, m["caches"])
			assert.Equal(t, false, m["enable_registration"])
			assert.Equal(t, false, m["report_stats"])
			assert.NotContains(t, m, "email")
			assert.NotContains(t, m, "app_service_config_files")
			assert.NotContains(t, m, "enable_registration_without_verification")
			assert.NotContains(t, m, "turn_uris")
		}},
		{"IPv6 binds :: too", Input{Settings: settings(t), IPv6: true}, func(t *testing.T, hs HomeServer, _ map[string]any) {
			for _, l := range hs.Listeners {
				assert.Equal(t, []string{"::", "0.0.0.0"}, l.BindAddresses)
			}
		}},
		{"no TLS", Input{Settings: settings(t, "SYNAPSE_NO_TLS", "yes")}, func(t *testing.T, hs HomeServer, m map[string]any) {
			require.Len(t, hs.Listeners, 1)
			assert.NotContains(t, m, "tls_certificate_path")
			assert.NotContains(t, m, "tls_private_key_path")
		}},
		{"open registration without captcha", Input{Settings: settings(t, "SYNAPSE_ENABLE_REGISTRATION", "true")}, func(t *testing.T, hs HomeServer, m map[string]any) {
			assert.Equal(t, true, m["enable_registration"])
			assert.Equal(t, true, m["enable_registration_without_verification"])
			assert.NotContains(t, m, "enable_registration_captcha")
		}},
		{"registration with captcha", Input{Settings: settings(t, "SYNAPSE_ENABLE_REGISTRATION", "true", "SYNAPSE_RECAPTCHA_PUBLIC_KEY", "pub", "SYNAPSE_RECAPTCHA_PRIVATE_KEY", "priv")}, func(t *testing.T, hs HomeServer, m map[string]any) {
			assert.Equal(t, true, m["enable_registration_captcha"])
			assert.Equal(t, "pub", m["recaptcha_public_key"])
			assert.Equal(t, "priv", m["recaptcha_private_key"])
			assert.NotContains(t, m, "enable_registration_without_verification")
		}},
		{"postgres", Input{Settings: settings(t, "POSTGRES_PASSWORD", "pw", "POSTGRES_PORT", "6543")}, func(t *testing.T, hs HomeServer, m map[string]any) {
			assert.Equal(t, map[string]any{"name": "psycopg2", "args": map[string]any{
				"user": "matrix", "password": "pw", "database": "synapse", "host": "db", "port": 6543, "cp_min": 5, "cp_max": 10,
			}}, m["database"])
		}},
		{"smtp", Input{Settings: settings(t, "SYNAPSE_SMTP_HOST", "mail", "SYNAPSE_SMTP_USER", "u", "SYNAPSE_SMTP_PASSWORD", "p")}, func(t *testing.T, hs HomeServer, m map[string]any) {
			assert.Equal(t, map[string]any{"smtp_host": "mail", "smtp_port": 25, "smtp_user": "u", "smtp_pass": "p", "notif_from": "Matrix <noreply@example.com>"}, m["email"])
			assert.Equal(t, "https://example.com/", m["public_baseurl"])
		}},
		{"turn, guests, caches, metrics, upload", Input{Settings: settings(t, "SYNAPSE_TURN_URIS", "turn:a,stun:b", "SYNAPSE_TURN_SECRET", "ts",
			"SYNAPSE_ALLOW_GUEST", "1", "SYNAPSE_EVENT_CACHE_SIZE", "1M", "SYNAPSE_CACHE_FACTOR", "2", "SYNAPSE_ENABLE_METRICS", "1", "SYNAPSE_MAX_UPLOAD_SIZE", "100M")},
			func(t *testing.T, hs HomeServer, m map[string]any) {
				assert.Equal(t, []any{"turn:a", "stun:b"}, m["turn_uris"])
				assert.Equal(t, "ts", m["turn_shared_secret"])
				assert.Equal(t, true, m["allow_guest_access"])
				assert.Equal(t, "1M", m["event_cache_size"])
				assert.Equal(t, map[string]any{"global_factor": 2.0}, m["caches"])
				assert.Equal(t, true, m["enable_metrics"])
				assert.Equal(t, "100M", m["max_upload_size"])
				last := hs.Listeners[len(hs.Listeners)-1]
				assert.Equal(t, Listener{Port: 19090, BindAddresses: []string{"0.0.0.0"}, Type: "metrics"}, last)
			}},
		{"app services and secrets", Input{Settings: settings(t), AppServices: []string{"/data/appservices/a.yaml"},
			Secrets: Secrets{RegistrationSharedSecret: "r", MacaroonSecretKey: "m", FormSecret: "f"}},
			func(t *testing.T, hs HomeServer, m map[string]any) {
				assert.Equal(t, []any{"/data/appservices/a.yaml"}, m["app_service_config_files"])
				assert.Equal(t, "r", m["registration_shared_secret"])
				assert.Equal(t, "m", m["macaroon_secret_key"])
				assert.Equal(t, "f", m["form_secret"])
			}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			hs := Build(tc.in)
			tc.check(t, hs, roundTrip(t, hs))
		})
	}
}

// TestNoInjection: values with YAML syntax come back unchanged.
func TestNoInjection(t *testing.T) {
	nasty := "a\"b'c: d\n- e # f\n{g: [h]}\\ & *x !!str %"
	s := settings(t, "POSTGRES_PASSWORD", nasty, "SYNAPSE_SMTP_HOST", "mail", "SYNAPSE_SMTP_PASSWORD", nasty,
		"SYNAPSE_SMTP_USER", nasty, "SYNAPSE_TURN_URIS", "turn:x", "SYNAPSE_TURN_SECRET", nasty,
		"SYNAPSE_RECAPTCHA_PUBLIC_KEY", nasty, "SYNAPSE_RECAPTCHA_PRIVATE_KEY", nasty)
	hs := Build(Input{Settings: s, Secrets: Secrets{RegistrationSharedSecret: nasty, MacaroonSecretKey: nasty, FormSecret: nasty}})
	b, err := Marshal(Header, hs)
	require.NoError(t, err)
	var back HomeServer
	require.NoError(t, yaml.Unmarshal(b, &back))
	assert.Equal(t, hs, back)
}

func TestMask(t *testing.T) {
	s := settings(t, "POSTGRES_PASSWORD", "pgpw", "SYNAPSE_SMTP_HOST", "mail", "SYNAPSE_SMTP_PASSWORD", "smtppw",
		"SYNAPSE_TURN_URIS", "turn:x", "SYNAPSE_TURN_SECRET", "turnsecret",
		"SYNAPSE_RECAPTCHA_PUBLIC_KEY", "pub", "SYNAPSE_RECAPTCHA_PRIVATE_KEY", "captchapriv")
	doc, err := Node(Build(Input{Settings: s, Secrets: Secrets{RegistrationSharedSecret: "regsecret", MacaroonSecretKey: "macsecret", FormSecret: "formsecret"}}))
	require.NoError(t, err)
	Mask(doc)
	b, err := Marshal("", doc)
	require.NoError(t, err)
	for _, secret := range []string{"pgpw", "smtppw", "turnsecret", "captchapriv", "regsecret", "macsecret", "formsecret"} {
		assert.NotContains(t, string(b), secret)
	}
	assert.Equal(t, 7, strings.Count(string(b), Masked))
	assert.Contains(t, string(b), "pub")
}

func TestReadManual(t *testing.T) {
	dir := t.TempDir()
	for _, tc := range []struct {
		name, yaml string
		want       Manual
		wantErr    string
	}{
		{"defaults", "server_name: example.com\n", Manual{ServerName: "example.com", SigningKeyPath: filepath.Join(dir, "example.com.signing.key"), HealthURL: "http://127.0.0.1:8008/health"}, ""},
		{"listener and key path", `server_name: example.com
signing_key_path: /keys/k
listeners:
  - {port: 8448, tls: true, type: http}
  - {port: 9000, type: metrics}
  - {port: 8080, tls: false, type: http, bind_addresses: ['::1']}
database: {name: psycopg2, args: {host: pg, port: "6000"}}
`, Manual{ServerName: "example.com", SigningKeyPath: "/keys/k", HealthURL: "http://[::1]:8080/health", DBAddress: "pg:6000"}, ""},
		{"inline key, unix socket db", `server_name: x
signing_key: "ed25519 a_b c"
listeners: [{port: 8010, bind_addresses: ['0.0.0.0']}]
database: {name: psycopg2, args: {host: /run/postgresql}}
`, Manual{ServerName: "x", HealthURL: "http://127.0.0.1:8010/health"}, ""},
		{"no server name", "listeners: []\n", Manual{}, "server_name is missing"},
		{"broken", "server_name: [\n", Manual{}, "not valid YAML"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := filepath.Join(dir, strings.ReplaceAll(tc.name, " ", "_")+".yaml")
			require.NoError(t, os.WriteFile(p, []byte(tc.yaml), 0o600))
			m, err := ReadManual(p)
			if tc.wantErr != "" {
				require.ErrorContains(t, err, tc.wantErr)
				return
			}
			require.NoError(t, err)
			tc.want.Path = p
			assert.Equal(t, tc.want, m)
		})
	}
}

func TestCommented(t *testing.T) {
	doc, err := Commented(Build(Input{Settings: settings(t)}))
	require.NoError(t, err)
	b, err := Marshal(GenerateHeader, doc)
	require.NoError(t, err)
	out := string(b)
	assert.Contains(t, out, "# The public name of this server")
	assert.Contains(t, out, "# To add application services")
	var back HomeServer
	require.NoError(t, yaml.Unmarshal(b, &back))
	assert.Equal(t, "example.com", back.ServerName)
}

func TestLogConfig(t *testing.T) {
	for _, tc := range []struct {
		format    string
		formatter map[string]any
	}{
		{"text", map[string]any{"precise": map[string]any{"format": "%(asctime)s - %(name)s - %(lineno)d - %(levelname)s - %(request)s - %(message)s"}}},
		{"json", map[string]any{"structured": map[string]any{"class": "synapse.logging.TerseJsonFormatter"}}},
	} {
		t.Run(tc.format, func(t *testing.T) {
			b, err := Marshal(Header, BuildLog("DEBUG", tc.format))
			require.NoError(t, err)
			var m map[string]any
			require.NoError(t, yaml.Unmarshal(b, &m))
			assert.Equal(t, 1, m["version"])
			assert.Equal(t, map[string]any{"level": "DEBUG", "handlers": []any{"console"}}, m["root"])
			assert.Equal(t, false, m["disable_existing_loggers"])
			assert.Equal(t, tc.formatter, m["formatters"])
			var name string
			for k := range tc.formatter {
				name = k
			}
			assert.Equal(t, map[string]any{"console": map[string]any{"class": "logging.StreamHandler", "formatter": name}}, m["handlers"])
			assert.Equal(t, map[string]any{"synapse.storage.SQL": map[string]any{"level": "INFO"}}, m["loggers"], "SQL stays at INFO")
		})
	}
}
