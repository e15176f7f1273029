package build

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/synapse-image/synapse-image/internal/dockertest"
)

// TestTuneEdits runs tune.py's edits step with the host's python3: an edit
// keeps the matched line's indentation, and the edits of one file apply all
// together or not at all.
func TestTuneEdits(t *testing.T) {
	python := hostPython(t)
	dir := t.TempDir()
	good := filepath.Join(dir, "good.py")
	bad := filepath.Join(dir, "bad.py")
	const src = "def f(n):\n    if n:\n        m = import_module(n)\n    return m\n"
	require.NoError(t, os.WriteFile(good, []byte(src), 0o644))
	require.NoError(t, os.WriteFile(bad, []byte(src), 0o644))
	job := pythonJob{Edits: []pythonEdit{
		{File: good, Line: "m = import_module(n)", Replace: "# found, not imported\nm = locate(n)\n"},
		{File: good, Line: "def f(n):", Replace: "def locate(n):\n    return n\n\n\ndef f(n):\n"},
		{File: bad, Line: "m = import_module(n)", Replace: "m = locate(n)\n"},
		{File: bad, Line: "not in the file", Replace: "x\n"},
	}}
	out := runTuneJob(t, python, job)
	assert.Contains(t, string(out), "good.py: applied (2 change(s))")
	assert.Contains(t, string(out), "bad.py: not applied (the line 'not in the file' is found 0 times, expected once); left as installed")

	got, err := os.ReadFile(good)
	require.NoError(t, err)
	assert.Equal(t, "def locate(n):\n    return n\n\n\ndef f(n):\n    if n:\n        # found, not imported\n        m = locate(n)\n    return m\n", string(got))
	got, err = os.ReadFile(bad)
	require.NoError(t, err)
	assert.Equal(t, src, string(got), "an edit that does not match leaves the whole file as installed")
}

// TestTuneCompileBelowRoot runs tune.py's compile step with the host's
// python3 the way the builder runs it for another architecture: the image's
// root below "root", its own python3 named in the job. It compiles exactly
// the .py files that dpkg's lists place where Debian byte-compiles, in the
// requested mode, with the image's paths in the bytecode.
func TestTuneCompileBelowRoot(t *testing.T) {
	python := hostPython(t)
	out, err := exec.Command(python, "-c", "import sys, importlib.util; print('%d.%d' % sys.version_info[:2], sys.implementation.cache_tag)").Output()
	require.NoError(t, err)
	var version, tag string
	_, err = fmt.Sscan(string(out), &version, &tag)
	require.NoError(t, err)

	root := t.TempDir()
	files := map[string]string{
		"usr/lib/python3/dist-packages/pkg/__init__.py": "X = 1\n",
		"usr/lib/python3/dist-packages/pkg/broken.py":   "def (:\n",
		"usr/lib/python" + version + "/stdmod.py":       "Y = 2\n",
		"usr/share/python3/debpython/tool.py":           "Z = 3\n",
		"usr/lib/python3/dist-packages/unlisted.py":     "not in any package's list\n",
		"usr/share/other/private.py":                    "not where Debian compiles\n",
		"var/lib/dpkg/info/python3-pkg.list": "/usr/lib/python3/dist-packages/pkg\n/usr/lib/python3/dist-packages/pkg/__init__.py\n" +
			"/usr/lib/python3/dist-packages/pkg/broken.py\n/usr/lib/python3/dist-packages/pkg/gone.py\n/usr/share/other/private.py\n",
		"var/lib/dpkg/info/libpython-stdlib:amd64.list": "/usr/lib/python" + version + "/stdmod.py\n",
		"var/lib/dpkg/info/python3.list":                "/usr/share/python3/debpython/tool.py\n",
		"var/lib/dpkg/info/python3.md5sums":             "/usr/lib/python3/dist-packages/unlisted.py\n",
	}
	for name, content := range files {
		p := filepath.Join(root, name)
		require.NoError(t, os.MkdirAll(filepath.Dir(p), 0o755))
		require.NoError(t, os.WriteFile(p, []byte(content), 0o644))
	}
	got := runTuneJob(t, python, pythonJob{Root: root, Python: []string{python}, InvalidationMode: "unchecked-hash"})
	assert.Contains(t, string(got), "bytecode: 3 .py files of the packages compiled as unchecked-hash (natively", "%s", got)
	assert.Contains(t, string(got), "(1 left without: they do not compile)")
	assert.Contains(t, string(got), "compile /usr/lib/python3/dist-packages/pkg/broken.py", "errors name the image's path")

	pyc := func(src string) string {
		return filepath.Join(root, filepath.Dir(src), "__pycache__", strings.TrimSuffix(filepath.Base(src), ".py")+"."+tag+".pyc")
	}
	for _, src := range []string{"usr/lib/python3/dist-packages/pkg/__init__.py", "usr/lib/python" + version + "/stdmod.py", "usr/share/python3/debpython/tool.py"} {
		b, err := os.ReadFile(pyc(src))
		require.NoError(t, err, "%s is compiled", src)
		assert.Equal(t, uint32(0b01), binary.LittleEndian.Uint32(b[4:8]), "%s: PEP 552 flags of unchecked-hash", src)
		assert.Contains(t, string(b), "/"+src, "the bytecode names the file as the image has it")
		assert.NotContains(t, string(b), root, "and not where the build had it")
	}
	for _, src := range []string{"usr/lib/python3/dist-packages/pkg/broken.py", "usr/lib/python3/dist-packages/unlisted.py", "usr/share/other/private.py"} {
		assert.NoFileExists(t, pyc(src))
	}
}

