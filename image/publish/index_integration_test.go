package publish

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"os"
	"runtime"
	"strings"
	"testing"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/synapse-image/synapse-image/internal/dockertest"
)

// TestDockerPullsTheHostPlatformOfAnIndex publishes a two-platform index
// to the real registry (TEST_REGISTRY) and pulls its tag with Docker: the
// engine gets the image of its own platform.
func TestDockerPullsTheHostPlatformOfAnIndex(t *testing.T) {
	reg := os.Getenv("TEST_REGISTRY")
	if reg == "" {
		dockertest.Unavailable(t, "TEST_REGISTRY is not set: run scripts/test.sh, or start a registry and set TEST_REGISTRY=127.0.0.1:PORT")
	}
	dockertest.RequireEngine(t)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()

	amd, arm := platformImage(t, "amd64"), platformImage(t, "arm64")
	idx, err := NewIndex(amd, arm)
	require.NoError(t, err)
	suffix := make([]byte, 4)
	_, _ = rand.Read(suffix)
	repo := "index-e2e/synapse-" + hex.EncodeToString(suffix)
	_, err = NewRegistry(Options{Refs: refs(t, reg, repo, false, "latest"), Keychain: anonymous}).Publish(ctx, idx)
	require.NoError(t, err)

	ref := reg + "/" + repo + ":latest"
	dockertest.Must(t, ctx, "pull", "--quiet", ref)
	t.Cleanup(func() { _, _ = dockertest.Docker(context.Background(), "image", "rm", ref) })
	arch := strings.TrimSpace(dockertest.Must(t, ctx, "image", "inspect", "--format", "{{.Architecture}}", ref))
	assert.Equal(t, runtime.GOARCH, arch)
	want := map[string]v1.Image{"amd64": amd, "arm64": arm}[runtime.GOARCH]
	if want == nil {
		t.Fatalf("no image for this machine's architecture %s in the test index", runtime.GOARCH)
	}
	cf, err := want.ConfigName()
	require.NoError(t, err)
	id := strings.TrimSpace(dockertest.Must(t, ctx, "image", "inspect", "--format", "{{.Id}}", ref))
	assert.Equal(t, cf.String(), id, "the pulled image is the index's %s image", runtime.GOARCH)
}
