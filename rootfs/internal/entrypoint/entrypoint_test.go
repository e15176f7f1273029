package entrypoint

import (
	"bytes"
	"context"
	"crypto/sha256"
	"fmt"
	"io/fs"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"gopkg.in/yaml.v3"

	"github.com/synapse-image/synapse-image/rootfs/internal/config"
	"github.com/synapse-image/synapse-image/rootfs/internal/env"
	"github.com/synapse-image/synapse-image/rootfs/internal/privileges"
)

// detRand is a deterministic random stream (SHA-256 of a counter).
type detRand struct {
	n   uint64
	buf []byte
}

func (r *detRand) Read(p []byte) (int, error) {
	for i := range p {
		if len(r.buf) == 0 {
			s := sha256.Sum256([]byte(fmt.Sprint(r.n)))
			r.n++
			r.buf = s[:]
		}
		p[i] = r.buf[0]
		r.buf = r.buf[1:]
	}
	return len(p), nil
}

type execCall struct {
	argv0 string
	argv  []string
	envv  []string
}

type harness struct {
	t              *testing.T
	data           string
	env            map[string]string
	stdout, stderr bytes.Buffer
	exec           *execCall
	dropped        []int
	ipv6           bool
	jemalloc       string
}

func newHarness(t *testing.T, kv ...string) *harness {
	h := &harness{t: t, data: filepath.Join(t.TempDir(), "data")}
	h.env = map[string]string{
		"SYNAPSE_SERVER_NAME":  "example.com",
		"SYNAPSE_REPORT_STATS": "no",
		"SYNAPSE_DATA_DIR":     h.data,
		// As root, a UID other than ours exercises the real ownership fix.
		"UID": fmt.Sprint(uidForTests()),
		"GID": fmt.Sprint(uidForTests()),
	}
	for i := 0; i+1 < len(kv); i += 2 {
		h.env[kv[i]] = kv[i+1]
	}
	return h
}

func uidForTests() int {
	if os.Geteuid() == 0 {
		return 4242
	}
	return os.Geteuid()
}

func (h *harness) system() System {
	return System{
		Env:     env.Map(h.env),
		Stdout:  &h.stdout,
		Stderr:  &h.stderr,
		Rand:    &detRand{},
		Now:     func() time.Time { return time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC) },
		Euid:    os.Geteuid(),
		HasIPv6: func() bool { return h.ipv6 },
		Drop:    func(uid, gid int) error { h.dropped = []int{uid, gid}; return nil },
		Exec: func(argv0 string, argv, envv []string) error {
			h.exec = &execCall{argv0, argv, envv}
			return nil
		},
		LookPath: func(string) (string, error) { return "/usr/bin/python3", nil },
		Environ:  []string{"PATH=/usr/bin", "SYNAPSE_SERVER_NAME=example.com", "POSTGRES_PASSWORD=pw", "SYNAPSE_MACAROON_SECRET_KEY=m", "SYNAPSE_TURN_SECRET_FILE=/run/secrets/turn"},
		Jemalloc: h.jemalloc,
	}
}

func (h *harness) main(args ...string) int {
	h.stdout.Reset()
	h.stderr.Reset()
	h.exec = nil
	return Main(context.Background(), h.system(), args)
}

func (h *harness) path(name string) string { return filepath.Join(h.data, name) }

func (h *harness) read(name string) string {
	b, err := os.ReadFile(h.path(name))
	require.NoError(h.t, err)
	return string(b)
}

func (h *harness) mode(name string) fs.FileMode {
	fi, err := os.Stat(h.path(name))
	require.NoError(h.t, err)
	return fi.Mode().Perm()
}

// snapshot lists every entry below dir with its size, mode and content hash.
func snapshot(t *testing.T, dir string) []string {
	var out []string
	filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			out = append(out, "error "+err.Error())
			return nil
		}
		fi, _ := d.Info()
		sum := ""
		if d.Type().IsRegular() {
			b, _ := os.ReadFile(p)
			sum = fmt.Sprintf("%x", sha256.Sum256(b))
		}
		out = append(out, fmt.Sprintf("%s %v %d %s %d", p, fi.Mode(), fi.Size(), sum, fi.ModTime().UnixNano()))
		return nil
	})
	sort.Strings(out)
	return out
}

func (h *harness) generated() map[string]any {
	var m map[string]any
	require.NoError(h.t, yaml.Unmarshal([]byte(h.read("generated/homeserver.yaml")), &m))
	return m
}

