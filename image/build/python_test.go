package build

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/synapse-image/synapse-image/internal/dockertest"
)

// TestTuneEdits runs tune.py's edits step with the host's python3: an edit
// keeps the matched line's indentation, and the edits of one file apply all
// together or not at all.
func TestTuneEdits(t *testing.T) {
	python, err := exec.LookPath("python3")
	if err != nil {
		dockertest.Unavailable(t, "no python3 on this machine to run tune.py (the build runs it with the image's own; scripts/test.sh installs it)")
	}
	dir := t.TempDir()
	tool, err := pythonTools.ReadFile("python/tune.py")
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(filepath.Join(dir, "tune.py"), tool, 0o644))

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
	data, err := json.Marshal(job)
	require.NoError(t, err)
	jobFile := filepath.Join(dir, "job.json")
	require.NoError(t, os.WriteFile(jobFile, data, 0o644))

	out, err := exec.Command(python, "-I", "-B", filepath.Join(dir, "tune.py"), jobFile).CombinedOutput()
	require.NoError(t, err, "%s", out)
	assert.Contains(t, string(out), "good.py: applied (2 change(s))")
	assert.Contains(t, string(out), "bad.py: not applied (the line 'not in the file' is found 0 times, expected once); left as installed")

	got, err := os.ReadFile(good)
	require.NoError(t, err)
	assert.Equal(t, "def locate(n):\n    return n\n\n\ndef f(n):\n    if n:\n        # found, not imported\n        m = locate(n)\n    return m\n", string(got))
	got, err = os.ReadFile(bad)
	require.NoError(t, err)
	assert.Equal(t, src, string(got), "an edit that does not match leaves the whole file as installed")
}
