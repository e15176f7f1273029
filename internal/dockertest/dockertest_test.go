package dockertest

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestRunArgs(t *testing.T) {
	for name, tc := range map[string]struct {
		opts Options
		want string
	}{
		"minimal": {Options{Image: "img"}, "run --detach --name n --label e2e=1 img"},
		"everything": {
			Options{
				Image: "img", Env: map[string]string{"B": "2", "A": "1 with space"},
				Mounts: []string{"/h:/data"}, Ports: []string{"8008", "8448/tcp"},
				Network: "net", Aliases: []string{"db"}, User: "1000:1000",
				ReadOnly: true, Tmpfs: []string{"/tmp"}, Restart: "unless-stopped",
				Entrypoint: "python3", Memory: "120m", Args: []string{"generate"},
			},
			"run --detach --name n --label e2e=1 --env A=1 with space --env B=2 --volume /h:/data " +
				"--publish 127.0.0.1::8008 --publish 127.0.0.1::8448/tcp --network net --network-alias db " +
				"--user 1000:1000 --read-only --tmpfs /tmp --restart unless-stopped --entrypoint python3 --memory 120m --memory-swap 120m img generate",
		},
	} {
		assert.Equal(t, tc.want, strings.Join(tc.opts.runArgs("n"), " "), name)
	}
	assert.Equal(t, "run --rm --name n --label e2e=1 --entrypoint python3 img -c pass",
		strings.Join(Options{Image: "img", Entrypoint: "python3", Args: []string{"-c", "pass"}}.args("--rm", "n"), " "), "RunOnce's")
}

func TestUniqueName(t *testing.T) {
	a, b := UniqueName("c"), UniqueName("c")
	assert.True(t, strings.HasPrefix(a, "e2e-c-"), a)
	assert.NotEqual(t, a, b)
}

func TestSnapshotDiff(t *testing.T) {
	dir := t.TempDir()
	write := func(name, content string) {
		require.NoError(t, os.MkdirAll(filepath.Dir(filepath.Join(dir, name)), 0o755))
		require.NoError(t, os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644))
	}
	write("a.txt", "one")
	write("sub/b.txt", "two")
	before, err := Snapshot(dir)
	require.NoError(t, err)

	same, err := Snapshot(dir)
	require.NoError(t, err)
	assert.Empty(t, DiffSnapshots(before, same), "nothing changed")

	write("a.txt", "ONE")
	write("sub/c.txt", "new")
	require.NoError(t, os.Remove(filepath.Join(dir, "sub/b.txt")))
	require.NoError(t, os.Chmod(filepath.Join(dir, "sub"), 0o700))
	after, err := Snapshot(dir)
	require.NoError(t, err)
	diff := strings.Split(DiffSnapshots(before, after), "\n")
	require.Len(t, diff, 4, "%q", diff)
	assert.True(t, strings.HasPrefix(diff[0], "changed a.txt: "), diff[0])
	assert.True(t, strings.HasPrefix(diff[1], "changed sub: drwxr-xr-x"), diff[1])
	assert.True(t, strings.HasPrefix(diff[2], "created sub/c.txt: "), diff[2])
	assert.Equal(t, "removed sub/b.txt", diff[3])
}

func TestOwners(t *testing.T) {
	dir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, "f"), nil, 0o644))
	uid, gid := uint32(os.Getuid()), uint32(os.Getgid())
	wrong, err := Owners(dir, uid, gid)
	require.NoError(t, err)
	assert.Empty(t, wrong)
	wrong, err = Owners(dir, uid+1, gid)
	require.NoError(t, err)
	assert.Len(t, wrong, 2, "the folder and its file")
}

func TestParseRequired(t *testing.T) {
	for _, tc := range []struct {
		value   string
		want    bool
		invalid bool
	}{
		{value: "", want: false},
		{value: "0", want: false},
		{value: "false", want: false},
		{value: "no", want: false},
		{value: "1", want: true},
		{value: "true", want: true},
		{value: "yes", want: true},
		// Strict: a value that is not understood is an error, never a quiet "no".
		{value: "YES", invalid: true},
		{value: "True", invalid: true},
		{value: "on", invalid: true},
		{value: "2", invalid: true},
		{value: " 1", invalid: true},
		{value: "ture", invalid: true},
	} {
		got, err := ParseRequired(tc.value)
		if tc.invalid {
			assert.Error(t, err, "%s=%q", RequiredEnv, tc.value)
			continue
		}
		assert.NoError(t, err, "%s=%q", RequiredEnv, tc.value)
		assert.Equal(t, tc.want, got, "%s=%q", RequiredEnv, tc.value)
	}
}

// TestUnavailable runs the rule in a subprocess-free way: a fake testing.TB
// records whether the test was skipped or failed.
func TestUnavailable(t *testing.T) {
	for _, tc := range []struct {
		value string
		want  string // "skip" or "fail"
	}{
		{"", "skip"}, {"0", "skip"}, {"no", "skip"},
		{"1", "fail"}, {"true", "fail"}, {"yes", "fail"},
		{"bogus", "fail"},
	} {
		t.Setenv(RequiredEnv, tc.value)
		rec := &recorder{TB: t}
		done := make(chan struct{})
		go func() { // Skipf and Fatalf end the goroutine, as in a test
			defer close(done)
			Unavailable(rec, "no engine: %s", "because")
		}()
		<-done
		assert.Equal(t, tc.want, rec.verdict, "%s=%q", RequiredEnv, tc.value)
		assert.Contains(t, rec.msg, "no engine: because", "%s=%q", RequiredEnv, tc.value)
	}
}

func TestRequireRoot(t *testing.T) {
	t.Setenv(RequiredEnv, "1")
	rec := &recorder{TB: t}
	done := make(chan struct{})
	go func() {
		defer close(done)
		RequireRoot(rec, "changing owners")
	}()
	<-done
	if os.Geteuid() == 0 {
		assert.Empty(t, rec.verdict, "root: the test goes on")
		return
	}
	assert.Equal(t, "fail", rec.verdict)
	assert.Contains(t, rec.msg, "changing owners needs root")
}

// recorder is a testing.TB whose Skipf and Fatalf only record.
type recorder struct {
	testing.TB
	verdict, msg string
}

func (r *recorder) Helper() {}
func (r *recorder) Skipf(format string, args ...any) {
	r.verdict, r.msg = "skip", fmt.Sprintf(format, args...)
	runtime.Goexit()
}
func (r *recorder) Fatalf(format string, args ...any) {
	r.verdict, r.msg = "fail", fmt.Sprintf(format, args...)
	runtime.Goexit()
}
