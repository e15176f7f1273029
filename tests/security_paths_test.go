package tests

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/synapse-image/synapse-image/internal/dockertest"
)

// The trust boundary, second pass (docs/security.md): paths and files that
// uid 991 controls neither steer root nor block it, and reach it through
// no Python start. Each test acts as uid 991 in a real container first.

// envList is env as NAME=value entries, plus more.
func envList(env map[string]string, more ...string) []string {
	out := make([]string, 0, len(env)+len(more))
	for k, v := range env {
		out = append(out, k+"="+v)
	}
	return append(out, more...)
}

// TestDataDirBelowSynapseDir: with SYNAPSE_DATA_DIR=/data/hs, the volume
// root /data is uid 991's, so 991 could swap hs for a link to /etc between
// two starts (root then gave /etc and /etc/shadow to 991). /start refuses
// a data directory below a directory anyone but root can change, link or
// not, and changes no owner; it runs once /data is root's.
func TestDataDirBelowSynapseDir(t *testing.T) {
	t.Parallel()
	const server = "trust-hs.e2e.test"
	image := synapseImage(t)
	data := dockertest.HostDir(t, image)
	env := envList(baseEnv(server), "SYNAPSE_DATA_DIR=/data/hs")
	start := shadowOwner + ` > /tmp/before
/start run --generate-keys; echo "start: exit $?"
` + shadowOwner + ` > /tmp/after
diff /tmp/before /tmp/after && echo "owners unchanged"`

	asSynapse(t, image, data, `mkdir /data/hs.old && ln -s /etc /data/hs`)
	out, _ := sh(t, image, data, "", start, env...)
	assert.Contains(t, out, "owners unchanged", out)
	assert.Contains(t, out, "start: exit 2", out)
	assert.Contains(t, out, "start: error: SYNAPSE_DATA_DIR: /data/hs is below /data, which belongs to uid 991", out)
	assert.NotContains(t, out, "changing owner", out)

	// A real directory there is refused too: the next start could meet a link.
	asSynapse(t, image, data, `rm /data/hs && mkdir /data/hs`)
	out, _ = sh(t, image, data, "", start, env...)
	assert.Contains(t, out, "start: exit 2", out)
	assert.Contains(t, out, "owners unchanged", out)

	// The operator's way out: /data is root's (or the volume is mounted at
	// the data directory itself).
	out, code := sh(t, image, data, "", "chown 0:0 /data && chmod 755 /data")
	require.Zero(t, code, out)
	out, _ = sh(t, image, data, "", start, env...)
	assert.Contains(t, out, "start: exit 0", out)
	assert.Contains(t, out, "owners unchanged", out)
}

// userSite plants a .pth file in the Synapse user's site directory as its
// home was (/data): Python runs its import lines at every start. The
// planted line leaves /data/PTH-<uid> behind.
func userSite(t *testing.T, image, data string) {
	t.Helper()
	asSynapse(t, image, data, `site=$(HOME=/data python3 -c 'import site; print(site.getusersitepackages())')
case "$site" in /data/*) ;; *) echo "user site $site is not below /data"; exit 1;; esac
mkdir -p "$site"
echo 'import os; open("/data/PTH-%d" % os.getuid(), "w").close()' > "$site/planted.pth"`)
}

// TestUserSiteNotImported: a .pth file in /data/.local (the user site of a
// home in /data) runs neither in the child of `check --synapse` run by root
// (it once typed commands into root's terminal with TIOCSTI) nor in
// Synapse started as --user 991.
func TestUserSiteNotImported(t *testing.T) {
	t.Parallel()
	const server = "trust-pth.e2e.test"
	image := synapseImage(t)
	data := dockertest.HostDir(t, image)
	userSite(t, image, data)

	out, _ := sh(t, image, data, "", `/start check --synapse >/dev/null; echo "check: exit $?"; ls /data`, envList(baseEnv(server))...)
	assert.Contains(t, out, "check: exit 0", out)
	assert.Contains(t, out, "Synapse accepts the config", out)
	assert.NotContains(t, out, "PTH-", "the planted .pth ran in check --synapse:\n%s", out)

	out, _ = sh(t, image, data, "991:991", `/start run --generate-keys; echo "start: exit $?"; ls /data`, envList(baseEnv(server))...)
	assert.Contains(t, out, "start: exit 0", out)
	assert.NotContains(t, out, "PTH-", "the planted .pth ran in Synapse as --user 991:\n%s", out)

	// The synapse user's home is not /data.
	out, _ = sh(t, image, data, "", `getent passwd synapse; echo "PYTHONNOUSERSITE=$PYTHONNOUSERSITE"`)
	assert.Contains(t, out, "synapse:x:991:991::/nonexistent:", out)
	assert.Contains(t, out, "PYTHONNOUSERSITE=1", out)
}

