package recipe

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const minimal = `
name: demo
debian:
  suite: sid
  mirror: http://deb.debian.org/debian
  packages: [hello]
config:
  entrypoint: [/usr/bin/hello]
`

func TestParseMinimalDefaults(t *testing.T) {
	r, err := Parse([]byte(minimal))
	require.NoError(t, err)
	assert.Equal(t, "demo", r.Repository, "repository defaults to the name")
	assert.Equal(t, "apt", r.Debian.Variant)
	assert.Equal(t, []string{"main"}, r.Debian.Components)
	assert.False(t, r.Wheels, "wheels are opt-in")
}

func TestParseProjectRecipes(t *testing.T) {
	files, err := filepath.Glob("../*.yaml")
	require.NoError(t, err)
	require.NotEmpty(t, files)
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			_, err := Load(f)
			require.NoError(t, err)
		})
	}
}

func TestSynapseRecipe(t *testing.T) {
	r, err := Load("../synapse.yaml")
	require.NoError(t, err)
	assert.Equal(t, "synapse", r.Repository)
	assert.Equal(t, []string{"/start"}, r.Config.Entrypoint)
	assert.Equal(t, []string{"8008/tcp", "8448/tcp"}, r.Config.Ports)
	assert.Equal(t, []string{"/data"}, r.Config.Volumes)
	assert.Equal(t, "/data", r.Config.WorkingDir)
	require.NotNil(t, r.Config.Healthcheck)
	assert.Equal(t, []string{"CMD", "/start", "health"}, r.Config.Healthcheck.Test)
	assert.Equal(t, Duration(time.Second), r.Config.Healthcheck.StartInterval)
	assert.Equal(t, "matrix-synapse", r.Version.Package)
	assert.True(t, r.Wheels, "the Synapse image takes the local wheels")
	require.Len(t, r.Users, 1)
	assert.Equal(t, User{Name: "synapse", UID: 991, GID: 991, Home: "/nonexistent", Shell: "/usr/sbin/nologin"}, r.Users[0], "a home outside /data: no user site there")
	assert.Equal(t, "1", r.Config.Env["PYTHONNOUSERSITE"])
	assert.Equal(t, Mode(0o755), r.Dirs[0].Mode)
	require.NotNil(t, r.Python, "python: start-up tuning")
	assert.Equal(t, "unchecked-hash", r.Python.InvalidationMode)
	require.NotNil(t, r.Python.Bundle)
	assert.Equal(t, []string{"synapse.app.homeserver"}, r.Python.Bundle.Modules)
	assert.Equal(t, "SYNAPSE_BYTECODE_BUNDLE", r.Python.Bundle.Env)
	assert.Equal(t, "SYNAPSE_BYTECODE_BUNDLE_FINDER", r.Python.Bundle.Finder)
	require.Len(t, r.Python.Edits, 6)
	// /start blocks SIGTERM only when this file defines this function
	// (rootfs/internal/sigexec: SynapseInit, HookMarker).
	hook := r.Python.Edits[5]
	assert.Equal(t, "/usr/lib/python3/dist-packages/synapse/__init__.py", hook.File, "the early SIGTERM hook")
	assert.Contains(t, hook.Replace, "def _synapse_image_early_sigterm(")
	require.Len(t, r.Python.Checks, 1)
	assert.Equal(t, "/usr/lib/python3/dist-packages/_synapse_image_dependency_check.json", r.Python.Checks[0].File, "synapse/app/__init__.py's edit reads this record")
	assert.Equal(t, "/usr/lib/python3/dist-packages/ldap_auth_provider.py", r.Python.Edits[0].File, "matrix-synapse-ldap3 without pkg_resources")
}

func TestParseModesAndDurations(t *testing.T) {
	r, err := Parse([]byte(minimal + `
files:
  - {src: a, dst: /a, mode: 0750}
  - {src: b, dst: /b, mode: "0600"}
  - {src: c, dst: /c}
  - {src: d, dst: /d, mode: 0o700}
`))
	require.NoError(t, err)
	assert.Equal(t, []Mode{0o750, 0o600, 0o644, 0o700},
		[]Mode{r.Files[0].Mode, r.Files[1].Mode, r.Files[2].Mode, r.Files[3].Mode})
}

