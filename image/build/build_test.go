package build

import (
	"archive/tar"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"testing"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/moby/buildkit/client"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/synapse-image/synapse-image/image/platform"
	"github.com/synapse-image/synapse-image/image/progress"
	"github.com/synapse-image/synapse-image/image/publish"
	"github.com/synapse-image/synapse-image/image/recipe"
)

// fakeRootFS writes a tiny Debian-like tree instead of running mmdebstrap.
type fakeRootFS struct {
	calls int
	fail  error
}

func (f *fakeRootFS) Make(_ context.Context, in Install, dir string) error {
	f.calls++
	if f.fail != nil {
		return f.fail
	}
	files := map[string]string{
		"etc/passwd":                "root:x:0:0:root:/root:/bin/bash\n",
		"etc/group":                 "root:x:0:\n",
		"etc/shadow":                "root:*:20000:0:99999:7:::\n",
		"etc/resolv.conf":           "nameserver 10.0.0.1\n",
		"var/lib/dpkg/status":       "Package: matrix-synapse\nStatus: install ok installed\nVersion: 1.160.0-1\n\nPackage: gone\nStatus: deinstall ok config-files\nVersion: 1.0\n",
		"usr/bin/python3.14":        "#!/bin/true\n",
		"usr/share/doc/x/copyright": "license\n",
		"usr/lib/python3/dist-packages/pkg/tests/test_a.py":   strings.Repeat("x", 1000),
		"usr/lib/python3/dist-packages/pkg/__init__.py":       "",
		"usr/libexec/matrix-synapse/register_new_matrix_user": "#!/usr/bin/python3\n",
	}
	for name, content := range files {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			return err
		}
	}
	if err := os.Symlink("../libexec/matrix-synapse/register_new_matrix_user", filepath.Join(dir, "usr/bin/synapse_register_new_matrix_user")); err != nil {
		return err
	}
	if err := os.Link(filepath.Join(dir, "usr/bin/python3.14"), filepath.Join(dir, "usr/bin/python3")); err != nil {
		return err
	}
	return os.MkdirAll(filepath.Join(dir, "dev/pts"), 0o755)
}

var fakeMirror = func(context.Context, string, string) (MirrorState, error) {
	return MirrorState{InReleaseSHA256: strings.Repeat("ab", 32), Date: time.Date(2026, 10, 30, 8, 0, 0, 0, time.UTC)}, nil
}

const testRecipe = `
name: test
repository: test-image
debian:
  suite: sid
  mirror: http://deb.debian.org/debian
  packages: [matrix-synapse]
remove:
  - /usr/lib/python3/dist-packages/**/tests
users:
  - {name: synapse, uid: 991, gid: 991, home: /data}
dirs:
  - {path: /data, uid: 991, gid: 991}
files:
  - {src: image/build/testdata/hello/main.go, dst: /opt/hello/main.go, mode: 0600}
programs:
  - {package: ./image/build/testdata/hello, dst: /start}
symlinks:
  - {path: /usr/local/bin/register_new_matrix_user, target: /usr/bin/synapse_register_new_matrix_user}
config:
  entrypoint: [/start]
  cmd: [run]
  env: {LANG: C.UTF-8}
  working-dir: /data
  ports: [8008/tcp, "8448"]
  volumes: [/data]
  stop-signal: SIGTERM
  healthcheck:
    test: [CMD, /start, health]
    interval: 5s
    timeout: 3s
    start-period: 1m
    start-interval: 1s
    retries: 3
  labels:
    org.opencontainers.image.title: Test
version:
  package: matrix-synapse
`

func testOptions(t *testing.T, cacheDir string, fake *fakeRootFS) Options {
	t.Helper()
	r, err := recipe.Parse([]byte(testRecipe))
	require.NoError(t, err)
	root, err := filepath.Abs("../..")
	require.NoError(t, err)
	return Options{
		Recipe:   r,
		RepoRoot: root,
		Platform: platform.Host(),
		Epoch:    time.Date(2026, 11, 26, 0, 0, 0, 0, time.UTC),
		Revision: "0123456789abcdef0123456789abcdef01234567",
		Cache:    &Cache{Dir: cacheDir},
		RootFS:   fake,
		Mirror:   fakeMirror,
	}
}

