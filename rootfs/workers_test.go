package rootfs_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/synapse-image/synapse-image/internal/dockertest"
	"github.com/synapse-image/synapse-image/rootfs/internal/workers"
)

// TestWorkerTypesMatchImage: the table of worker types agrees with what the
// image's Synapse says about workers in its own config code (streams and
// whether they allow several writers, the keys of each duty, the app).
func TestWorkerTypesMatchImage(t *testing.T) {
	d := setupDocker(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	script := filepath.Join(t.TempDir(), "facts.py")
	require.NoError(t, os.WriteFile(script, workers.FactsScript, 0o644))
	require.NoError(t, os.Chmod(filepath.Dir(script), 0o755))
	res, err := dockertest.Docker(ctx, "run", "--rm", "--user", "991:991", "-v", script+":/facts.py:ro", "--entrypoint", "python3",
		d.image, "-P", "/facts.py")
	require.NoError(t, err, "%s", res.Stderr)
	facts, err := workers.ParseFacts([]byte(res.Stdout))
	require.NoError(t, err, res.Stdout)
	require.NotEmpty(t, facts.Streams, "facts.py found no streams")
	for _, problem := range workers.Compare(workers.Types, workers.MainOnlyStreams, facts) {
		t.Error(problem)
	}
}