const appservice = "id: %s\nurl: null\nas_token: at-%s\nhs_token: ht-%s\nsender_localpart: %s\nnamespaces: {}\n"

func (h *harness) addAppservice(name, id string) {
	require.NoError(h.t, os.MkdirAll(h.path("appservices"), 0o755))
	require.NoError(h.t, os.WriteFile(h.path("appservices/"+name), []byte(fmt.Sprintf(appservice, id, id, id, id)), 0o644))
}

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

func TestManualBadInput(t *testing.T) {
	for _, tc := range []struct {
		name  string
		setup func(h *harness)
		args  []string
		want  string
	}{
		{"missing", nil, []string{"run"}, "SYNAPSE_CONFIG_PATH: " + "%s does not exist; create it with the generate mode"},
		{"missing check", nil, []string{"check"}, "does not exist"},
		{"directory", func(h *harness) { require.NoError(t, os.MkdirAll(h.path("homeserver.yaml"), 0o755)) }, []string{"run"}, "is a directory"},
		{"not yaml", func(h *harness) {
			require.NoError(t, os.MkdirAll(h.data, 0o755))
			require.NoError(t, os.WriteFile(h.path("homeserver.yaml"), []byte("server_name: [\n"), 0o600))
		}, []string{"run"}, "not valid YAML"},
		{"bad wait", func(h *harness) {
			h.env["POSTGRES_WAIT_TIMEOUT"] = "x"
			require.NoError(t, os.MkdirAll(h.data, 0o755))
			require.NoError(t, os.WriteFile(h.path("homeserver.yaml"), []byte("server_name: a\n"), 0o600))
		}, []string{"run"}, "POSTGRES_WAIT_TIMEOUT"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t)
			h.env["SYNAPSE_CONFIG_PATH"] = h.path("homeserver.yaml")
			if tc.setup != nil {
				tc.setup(h)
			}
			before := snapshot(t, h.data)
			assert.Equal(t, ExitUsage, h.main(tc.args...))
			want := tc.want
			if strings.Contains(want, "%s") {
				want = fmt.Sprintf(want, h.path("homeserver.yaml"))
			}
			assert.Contains(t, h.stderr.String(), want)
			assert.Equal(t, 1, strings.Count(h.stderr.String(), "\n"))
			assert.Equal(t, before, snapshot(t, h.data))
			assert.Nil(t, h.exec)
		})
	}
}

func TestRunAutomated(t *testing.T) {
	h := newHarness(t)
	h.jemalloc = "/usr/lib/x86_64-linux-gnu/libjemalloc.so.2"
	h.addAppservice("b.yaml", "b")
	h.addAppservice("a.yml", "a")
	require.Equal(t, ExitOK, h.main(), h.stderr.String())

	// Keys and secrets, mode 0600 (the certificate is public).
	for _, f := range []string{"example.com.signing.key", "example.com.registration.key", "example.com.macaroon.key",
		"example.com.form.key", "example.com.tls.key", "generated/homeserver.yaml"} {
		assert.Equal(t, fs.FileMode(0o600), h.mode(f), f)
	}
	assert.Equal(t, fs.FileMode(0o644), h.mode("example.com.tls.crt"))
	assert.Regexp(t, `^ed25519 a_[A-Za-z]{4} [A-Za-z0-9+/]{43}\n$`, h.read("example.com.signing.key"))
	for _, d := range []string{"media", "uploads", "generated"} {
		assert.DirExists(t, h.path(d))
	}

	cfg := h.generated()
	assert.Equal(t, h.read("example.com.registration.key"), cfg["registration_shared_secret"])
	assert.Equal(t, h.read("example.com.macaroon.key"), cfg["macaroon_secret_key"])
	assert.Equal(t, h.read("example.com.form.key"), cfg["form_secret"])
	assert.Regexp(t, `^[0-9a-f]{64}$`, cfg["registration_shared_secret"])
	assert.Equal(t, []any{h.path("appservices/a.yml"), h.path("appservices/b.yaml")}, cfg["app_service_config_files"], "sorted by name")
	assert.Equal(t, h.path("generated/log.config"), cfg["log_config"])
	assert.True(t, strings.HasPrefix(h.read("generated/homeserver.yaml"), config.Header))
	assert.True(t, strings.HasPrefix(h.read("generated/log.config"), config.Header))

	require.NotNil(t, h.exec)
	assert.Equal(t, "/usr/bin/python3", h.exec.argv0)
	assert.Equal(t, []string{"python3", "-m", "synapse.app.homeserver", "--config-path", h.path("generated/homeserver.yaml")}, h.exec.argv)
	assert.Contains(t, h.exec.envv, "LD_PRELOAD=/usr/lib/x86_64-linux-gnu/libjemalloc.so.2")
	assert.Contains(t, h.exec.envv, "PATH=/usr/bin")
	assert.Contains(t, h.exec.envv, "SYNAPSE_SERVER_NAME=example.com")
	assert.Contains(t, h.exec.envv, "SYNAPSE_TURN_SECRET_FILE=/run/secrets/turn", "paths are not secrets")
	for _, kv := range h.exec.envv {
		assert.NotRegexp(t, `^(POSTGRES_PASSWORD|SYNAPSE_MACAROON_SECRET_KEY)=`, kv, "secrets are not passed to Synapse's environment")
	}

	if os.Geteuid() == 0 {
		assert.Equal(t, []int{4242, 4242}, h.dropped)
		assert.Contains(t, h.stderr.String(), "changing owner of "+h.data)
	}

	// No secret in the log.
	for _, f := range []string{"example.com.registration.key", "example.com.macaroon.key", "example.com.form.key"} {
		assert.NotContains(t, h.stderr.String(), h.read(f))
	}

	// A second start keeps every key, rewrites the config and changes no owner.
	keys := map[string]string{}
	for _, f := range []string{"example.com.signing.key", "example.com.registration.key", "example.com.macaroon.key", "example.com.form.key", "example.com.tls.crt", "example.com.tls.key"} {
		keys[f] = h.read(f)
	}
	if os.Geteuid() == 0 {
		// The fake Drop left root as the creator; a real drop creates as 4242.
		_, err := privileges.ChownTree(h.data, 4242, 4242)
		require.NoError(t, err)
	}
	require.Equal(t, ExitOK, h.main("run", "--some-flag", "x"), h.stderr.String())
	for f, v := range keys {
		assert.Equal(t, v, h.read(f), "%s never replaced", f)
	}
	assert.NotContains(t, h.stderr.String(), "created")
	assert.NotContains(t, h.stderr.String(), "changing owner")
	assert.Equal(t, []string{"--some-flag", "x"}, h.exec.argv[5:], "args after run go to Synapse")
}