func TestImageConfig(t *testing.T) {
	res, err := Build(context.Background(), testOptions(t, t.TempDir(), &fakeRootFS{}))
	require.NoError(t, err)
	assert.Equal(t, "1.160.0", res.Version)
	assert.Equal(t, "1.160.0-1", res.PackageVersion)
	assert.Equal(t, map[string]string{"matrix-synapse": "1.160.0-1"}, res.Packages, "only installed packages")

	// Read the image back from an OCI layout, as the publisher does.
	dir := filepath.Join(t.TempDir(), "oci")
	_, err = publish.Layout{Dir: dir, RefName: "latest"}.Publish(context.Background(), res.Image)
	require.NoError(t, err)
	idx, err := layout.ImageIndexFromPath(dir)
	require.NoError(t, err)
	m, err := idx.IndexManifest()
	require.NoError(t, err)
	require.Len(t, m.Manifests, 1)
	img, err := idx.Image(m.Manifests[0].Digest)
	require.NoError(t, err)

	cf, err := img.ConfigFile()
	require.NoError(t, err)
	c := cf.Config
	assert.Equal(t, "linux", cf.OS)
	assert.Equal(t, runtime.GOARCH, cf.Architecture)
	assert.Equal(t, []string{"/start"}, c.Entrypoint)
	assert.Equal(t, []string{"run"}, c.Cmd)
	assert.Equal(t, []string{"PATH=" + defaultPath, "LANG=C.UTF-8"}, c.Env)
	assert.Equal(t, "/data", c.WorkingDir)
	assert.Equal(t, "", c.User)
	assert.Equal(t, "SIGTERM", c.StopSignal)
	assert.Equal(t, map[string]struct{}{"8008/tcp": {}, "8448/tcp": {}}, c.ExposedPorts)
	assert.Equal(t, map[string]struct{}{"/data": {}}, c.Volumes)
	assert.Equal(t, map[string]string{
		"org.opencontainers.image.title":    "Test",
		"org.opencontainers.image.version":  "1.160.0",
		"org.opencontainers.image.revision": "0123456789abcdef0123456789abcdef01234567",
		"org.opencontainers.image.created":  "2026-11-26T00:00:00Z",
		"dev.synapse-image.package-version": "1.160.0-1",
	}, c.Labels)
	require.NotNil(t, c.Healthcheck)
	assert.Equal(t, []string{"CMD", "/start", "health"}, c.Healthcheck.Test)
	assert.Equal(t, 5*time.Second, c.Healthcheck.Interval)
	assert.Equal(t, 3*time.Second, c.Healthcheck.Timeout)
	assert.Equal(t, time.Minute, c.Healthcheck.StartPeriod)
	assert.Equal(t, 3, c.Healthcheck.Retries)
	assert.Len(t, cf.RootFS.DiffIDs, 2, "rootfs and project; no wheels layer without wheels")
	assert.Len(t, cf.History, 2)

	// StartInterval is not in go-containerregistry's type: read the raw JSON.
	raw, err := img.RawConfigFile()
	require.NoError(t, err)
	var doc struct {
		Config struct {
			Healthcheck struct{ StartInterval time.Duration }
		} `json:"config"`
	}
	require.NoError(t, json.Unmarshal(raw, &doc))
	assert.Equal(t, time.Second, doc.Config.Healthcheck.StartInterval)

	layers, err := img.Layers()
	require.NoError(t, err)
	require.Len(t, layers, 2)
	rootfs := tarFiles(t, layers[0])
	assert.Contains(t, rootfs["etc/passwd"].data, "synapse:x:991:991::/data:/usr/sbin/nologin\n")
	assert.Contains(t, rootfs["etc/group"].data, "synapse:x:991:\n")
	assert.Contains(t, rootfs["etc/shadow"].data, "synapse:!:::::::\n")
	assert.Contains(t, rootfs, "usr/lib/python3/dist-packages/pkg/__init__.py")
	assert.NotContains(t, rootfs, "usr/lib/python3/dist-packages/pkg/tests/", "removed by a remove: glob")
	assert.NotContains(t, rootfs, "usr/lib/python3/dist-packages/pkg/tests/test_a.py")
	assert.NotContains(t, rootfs, "etc/resolv.conf", "the runtime provides it")
	assert.Contains(t, rootfs, "dev/")
	assert.NotContains(t, rootfs, "dev/pts/")
	assert.Equal(t, byte(tar.TypeLink), rootfs["usr/bin/python3.14"].typ, "hard links stay links")
	mirrorDate := time.Date(2026, 10, 30, 8, 0, 0, 0, time.UTC)
	for name, f := range rootfs {
		assert.False(t, f.mtime.After(mirrorDate), "%s: mtime %s is after the mirror's date", name, f.mtime)
	}

	project := tarFiles(t, layers[1])
	assert.Equal(t, tarFile{typ: tar.TypeReg, mode: 0o755, mtime: time.Date(2026, 11, 26, 0, 0, 0, 0, time.UTC)},
		tarFile{typ: project["start"].typ, mode: project["start"].mode, mtime: project["start"].mtime})
	assert.Equal(t, int64(0o600), project["opt/hello/main.go"].mode)
	assert.Equal(t, int64(0o755), project["opt/"].mode, "missing parents are created")
	assert.Equal(t, [2]int{991, 991}, [2]int{project["data/"].uid, project["data/"].gid})
	assert.Equal(t, "/usr/bin/synapse_register_new_matrix_user", project["usr/local/bin/register_new_matrix_user"].link)
	assert.NotContains(t, project, "usr/", "parents that exist in the root file system are left alone")
}

