package entrypoint

import (
	"context"
	"io/fs"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/synapse-image/synapse-image/rootfs/internal/synapsecheck"
)

func (h *harness) fragment(name, content string) {
	h.t.Helper()
	require.NoError(h.t, os.MkdirAll(h.path("conf.d"), 0o755))
	require.NoError(h.t, os.WriteFile(h.path("conf.d/"+name), []byte(content), 0o644))
}

// TestGenericSettings: contract config, then conf.d fragments in name
// order, then SYNAPSE_CONFIG__ variables; the generated config has them
// all, in the types Synapse's reader gives them.
func TestGenericSettings(t *testing.T) {
	secret := filepath.Join(t.TempDir(), "smtp")
	require.NoError(t, os.WriteFile(secret, []byte("s3cret: yes\n"), 0o600))
	h := newHarness(t,
		"SYNAPSE_CONFIG__RC_MESSAGE__PER_SECOND", "5",
		"SYNAPSE_CONFIG__PRESENCE__ENABLED", "off",
		"SYNAPSE_CONFIG__TRUSTED_KEY_SERVERS", "[]",
		"SYNAPSE_CONFIG__EVENT_CACHE_SIZE", "~", // null removes: SYNAPSE_EVENT_CACHE_SIZE is not set
		"SYNAPSE_CONFIG_FILE__EMAIL__SMTP_PASS", secret,
		"SYNAPSE_CONFIG__URL_PREVIEWS_ENABLED", "true",
	)
	h.fragment("20-later.yaml", "rc_message: {burst_count: 20}\nurl_preview_enabled: yes\n")
	h.fragment("10-first.yml", "rc_message: {per_second: 1, burst_count: 10}\nretention:\n  enabled: true\n")
	h.fragment("README.txt", "not: read")
	require.Equal(t, ExitOK, h.main(), h.stderr.String())

	cfg := h.generated()
	assert.Equal(t, map[string]any{"per_second": 5, "burst_count": 20}, cfg["rc_message"])
	assert.Equal(t, map[string]any{"enabled": false}, cfg["presence"])
	assert.Equal(t, true, cfg["url_preview_enabled"])
	assert.Equal(t, map[string]any{"enabled": true}, cfg["retention"])
	assert.Equal(t, []any{}, cfg["trusted_key_servers"], "lists replace")
	assert.NotContains(t, cfg, "event_cache_size", "null removes")
	assert.Equal(t, map[string]any{"smtp_pass": "s3cret: yes"}, cfg["email"], "the file form is a string")
	assert.Equal(t, "example.com", cfg["server_name"], "the rest stays")
	assert.Contains(t, h.read("generated/homeserver.yaml"), "\nurl_preview_enabled: true\n")

	log := h.stderr.String()
	for _, line := range []string{
		"generic setting: rc_message set by " + h.path("conf.d/10-first.yml") + ":1",
		"generic setting: rc_message.burst_count replaced by " + h.path("conf.d/20-later.yaml") + ":1",
		"generic setting: rc_message.per_second replaced by SYNAPSE_CONFIG__RC_MESSAGE__PER_SECOND",
		"generic setting: trusted_key_servers replaced by SYNAPSE_CONFIG__TRUSTED_KEY_SERVERS",
		"generic setting: event_cache_size removed by SYNAPSE_CONFIG__EVENT_CACHE_SIZE",
		"generic setting: email.smtp_pass set by SYNAPSE_CONFIG_FILE__EMAIL__SMTP_PASS",
		"warning: SYNAPSE_CONFIG__URL_PREVIEWS_ENABLED: Synapse 1.160.0 has no setting url_previews_enabled and ignores it (did you mean `url_preview_enabled`?)",
		"2 conf.d fragments, 6 generic variables", // README.txt is not a fragment
	} {
		assert.Contains(t, log, line)
	}
	assert.NotContains(t, log, "s3cret")

	require.NotNil(t, h.exec)
	for _, kv := range h.exec.envv {
		assert.False(t, strings.HasPrefix(kv, "SYNAPSE_CONFIG_"), "generic variables are not passed to Synapse: %s", kv)
	}
}

