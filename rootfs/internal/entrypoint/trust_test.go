package entrypoint

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/synapse-image/synapse-image/internal/dockertest"
	"github.com/synapse-image/synapse-image/rootfs/internal/privileges"
)

// The trust boundary (docs/security.md): everything below the data
// directory is the Synapse user's, so root never follows a link out of it
// and never acts on a path a file there names. The end-to-end versions,
// as uid 991 in a container, are in tests/security_test.go.

// TestSecretLinkOutOfData: a secret file linked to a root-only file out of
// the data directory is refused; its content reaches no output and no file.
func TestSecretLinkOutOfData(t *testing.T) {
	outside := filepath.Join(t.TempDir(), "shadow")
	require.NoError(t, os.WriteFile(outside, []byte("ROOT-ONLY-CONTENT\n"), 0o600))
	for _, name := range []string{"example.com.form.key", "example.com.registration.key", "example.com.macaroon.key"} {
		t.Run(name, func(t *testing.T) {
			h := newHarness(t)
			require.NoError(t, os.MkdirAll(h.data, 0o755))
			require.NoError(t, os.Symlink(outside, h.path(name)))
			for _, mode := range []string{"run", "check", "generate"} {
				assert.Equal(t, ExitUsage, h.main(mode), mode)
				assert.Contains(t, h.stderr.String(), "escapes", mode)
				assert.NotContains(t, h.stdout.String()+h.stderr.String(), "ROOT-ONLY-CONTENT")
			}
			assert.NoFileExists(t, h.path("generated/homeserver.yaml"))
			assert.NoFileExists(t, h.path("homeserver.yaml"))
		})
	}
	// A link that stays inside the data directory is followed.
	h := newHarness(t)
	require.NoError(t, os.MkdirAll(h.data, 0o755))
	require.NoError(t, os.WriteFile(h.path("form"), []byte("inside\n"), 0o600))
	require.NoError(t, os.Symlink("form", h.path("example.com.form.key")))
	require.Equal(t, ExitOK, h.main("run"), h.stderr.String())
	assert.Equal(t, "inside", h.generated()["form_secret"])
}

// TestFileVariableLinkOutOfData: a _FILE path in the data directory that
// the Synapse user linked to a root-only file is refused; one outside the
// data directory (the operator's, e.g. /run/secrets) is read as given.
func TestFileVariableLinkOutOfData(t *testing.T) {
	dir := t.TempDir()
	outside := filepath.Join(dir, "shadow")
	require.NoError(t, os.WriteFile(outside, []byte("ROOT-ONLY-CONTENT\n"), 0o600))
	h := newHarness(t)
	require.NoError(t, os.MkdirAll(h.data, 0o755))
	require.NoError(t, os.Symlink(outside, h.path("form")))
	h.env["SYNAPSE_FORM_SECRET_FILE"] = h.path("form")
	for _, mode := range []string{"run", "check", "generate"} {
		assert.Equal(t, ExitUsage, h.main(mode), mode)
		assert.Contains(t, h.stderr.String(), "escapes", mode)
		assert.NotContains(t, h.stdout.String()+h.stderr.String(), "ROOT-ONLY-CONTENT")
	}
	assert.NoFileExists(t, h.path("generated/homeserver.yaml"))

	h.env["SYNAPSE_FORM_SECRET_FILE"] = outside
	require.Equal(t, ExitOK, h.main("run"), h.stderr.String())
	assert.Equal(t, "ROOT-ONLY-CONTENT", h.generated()["form_secret"], "the operator's own path")
}

// TestManualSigningKeyOutOfData: in manual mode, a config the Synapse user
// edited to name a root-owned file as signing key does not make root
// change that file's owner (it once made /etc/shadow the Synapse user's).
func TestManualSigningKeyOutOfData(t *testing.T) {
	dockertest.RequireRoot(t, "changing owners")
	victim := filepath.Join(t.TempDir(), "shadow")
	require.NoError(t, os.WriteFile(victim, []byte("x"), 0o600))
	h := newHarness(t)
	require.NoError(t, os.MkdirAll(h.data, 0o755))
	require.NoError(t, os.WriteFile(h.path("homeserver.yaml"), []byte("server_name: example.com\nsigning_key_path: "+victim+"\n"), 0o600))
	require.NoError(t, os.Chown(h.path("homeserver.yaml"), testUID, testGID))
	h.env["SYNAPSE_CONFIG_PATH"] = h.path("homeserver.yaml")
	require.Equal(t, ExitOK, h.main("run"), h.stderr.String())
	u, g, err := privileges.Owner(victim)
	require.NoError(t, err)
	assert.Equal(t, []int{0, 0}, []int{u, g})
	assert.NotContains(t, h.stderr.String(), "changing owner of "+victim)
}

// TestGeneratedLinkOutOfData: /data/generated linked to a root directory
// does not make root change the owner of what is there.
func TestGeneratedLinkOutOfData(t *testing.T) {
	dockertest.RequireRoot(t, "changing owners")
	for _, dir := range []string{"generated", "appservices"} {
		t.Run(dir, func(t *testing.T) {
			victimDir := t.TempDir()
			for _, f := range []string{"homeserver.yaml", "log.config", "x.yaml"} {
				require.NoError(t, os.WriteFile(filepath.Join(victimDir, f), []byte("id: x\n"), 0o600))
			}
			h := newHarness(t)
			require.NoError(t, os.MkdirAll(h.data, 0o755))
			require.NoError(t, os.Symlink(victimDir, h.path(dir)))
			h.main("run")
			for _, f := range []string{"", "homeserver.yaml", "log.config", "x.yaml"} {
				u, g, err := privileges.Owner(filepath.Join(victimDir, f))
				require.NoError(t, err)
				assert.Equal(t, []int{0, 0}, []int{u, g}, f)
			}
		})
	}
}

func TestRefusedSettings(t *testing.T) {
	for _, tc := range []struct {
		name string
		kv   []string
		root bool
		want string
	}{
		{"UID 0", []string{"UID", "0", "GID", "991"}, true, "UID/GID: 0:991 would run Synapse as root"},
		{"GID 0", []string{"UID", "991", "GID", "0"}, true, "UID/GID: 991:0"},
		{"data dir /etc", []string{"SYNAPSE_DATA_DIR", "/etc"}, false, "SYNAPSE_DATA_DIR: /etc is a system directory"},
		{"data dir /", []string{"SYNAPSE_DATA_DIR", "/"}, false, "SYNAPSE_DATA_DIR: / is a system directory"},
		{"data dir /usr/lib", []string{"SYNAPSE_DATA_DIR", "/usr/lib/"}, false, "is a system directory"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t, tc.kv...)
			sys := h.system()
			if tc.root {
				sys.Euid = 0
			}
			assert.Equal(t, ExitUsage, Main(context.Background(), sys, []string{"run"}))
			assert.Contains(t, h.stderr.String(), tc.want)
			assert.Nil(t, h.exec)
		})
	}
}

// TestStopBeforeExec: a SIGTERM while /start prepares is honoured (exit
// 143), Synapse is not started.
func TestStopBeforeExec(t *testing.T) {
	h := newHarness(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	assert.Equal(t, ExitStopped, Main(ctx, h.system(), []string{"run"}))
	assert.Nil(t, h.exec)
	assert.Contains(t, h.stderr.String(), "stopped before Synapse started")
}