func TestSameInputsSameDigests(t *testing.T) {
	// Two builds from scratch, each with its own empty cache.
	a, err := Build(context.Background(), testOptions(t, t.TempDir(), &fakeRootFS{}))
	require.NoError(t, err)
	b, err := Build(context.Background(), testOptions(t, t.TempDir(), &fakeRootFS{}))
	require.NoError(t, err)
	for i := range a.Layers {
		assert.Equal(t, a.Layers[i].Meta, b.Layers[i].Meta, "layer %s", a.Layers[i].Name)
		assert.False(t, b.Layers[i].Cached)
	}
	da, err := a.Image.Digest()
	require.NoError(t, err)
	db, err := b.Image.Digest()
	require.NoError(t, err)
	assert.Equal(t, da, db)
}

func TestCache(t *testing.T) {
	cache := t.TempDir()
	fake := &fakeRootFS{}
	opt := testOptions(t, cache, fake)
	first, shown := showBuild(t, opt, "plain")
	assert.Equal(t, 1, fake.calls)
	steps := plainSteps(t, shown)
	assert.Equal(t, "DONE", steps["[rootfs]"].status, shown)
	assert.Contains(t, steps["[rootfs]"].log, "built: ", shown)
	assert.Equal(t, "DONE", steps["[project]"].status, shown)

	second, shown := showBuild(t, opt, "plain")
	assert.Equal(t, 1, fake.calls, "the root file system comes from the cache")
	steps = plainSteps(t, shown)
	assert.Equal(t, "CACHED", steps["[rootfs]"].status, shown)
	assert.Equal(t, "CACHED", steps["[project]"].status, shown)
	assert.Equal(t, "DONE", steps["[mirror]"].status, "the mirror is asked every time")
	for _, l := range second.Layers {
		assert.True(t, l.Cached, l.Name)
	}
	d1, _ := first.Image.Digest()
	d2, _ := second.Image.Digest()
	assert.Equal(t, d1, d2)

	// Another revision changes the config only.
	opt.Revision = "fedcba9876543210fedcba9876543210fedcba98"
	third, err := Build(context.Background(), opt)
	require.NoError(t, err)
	d3, _ := third.Image.Digest()
	assert.NotEqual(t, d1, d3)
	assert.True(t, third.Layers[1].Cached)

	// Another mirror state rebuilds the root file system.
	opt.Mirror = func(ctx context.Context, m, s string) (MirrorState, error) {
		st, _ := fakeMirror(ctx, m, s)
		st.InReleaseSHA256 = strings.Repeat("cd", 32)
		return st, nil
	}
	_, err = Build(context.Background(), opt)
	require.NoError(t, err)
	assert.Equal(t, 2, fake.calls)

	// --no-cache rebuilds everything.
	opt.Cache.Refresh = true
	_, err = Build(context.Background(), opt)
	require.NoError(t, err)
	assert.Equal(t, 3, fake.calls)
}

