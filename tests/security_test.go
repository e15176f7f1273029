package tests

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/synapse-image/synapse-image/internal/dockertest"
)

// The trust boundary (docs/security.md): the environment and the image are
// the operator's; everything under /data can be written by the Synapse user
// (uid 991) and is untrusted input for root. Each test acts as uid 991
// inside a container of the image, then lets /start run as root, and checks
// that root did nothing it should not.

// sh runs a shell script in a fresh container of image with data on /data,
// as user ("" for the image's default, root), and returns its output
// (stdout and stderr) and exit status.
func sh(t *testing.T, image, data, user, script string, env ...string) (string, int) {
	t.Helper()
	args := []string{"run", "--rm", "--label", "e2e=1", "--entrypoint", "sh", "--volume", data + ":/data"}
	if user != "" {
		args = append(args, "--user", user)
	}
	for _, e := range env {
		args = append(args, "--env", e)
	}
	args = append(args, image, "-c", script)
	res, err := dockertest.Docker(context.Background(), args...)
	if err != nil && res.ExitCode == 0 {
		require.NoError(t, err)
	}
	return res.Stdout + res.Stderr, res.ExitCode
}

// asSynapse runs script as the Synapse user and requires it to succeed. A
// fresh host folder is given to that user first, as a first start does.
func asSynapse(t *testing.T, image, data, script string) {
	t.Helper()
	out, code := sh(t, image, data, "", "chown 991:991 /data")
	require.Zero(t, code, out)
	out, code = sh(t, image, data, "991:991", "set -e\n"+script)
	require.Zero(t, code, "as uid 991: %s", out)
}

// shadowOwner is a script line printing the owner of root's files that a
// escalation would take: it is run before and after /start in one container.
const shadowOwner = `stat -c '%n %u:%g %a' /etc/shadow /etc/passwd /etc /usr/bin`

// TestNoSetIDFiles: the image has no setuid or setgid file (su and passwd
// once were the way from the Synapse user to root).
func TestNoSetIDFiles(t *testing.T) {
	t.Parallel()
	image := synapseImage(t)
	res, err := dockertest.Docker(context.Background(), "run", "--rm", "--label", "e2e=1", "--entrypoint", "find", image,
		"/", "-xdev", "-type", "f", "-perm", "/6000")
	require.NoError(t, err)
	assert.Empty(t, strings.TrimSpace(res.Stdout), "setuid/setgid files in the image")
}

// TestManualModeConfigNamesRootFile: the Synapse user edits the config that
// generate left to it (signing_key_path: /etc/shadow); a manual-mode start
// as root does not give /etc/shadow to the Synapse user.
func TestManualModeConfigNamesRootFile(t *testing.T) {
	t.Parallel()
	const server = "trust-manual.e2e.test"
	image := synapseImage(t)
	data := dockertest.HostDir(t, image)
	code, _, stderr := runToExit(t, dockertest.Options{Image: image, Env: baseEnv(server), Mounts: []string{data + ":/data"}, Args: []string{"generate"}})
	require.Zero(t, code, stderr)
	asSynapse(t, image, data, `sed -i 's|^signing_key_path:.*|signing_key_path: "/etc/shadow"|' /data/homeserver.yaml
grep -q '^signing_key_path: "/etc/shadow"' /data/homeserver.yaml
rm -f /data/`+server+`.signing.key`)

	out, _ := sh(t, image, data, "", shadowOwner+` > /tmp/before
/start run --generate-keys
echo "start: exit $?"
`+shadowOwner+` > /tmp/after
diff /tmp/before /tmp/after && echo "owners unchanged"`, "SYNAPSE_CONFIG_PATH=/data/homeserver.yaml")
	assert.Contains(t, out, "owners unchanged", "root changed an owner:\n%s", out)
}

// TestSecretLinkToRootFile: the Synapse user links a secret file of /data
// to /etc/shadow; /start as root refuses it, and nothing of the shadow file
// lands in a file the Synapse user can read.
func TestSecretLinkToRootFile(t *testing.T) {
	t.Parallel()
	const server = "trust-link.e2e.test"
	image := synapseImage(t)
	data := dockertest.HostDir(t, image)
	asSynapse(t, image, data, `ln -s /etc/shadow /data/`+server+`.form.key
ln -s /etc/shadow /data/`+server+`.macaroon.key`)

	env := []string{}
	for k, v := range baseEnv(server) {
		env = append(env, k+"="+v)
	}
	out, _ := sh(t, image, data, "", `/start run --generate-keys; echo "start: exit $?"`, env...)
	assert.Contains(t, out, "start: exit 2", out)
	assert.Contains(t, out, "escapes", out)
	assert.NotContains(t, out, "root:", "the shadow file is not printed")
	// Nothing readable by 991 holds a line of the shadow file.
	found, _ := sh(t, image, data, "991:991", `grep -rls '^root:' /data; true`)
	assert.Empty(t, strings.TrimSpace(found))
}

