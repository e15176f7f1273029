package entrypoint

import (
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestHealth(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/health" {
			http.NotFound(w, r)
			return
		}
		w.Write([]byte("OK"))
	}))
	defer srv.Close()
	_, port, _ := net.SplitHostPort(strings.TrimPrefix(srv.URL, "http://"))
	h := newHarness(t)
	require.NoError(t, os.MkdirAll(h.data, 0o755))
	require.NoError(t, os.WriteFile(h.path("homeserver.yaml"), []byte("server_name: a\nlisteners:\n  - {port: 8448, tls: true, type: http}\n  - {port: "+port+", tls: false, type: http}\n"), 0o600))
	h.env["SYNAPSE_CONFIG_PATH"] = h.path("homeserver.yaml")
	assert.Equal(t, ExitOK, h.main("health"), h.stderr.String())
	srv.Close()
	assert.Equal(t, ExitFailure, h.main("health"))
	assert.Contains(t, h.stderr.String(), "start: error: health check http://127.0.0.1:"+port+"/health")
}
