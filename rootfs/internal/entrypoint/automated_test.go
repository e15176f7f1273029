package entrypoint

import (
	"context"
	"io/fs"
	"net"
	"os"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/synapse-image/synapse-image/rootfs/internal/config"
	"github.com/synapse-image/synapse-image/rootfs/internal/privileges"
)

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
	assert.Equal(t, []string{"python3", "-s", "-P", "-m", "synapse.app.homeserver", "--config-path", h.path("generated/homeserver.yaml")}, h.exec.argv)
	assert.Equal(t, 0o027, h.umask, "files Synapse creates are not world-readable")
	assert.Contains(t, h.exec.envv, "LD_PRELOAD=/usr/lib/x86_64-linux-gnu/libjemalloc.so.2")
	assert.Contains(t, h.exec.envv, "PATH=/usr/bin")
	assert.Contains(t, h.exec.envv, "SYNAPSE_SERVER_NAME=example.com")
	assert.Contains(t, h.exec.envv, "SYNAPSE_TURN_SECRET_FILE=/run/secrets/turn", "paths are not secrets")
	for _, kv := range h.exec.envv {
		assert.NotRegexp(t, `^(POSTGRES_PASSWORD|SYNAPSE_MACAROON_SECRET_KEY)=`, kv, "secrets are not passed to Synapse's environment")
	}

	if os.Geteuid() == 0 {
		assert.Equal(t, []int{4242, 4343}, h.dropped, "Drop(uid, gid)")
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
		root, err := os.OpenRoot(h.data)
		require.NoError(t, err)
		_, err = privileges.ChownTree(context.Background(), root, testUID, testGID)
		root.Close()
		require.NoError(t, err)
	}
	require.Equal(t, ExitOK, h.main("run", "--some-flag", "x"), h.stderr.String())
	for f, v := range keys {
		assert.Equal(t, v, h.read(f), "%s never replaced", f)
	}
	assert.NotContains(t, h.stderr.String(), "created")
	assert.NotContains(t, h.stderr.String(), "changing owner")
	assert.Equal(t, []string{"--some-flag", "x"}, h.exec.argv[7:], "args after run go to Synapse")
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

func TestRegistrationWarning(t *testing.T) {
	h := newHarness(t, "SYNAPSE_ENABLE_REGISTRATION", "yes")
	require.Equal(t, ExitOK, h.main("check"))
	assert.Contains(t, h.stderr.String(), "warning: SYNAPSE_ENABLE_REGISTRATION is on without a captcha")
	assert.Contains(t, h.stdout.String(), "enable_registration_without_verification: true")
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