// TestLinkedDirectoriesOutOfData: /data/generated and /data/appservices
// linked to root's directories do not make root change an owner there.
func TestLinkedDirectoriesOutOfData(t *testing.T) {
	t.Parallel()
	const server = "trust-dirs.e2e.test"
	image := synapseImage(t)
	data := dockertest.HostDir(t, image)
	asSynapse(t, image, data, `ln -s /etc /data/generated`)
	env := []string{}
	for k, v := range baseEnv(server) {
		env = append(env, k+"="+v)
	}
	// Root's own files, with a registration in a root-only directory.
	script := `mkdir -m 700 /etc/bridges && printf 'id: x\nurl: null\nas_token: ROOT-ONLY-TOKEN\nhs_token: b\nsender_localpart: c\nnamespaces: {}\n' > /etc/bridges/x.yaml
stat -c '%n %u:%g' /etc /etc/* /etc/bridges/* > /tmp/before
/start run --generate-keys; echo "start: exit $?"
stat -c '%n %u:%g' /etc /etc/* /etc/bridges/* > /tmp/after
diff /tmp/before /tmp/after && echo "owners unchanged"
ls /etc/homeserver.yaml 2>&1`
	out, _ := sh(t, image, data, "", script, env...)
	assert.Contains(t, out, "owners unchanged", out)
	assert.NotContains(t, out, "start: exit 0", "a linked generated/ is refused:\n%s", out)
	assert.Regexp(t, `/etc/homeserver.yaml.*No such file`, out)

	asSynapse(t, image, data, `rm /data/generated && ln -s /etc/bridges /data/appservices`)
	out, _ = sh(t, image, data, "", script, env...)
	assert.Contains(t, out, "owners unchanged", out)
	assert.Contains(t, out, "start: exit 2", "a linked appservices/ is refused:\n%s", out)
	found, _ := sh(t, image, data, "991:991", `grep -rls 'ROOT-ONLY-TOKEN' /data; true`)
	assert.Empty(t, strings.TrimSpace(found))
}

// TestPlantedModuleNotImported: a module the Synapse user plants in /data
// (the working directory) is imported neither by Synapse nor by a Python
// command run as root with docker exec.
func TestPlantedModuleNotImported(t *testing.T) {
	t.Parallel()
	const server = "trust-module.e2e.test"
	image := synapseImage(t)
	data := dockertest.HostDir(t, image)
	asSynapse(t, image, data, `mkdir -p /data/yaml /data/synapse
for m in yaml synapse; do printf 'import os\nopen("/data/PLANTED-%s-%%d" %% os.getuid(), "w")\n' $m > /data/$m/__init__.py; done`)
	env := []string{}
	for k, v := range baseEnv(server) {
		env = append(env, k+"="+v)
	}
	out, _ := sh(t, image, data, "", `/start run --generate-keys; echo "start: exit $?"
cd /data && python3 -c 'import yaml' && python3 -m synapse.app.admin_cmd --help >/dev/null 2>&1
ls /data | grep PLANTED; echo listed`, env...)
	assert.Contains(t, out, "start: exit 0", out)
	assert.NotContains(t, out, "PLANTED-", "planted code ran:\n%s", out)
}

// TestOnlyGIDChanges: a restart that changes only GID gives /data to the new
// group, and Synapse runs with it (the Gid: line of PID 1).
func TestOnlyGIDChanges(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	const server = "gid.e2e.test"
	image := synapseImage(t)
	data := dockertest.HostDir(t, image)
	first := runSynapse(t, server, data, dockertest.Options{Image: image, Env: baseEnv(server)})
	_, err := first.Stop(ctx)
	require.NoError(t, err)

	env := baseEnv(server)
	env["GID"] = "1236"
	second := runSynapse(t, server, data, dockertest.Options{Image: image, Env: env})
	wrong, err := dockertest.Owners(data, synapseUID, 1236)
	require.NoError(t, err)
	assert.Empty(t, wrong, "a changed GID alone takes over all of /data")
	status, err := second.Exec(ctx, "cat", "/proc/1/status")
	require.NoError(t, err)
	assert.Regexp(t, `(?m)^Uid:\s+991\s+991\s+991\s+991$`, status)
	assert.Regexp(t, `(?m)^Gid:\s+1236\s+1236\s+1236\s+1236$`, status)
	assert.Regexp(t, `(?m)^Groups:\s+1236\s*$`, status)
}