// TestGenericFinalPaths: what /start does after the merge follows the
// final config: the signing key where it is named, the media store and
// uploads where they are named, no self-signed pair for moved TLS paths.
func TestGenericFinalPaths(t *testing.T) {
	h := newHarness(t, "SYNAPSE_CONFIG__SIGNING_KEY_PATH", "") // set below, once h.data is known
	h.env["SYNAPSE_CONFIG__SIGNING_KEY_PATH"] = h.path("keys/server.key")
	h.fragment("10-media.yaml", "media_store_path: "+h.path("store/media")+"\nuploads_path: "+h.path("store/uploads")+
		"\ntls_certificate_path: /etc/ssl/mine.crt\ntls_private_key_path: /etc/ssl/mine.key\n")
	require.Equal(t, ExitOK, h.main(), h.stderr.String())
	assert.Regexp(t, `^ed25519 a_[A-Za-z]{4} `, h.read("keys/server.key"))
	assert.Equal(t, fs.FileMode(0o600), h.mode("keys/server.key"))
	assert.NoFileExists(t, h.path("example.com.signing.key"))
	assert.DirExists(t, h.path("store/media"))
	assert.DirExists(t, h.path("store/uploads"))
	assert.NoFileExists(t, h.path("example.com.tls.crt"), "moved TLS paths: the operator brings the pair")
	cfg := h.generated()
	assert.Equal(t, h.path("keys/server.key"), cfg["signing_key_path"])

	// The key is kept at the next start.
	key := h.read("keys/server.key")
	require.Equal(t, ExitOK, h.main(), h.stderr.String())
	assert.Equal(t, key, h.read("keys/server.key"))
}

// TestGenericDatabaseWait: the PostgreSQL wait reads the final database
// section, also one set only through generic settings.
func TestGenericDatabaseWait(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	_, port, _ := net.SplitHostPort(l.Addr().String())
	l.Close()
	h := newHarness(t, "POSTGRES_WAIT_TIMEOUT", "1")
	h.fragment("10-db.yaml", "database:\n  name: psycopg2\n  args: {user: u, password: p, database: d, host: 127.0.0.1, port: "+port+"}\n")
	assert.Equal(t, ExitFailure, h.main())
	assert.Contains(t, h.stderr.String(), "127.0.0.1:"+port)
	assert.Contains(t, h.stderr.String(), "did not accept connections within 1s")
	assert.Nil(t, h.exec)
}

// TestGenericHealthPort: /start health probes the first plain-HTTP
// listener of the config run wrote.
func TestGenericHealthPort(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("OK")) }))
	defer srv.Close()
	_, port, _ := net.SplitHostPort(strings.TrimPrefix(srv.URL, "http://"))
	h := newHarness(t, "SYNAPSE_NO_TLS", "1",
		"SYNAPSE_CONFIG__LISTENERS", "[{port: 8448, tls: true, type: http}, {port: "+port+", type: metrics}, {port: "+port+", type: http, bind_addresses: ['0.0.0.0']}]")
	require.Equal(t, ExitOK, h.main(), h.stderr.String())
	assert.Equal(t, ExitOK, h.main("health"), h.stderr.String())
	srv.Close()
	assert.Equal(t, ExitFailure, h.main("health"))
	assert.Contains(t, h.stderr.String(), "http://127.0.0.1:"+port+"/health")
}

