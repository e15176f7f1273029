package entrypoint

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"syscall"
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

// TestDataDirBelowOthersDir: as root, a data directory (or a media store
// the environment names) below a directory another user can change is
// refused, and nothing is created or changed there; a link on the way is
// refused too.
func TestDataDirBelowOthersDir(t *testing.T) {
	dockertest.RequireRoot(t, "changing owners")
	victimDir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(victimDir, "shadow"), []byte("x"), 0o600))
	for _, tc := range []struct {
		name  string
		setup func(vol string) (dataDir string, kv []string)
		want  string
	}{
		{"data dir below a 991 volume root", func(vol string) (string, []string) {
			require.NoError(t, os.Chown(vol, 991, 991))
			return filepath.Join(vol, "hs"), nil
		}, "is below " + "VOL" + ", which belongs to uid 991"},
		{"data dir is a link below a 991 volume root", func(vol string) (string, []string) {
			require.NoError(t, os.Symlink(victimDir, filepath.Join(vol, "hs")))
			require.NoError(t, os.Chown(vol, 991, 991))
			return filepath.Join(vol, "hs"), nil
		}, "which belongs to uid 991"},
		{"data dir is a link", func(vol string) (string, []string) {
			require.NoError(t, os.Symlink(victimDir, filepath.Join(vol, "hs")))
			return filepath.Join(vol, "hs"), nil
		}, "VOL/hs is a symbolic link or not a directory"},
		{"world-writable ancestor", func(vol string) (string, []string) {
			require.NoError(t, os.Chmod(vol, 0o777))
			return filepath.Join(vol, "hs"), nil
		}, "anyone can write"},
		{"media store below a 991 directory", func(vol string) (string, []string) {
			other := filepath.Join(vol, "other")
			require.NoError(t, os.Mkdir(other, 0o755))
			require.NoError(t, os.Symlink(victimDir, filepath.Join(other, "media")))
			require.NoError(t, os.Chown(other, 991, 991))
			return filepath.Join(vol, "data"), []string{"SYNAPSE_CONFIG__MEDIA_STORE_PATH", filepath.Join(other, "media")}
		}, "which belongs to uid 991"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			vol := filepath.Join(t.TempDir(), "vol")
			require.NoError(t, os.Mkdir(vol, 0o755))
			dataDir, kv := tc.setup(vol)
			h := newHarness(t, append([]string{"SYNAPSE_DATA_DIR", dataDir}, kv...)...)
			h.data = dataDir
			sys := h.system()
			sys.Euid = 0
			h.stderr.Reset()
			assert.Equal(t, ExitUsage, Main(context.Background(), sys, []string{"run"}))
			assert.Contains(t, h.stderr.String(), strings.ReplaceAll(tc.want, "VOL", vol))
			assert.Equal(t, 1, strings.Count(h.stderr.String(), "\n"), h.stderr.String())
			assert.Nil(t, h.exec)
			u, g, err := privileges.Owner(filepath.Join(victimDir, "shadow"))
			require.NoError(t, err)
			assert.Equal(t, []int{0, 0}, []int{u, g})
			entries, err := os.ReadDir(victimDir)
			require.NoError(t, err)
			assert.Len(t, entries, 1, "nothing created through the link")
		})
	}
}

// TestUntrustedFileKinds: a FIFO, a huge sparse file or a hard-linked file
// as a secret, an app service registration or a manual config ends in one
// line naming the file, exit 2, without blocking or reading it whole.
func TestUntrustedFileKinds(t *testing.T) {
	for _, tc := range []struct {
		name  string
		file  string
		make  func(path string)
		modes []string
		kv    []string
		want  string
	}{
		{"FIFO form.key", "example.com.form.key", fifo(t), []string{"run", "check", "generate"}, nil, "not a regular file (a FIFO)"},
		{"sparse 4 GiB form.key", "example.com.form.key", sparse(t, 4<<30), []string{"run", "check", "generate"}, nil, "larger than 65536 bytes"},
		{"hard-linked macaroon.key", "example.com.macaroon.key", hardLink(t), []string{"run", "check", "generate"}, nil, "has 2 hard links"},
		{"FIFO registration", "appservices/a.yaml", fifo(t), []string{"run", "check"}, nil, "not a regular file (a FIFO)"},
		{"sparse registration", "appservices/a.yaml", sparse(t, 2<<20), []string{"run", "check"}, nil, "larger than 1048576 bytes"},
		{"FIFO manual config", "homeserver.yaml", fifo(t), []string{"run", "check", "health"}, []string{"SYNAPSE_CONFIG_PATH", "DATA/homeserver.yaml"}, "not a regular file (a FIFO)"},
		{"sparse manual config", "homeserver.yaml", sparse(t, 1<<30), []string{"run", "check", "health"}, []string{"SYNAPSE_CONFIG_PATH", "DATA/homeserver.yaml"}, "larger than 4194304 bytes"},
		{"FIFO _FILE in the data directory", "form", fifo(t), []string{"run", "check"}, []string{"SYNAPSE_FORM_SECRET_FILE", "DATA/form"}, "not a regular file (a FIFO)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t)
			for i := 1; i < len(tc.kv); i += 2 {
				h.env[tc.kv[i-1]] = strings.ReplaceAll(tc.kv[i], "DATA", h.data)
			}
			require.NoError(t, os.MkdirAll(filepath.Dir(h.path(tc.file)), 0o755))
			tc.make(h.path(tc.file))
			for _, mode := range tc.modes {
				assert.Equal(t, ExitUsage, h.main(mode), mode)
				assert.Contains(t, h.stderr.String(), h.path(tc.file), mode)
				assert.Contains(t, h.stderr.String(), tc.want, mode)
				assert.Equal(t, 1, strings.Count(h.stderr.String(), "\n"), "%s: %s", mode, h.stderr.String())
			}
			assert.NoFileExists(t, h.path("generated/homeserver.yaml"))
		})
	}
}

func fifo(t *testing.T) func(string) {
	return func(p string) { require.NoError(t, syscall.Mkfifo(p, 0o600)) }
}

func sparse(t *testing.T, size int64) func(string) {
	return func(p string) {
		f, err := os.Create(p)
		require.NoError(t, err)
		require.NoError(t, f.Truncate(size))
		require.NoError(t, f.Close())
	}
}

func hardLink(t *testing.T) func(string) {
	return func(p string) {
		other := filepath.Join(t.TempDir(), "other")
		require.NoError(t, os.WriteFile(other, []byte("OTHER-SECRET\n"), 0o600))
		require.NoError(t, os.Link(other, p))
	}
}
