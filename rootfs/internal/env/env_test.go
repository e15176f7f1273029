package env

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestBool(t *testing.T) {
	for _, tc := range []struct {
		value string
		set   bool
		want  bool
		bad   bool
	}{
		{set: false, want: false},
		{value: "", set: true, want: false},
		{value: "1", set: true, want: true},
		{value: "0", set: true, want: false},
		{value: "true", set: true, want: true},
		{value: "TRUE", set: true, want: true},
		{value: "False", set: true, want: false},
		{value: "yes", set: true, want: true},
		{value: "YeS", set: true, want: true},
		{value: "no", set: true, want: false},
		{value: "on", set: true, want: true},
		{value: "OFF", set: true, want: false},
		{value: " yes ", set: true, want: true},
		{value: "2", set: true, bad: true},
		{value: "y", set: true, bad: true},
		{value: "enabled", set: true, bad: true},
		{value: "nope", set: true, bad: true},
	} {
		t.Run(tc.value, func(t *testing.T) {
			m := map[string]string{}
			if tc.set {
				m["X"] = tc.value
			}
			vals, _, err := Table{{Name: "X", Section: "Test", Parse: boolean}}.Parse(Map(m))
			got := vals.Bool("X")
			if tc.bad {
				var e *Error
				require.ErrorAs(t, err, &e)
				assert.Equal(t, "X", e.Var)
				assert.Contains(t, err.Error(), "expected a boolean")
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tc.want, got)
		})
	}
}

func TestSecret(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "s")
	require.NoError(t, os.WriteFile(file, []byte("from-file\n\n"), 0o600))
	crlf := filepath.Join(dir, "crlf")
	require.NoError(t, os.WriteFile(crlf, []byte("windows\r\n"), 0o600))
	inner := filepath.Join(dir, "inner")
	require.NoError(t, os.WriteFile(inner, []byte("a\nb\n"), 0o600))
	for _, tc := range []struct {
		name    string
		env     map[string]string
		want    string
		wantErr string
	}{
		{"unset", map[string]string{}, "", ""},
		{"value", map[string]string{"S": "v"}, "v", ""},
		{"file, trailing newlines stripped", map[string]string{"S_FILE": file}, "from-file", ""},
		{"file with CRLF", map[string]string{"S_FILE": crlf}, "windows", ""},
		{"inner newline kept", map[string]string{"S_FILE": inner}, "a\nb", ""},
		{"empty _FILE ignored", map[string]string{"S": "v", "S_FILE": ""}, "v", ""},
		{"both", map[string]string{"S": "v", "S_FILE": file}, "", "S: set both S and S_FILE"},
		{"missing file", map[string]string{"S_FILE": filepath.Join(dir, "nope")}, "", "S_FILE: cannot read"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Map(tc.env).Secret("S")
			if tc.wantErr != "" {
				require.Error(t, err)
				assert.Contains(t, err.Error(), tc.wantErr)
				assert.NotContains(t, err.Error(), "from-file")
				assert.NotContains(t, err.Error(), "v;")
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tc.want, got)
		})
	}
}

func base() map[string]string {
	return map[string]string{"SYNAPSE_SERVER_NAME": "example.com", "SYNAPSE_REPORT_STATS": "no"}
}

func with(kv ...string) map[string]string {
	m := base()
	for i := 0; i+1 < len(kv); i += 2 {
		if kv[i+1] == "\x00unset" {
			delete(m, kv[i])
			continue
		}
		m[kv[i]] = kv[i+1]
	}
	return m
}

