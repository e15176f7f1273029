package publish

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/google/go-containerregistry/pkg/v1/validate"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/synapse-image/synapse-image/image/names"
	"github.com/synapse-image/synapse-image/image/platform"
	"github.com/synapse-image/synapse-image/image/tags"
	"github.com/synapse-image/synapse-image/internal/dockertest"
)

// writeCounter counts requests that change the registry.
type writeCounter struct {
	next http.RoundTripper
	mu   sync.Mutex
	n    int
}

func (w *writeCounter) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.Method != http.MethodGet && req.Method != http.MethodHead {
		w.mu.Lock()
		w.n++
		w.mu.Unlock()
	}
	return w.next.RoundTrip(req)
}

func (w *writeCounter) take() int {
	w.mu.Lock()
	defer w.mu.Unlock()
	n := w.n
	w.n = 0
	return n
}

// TestPublishToRegistry publishes the real built image to the real registry
// that scripts/test.sh starts (TEST_REGISTRY), then pulls every tag with
// Docker, checks that the pulled digest is the pushed one, and runs it.
func TestPublishToRegistry(t *testing.T) {
	reg := os.Getenv("TEST_REGISTRY")
	if reg == "" {
		dockertest.Unavailable(t, "TEST_REGISTRY is not set: run scripts/test.sh, or start a registry and set TEST_REGISTRY=127.0.0.1:PORT")
	}
	dockertest.RequireEngine(t)
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Minute)
	defer cancel()

	img, source := builtImage(t, ctx)
	want, err := img.Digest()
	require.NoError(t, err)
	cf, err := img.ConfigFile()
	require.NoError(t, err)

	tagList := []string{"publish-e2e"}
	if l, err := tags.FromLabels(cf.Config.Labels); err == nil {
		tagList = l.Tags(tags.Options{})
	} else {
		t.Logf("%s has no version labels (%v): publishing under %v", source, err, tagList)
	}
	// A repository of its own per run, so runs against a long-lived registry never meet.
	suffix := make([]byte, 4)
	_, _ = rand.Read(suffix)
	repo := "publish-e2e/synapse-" + hex.EncodeToString(suffix)
	counter := &writeCounter{next: remote.DefaultTransport}
	opt := Options{Refs: refs(t, reg, repo, false, tagList...), Transport: counter, Log: t.Logf}

	start := time.Now()
	results, err := NewRegistry(opt).Publish(ctx, img)
	require.NoError(t, err)
	t.Logf("first push of %s (%s) to %s/%s: %s", want, source, reg, repo, time.Since(start).Round(time.Millisecond))
	for _, r := range results {
		assert.Equal(t, Pushed, r.Action, r.String())
		assert.Equal(t, want, r.Digest)
	}
	assert.Positive(t, counter.take())

	// The same image again: every tag is unchanged and nothing is written.
	start = time.Now()
	results, err = NewRegistry(opt).Publish(ctx, img)
	require.NoError(t, err)
	t.Logf("second push: %s", time.Since(start).Round(time.Millisecond))
	for _, r := range results {
		assert.Equal(t, Unchanged, r.Action, r.String())
	}
	assert.Zero(t, counter.take(), "a re-push of the same image must not write to the registry")

	// --no-overwrite against a tag that points elsewhere: refused, registry unchanged.
	other := testImage(t, nil)
	_, err = NewRegistry(Options{Refs: refs(t, reg, repo, false, "publish-e2e-other")}).Publish(ctx, other)
	require.NoError(t, err)
	noOverwrite := opt
	noOverwrite.Refs = refs(t, reg, repo, false, append([]string{"publish-e2e-new"}, append(slices.Clone(tagList), "publish-e2e-other")...)...)
	noOverwrite.NoOverwrite = true
	_, err = NewRegistry(noOverwrite).Publish(ctx, img)
	var conflict *ConflictError
	require.ErrorAs(t, err, &conflict)
	assert.Equal(t, []Conflict{{"publish-e2e-other", digest(t, other)}}, conflict.Conflicts)
	assert.Zero(t, counter.take())
	newTag, err := name.NewTag(reg + "/" + repo + ":publish-e2e-new")
	require.NoError(t, err)
	_, err = remote.Head(newTag)
	assert.True(t, isNotFound(err), "the new tag must not exist after a refused push: %v", err)

	// Read the image back from the registry and check every blob: Docker
	// below skips layers it already has (from `build --load`), this does not.
	start = time.Now()
	pulledRef, err := name.NewTag(reg + "/" + repo + ":" + tagList[0])
	require.NoError(t, err)
	pulled, err := remote.Image(pulledRef, remote.WithContext(ctx))
	require.NoError(t, err)
	require.NoError(t, validate.Image(pulled), "the image as the registry serves it")
	t.Logf("read back and validated every blob of %s (%s)", pulledRef, time.Since(start).Round(time.Millisecond))

	// Pull every tag with Docker: the digest it reports is the one pushed.
	for _, tag := range tagList {
		ref := reg + "/" + repo + ":" + tag
		t.Cleanup(func() { _, _ = dockertest.Docker(context.Background(), "rmi", ref) })
		start := time.Now()
		dockertest.Must(t, ctx, "pull", "--quiet", ref)
		digests := dockertest.Must(t, ctx, "image", "inspect", "--format", "{{range .RepoDigests}}{{println .}}{{end}}", ref)
		assert.Contains(t, strings.Fields(digests), reg+"/"+repo+"@"+want.String(), "docker pull %s", ref)
		t.Logf("docker pull %s: %s (%s)", ref, strings.Join(strings.Fields(digests), " "), time.Since(start).Round(time.Millisecond))
	}

	// Run what was pulled: the image's own usage text.
	ref := reg + "/" + repo + ":" + tagList[0]
	if !slices.Equal(cf.Config.Entrypoint, []string{"/start"}) {
		dockertest.Unavailable(t, "not running %s: entrypoint %q is not /start (a development image, not the built Synapse image)", source, cf.Config.Entrypoint)
	}
	name := "publish-e2e-" + hex.EncodeToString(suffix)
	out := dockertest.Must(t, ctx, "run", "--rm", "--name", name, ref, "help")
	assert.Contains(t, out, "SYNAPSE_SERVER_NAME")
	t.Logf("docker run --rm %s help: %d lines of usage", ref, strings.Count(out, "\n"))
}

