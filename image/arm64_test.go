package image_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/synapse-image/synapse-image/image/build"
	"github.com/synapse-image/synapse-image/image/names"
	"github.com/synapse-image/synapse-image/image/pipeline"
	"github.com/synapse-image/synapse-image/image/platform"
	"github.com/synapse-image/synapse-image/internal/dockertest"
)

// bytecodeProbe imports Synapse and reports how many modules Python had to
// compile from source (0 when every module's bytecode was usable as
// shipped: the bundle's or its .pyc), the machine, and the CPU time of the
// import. It runs as the Synapse user on a read-only root, so nothing can
// be written either.
const bytecodeProbe = `
import importlib._bootstrap_external as be, json, platform, time
compiled = []
source_to_code = be.SourceLoader.source_to_code
def counted(self, data, path, *args, **kwargs):
    compiled.append(path)
    return source_to_code(self, data, path, *args, **kwargs)
be.SourceLoader.source_to_code = counted
t = time.process_time()
import synapse.app.homeserver as hs
print(json.dumps({
    "machine": platform.machine(),
    "compiled": compiled[:5],
    "compiled_count": len(compiled),
    "loader": type(hs.__loader__).__name__,
    "from_bundle": bool(getattr(hs.__loader__, "from_bundle", False)),
    "cpu_seconds": time.process_time() - t,
}))
`

type bytecodeState struct {
	Machine       string   `json:"machine"`
	Compiled      []string `json:"compiled"`
	CompiledCount int      `json:"compiled_count"`
	Loader        string   `json:"loader"`
	FromBundle    bool     `json:"from_bundle"`
	CPUSeconds    float64  `json:"cpu_seconds"`
}

// TestArm64ImageUnderQemu is the smoke test of the linux/arm64 image of a
// multi-platform build (`go run . build --platform linux/amd64,linux/arm64`),
// run under qemu user emulation: /start works, and Synapse imports as its
// user without compiling anything, so the bytecode the builder compiled
// natively is the arm64 Python's own. The same probe runs on the host's
// image for comparison.
func TestArm64ImageUnderQemu(t *testing.T) {
	if platform.Host() == platform.ARM64 {
		t.Skip("the host is arm64: the suite runs on the arm64 image itself")
	}
	dockertest.RequireEngine(t)
	if err := build.CheckForeignArch(platform.ARM64); err != nil {
		dockertest.Unavailable(t, "%v", err)
	}
	dir := filepath.Join(dockertest.RepoRoot(t), names.DefaultLayout())
	if _, err := os.Stat(filepath.Join(dir, "index.json")); err != nil {
		dockertest.Unavailable(t, "no OCI layout at %s: build it with `go run . build --platform linux/amd64,linux/arm64`", dir)
	}
	artifact, err := pipeline.ReadArtifact(dir)
	require.NoError(t, err)
	img, err := artifact.Image(platform.ARM64)
	if err != nil {
		dockertest.Unavailable(t, "%v", err)
	}

	ref := "synapse-arm64-test:" + strings.TrimPrefix(dockertest.UniqueName("smoke"), dockertest.Prefix)
	tag, err := name.NewTag(ref)
	require.NoError(t, err)
	tar := filepath.Join(t.TempDir(), "arm64.tar")
	require.NoError(t, tarball.WriteToFile(tar, tag, img))
	dockertest.Must(t, t.Context(), "load", "--input", tar)
	t.Cleanup(func() { _, _ = dockertest.Combined(t.Context(), "image", "rm", "--force", ref) })

	t.Run("start help", func(t *testing.T) {
		out := dockertest.Must(t, t.Context(), "run", "--rm", "--network", "none", ref, "help")
		assert.Contains(t, out, "SYNAPSE_SERVER_NAME")
	})

	probe := func(t *testing.T, image string) bytecodeState {
		out := dockertest.Must(t, t.Context(), "run", "--rm", "--network", "none", "--read-only", "--user", "991:991",
			"--entrypoint", "python3", image, "-c", bytecodeProbe)
		var got bytecodeState
		require.NoError(t, json.Unmarshal([]byte(lastLine(out)), &got), out)
		return got
	}
	var arm64, host bytecodeState
	t.Run("import synapse.app.homeserver as 991", func(t *testing.T) {
		arm64 = probe(t, ref)
		assert.Equal(t, "aarch64", arm64.Machine, "runs as arm64, under qemu")
		assert.Zero(t, arm64.CompiledCount, "modules compiled from source at import: %v", arm64.Compiled)
		assert.Equal(t, "BundleLoader", arm64.Loader)
		assert.True(t, arm64.FromBundle, "synapse.app.homeserver comes from the bytecode bundle")
	})
	t.Run("the host's image, for comparison", func(t *testing.T) {
		host = probe(t, synapseImage(t))
		assert.Zero(t, host.CompiledCount, "modules compiled from source at import: %v", host.Compiled)
		assert.True(t, host.FromBundle)
	})
	t.Logf("import synapse.app.homeserver: %.2f s of CPU under qemu (arm64), %.2f s natively (%s): qemu costs %.0fx",
		arm64.CPUSeconds, host.CPUSeconds, host.Machine, arm64.CPUSeconds/max(host.CPUSeconds, 0.001))
}