// TestGenericBadInput: each bad generic input is exit 2 with one line
// naming the variable or file, before anything is written.
func TestGenericBadInput(t *testing.T) {
	for _, tc := range []struct {
		name     string
		env      []string
		fragment string
		want     string
	}{
		{"not YAML", []string{"SYNAPSE_CONFIG__RC_MESSAGE", "{per_second: 1"}, "", "SYNAPSE_CONFIG__RC_MESSAGE: not valid YAML"},
		{"empty key path", []string{"SYNAPSE_CONFIG__", "1"}, "", "SYNAPSE_CONFIG__: no key after SYNAPSE_CONFIG__"},
		{"empty key in the path", []string{"SYNAPSE_CONFIG____X", "1"}, "", "SYNAPSE_CONFIG____X: empty key in the path"},
		{"path through a scalar", []string{"SYNAPSE_CONFIG__SERVER_NAME__X", "1"}, "", "SYNAPSE_CONFIG__SERVER_NAME__X: server_name is a string, not a mapping"},
		{"path through a list", []string{"SYNAPSE_CONFIG__LISTENERS__PORT", "1"}, "", "SYNAPSE_CONFIG__LISTENERS__PORT: listeners is a list, not a mapping"},
		{"unreadable secret file", []string{"SYNAPSE_CONFIG_FILE__FORM_SECRET", "/nonexistent/secret"}, "", "SYNAPSE_CONFIG_FILE__FORM_SECRET: cannot read /nonexistent/secret"},
		{"conflict", []string{"SYNAPSE_ENABLE_REGISTRATION", "no", "SYNAPSE_CONFIG__ENABLE_REGISTRATION", "yes"}, "",
			"SYNAPSE_CONFIG__ENABLE_REGISTRATION: sets enable_registration, which SYNAPSE_ENABLE_REGISTRATION also sets"},
		{"conflict of a _FILE secret", []string{"POSTGRES_PASSWORD_FILE", "/etc/hostname", "SYNAPSE_CONFIG__DATABASE__ARGS__PASSWORD", "x"}, "",
			"SYNAPSE_CONFIG__DATABASE__ARGS__PASSWORD: sets database.args.password, which POSTGRES_PASSWORD_FILE also sets"},
		{"fragment not a mapping", nil, "- a\n- b\n", "conf.d/10-x.yaml:1: expected a mapping"},
		{"fragment not UTF-8", nil, "a: 1\nb: caf\xe9\n", "conf.d/10-x.yaml:2: not UTF-8 text"},
		{"fragment not YAML", nil, "a: 1\nb: c: d\n", "conf.d/10-x.yaml:2: not valid YAML"},
		{"fragment conflict", []string{"SYNAPSE_CACHE_FACTOR", "2"}, "# caches\ncaches:\n  global_factor: 1.0\n",
			"conf.d/10-x.yaml:3: sets caches.global_factor, which SYNAPSE_CACHE_FACTOR also sets"},
	} {
		for _, mode := range []string{"run", "generate", "check"} {
			t.Run(tc.name+"/"+mode, func(t *testing.T) {
				h := newHarness(t, tc.env...)
				if tc.fragment != "" {
					h.fragment("10-x.yaml", tc.fragment)
				}
				before := snapshot(t, h.data)
				code := h.main(mode)
				assert.Equal(t, ExitUsage, code, "stderr: %s", h.stderr.String())
				lines := strings.Split(strings.TrimSpace(h.stderr.String()), "\n")
				last := lines[len(lines)-1]
				assert.True(t, strings.HasPrefix(last, "start: error: "), last)
				assert.Contains(t, last, tc.want)
				for _, l := range lines[:len(lines)-1] {
					assert.NotContains(t, l, "error", "one error line")
				}
				assert.Equal(t, filesOf(before), filesOf(snapshot(t, h.data)), "no file written to the data directory")
				if tc.fragment == "" {
					assert.Equal(t, before, snapshot(t, h.data), "a bad variable stops /start before it writes anything")
				}
				assert.Nil(t, h.exec)
				assert.Empty(t, h.stdout.String())
			})
		}
	}
}

// filesOf keeps the regular files of a snapshot: a bad fragment is found
// after the privilege drop, when the data directory and media/ may already
// have been made and given to the Synapse user, but before any file.
func filesOf(snap []string) []string {
	var out []string
	for _, e := range snap {
		if f := strings.Fields(e); len(f) > 1 && strings.HasPrefix(f[1], "-") {
			out = append(out, e)
		}
	}
	return out
}

// TestCheckGeneric: check prints the merged config with every secret
// masked (by key name, and whatever came from a file) and says on stderr
// which source set each key.
func TestCheckGeneric(t *testing.T) {
	dsn := filepath.Join(t.TempDir(), "dsn")
	require.NoError(t, os.WriteFile(dsn, []byte("https://k3y@sentry.example/1\n"), 0o600))
	h := newHarness(t,
		"SYNAPSE_CONFIG_FILE__SENTRY__DSN", dsn,
		"SYNAPSE_CONFIG__OIDC_PROVIDERS", "[{idp_id: x, client_id: c, client_secret: hunter2}]",
		"SYNAPSE_CONFIG__REDIS__PASSWORD", "hunter3",
	)
	h.fragment("10-ldap.yaml", "modules:\n  - module: ldap_auth_provider.LdapAuthProviderModule\n    config: {bind_password: hunter4}\n")
	before := snapshot(t, h.data)
	require.Equal(t, ExitOK, h.main("check"), h.stderr.String())
	out := h.stdout.String()
	for _, s := range []string{"k3y", "hunter2", "hunter3", "hunter4"} {
		assert.NotContains(t, out, s)
		assert.NotContains(t, h.stderr.String(), s)
	}
	assert.Contains(t, out, `client_id: "c"`)
	assert.Contains(t, out, `module: "ldap_auth_provider.LdapAuthProviderModule"`)
	assert.Contains(t, h.stderr.String(), "generic setting: sentry.dsn set by SYNAPSE_CONFIG_FILE__SENTRY__DSN")
	assert.Contains(t, h.stderr.String(), "generic setting: modules set by "+h.path("conf.d/10-ldap.yaml")+":1")
	assert.Equal(t, before, snapshot(t, h.data), "check writes nothing")
	// check cannot hand a new /data to UID:GID first (it writes nothing), so
	// it reads conf.d as it is, through an os.Root of the data directory
	// (overrides' tests prove no link leads out of it); TestCheckMode runs it
	// on a root-owned 0700 /data end to end.
	assert.Nil(t, h.dropped, "check keeps its privileges and writes nothing")
}