func TestBuildErrors(t *testing.T) {
	tests := []struct {
		name   string
		change func(*Options)
		want   string
	}{
		{"rootfs fails", func(o *Options) { o.RootFS = &fakeRootFS{fail: errors.New("E: Unable to locate package nope")} }, "Unable to locate package nope"},
		{"mirror down", func(o *Options) {
			o.Mirror = func(context.Context, string, string) (MirrorState, error) {
				return MirrorState{}, errors.New("cannot reach the Debian mirror")
			}
		}, "cannot reach the Debian mirror"},
		{"symlink target missing", func(o *Options) { o.Recipe.Symlinks[0].Target = "/usr/bin/nope" }, "symlinks[0]: target /usr/bin/nope"},
		{"version package missing", func(o *Options) { o.Recipe.Version.Package = "nope" }, `version.package: "nope" is not installed`},
		{"file missing", func(o *Options) { o.Recipe.Files[0].Src = "nope.txt" }, "files[0].src"},
		{"program does not build", func(o *Options) { o.Recipe.Programs[0].Package = "./image/build/testdata/nope" }, "programs[0].package ./image/build/testdata/nope"},
		{"user exists", func(o *Options) { o.Recipe.Users[0].Name = "root" }, "root exists already"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cache := t.TempDir()
			opt := testOptions(t, cache, &fakeRootFS{})
			tt.change(&opt)
			_, err := Build(context.Background(), opt)
			require.Error(t, err)
			assert.Contains(t, err.Error(), tt.want)
			// Nothing half-written is left in the cache.
			leftovers, _ := filepath.Glob(filepath.Join(cache, "layers", ".tmp-*"))
			assert.Empty(t, leftovers)
		})
	}
}

type tarFile struct {
	typ      byte
	mode     int64
	uid, gid int
	mtime    time.Time
	link     string
	data     string
}

func tarFiles(t *testing.T, l v1.Layer) map[string]tarFile {
	t.Helper()
	rc, err := l.Uncompressed()
	require.NoError(t, err)
	defer rc.Close()
	out := map[string]tarFile{}
	tr := tar.NewReader(rc)
	var names []string
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		require.NoError(t, err)
		data, err := io.ReadAll(tr)
		require.NoError(t, err)
		out[h.Name] = tarFile{typ: h.Typeflag, mode: h.Mode, uid: h.Uid, gid: h.Gid, mtime: h.ModTime.UTC(), link: h.Linkname, data: string(data)}
		names = append(names, h.Name)
	}
	for i := 1; i < len(names); i++ {
		assert.Less(t, names[i-1], names[i], "entries are sorted")
	}
	return out
}

func TestWheelsAreOptIn(t *testing.T) {
	wheels := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(wheels, "x-1.0-py3-none-any.whl"), []byte("zip"), 0o644))
	fake := &fakeRootFS{}
	opt := testOptions(t, t.TempDir(), fake)
	opt.WheelsDir = wheels
	require.False(t, opt.Recipe.Wheels)
	res, err := Build(context.Background(), opt)
	require.NoError(t, err)
	assert.Len(t, res.Layers, 2, "a recipe without wheels: true gets no wheels layer")
	assert.Equal(t, 1, fake.calls, "and no build root for pip")
}