// TestLoadValid checks the effect of every variable of automated mode.
func TestLoadValid(t *testing.T) {
	secretFile := filepath.Join(t.TempDir(), "pw")
	require.NoError(t, os.WriteFile(secretFile, []byte("pg-secret\n"), 0o600))
	for _, tc := range []struct {
		name  string
		env   map[string]string
		check func(t *testing.T, s Settings)
	}{
		{"defaults", base(), func(t *testing.T, s Settings) {
			assert.Equal(t, "example.com", s.ServerName)
			assert.False(t, s.ReportStats)
			assert.Equal(t, "/data", s.DataDir)
			assert.Equal(t, 991, s.UID)
			assert.Equal(t, 991, s.GID)
			assert.False(t, s.NoTLS)
			assert.False(t, s.EnableRegistration)
			assert.False(t, s.AllowGuest)
			assert.Equal(t, "10K", s.EventCacheSize)
			assert.Equal(t, 0.5, s.CacheFactor)
			assert.Equal(t, "INFO", s.LogLevel)
			assert.Equal(t, "", s.MaxUploadSize)
			assert.Equal(t, "", s.PublicBaseURL)
			assert.Nil(t, s.Postgres)
			assert.Nil(t, s.SMTP)
			assert.Empty(t, s.TURNURIs)
			assert.Empty(t, s.Warnings)
			assert.Equal(t, "", s.ConfigPath)
		}},
		{"report stats yes", with("SYNAPSE_REPORT_STATS", "YES"), func(t *testing.T, s Settings) { assert.True(t, s.ReportStats) }},
		{"server name with port", with("SYNAPSE_SERVER_NAME", "matrix.example.com:8448"), func(t *testing.T, s Settings) {
			assert.Equal(t, "matrix.example.com:8448", s.ServerName)
			assert.Equal(t, "matrix.example.com", s.Host())
		}},
		{"server name IPv4", with("SYNAPSE_SERVER_NAME", "192.0.2.1"), func(t *testing.T, s Settings) { assert.Equal(t, "192.0.2.1", s.Host()) }},
		{"server name IPv6", with("SYNAPSE_SERVER_NAME", "[2001:db8::1]:8448"), func(t *testing.T, s Settings) { assert.Equal(t, "[2001:db8::1]", s.Host()) }},
		{"localhost", with("SYNAPSE_SERVER_NAME", "localhost"), func(t *testing.T, s Settings) { assert.Equal(t, "localhost", s.ServerName) }},
		{"data dir", with("SYNAPSE_DATA_DIR", "/srv/synapse/"), func(t *testing.T, s Settings) { assert.Equal(t, "/srv/synapse", s.DataDir) }},
		{"uid gid", with("UID", "1000", "GID", "0"), func(t *testing.T, s Settings) { assert.Equal(t, 1000, s.UID); assert.Equal(t, 0, s.GID) }},
		{"config path", with("SYNAPSE_CONFIG_PATH", "/data/homeserver.yaml"), func(t *testing.T, s Settings) { assert.Equal(t, "/data/homeserver.yaml", s.ConfigPath) }},
		{"no tls 0 is false", with("SYNAPSE_NO_TLS", "0"), func(t *testing.T, s Settings) { assert.False(t, s.NoTLS) }},
		{"no tls", with("SYNAPSE_NO_TLS", "true"), func(t *testing.T, s Settings) { assert.True(t, s.NoTLS) }},
		{"registration without captcha warns", with("SYNAPSE_ENABLE_REGISTRATION", "on"), func(t *testing.T, s Settings) {
			assert.True(t, s.EnableRegistration)
			require.Len(t, s.Warnings, 1)
			assert.Contains(t, s.Warnings[0], "without a captcha")
		}},
		{"registration with captcha", with("SYNAPSE_ENABLE_REGISTRATION", "1", "SYNAPSE_RECAPTCHA_PUBLIC_KEY", "pub", "SYNAPSE_RECAPTCHA_PRIVATE_KEY", "priv"), func(t *testing.T, s Settings) {
			assert.Equal(t, "pub", s.RecaptchaPublicKey)
			assert.Equal(t, "priv", s.RecaptchaPrivateKey)
			assert.Empty(t, s.Warnings)
		}},
		{"guest", with("SYNAPSE_ALLOW_GUEST", "yes"), func(t *testing.T, s Settings) { assert.True(t, s.AllowGuest) }},
		{"event cache size", with("SYNAPSE_EVENT_CACHE_SIZE", "20k"), func(t *testing.T, s Settings) { assert.Equal(t, "20K", s.EventCacheSize) }},
		{"event cache size plain", with("SYNAPSE_EVENT_CACHE_SIZE", "5000"), func(t *testing.T, s Settings) { assert.Equal(t, "5000", s.EventCacheSize) }},
		{"cache factor", with("SYNAPSE_CACHE_FACTOR", "2"), func(t *testing.T, s Settings) { assert.Equal(t, 2.0, s.CacheFactor) }},
		{"max upload", with("SYNAPSE_MAX_UPLOAD_SIZE", "100M"), func(t *testing.T, s Settings) { assert.Equal(t, "100M", s.MaxUploadSize) }},
		{"log level", with("SYNAPSE_LOG_LEVEL", "debug"), func(t *testing.T, s Settings) { assert.Equal(t, "DEBUG", s.LogLevel) }},
		{"log level warn", with("SYNAPSE_LOG_LEVEL", "warn"), func(t *testing.T, s Settings) { assert.Equal(t, "WARNING", s.LogLevel) }},
		{"log format default", with(), func(t *testing.T, s Settings) { assert.Equal(t, "text", s.LogFormat) }},
		{"log format json", with("SYNAPSE_LOG_FORMAT", "JSON"), func(t *testing.T, s Settings) { assert.Equal(t, "json", s.LogFormat) }},
		{"public baseurl gets slash", with("SYNAPSE_PUBLIC_BASEURL", "https://m.example.com"), func(t *testing.T, s Settings) { assert.Equal(t, "https://m.example.com/", s.PublicBaseURL) }},
		{"metrics", with("SYNAPSE_ENABLE_METRICS", "1", "SYNAPSE_METRICS_PORT", "9000"), func(t *testing.T, s Settings) {
			assert.True(t, s.EnableMetrics)
			assert.Equal(t, 9000, s.MetricsPort)
		}},
		{"turn trimmed, empty dropped", with("SYNAPSE_TURN_URIS", " turn:a.example:3478?transport=udp, ,turns:b.example ,stun:c.example,", "SYNAPSE_TURN_SECRET", "t"), func(t *testing.T, s Settings) {
			assert.Equal(t, []string{"turn:a.example:3478?transport=udp", "turns:b.example", "stun:c.example"}, s.TURNURIs)
			assert.Equal(t, "t", s.TURNSecret)
		}},
		{"turn secret without uris ignored", with("SYNAPSE_TURN_SECRET", "t"), func(t *testing.T, s Settings) {
			assert.Empty(t, s.TURNSecret)
			assert.Len(t, s.Warnings, 1)
		}},
		{"secrets", with("SYNAPSE_REGISTRATION_SHARED_SECRET", "r", "SYNAPSE_MACAROON_SECRET_KEY", "m", "SYNAPSE_FORM_SECRET", "f"), func(t *testing.T, s Settings) {
			assert.Equal(t, "r", s.RegistrationSharedSecret)
			assert.Equal(t, "m", s.MacaroonSecretKey)
			assert.Equal(t, "f", s.FormSecret)
		}},
		{"postgres defaults", with("POSTGRES_PASSWORD", "pw"), func(t *testing.T, s Settings) {
			require.NotNil(t, s.Postgres)
			assert.Equal(t, Postgres{Host: "db", Port: 5432, User: "matrix", Password: "pw", Database: "synapse", CPMin: 5, CPMax: 10, WaitTimeout: 60 * time.Second}, *s.Postgres)
		}},
		{"postgres all", with("POSTGRES_PASSWORD_FILE", secretFile, "POSTGRES_HOST", "pg", "POSTGRES_PORT", "6543", "POSTGRES_USER", "u", "POSTGRES_DB", "d", "POSTGRES_CP_MIN", "2", "POSTGRES_CP_MAX", "3", "POSTGRES_WAIT_TIMEOUT", "2m"), func(t *testing.T, s Settings) {
			assert.Equal(t, Postgres{Host: "pg", Port: 6543, User: "u", Password: "pg-secret", Database: "d", CPMin: 2, CPMax: 3, WaitTimeout: 2 * time.Minute}, *s.Postgres)
		}},
		{"postgres wait seconds", with("POSTGRES_PASSWORD", "pw", "POSTGRES_WAIT_TIMEOUT", "0"), func(t *testing.T, s Settings) { assert.Zero(t, s.Postgres.WaitTimeout) }},
		{"smtp defaults", with("SYNAPSE_SMTP_HOST", "mail"), func(t *testing.T, s Settings) {
			assert.Equal(t, SMTP{Host: "mail", Port: 25, From: "Matrix <noreply@example.com>"}, *s.SMTP)
			assert.Equal(t, "https://example.com/", s.PublicBaseURL)
		}},
		{"smtp with port in server name", with("SYNAPSE_SERVER_NAME", "example.com:8448", "SYNAPSE_SMTP_HOST", "mail"), func(t *testing.T, s Settings) {
			assert.Equal(t, "Matrix <noreply@example.com>", s.SMTP.From)
			assert.Equal(t, "https://example.com/", s.PublicBaseURL)
		}},
		{"smtp all", with("SYNAPSE_SMTP_HOST", "mail", "SYNAPSE_SMTP_PORT", "587", "SYNAPSE_SMTP_USER", "u", "SYNAPSE_SMTP_PASSWORD", "p", "SYNAPSE_SMTP_FROM", "Me <me@example.org>", "SYNAPSE_PUBLIC_BASEURL", "https://chat.example.com/"), func(t *testing.T, s Settings) {
			assert.Equal(t, SMTP{Host: "mail", Port: 587, User: "u", Password: "p", From: "Me <me@example.org>"}, *s.SMTP)
			assert.Equal(t, "https://chat.example.com/", s.PublicBaseURL)
		}},
		{"smtp user without host warns", with("SYNAPSE_SMTP_USER", "u"), func(t *testing.T, s Settings) {
			assert.Nil(t, s.SMTP)
			assert.Len(t, s.Warnings, 1)
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, err := Load(Map(tc.env))
			require.NoError(t, err)
			tc.check(t, s)
		})
	}
}