// TestCheckSynapse: check --synapse has Synapse parse the unmasked merged
// config; its error is the one line, exit 2.
func TestCheckSynapse(t *testing.T) {
	h := newHarness(t, "SYNAPSE_CONFIG__RC_MESSAGE__PER_SECOND", "fast")
	var got []byte
	verdict := error(nil)
	h.validate = func(_ context.Context, python string, cfg []byte, configDir, dataDir string, _ bool, uid, gid int) error {
		got = cfg
		assert.Equal(t, "/usr/bin/python3", python)
		assert.Equal(t, h.path("generated"), configDir)
		assert.Equal(t, h.data, dataDir)
		return verdict
	}
	require.Equal(t, ExitOK, h.main("check", "--synapse"), h.stderr.String())
	assert.Contains(t, string(got), `per_second: "fast"`)
	assert.NotContains(t, string(got), "<secret>", "Synapse sees the real config")
	assert.Contains(t, h.stderr.String(), "Synapse accepts the config")

	verdict = &synapsecheck.Invalid{Msg: "synapse: error in configuration at 'rc_message.per_second': must be a number"}
	assert.Equal(t, ExitUsage, h.main("check", "--synapse"))
	assert.Contains(t, h.stderr.String(), "start: error: synapse: error in configuration at 'rc_message.per_second': must be a number\n")

	assert.Equal(t, ExitUsage, h.main("check", "--synapes"))
	assert.Contains(t, h.stderr.String(), `check: unknown argument "--synapes"`)
}

// TestGenericIgnoredInManualMode: a hand-written config is never changed;
// generic variables are named as ignored.
func TestGenericIgnoredInManualMode(t *testing.T) {
	h := newHarness(t, "SYNAPSE_CONFIG__RC_MESSAGE__PER_SECOND", "5")
	require.NoError(t, os.MkdirAll(h.data, 0o755))
	require.NoError(t, os.WriteFile(h.path("homeserver.yaml"), []byte("server_name: example.com\nsigning_key_path: "+h.path("k")+"\n"), 0o600))
	h.env["SYNAPSE_CONFIG_PATH"] = h.path("homeserver.yaml")
	require.Equal(t, ExitOK, h.main("check"), h.stderr.String())
	assert.Contains(t, h.stderr.String(), "warning: SYNAPSE_CONFIG__RC_MESSAGE__PER_SECOND is ignored in manual mode")
	assert.NotContains(t, h.stdout.String(), "rc_message")
}

// TestGenerateGeneric: generate writes the config with the generic
// settings applied, keeping the comments of the keys it did not touch.
func TestGenerateGeneric(t *testing.T) {
	h := newHarness(t, "SYNAPSE_CONFIG__PRESENCE__ENABLED", "no", "SYNAPSE_CONFIG__SIGNING_KEY_PATH", "")
	h.env["SYNAPSE_CONFIG__SIGNING_KEY_PATH"] = h.path("keys/generated.key")
	h.fragment("10-previews.yaml", "url_preview_enabled: true\nurl_preview_ip_range_blacklist: ['127.0.0.0/8']\n")
	require.Equal(t, ExitOK, h.main("generate"), h.stderr.String())
	out := h.read("homeserver.yaml")
	assert.Contains(t, out, "presence:\n  enabled: false\n")
	assert.Contains(t, out, "url_preview_enabled: true\n")
	assert.Contains(t, out, "# The public name of this server", "comments of untouched keys stay")
	assert.Regexp(t, `^ed25519 `, h.read("keys/generated.key"), "the signing key where the config names it")
	assert.NoFileExists(t, h.path("example.com.signing.key"))
	assert.Contains(t, h.stderr.String(), "generic setting: presence.enabled set by SYNAPSE_CONFIG__PRESENCE__ENABLED")
}

// TestGenericStoreNotWritable: a media store named in conf.d that the
// Synapse user cannot make is bad input, found before any file is made.
// (A path below a regular file: not even root could make it.)
func TestGenericStoreNotWritable(t *testing.T) {
	h := newHarness(t)
	file := filepath.Join(t.TempDir(), "file")
	require.NoError(t, os.WriteFile(file, nil, 0o600))
	h.fragment("10-media.yaml", "media_store_path: "+file+"/media\n")
	assert.Equal(t, ExitUsage, h.main())
	assert.Contains(t, h.stderr.String(), "start: error: media_store_path: cannot create "+file+"/media as uid")
	assert.NoFileExists(t, h.path("example.com.signing.key"))
	assert.NoFileExists(t, h.path("example.com.form.key"))
	assert.NoFileExists(t, h.path("generated/homeserver.yaml"))
}