// builtImage is the image the builder wrote to .build/synapse/oci (the
// host's platform of a multi-platform build), or else
// SYNAPSE_IMAGE (default synapse:latest) exported from the Docker engine.
func builtImage(t *testing.T, ctx context.Context) (v1.Image, string) {
	t.Helper()
	dir := filepath.Join(dockertest.RepoRoot(t), names.DefaultLayout())
	if _, err := os.Stat(filepath.Join(dir, "index.json")); err == nil {
		a, _, err := ReadLayout(dir)
		require.NoError(t, err)
		imgs, err := Images(a)
		require.NoError(t, err)
		for _, img := range imgs {
			cf, err := img.ConfigFile()
			require.NoError(t, err)
			if platform.Of(cf) == platform.Host() {
				return img, dir
			}
		}
		require.Failf(t, "no image of the host's platform", "%s has no %s image: build it with `go run . build`", dir, platform.Host())
	}
	ref := dockertest.SynapseImageRef()
	dockertest.RequireImage(t, ref, fmt.Sprintf("and there is no OCI layout at %s: run `go run . build --load`", dir))
	tar := filepath.Join(t.TempDir(), "image.tar")
	dockertest.Must(t, ctx, "save", "--output", tar, ref)
	tag, err := name.NewTag(ref)
	require.NoError(t, err)
	img, err := tarball.ImageFromPath(tar, &tag)
	require.NoError(t, err)
	return img, "docker image " + ref
}