func TestExistingKeysAndVariables(t *testing.T) {
	h := newHarness(t, "SYNAPSE_REGISTRATION_SHARED_SECRET", "from-variable", "SYNAPSE_NO_TLS", "1")
	require.NoError(t, os.MkdirAll(h.data, 0o755))
	require.NoError(t, os.WriteFile(h.path("example.com.macaroon.key"), []byte("existing-macaroon\n"), 0o600))
	const key = "ed25519 a_abcd AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\n"
	require.NoError(t, os.WriteFile(h.path("example.com.signing.key"), []byte(key), 0o600))
	require.Equal(t, ExitOK, h.main(), h.stderr.String())
	cfg := h.generated()
	assert.Equal(t, "from-variable", cfg["registration_shared_secret"])
	assert.Equal(t, "existing-macaroon", cfg["macaroon_secret_key"])
	assert.NoFileExists(t, h.path("example.com.registration.key"), "a secret given by variable needs no file")
	assert.FileExists(t, h.path("example.com.form.key"))
	assert.Equal(t, key, h.read("example.com.signing.key"))
	assert.NoFileExists(t, h.path("example.com.tls.crt"), "no TLS pair with SYNAPSE_NO_TLS")
	assert.NotContains(t, cfg, "tls_certificate_path")
}

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

func TestRegistrationWarning(t *testing.T) {
	h := newHarness(t, "SYNAPSE_ENABLE_REGISTRATION", "yes")
	require.Equal(t, ExitOK, h.main("check"))
	assert.Contains(t, h.stderr.String(), "warning: SYNAPSE_ENABLE_REGISTRATION is on without a captcha")
	assert.Contains(t, h.stdout.String(), "enable_registration_without_verification: true")
}