func TestParseErrors(t *testing.T) {
	tests := []struct {
		name, yaml, want string
	}{
		{"empty", ``, "empty recipe"},
		{"unknown field", minimal + "entrypoint: [/x]\n", "field entrypoint not found"},
		{"typo nested", strings.Replace(minimal, "packages:", "pakages:", 1), "field pakages not found"},
		{"bad name", strings.Replace(minimal, "name: demo", "name: Demo_Image", 1), `name: "Demo_Image"`},
		{"no suite", strings.Replace(minimal, "suite: sid", "suite: ''", 1), "debian.suite"},
		{"bad mirror", strings.Replace(minimal, "http://deb.debian.org/debian", "deb.debian.org", 1), "debian.mirror"},
		{"bad variant", strings.Replace(minimal, "suite: sid", "suite: sid\n  variant: tiny", 1), "debian.variant"},
		{"no packages", strings.Replace(minimal, "packages: [hello]", "packages: []", 1), "debian.packages: list at least one"},
		{"bad package", strings.Replace(minimal, "[hello]", "[Hello World]", 1), "debian.packages[0]"},
		{"bad debconf", strings.Replace(minimal, "packages:", "debconf: [oops]\n  packages:", 1), "debian.debconf[0]"},
		{"relative remove", minimal + "remove: [usr/share]\n", "remove[0]"},
		{"bad glob", minimal + "remove: ['/usr/[']\n", "remove[0]"},
		{"user uid", minimal + "users: [{name: x, uid: 0, gid: 5}]\n", "users[0].uid"},
		{"user name", minimal + "users: [{name: X!, uid: 5, gid: 5}]\n", "users[0].name"},
		{"mode text", minimal + "files: [{src: a, dst: /a, mode: rw}]\n", "mode \"rw\" must be an octal number"},
		{"mode digits", minimal + "files: [{src: a, dst: /a, mode: 0999}]\n", "octal"},
		{"file outside repo", minimal + "files: [{src: ../x, dst: /a}]\n", "files[0].src"},
		{"file dst relative", minimal + "files: [{src: a, dst: a}]\n", "files[0].dst"},
		{"dst twice", minimal + "files: [{src: a, dst: /a}]\nsymlinks: [{path: /a, target: /b}]\n", "symlinks[0].path: /a is also the path of files[0].dst"},
		{"program path", minimal + "programs: [{package: github.com/x/y, dst: /y}]\n", "programs[0].package"},
		{"symlink target", minimal + "symlinks: [{path: /a}]\n", "symlinks[0].target"},
		{"no entrypoint", strings.Replace(minimal, "entrypoint: [/usr/bin/hello]", "user: x", 1), "config: set entrypoint or cmd"},
		{"bad port", minimal + "  ports: [http]\n", "config.ports[0]"},
		{"port range", minimal + "  ports: [70000/tcp]\n", "out of range"},
		{"bad volume", minimal + "  volumes: [data]\n", "config.volumes[0]"},
		{"bad env", minimal + "  env: {1X: y}\n", "config.env"},
		{"bad workdir", minimal + "  working-dir: data\n", "config.working-dir"},
		{"health test", minimal + "  healthcheck: {test: [/bin/true], interval: 5s}\n", "config.healthcheck.test"},
		{"health interval", minimal + "  healthcheck: {test: [CMD, /bin/true]}\n", "config.healthcheck.interval"},
		{"bad duration", minimal + "  healthcheck: {test: [CMD, /bin/true], interval: soon}\n", `duration "soon"`},
		{"version package", minimal + "version: {package: 'A B'}\n", "version.package"},
		{"invalidation mode", minimal + "python: {invalidation-mode: fast}\n", "python.invalidation-mode"},
		{"edit file", minimal + "python: {edits: [{file: x.py, line: a, replace: b}]}\n", "python.edits[0].file"},
		{"edit line", minimal + "python: {edits: [{file: /x.py, line: ' ', replace: b}]}\n", "python.edits[0].line"},
		{"edit replace", minimal + "python: {edits: [{file: /x.py, line: a}]}\n", "python.edits[0].replace"},
		{"bundle modules", minimal + "python: {bundle: {dir: /usr/lib/python3/dist-packages, env: OFF}}\n", "python.bundle.modules"},
		{"bundle module name", minimal + "python: {bundle: {modules: [a-b], dir: /usr/lib/python3/dist-packages, env: OFF}}\n", "python.bundle.modules[0]"},
		{"bundle dir", minimal + "python: {bundle: {modules: [a], dir: lib, env: OFF}}\n", "python.bundle.dir"},
		{"bundle env", minimal + "python: {bundle: {modules: [a], dir: /lib}}\n", "python.bundle.env"},
		{"check code", minimal + "python: {checks: [{code: ' ', file: /x.json}]}\n", "python.checks[0].code"},
		{"check file", minimal + "python: {checks: [{code: 'pass', file: x.json}]}\n", "python.checks[0].file"},
		{"bundle finder", minimal + "python: {bundle: {modules: [a], dir: /lib, env: OFF, finder: a-b}}\n", "python.bundle.finder"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse([]byte(tt.yaml))
			require.Error(t, err)
			assert.Contains(t, err.Error(), tt.want)
		})
	}
}

func TestValidateReportsEveryProblem(t *testing.T) {
	_, err := Parse([]byte("name: x\nconfig: {ports: [a]}\n"))
	require.Error(t, err)
	for _, field := range []string{"debian.suite", "debian.mirror", "debian.packages", "config: set entrypoint", "config.ports[0]"} {
		assert.Contains(t, err.Error(), field)
	}
}

func TestLoadNamesTheFile(t *testing.T) {
	f := filepath.Join(t.TempDir(), "bad.yaml")
	require.NoError(t, os.WriteFile(f, []byte("name: [\n"), 0o644))
	_, err := Load(f)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "bad.yaml")

	_, err = Load(filepath.Join(t.TempDir(), "missing.yaml"))
	require.Error(t, err)
	assert.Contains(t, err.Error(), "missing.yaml")
}
