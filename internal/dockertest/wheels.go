package dockertest

import (
	"context"
	"os"
	"path/filepath"
	"testing"
)

// RequirePythonModule skips or fails a test that needs a Python module
// which comes into image only from the build's wheel cache (txredisapi,
// for workers: wheels/README.md). When the image lacks it:
//   - a wheel for it is at hand (SYNAPSE_WHEELS, as .ci/run sets it, or the
//     repository's wheels/): the image should have it, so this is
//     Unavailable (a failure with E2E_REQUIRED, as in CI);
//   - no wheel anywhere (a public clone): the capability is missing, so the
//     test skips with one line saying how to add the wheel, also with
//     E2E_REQUIRED.
func RequirePythonModule(t testing.TB, image, module string) {
	t.Helper()
	if _, err := Docker(context.Background(), "run", "--rm", "--entrypoint", "python3", image, "-c", "import "+module); err == nil {
		return
	}
	var dirs []string
	if d := os.Getenv("SYNAPSE_WHEELS"); d != "" {
		dirs = append(dirs, d)
	}
	dirs = append(dirs, filepath.Join(RepoRoot(t), "wheels"))
	for _, d := range dirs {
		if m, _ := filepath.Glob(filepath.Join(d, module+"-*.whl")); len(m) > 0 {
			Unavailable(t, "image %s lacks the Python module %s although %s has its wheel: build it with `go run . build --load --wheels %s`", image, module, d, d)
			return
		}
	}
	t.Skipf("image %s lacks the Python module %s, and no wheel of it is in wheels/ or SYNAPSE_WHEELS: add %s-*.whl to wheels/ and build again (wheels/README.md)", image, module, module)
}