func TestGenerateAndManualRun(t *testing.T) {
	h := newHarness(t)
	require.Equal(t, ExitOK, h.main("generate"), h.stderr.String())
	cfgPath := h.path("homeserver.yaml")
	assert.Equal(t, fs.FileMode(0o600), h.mode("homeserver.yaml"))
	text := h.read("homeserver.yaml")
	assert.True(t, strings.HasPrefix(text, config.GenerateHeader))
	assert.Contains(t, text, "# The public name of this server")
	var m map[string]any
	require.NoError(t, yaml.Unmarshal([]byte(text), &m))
	assert.Equal(t, h.read("example.com.registration.key"), m["registration_shared_secret"], "inline, and the same as automated mode")
	assert.Equal(t, h.path("example.com.log.config"), m["log_config"])
	assert.FileExists(t, h.path("example.com.log.config"))
	assert.FileExists(t, h.path("example.com.signing.key"))
	assert.NoDirExists(t, h.path("generated"))
	assert.Nil(t, h.exec)

	// Never overwritten; only missing keys are created, and it says so.
	require.NoError(t, os.Remove(h.path("example.com.signing.key")))
	require.NoError(t, os.Remove(h.path("example.com.tls.crt")))
	require.NoError(t, os.Remove(h.path("example.com.tls.key")))
	h.env["SYNAPSE_SERVER_NAME"] = "other.example.com"
	require.Equal(t, ExitOK, h.main("generate"), h.stderr.String())
	assert.Equal(t, text, h.read("homeserver.yaml"))
	assert.Contains(t, h.stderr.String(), "exists and was not changed; created 3 missing key file(s)")
	assert.FileExists(t, h.path("example.com.tls.crt"))
	assert.Equal(t, fs.FileMode(0o600), h.mode("example.com.tls.key"))
	assert.FileExists(t, h.path("example.com.signing.key"), "the key the existing config names")

	// Manual mode runs it untouched.
	h.env = map[string]string{"SYNAPSE_CONFIG_PATH": cfgPath, "SYNAPSE_DATA_DIR": h.data, "UID": h.env["UID"], "GID": h.env["GID"]}
	require.NoError(t, os.Remove(h.path("example.com.signing.key")))
	require.Equal(t, ExitOK, h.main("run", "--x"), h.stderr.String())
	assert.Equal(t, text, h.read("homeserver.yaml"), "manual mode never edits the config")
	assert.Equal(t, []string{"python3", "-m", "synapse.app.homeserver", "--config-path", cfgPath, "--x"}, h.exec.argv)
	assert.FileExists(t, h.path("example.com.signing.key"))
	assert.Contains(t, h.stderr.String(), "created signing key")

	// check in manual mode masks secrets.
	require.Equal(t, ExitOK, h.main("check"), h.stderr.String())
	assert.NotContains(t, h.stdout.String(), h.read("example.com.registration.key"))
	assert.Contains(t, h.stdout.String(), config.Masked)
}

func TestGenerateConfigPath(t *testing.T) {
	h := newHarness(t)
	p := filepath.Join(h.data, "conf", "hs.yaml")
	h.env["SYNAPSE_CONFIG_PATH"] = p
	require.Equal(t, ExitOK, h.main("generate"), h.stderr.String())
	assert.FileExists(t, p)
	assert.FileExists(t, filepath.Join(h.data, "conf", "example.com.log.config"))
}

func TestHealth(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/health" {
			http.NotFound(w, r)
			return
		}
		w.Write([]byte("OK"))
	}))
	defer srv.Close()
	_, port, _ := net.SplitHostPort(strings.TrimPrefix(srv.URL, "http://"))
	h := newHarness(t)
	require.NoError(t, os.MkdirAll(h.data, 0o755))
	require.NoError(t, os.WriteFile(h.path("homeserver.yaml"), []byte("server_name: a\nlisteners:\n  - {port: 8448, tls: true, type: http}\n  - {port: "+port+", tls: false, type: http}\n"), 0o600))
	h.env["SYNAPSE_CONFIG_PATH"] = h.path("homeserver.yaml")
	assert.Equal(t, ExitOK, h.main("health"), h.stderr.String())
	srv.Close()
	assert.Equal(t, ExitFailure, h.main("health"))
	assert.Contains(t, h.stderr.String(), "start: error: health check http://127.0.0.1:"+port+"/health")
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

func TestIPv6(t *testing.T) {
	dir := t.TempDir()
	empty, full := filepath.Join(dir, "empty"), filepath.Join(dir, "full")
	require.NoError(t, os.WriteFile(empty, nil, 0o644))
	require.NoError(t, os.WriteFile(full, []byte("00000000000000000000000000000001 01 80 10 80       lo\n"), 0o644))
	assert.False(t, hasIPv6(filepath.Join(dir, "missing")))
	assert.False(t, hasIPv6(empty))
	assert.True(t, hasIPv6(full))

	for _, ipv6 := range []bool{false, true} {
		h := newHarness(t)
		h.ipv6 = ipv6
		require.Equal(t, ExitOK, h.main("check"))
		if ipv6 {
			assert.Contains(t, h.stdout.String(), "bind_addresses: ['::', 0.0.0.0]")
		} else {
			assert.Contains(t, h.stdout.String(), "bind_addresses: [0.0.0.0]")
		}
	}
}

