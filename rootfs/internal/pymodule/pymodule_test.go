package pymodule

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestInstalled(t *testing.T) {
	root := t.TempDir()
	files := []string{
		"usr/local/lib/python3.14/dist-packages/txredisapi.py",
		"usr/local/lib/python3.14/dist-packages/txredisapi-1.4.11.dist-info/METADATA",
		"usr/lib/python3/dist-packages/authlib/__init__.py",
		"usr/lib/python3/dist-packages/hiredis/hiredis.cpython-314-x86_64-linux-gnu.so",
		"usr/lib/python3/dist-packages/_cffi_backend.cpython-314-x86_64-linux-gnu.so",
		"usr/lib/python3/dist-packages/notdir.py/x",
		"opt/extra/mymodule.py",
	}
	for _, f := range files {
		p := filepath.Join(root, f)
		require.NoError(t, os.MkdirAll(filepath.Dir(p), 0o755))
		require.NoError(t, os.WriteFile(p, nil, 0o644))
	}
	dirs := Path(root, filepath.Join(root, "opt/extra")+string(os.PathListSeparator)+filepath.Join(root, "missing"))
	assert.Equal(t, []string{
		filepath.Join(root, "opt/extra"),
		filepath.Join(root, "missing"),
		filepath.Join(root, "usr/local/lib/python3.14/dist-packages"),
		filepath.Join(root, "usr/lib/python3/dist-packages"),
	}, dirs)

	for _, tc := range []struct {
		name string
		want bool
	}{
		{"txredisapi", true},    // single-file module in the wheel layer
		{"authlib", true},       // package folder
		{"hiredis", true},       // package folder with an extension inside
		{"_cffi_backend", true}, // extension module
		{"mymodule", true},      // from PYTHONPATH
		{"saml2", false},
		{"notdir", false},       // notdir.py is a folder, not a module file
		{"txredisapi-1", false}, // a dist-info prefix is not a module
		{"", false},
		{"../dist-packages/authlib", false},
		{"authlib.jose", false}, // top-level names only
	} {
		t.Run(tc.name, func(t *testing.T) {
			assert.Equal(t, tc.want, Installed(tc.name, dirs))
		})
	}
}

func TestPathWithoutPythonPath(t *testing.T) {
	root := t.TempDir()
	require.NoError(t, os.MkdirAll(filepath.Join(root, "usr/lib/python3/dist-packages"), 0o755))
	assert.Equal(t, []string{filepath.Join(root, "usr/lib/python3/dist-packages")}, Path(root, ""))
}
