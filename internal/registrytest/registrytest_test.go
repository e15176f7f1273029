package registrytest

import (
	"testing"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestWrites: a push shows among the writes, a pull does not, and Writes
// forgets what it returned.
func TestWrites(t *testing.T) {
	reg := New(t)
	ref, err := name.NewTag(reg.Host + "/test/image:latest")
	require.NoError(t, err)
	img, err := random.Image(64, 1)
	require.NoError(t, err)
	require.NoError(t, remote.Write(ref, img))
	assert.Contains(t, reg.Writes(), "PUT /v2/test/image/manifests/latest")
	_, err = remote.Image(ref)
	require.NoError(t, err)
	assert.Empty(t, reg.Writes())
}