// TestLoadInvalid checks every bad input: one error naming the variable.
func TestLoadInvalid(t *testing.T) {
	dir := t.TempDir()
	pw := filepath.Join(dir, "pw")
	require.NoError(t, os.WriteFile(pw, []byte("x"), 0o600))
	for _, tc := range []struct {
		env     map[string]string
		varName string
		expect  string
	}{
		{with("SYNAPSE_SERVER_NAME", "\x00unset"), "SYNAPSE_SERVER_NAME", "mandatory"},
		{with("SYNAPSE_SERVER_NAME", " "), "SYNAPSE_SERVER_NAME", "mandatory"},
		{with("SYNAPSE_SERVER_NAME", "https://example.com"), "SYNAPSE_SERVER_NAME", "no scheme"},
		{with("SYNAPSE_SERVER_NAME", "example.com/path"), "SYNAPSE_SERVER_NAME", "no scheme or path"},
		{with("SYNAPSE_SERVER_NAME", "exa mple.com"), "SYNAPSE_SERVER_NAME", "host name"},
		{with("SYNAPSE_SERVER_NAME", "example.com:0"), "SYNAPSE_SERVER_NAME", "port"},
		{with("SYNAPSE_SERVER_NAME", "example.com:99999"), "SYNAPSE_SERVER_NAME", "port"},
		{with("SYNAPSE_SERVER_NAME", "example.com:"), "SYNAPSE_SERVER_NAME", "port"},
		{with("SYNAPSE_SERVER_NAME", "-bad.example.com"), "SYNAPSE_SERVER_NAME", "host name"},
		{with("SYNAPSE_SERVER_NAME", "a..b"), "SYNAPSE_SERVER_NAME", "host name"},
		{with("SYNAPSE_SERVER_NAME", "ex\"ample.com"), "SYNAPSE_SERVER_NAME", "host name"},
		{with("SYNAPSE_SERVER_NAME", "[::1"), "SYNAPSE_SERVER_NAME", "IPv6"},
		{with("SYNAPSE_SERVER_NAME", "[1.2.3.4]"), "SYNAPSE_SERVER_NAME", "IPv6"},
		{with("SYNAPSE_SERVER_NAME", "2001:db8::1"), "SYNAPSE_SERVER_NAME", "host name"},
		{with("SYNAPSE_REPORT_STATS", "\x00unset"), "SYNAPSE_REPORT_STATS", "mandatory"},
		{with("SYNAPSE_REPORT_STATS", ""), "SYNAPSE_REPORT_STATS", "mandatory"},
		{with("SYNAPSE_REPORT_STATS", "maybe"), "SYNAPSE_REPORT_STATS", "boolean"},
		{with("SYNAPSE_NO_TLS", "nah"), "SYNAPSE_NO_TLS", "boolean"},
		{with("SYNAPSE_ENABLE_REGISTRATION", "2"), "SYNAPSE_ENABLE_REGISTRATION", "boolean"},
		{with("SYNAPSE_ALLOW_GUEST", "sure"), "SYNAPSE_ALLOW_GUEST", "boolean"},
		{with("SYNAPSE_ENABLE_METRICS", "x"), "SYNAPSE_ENABLE_METRICS", "boolean"},
		{with("SYNAPSE_EVENT_CACHE_SIZE", "10G"), "SYNAPSE_EVENT_CACHE_SIZE", "K or M"},
		{with("SYNAPSE_EVENT_CACHE_SIZE", "-1"), "SYNAPSE_EVENT_CACHE_SIZE", "K or M"},
		{with("SYNAPSE_EVENT_CACHE_SIZE", "1.5K"), "SYNAPSE_EVENT_CACHE_SIZE", "K or M"},
		{with("SYNAPSE_MAX_UPLOAD_SIZE", "lots"), "SYNAPSE_MAX_UPLOAD_SIZE", "K or M"},
		{with("SYNAPSE_CACHE_FACTOR", "0"), "SYNAPSE_CACHE_FACTOR", "greater than 0"},
		{with("SYNAPSE_CACHE_FACTOR", "-1"), "SYNAPSE_CACHE_FACTOR", "greater than 0"},
		{with("SYNAPSE_CACHE_FACTOR", "NaN"), "SYNAPSE_CACHE_FACTOR", "greater than 0"},
		{with("SYNAPSE_CACHE_FACTOR", "Inf"), "SYNAPSE_CACHE_FACTOR", "greater than 0"},
		{with("SYNAPSE_CACHE_FACTOR", "half"), "SYNAPSE_CACHE_FACTOR", "greater than 0"},
		{with("SYNAPSE_LOG_LEVEL", "LOUD"), "SYNAPSE_LOG_LEVEL", "one of"},
		{with("SYNAPSE_LOG_FORMAT", "logfmt"), "SYNAPSE_LOG_FORMAT", "expected text or json"},
		{with("SYNAPSE_PUBLIC_BASEURL", "example.com"), "SYNAPSE_PUBLIC_BASEURL", "http(s) URL"},
		{with("SYNAPSE_PUBLIC_BASEURL", "ftp://example.com/"), "SYNAPSE_PUBLIC_BASEURL", "http(s) URL"},
		{with("SYNAPSE_METRICS_PORT", "70000"), "SYNAPSE_METRICS_PORT", "port"},
		{with("SYNAPSE_ENABLE_METRICS", "1", "SYNAPSE_METRICS_PORT", "8008"), "SYNAPSE_METRICS_PORT", "already used"},
		{with("SYNAPSE_RECAPTCHA_PUBLIC_KEY", "pub"), "SYNAPSE_RECAPTCHA_PRIVATE_KEY", "both or neither"},
		{with("SYNAPSE_RECAPTCHA_PRIVATE_KEY", "priv"), "SYNAPSE_RECAPTCHA_PUBLIC_KEY", "both or neither"},
		{with("SYNAPSE_RECAPTCHA_PRIVATE_KEY", "priv", "SYNAPSE_RECAPTCHA_PRIVATE_KEY_FILE", pw), "SYNAPSE_RECAPTCHA_PRIVATE_KEY", "set only one"},
		{with("SYNAPSE_TURN_URIS", "http://turn.example"), "SYNAPSE_TURN_URIS", "turn:, turns: or stun:"},
		{with("SYNAPSE_TURN_URIS", "turn:a"), "SYNAPSE_TURN_SECRET", "required"},
		{with("SYNAPSE_TURN_URIS", "turn:a", "SYNAPSE_TURN_SECRET", "a", "SYNAPSE_TURN_SECRET_FILE", pw), "SYNAPSE_TURN_SECRET", "set only one"},
		{with("SYNAPSE_REGISTRATION_SHARED_SECRET", "a", "SYNAPSE_REGISTRATION_SHARED_SECRET_FILE", pw), "SYNAPSE_REGISTRATION_SHARED_SECRET", "set only one"},
		{with("SYNAPSE_MACAROON_SECRET_KEY", "a", "SYNAPSE_MACAROON_SECRET_KEY_FILE", pw), "SYNAPSE_MACAROON_SECRET_KEY", "set only one"},
		{with("SYNAPSE_FORM_SECRET", "a", "SYNAPSE_FORM_SECRET_FILE", pw), "SYNAPSE_FORM_SECRET", "set only one"},
		{with("SYNAPSE_MACAROON_SECRET_KEY_FILE", filepath.Join(dir, "missing")), "SYNAPSE_MACAROON_SECRET_KEY_FILE", "cannot read"},
		{with("POSTGRES_PASSWORD", "a", "POSTGRES_PASSWORD_FILE", pw), "POSTGRES_PASSWORD", "set only one"},
		{with("POSTGRES_PASSWORD_FILE", dir), "POSTGRES_PASSWORD_FILE", "cannot read"},
		{with("POSTGRES_PASSWORD", "a", "POSTGRES_PORT", "postgres"), "POSTGRES_PORT", "port"},
		{with("POSTGRES_PASSWORD", "a", "POSTGRES_PORT", "0"), "POSTGRES_PORT", "port"},
		{with("POSTGRES_PASSWORD", "a", "POSTGRES_CP_MIN", "0"), "POSTGRES_CP_MIN", "whole number"},
		{with("POSTGRES_PASSWORD", "a", "POSTGRES_CP_MAX", "x"), "POSTGRES_CP_MAX", "whole number"},
		{with("POSTGRES_PASSWORD", "a", "POSTGRES_CP_MIN", "8", "POSTGRES_CP_MAX", "4"), "POSTGRES_CP_MAX", "not be less"},
		{with("POSTGRES_PASSWORD", "a", "POSTGRES_WAIT_TIMEOUT", "soon"), "POSTGRES_WAIT_TIMEOUT", "duration"},
		{with("POSTGRES_PASSWORD", "a", "POSTGRES_WAIT_TIMEOUT", "-5"), "POSTGRES_WAIT_TIMEOUT", "duration"},
		{with("SYNAPSE_SMTP_HOST", "mail", "SYNAPSE_SMTP_PORT", "smtp"), "SYNAPSE_SMTP_PORT", "port"},
		{with("SYNAPSE_SMTP_HOST", "mail", "SYNAPSE_SMTP_PASSWORD", "a", "SYNAPSE_SMTP_PASSWORD_FILE", pw), "SYNAPSE_SMTP_PASSWORD", "set only one"},
		{with("SYNAPSE_SMTP_HOST", "mail", "SYNAPSE_SMTP_FROM", "nobody"), "SYNAPSE_SMTP_FROM", "e-mail address"},
		{with("UID", "abc"), "UID", "whole number"},
		{with("UID", "-1"), "UID", "whole number"},
		{with("GID", "1.5"), "GID", "whole number"},
		{with("SYNAPSE_DATA_DIR", "data"), "SYNAPSE_DATA_DIR", "absolute"},
		{with("SYNAPSE_CONFIG_PATH", "homeserver.yaml"), "SYNAPSE_CONFIG_PATH", "absolute"},
	} {
		name := tc.varName + "/" + tc.expect
		t.Run(name, func(t *testing.T) {
			_, err := Load(Map(tc.env))
			require.Error(t, err)
			var e *Error
			require.True(t, errors.As(err, &e), "want *env.Error, got %T", err)
			assert.Equal(t, tc.varName, e.Var)
			assert.Contains(t, err.Error(), tc.expect)
			assert.NotContains(t, err.Error(), "\n")
		})
	}
}

// TestVarsDocumented checks that help lists every variable Load reads.
func TestVarsDocumented(t *testing.T) {
	read := map[string]bool{}
	src := Source{ReadFile: os.ReadFile}
	// Turn every optional feature on so every variable is read.
	full := with("POSTGRES_PASSWORD", "p", "SYNAPSE_SMTP_HOST", "m", "SYNAPSE_REDIS_HOST", "r", "SYNAPSE_WORKERS", "pusher")
	src.Lookup = func(k string) (string, bool) {
		read[strings.TrimSuffix(k, "_FILE")] = true
		v, ok := full[k]
		return v, ok
	}
	_, err := Load(src)
	require.NoError(t, err)
	_, _ = WaitTimeout(src)
	documented := map[string]bool{}
	for _, v := range Vars {
		documented[v.Name] = true
	}
	for name := range read {
		assert.True(t, documented[name], "%s is read but not in Vars (help)", name)
	}
	for name := range documented {
		assert.True(t, read[name], "%s is in Vars but never read", name)
	}
}