// TestRootIDsRefused: UID=0 or GID=0 would run Synapse as root or with the
// root group: refused with one line, exit 2.
func TestRootIDsRefused(t *testing.T) {
	t.Parallel()
	image := synapseImage(t)
	for _, ids := range [][2]string{{"0", "991"}, {"991", "0"}} {
		env := baseEnv("root-ids.e2e.test")
		env["UID"], env["GID"] = ids[0], ids[1]
		// --generate-keys: were the ids taken, Synapse would exit at once.
		code, _, stderr := runToExit(t, dockertest.Options{Image: image, Env: env, Args: []string{"run", "--generate-keys"}})
		assert.Equal(t, 2, code, stderr)
		assert.Contains(t, stderr, "start: error: UID/GID: "+ids[0]+":"+ids[1])
	}
}

// TestStopDuringOwnershipFix: a stop (SIGTERM) during a long ownership fix
// ends /start promptly with 143, before Synapse starts, and the fix is not
// taken as finished: /data keeps its old owner until the next start
// finishes the job (once, 59k of 164k files stayed the old UID's for good).
func TestStopDuringOwnershipFix(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	const server = "stop-chown.e2e.test"
	image := synapseImage(t)
	data := dockertest.HostDir(t, image)
	// Many files owned by root, as after a copy or a changed UID.
	for i := range 100 {
		dir := filepath.Join(data, "media", "local_content", fmt.Sprintf("%02d", i))
		require.NoError(t, os.MkdirAll(dir, 0o755))
		for j := range 1000 {
			require.NoError(t, os.WriteFile(filepath.Join(dir, fmt.Sprintf("f%04d", j)), nil, 0o644))
		}
	}
	// A slow CPU share keeps the walk long enough to stop it half-way.
	name := dockertest.UniqueName("c")
	args := []string{"run", "--detach", "--name", name, "--label", "e2e=1", "--cpus", "0.1", "--volume", data + ":/data"}
	for k, v := range baseEnv(server) {
		args = append(args, "--env", k+"="+v)
	}
	_, err := dockertest.Docker(ctx, append(args, image)...)
	require.NoError(t, err)
	t.Cleanup(func() { _, _ = dockertest.Docker(context.Background(), "rm", "--force", name) })

	deadline := time.Now().Add(time.Minute)
	for {
		res, _ := dockertest.Docker(ctx, "logs", name)
		if strings.Contains(res.Stdout+res.Stderr, "changing owner of /data from") {
			break
		}
		require.True(t, time.Now().Before(deadline), "no ownership fix started: %s", res.Stderr)
		time.Sleep(50 * time.Millisecond)
	}
	_, err = dockertest.Docker(ctx, "kill", "--signal", "TERM", name)
	require.NoError(t, err)
	// Bounded: a /start that swallows the SIGTERM goes on to run Synapse.
	waitCtx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	res, err := dockertest.Docker(waitCtx, "wait", name)
	require.NoError(t, err, "still running 2 minutes after SIGTERM")
	logs, _ := dockertest.Docker(ctx, "logs", name)
	assert.Equal(t, "143", strings.TrimSpace(res.Stdout), "exit status after SIGTERM:\n%s", logs.Stderr)
	assert.Contains(t, logs.Stderr, "stopped before Synapse started")
	assert.NotContains(t, logs.Stderr, "starting Synapse")
	wrong, err := dockertest.Owners(data, synapseUID, synapseUID)
	require.NoError(t, err)
	assert.Greater(t, len(wrong), 1, "the walk was stopped half-way")
	assert.Contains(t, wrong, ". (0:0)", "/data itself keeps its old owner until the walk is done")
	t.Logf("%d of 100k entries still had the old owner after the stop", len(wrong))

	// The next start finishes the job.
	runSynapse(t, server, data, dockertest.Options{Image: image, Env: baseEnv(server)})
	wrong, err = dockertest.Owners(data, synapseUID, synapseUID)
	require.NoError(t, err)
	assert.Empty(t, wrong)
}