// showBuild builds with a progress display in mode and returns what it showed.
func showBuild(t *testing.T, opt Options, mode string) (*Result, string) {
	t.Helper()
	var out bytes.Buffer
	d, err := progress.New(&out, mode)
	require.NoError(t, err)
	opt.Progress = d
	res, err := Build(context.Background(), opt)
	require.NoError(t, d.Close())
	require.NoError(t, err)
	return res, out.String()
}

type plainStep struct{ status, log string }

// plainSteps reads BuildKit's plain display: "#N NAME", then "#N TIME LOG"
// lines, then "#N DONE 1.2s", "#N CACHED" or "#N ERROR: …". Steps are keyed
// by the first word of their name ("[rootfs]").
func plainSteps(t *testing.T, out string) map[string]plainStep {
	t.Helper()
	names := map[string]string{}
	steps := map[string]plainStep{}
	logRE := regexp.MustCompile(`^\d+\.\d+ `)
	doneRE := regexp.MustCompile(`^DONE \d+\.\ds$`)
	for _, line := range strings.Split(out, "\n") {
		id, rest, ok := strings.Cut(line, " ")
		if !ok || !strings.HasPrefix(id, "#") {
			continue
		}
		key, seen := names[id]
		if !seen {
			key, _, _ = strings.Cut(rest, " ")
			names[id] = key
			steps[key] = plainStep{}
			continue
		}
		st := steps[key]
		switch {
		case rest == "CACHED", strings.HasPrefix(rest, "ERROR"):
			st.status = rest
		case doneRE.MatchString(rest):
			st.status = "DONE"
		case logRE.MatchString(rest):
			st.log += logRE.ReplaceAllString(rest, "") + "\n"
		}
		steps[key] = st
	}
	return steps
}

func TestProgressModes(t *testing.T) {
	opt := testOptions(t, t.TempDir(), &fakeRootFS{})
	_, _ = showBuild(t, opt, "plain") // fills the cache

	// plain: one block per step, a cached step says CACHED and no duration.
	_, shown := showBuild(t, opt, "plain")
	assert.Regexp(t, `(?m)^#1 \[mirror\] http://deb.debian.org/debian sid: InRelease\n#1 \d+\.\d+ sid abababababab of 2026-10-30\n#1 DONE \d+\.\ds$`, shown)
	assert.Regexp(t, `(?m)^#2 \[rootfs\] mmdebstrap --variant=\w+ sid: matrix-synapse\n#2 CACHED$`, shown)
	assert.Regexp(t, `(?m)^#3 \[project\] /start [^\n]*\n#3 \d+\.\d+ inputs hashed in [^\n]*\n#3 CACHED$`, shown)

	// rawjson: BuildKit's solve status events, one JSON object a line.
	_, shown = showBuild(t, opt, "rawjson")
	final := map[string]client.Vertex{}
	logs := map[string]string{}
	var names []string
	for _, line := range strings.Split(strings.TrimSpace(shown), "\n") {
		var st client.SolveStatus
		require.NoError(t, json.Unmarshal([]byte(line), &st), line)
		for _, v := range st.Vertexes {
			if _, ok := final[v.Digest.String()]; !ok {
				names = append(names, v.Name)
			}
			final[v.Digest.String()] = *v
		}
		for _, l := range st.Logs {
			logs[l.Vertex.String()] += string(l.Data)
		}
	}
	require.Len(t, names, 3, "mirror, rootfs, project: %v", names)
	byName := map[string]client.Vertex{}
	for _, v := range final {
		byName[strings.Fields(v.Name)[0]] = v
		require.NotNil(t, v.Started, v.Name)
		require.NotNil(t, v.Completed, v.Name)
		assert.False(t, v.Completed.Before(*v.Started), v.Name)
		assert.Empty(t, v.Error, v.Name)
	}
	assert.False(t, byName["[mirror]"].Cached)
	assert.True(t, byName["[rootfs]"].Cached)
	assert.True(t, byName["[project]"].Cached)
	assert.Contains(t, logs[byName["[project]"].Digest.String()], "inputs hashed in")
}
