package entrypoint

import (
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// health also fails while PostgreSQL does not answer, and passes again as
// soon as it does: nothing is remembered between probes.
func TestHealthSeesTheDatabase(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("OK")) }))
	defer srv.Close()
	_, port, _ := net.SplitHostPort(strings.TrimPrefix(srv.URL, "http://"))

	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	dbAddr := l.Addr().String()
	_, dbPort, _ := net.SplitHostPort(dbAddr)
	l.Close()

	h := newHarness(t)
	require.NoError(t, os.MkdirAll(h.data, 0o755))
	require.NoError(t, os.WriteFile(h.path("homeserver.yaml"), []byte("server_name: a\nlisteners:\n  - {port: "+port+", tls: false, type: http}\n"+
		"database:\n  name: psycopg2\n  args: {host: 127.0.0.1, port: "+dbPort+", user: u, password: p, database: d}\n"), 0o600))
	h.env["SYNAPSE_CONFIG_PATH"] = h.path("homeserver.yaml")

	assert.Equal(t, ExitFailure, h.main("health"), "PostgreSQL down")
	assert.Contains(t, h.stderr.String(), "start: error: database: PostgreSQL at "+dbAddr+" is unreachable")

	// PostgreSQL is back (it answers the SSLRequest with 'N').
	l, err = net.Listen("tcp", dbAddr)
	require.NoError(t, err)
	defer l.Close()
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			io.ReadFull(c, make([]byte, 8))
			c.Write([]byte("N"))
			c.Close()
		}
	}()
	assert.Equal(t, ExitOK, h.main("health"), h.stderr.String())
}