// TestTuneChecks runs tune.py's checks step with the host's python3: a
// check that passes writes its record (sys.path, and the distributions in
// each of its directories), one that fails or warns on standard error
// writes none.
func TestTuneChecks(t *testing.T) {
	python := hostPython(t)
	dir := t.TempDir()
	passed := filepath.Join(dir, "passed.json")
	failed := filepath.Join(dir, "failed.json")
	warned := filepath.Join(dir, "warned.json")
	job := pythonJob{Checks: []pythonCheck{
		{Code: "pass", File: passed},
		{Code: "raise SystemExit(3)", File: failed},
		{Code: "import sys; print('a warning', file=sys.stderr)", File: warned},
	}}
	out := runTuneJob(t, python, job)
	assert.Contains(t, string(out), "passed.json: passed")
	assert.Contains(t, string(out), "failed.json: failed at build time (status 3); no record")
	assert.Contains(t, string(out), "warned.json: failed at build time (a warning); no record")
	assert.NoFileExists(t, failed)
	assert.NoFileExists(t, warned)

	raw, err := os.ReadFile(passed)
	require.NoError(t, err)
	var record struct {
		Path []string            `json:"path"`
		Dirs map[string][]string `json:"dirs"`
	}
	require.NoError(t, json.Unmarshal(raw, &record))
	require.NotEmpty(t, record.Path)
	for _, p := range record.Path {
		assert.Contains(t, record.Dirs, p, "every sys.path entry is recorded")
		for _, n := range record.Dirs[p] {
			assert.True(t, strings.HasSuffix(n, ".dist-info") || strings.HasSuffix(n, ".egg-info"), "%s/%s: only distributions", p, n)
		}
	}
}

// hostPython is the host's python3, which runs tune.py in these tests.
func hostPython(t *testing.T) string {
	t.Helper()
	python, err := exec.LookPath("python3")
	if err != nil {
		dockertest.Unavailable(t, "no python3 on this machine to run tune.py (the build runs it with the image's own; scripts/test.sh installs it)")
	}
	return python
}

// runTuneJob runs tune.py with python on job, as the builder does, and
// returns its output.
func runTuneJob(t *testing.T, python string, job pythonJob) string {
	t.Helper()
	dir := t.TempDir()
	tool, err := pythonTools.ReadFile("python/tune.py")
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(filepath.Join(dir, "tune.py"), tool, 0o644))
	data, err := json.Marshal(job)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(filepath.Join(dir, "job.json"), data, 0o644))
	out, err := exec.Command(python, "-I", "-B", filepath.Join(dir, "tune.py"), filepath.Join(dir, "job.json")).CombinedOutput()
	require.NoError(t, err, "%s", out)
	return string(out)
}
