package tests

import (
	"compress/gzip"
	"context"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/synapse-image/synapse-image/internal/dockertest"
	"github.com/synapse-image/synapse-image/tests/internal/matrixflow"
)

// sentrySink is an HTTP server that takes what a Sentry SDK sends: each
// request's path, its X-Sentry-Auth header and its (decompressed) body.
type sentrySink struct {
	events chan string
}

func startSentrySink(t *testing.T, addr string) (*sentrySink, string) {
	t.Helper()
	ln, err := net.Listen("tcp", addr)
	require.NoError(t, err, "listen for the Sentry sink on %s", addr)
	s := &sentrySink{events: make(chan string, 64)}
	srv := &http.Server{ReadHeaderTimeout: 30 * time.Second, Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var body io.Reader = r.Body
		if r.Header.Get("Content-Encoding") == "gzip" {
			zr, err := gzip.NewReader(r.Body)
			if err != nil {
				http.Error(w, err.Error(), http.StatusBadRequest)
				return
			}
			body = zr
		}
		b, _ := io.ReadAll(io.LimitReader(body, 4<<20))
		select {
		case s.events <- r.Method + " " + r.URL.Path + "\nX-Sentry-Auth: " + r.Header.Get("X-Sentry-Auth") + "\n" + string(b):
		default:
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, `{"id":"00000000000000000000000000000000"}`)
	})}
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { _ = srv.Close() })
	return s, ln.Addr().String()
}

// waitFor returns the first request whose text contains want.
func (s *sentrySink) waitFor(ctx context.Context, want string) (string, error) {
	for {
		select {
		case ev := <-s.events:
			if strings.Contains(ev, want) {
				return ev, nil
			}
		case <-ctx.Done():
			return "", context.Cause(ctx)
		}
	}
}

// Sentry: with sentry.dsn pointing at a sink in the test, Synapse starts and
// reports an error that a client can cause (a validation mail to an SMTP
// server that refuses connections).
func TestSentry(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	const server = "sentry.e2e.test"
	img := synapseImage(t)
	net := dockertest.Network(t)
	gateway := dockertest.NetworkGateway(t, net)
	sink, addr := startSentrySink(t, gateway+":0")
	closed := freeAddr(t, gateway)

	env := baseEnv(server)
	env["SYNAPSE_CONFIG__SENTRY__DSN"] = "http://e2epublickey@" + addr + "/42"
	env["SYNAPSE_SMTP_HOST"] = gateway
	env["SYNAPSE_SMTP_PORT"] = itoa(closed.Port)
	s := runSynapse(t, server, "", dockertest.Options{Image: img, Env: env, Network: net})

	hs := s.homeserver(t)
	user := "sentry-" + matrixflow.RandomSuffix()
	reg := hs.RegisterShared(ctx, t, user, "sentry pass", false)
	cli := hs.Client(t, reg.UserID, reg.AccessToken)
	_, err := cli.MakeRequest(ctx, http.MethodPost, cli.BuildClientURL("v3", "account", "3pid", "email", "requestToken"),
		map[string]any{"client_secret": "e2eclientsecret" + matrixflow.RandomSuffix(), "email": user + "@mail.e2e.test", "send_attempt": 1}, nil)
	require.Error(t, err, "the mail cannot be sent: nothing listens on %s", closed)

	wctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	ev, err := sink.waitFor(wctx, "Error sending threepid validation email")
	require.NoError(t, err, "Sentry receives the error Synapse logged")
	assert.Contains(t, ev, "/api/42/", "sent to the DSN's project")
	assert.Contains(t, ev, "e2epublickey", "with the DSN's key")
}

// freeAddr returns a TCP address on host where nothing listens right now.
func freeAddr(t *testing.T, host string) *net.TCPAddr {
	t.Helper()
	ln, err := net.Listen("tcp", host+":0")
	require.NoError(t, err)
	addr := ln.Addr().(*net.TCPAddr)
	require.NoError(t, ln.Close())
	return addr
}