// TestHealthReadsConfigSafely: the health probe (root, every interval)
// reads the manual config that uid 991 may replace: a link to /dev/zero
// (each probe once grew to about 1 GB), a FIFO (it hung until Docker's
// timeout) or a link to /etc/shadow end in one line and exit 2 at once.
func TestHealthReadsConfigSafely(t *testing.T) {
	t.Parallel()
	image := synapseImage(t)
	for name, plant := range map[string]string{
		"link to /dev/zero":   `ln -s /dev/zero /data/homeserver.yaml`,
		"FIFO":                `mkfifo /data/homeserver.yaml`,
		"link to /etc/shadow": `ln -s /etc/shadow /data/homeserver.yaml`,
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			data := dockertest.HostDir(t, image)
			asSynapse(t, image, data, plant)
			out, _ := sh(t, image, data, "", `timeout -s KILL 20 /start health; echo "health: exit $?"`, "SYNAPSE_CONFIG_PATH=/data/homeserver.yaml")
			assert.Contains(t, out, "health: exit 2", out)
			assert.Contains(t, out, "start: error: SYNAPSE_CONFIG_PATH: ", out)
			assert.NotContains(t, out, "root:", "nothing of the shadow file")
			assert.Equal(t, 2, strings.Count(strings.TrimSpace(out), "\n")+1, "one line and the exit status:\n%s", out)
		})
	}
}

// TestUntrustedFilesDoNotBlockRoot: a FIFO as a key file or an app service
// registration once left /start stuck with no log line (docker stop ended
// it with 137), and a 4 GiB sparse form.key got it OOM-killed. Each now
// ends in one line naming the file, exit 2, in run and in check.
func TestUntrustedFilesDoNotBlockRoot(t *testing.T) {
	t.Parallel()
	const server = "trust-fifo.e2e.test"
	image := synapseImage(t)
	for name, tc := range map[string]struct{ plant, file, want string }{
		"FIFO form.key":         {`mkfifo /data/` + server + `.form.key`, "/data/" + server + ".form.key", "not a regular file (a FIFO)"},
		"FIFO app service":      {`mkdir /data/appservices && mkfifo /data/appservices/a.yaml`, "/data/appservices/a.yaml", "not a regular file (a FIFO)"},
		"sparse 4 GiB form.key": {`truncate -s 4G /data/` + server + `.form.key`, "/data/" + server + ".form.key", "larger than 65536 bytes"},
		"FIFO conf.d fragment":  {`mkdir /data/conf.d && mkfifo /data/conf.d/10-x.yaml`, "/data/conf.d/10-x.yaml", "not a regular file (a FIFO)"},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			data := dockertest.HostDir(t, image)
			asSynapse(t, image, data, tc.plant)
			for _, mode := range []string{"run --generate-keys", "check"} {
				out, _ := sh(t, image, data, "", `timeout -s KILL 30 /start `+mode+` >/dev/null; echo "start: exit $?"`, envList(baseEnv(server))...)
				assert.Contains(t, out, "start: exit 2", "%s: %s", mode, out)
				assert.Contains(t, out, tc.file, mode)
				assert.Contains(t, out, tc.want, mode)
			}
		})
	}
}

// TestHardLinksNotFollowed: with fs.protected_hardlinks=0 and /data on the
// same file system as a file of root's, uid 991 can hard-link that file
// into /data; root then gave it to 991 (a key file) or copied it into the
// config 991 reads (form.key). The test makes the link itself (as the
// attacker could) to a victim file beside the data directory: /start
// neither changes its owner nor reads it.
func TestHardLinksNotFollowed(t *testing.T) {
	t.Parallel()
	const server = "trust-hardlink.e2e.test"
	image := synapseImage(t)
	for _, tc := range []struct {
		name, link string
	}{
		{"signing key (chowned)", server + ".signing.key"},
		{"form.key (read)", server + ".form.key"},
		{"a media file (chowned in the walk)", "media/local_content/x"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			data := dockertest.HostDir(t, image)
			victim := filepath.Join(filepath.Dir(data), filepath.Base(data)+"-victim")
			require.NoError(t, os.WriteFile(victim, []byte("VICTIM-SECRET\n"), 0o600))
			t.Cleanup(func() { os.Remove(victim) })
			require.NoError(t, os.MkdirAll(filepath.Dir(filepath.Join(data, tc.link)), 0o755))
			require.NoError(t, os.Link(victim, filepath.Join(data, tc.link)))
			// /data is already 991's: the key files are changed one by one
			// (media/, root's, is walked).
			require.NoError(t, os.Chown(data, 991, 991))
			before := ownerOf(t, victim)

			out, _ := sh(t, image, data, "", `/start run --generate-keys; echo "start: exit $?"`, envList(baseEnv(server))...)
			assert.Contains(t, out, "start: exit 2", out)
			assert.Contains(t, out, "has 2 hard links", out)
			assert.Equal(t, before, ownerOf(t, victim), "the victim's owner")
			found, _ := sh(t, image, data, "991:991", `grep -rls 'VICTIM-SECRET' /data/generated; true`)
			assert.Empty(t, strings.TrimSpace(found))
		})
	}
}

func ownerOf(t *testing.T, path string) string {
	t.Helper()
	var st syscall.Stat_t
	require.NoError(t, syscall.Lstat(path, &st))
	return fmt.Sprintf("%d:%d", st.Uid, st.Gid)
}
