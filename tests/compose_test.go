package tests

import (
	"context"
	"net/http"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/synapse-image/synapse-image/internal/dockertest"
	"github.com/synapse-image/synapse-image/tests/internal/matrixflow"
)

// composeFile is the sample at the root of the repository.
func composeFile(t *testing.T) string {
	t.Helper()
	_, here, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(here), "..", "docker-compose.yml")
}

// Scenario 3: docker-compose up -d with the sample file (only images and the
// port overridden), the client flow, then down and up again: data, secrets,
// signing key and access tokens survive; finally down -v.
func TestComposeSample(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	const server = "matrix.example.com" // the sample's default
	port := freePort(t)
	c := dockertest.NewCompose(t, composeFile(t),
		"SYNAPSE_IMAGE="+synapseImage(t),
		"POSTGRES_IMAGE="+postgresImage(t),
		"SYNAPSE_HTTP_PORT="+itoa(port),
	)

	up := func() (*synapse, matrixflow.Homeserver) {
		t.Helper()
		start := time.Now()
		c.Must(ctx, "up", "--detach")
		s := &synapse{Container: c.Container(ctx, "synapse"), ServerName: server}
		s.WaitHealthy(ctx, healthTimeout)
		t.Logf("docker-compose up to healthy: %s", time.Since(start).Round(100*time.Millisecond))
		hs := matrixflow.Homeserver{
			URL:          "http://127.0.0.1:" + itoa(port),
			ServerName:   server,
			SharedSecret: s.readData(t, server+".registration.key"),
		}
		return s, hs
	}

	s, hs := up()
	res := hs.Run(ctx, t)
	keys := map[string]string{}
	for _, k := range []string{".signing.key", ".registration.key", ".macaroon.key", ".form.key"} {
		keys[k] = s.readData(t, server+k)
	}
	serverKeys := federationKeys(t, hs.URL)

	c.Must(ctx, "down")
	s, hs = up()
	for k, v := range keys {
		assert.Equal(t, v, s.readData(t, server+k), "%s%s must survive down/up", server, k)
	}
	assert.Equal(t, serverKeys, federationKeys(t, hs.URL), "the published signing key")
	hs.Verify(ctx, t, res)

	_, err := s.Exec(ctx, "test", "!", "-e", "/data/homeserver.db")
	assert.NoError(t, err, "the sample uses PostgreSQL, not SQLite")

	volumes := func() string {
		t.Helper()
		res, err := dockertest.Docker(ctx, "volume", "ls", "--quiet", "--filter", "label=com.docker.compose.project="+c.Project)
		require.NoError(t, err)
		return strings.TrimSpace(res.Stdout)
	}
	require.Len(t, strings.Fields(volumes()), 2, "the sample's named volumes synapse-data and db-data")
	c.Must(ctx, "down", "--volumes")
	assert.Empty(t, volumes(), "down -v removes the project's volumes")
}

// federationKeys returns the verify_keys of /_matrix/key/v2/server.
func federationKeys(t *testing.T, base string) map[string]string {
	t.Helper()
	var keys struct {
		VerifyKeys map[string]struct {
			Key string `json:"key"`
		} `json:"verify_keys"`
	}
	getJSON(t, &http.Client{Timeout: 30 * time.Second}, base+"/_matrix/key/v2/server", &keys)
	out := map[string]string{}
	for id, k := range keys.VerifyKeys {
		out[id] = k.Key
	}
	require.NotEmpty(t, out, "/_matrix/key/v2/server publishes a key")
	return out
}