func TestJemalloc(t *testing.T) {
	dir := t.TempDir()
	assert.Equal(t, "", jemallocIn(dir, "amd64"))
	require.NoError(t, os.MkdirAll(filepath.Join(dir, "aarch64-linux-gnu"), 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "aarch64-linux-gnu", "libjemalloc.so.2"), nil, 0o644))
	assert.Equal(t, filepath.Join(dir, "aarch64-linux-gnu", "libjemalloc.so.2"), jemallocIn(dir, "arm64"))
	assert.Equal(t, "", jemallocIn(dir, "amd64"))
	assert.Equal(t, "", jemallocIn(dir, "mips"))

	assert.Equal(t, []string{"A=1", "LD_PRELOAD=/j.so"}, withPreload([]string{"A=1"}, "/j.so"))
	assert.Equal(t, []string{"LD_PRELOAD=/j.so:/other.so"}, withPreload([]string{"LD_PRELOAD=/other.so"}, "/j.so"))
	assert.Equal(t, []string{"LD_PRELOAD=/j.so"}, withPreload([]string{"LD_PRELOAD=/j.so"}, "/j.so"))
}

func TestPostgresWait(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer l.Close()
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			c.Close()
		}
	}()
	_, port, _ := net.SplitHostPort(l.Addr().String())
	h := newHarness(t, "POSTGRES_PASSWORD", "pw", "POSTGRES_HOST", "127.0.0.1", "POSTGRES_PORT", port)
	require.Equal(t, ExitOK, h.main(), h.stderr.String())
	require.NotNil(t, h.exec)

	// A server that never answers: bounded wait, exit 1, no exec.
	l.Close()
	h.env["POSTGRES_WAIT_TIMEOUT"] = "1"
	assert.Equal(t, ExitFailure, h.main())
	assert.Contains(t, h.stderr.String(), "did not accept connections within 1s")
	assert.Nil(t, h.exec)
}

func TestNonRootNotWritable(t *testing.T) {
	h := newHarness(t)
	sys := h.system()
	sys.Euid = 1000 // as if started with --user; the directory does not exist
	code := Main(context.Background(), sys, []string{"run"})
	assert.Equal(t, ExitUsage, code)
	assert.Contains(t, h.stderr.String(), "SYNAPSE_DATA_DIR: "+h.data+" does not exist")
	assert.Nil(t, h.dropped)
}

// TestOwnershipOfKnownFiles: a key copied into a /data that already belongs
// to UID:GID is given to UID:GID, without a recursive change.
func TestOwnershipOfKnownFiles(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("changing owners needs root; run the tests as root (scripts/test.sh does in CI)")
	}
	h := newHarness(t)
	require.NoError(t, os.MkdirAll(h.path("media/sub"), 0o755))
	require.NoError(t, os.WriteFile(h.path("media/sub/root-file"), nil, 0o644))
	require.NoError(t, os.WriteFile(h.path("example.com.signing.key"), []byte("ed25519 a_abcd AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\n"), 0o600))
	for _, d := range []string{h.data, h.path("media"), h.path("uploads")} {
		require.NoError(t, os.MkdirAll(d, 0o755))
		require.NoError(t, os.Chown(d, 4242, 4242))
	}
	require.Equal(t, ExitOK, h.main(), h.stderr.String())
	u, g, err := privileges.Owner(h.path("example.com.signing.key"))
	require.NoError(t, err)
	assert.Equal(t, []int{4242, 4242}, []int{u, g})
	u, _, _ = privileges.Owner(h.path("media/sub/root-file"))
	assert.Equal(t, 0, u, "no recursive change when the directories already belong to UID:GID")
	assert.Contains(t, h.stderr.String(), "changing owner of "+h.path("example.com.signing.key"))
	assert.NotContains(t, h.stderr.String(), "changing owner of "+h.data+" ")
}

func TestNonRootIgnoresUID(t *testing.T) {
	h := newHarness(t, "UID", "991")
	require.NoError(t, os.MkdirAll(h.data, 0o755))
	sys := h.system()
	sys.Euid = 12345
	require.Equal(t, ExitOK, Main(context.Background(), sys, []string{"run"}), h.stderr.String())
	assert.Contains(t, h.stderr.String(), "started as uid 12345, not root: UID/GID are ignored")
	assert.Nil(t, h.dropped)
}
