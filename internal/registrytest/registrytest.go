// Package registrytest runs go-containerregistry's in-process OCI registry
// on loopback for tests, recording the requests that change it: the one
// registry fixture of the unit tests (the registry tests against Debian's
// docker-registry use TEST_REGISTRY instead).
package registrytest

import (
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-containerregistry/pkg/registry"
)

// Registry is a running registry.
type Registry struct {
	// Host is 127.0.0.1:PORT (plain HTTP).
	Host string

	mu     sync.Mutex
	writes []string // "METHOD PATH" of each request that is not a GET or HEAD
}

// Option changes the registry New starts.
type Option func(*config)

type config struct {
	referrers bool
	wrap      []func(http.Handler) http.Handler
}

// WithReferrers makes the registry answer the OCI 1.1 referrers API (by
// default it does not, as Debian's docker-registry).
func WithReferrers(api bool) Option { return func(c *config) { c.referrers = api } }

// Wrap puts a handler in front of the registry (to ask for credentials,
// to fail some requests).
func Wrap(w func(http.Handler) http.Handler) Option {
	return func(c *config) { c.wrap = append(c.wrap, w) }
}

// New starts a registry that stops when the test ends.
func New(t testing.TB, opts ...Option) *Registry {
	t.Helper()
	var c config
	for _, o := range opts {
		o(&c)
	}
	r := &Registry{}
	var h http.Handler = registry.New(registry.Logger(log.New(io.Discard, "", 0)), registry.WithReferrersSupport(c.referrers))
	for _, w := range c.wrap {
		h = w(h)
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		if req.Method != http.MethodGet && req.Method != http.MethodHead {
			r.mu.Lock()
			r.writes = append(r.writes, req.Method+" "+req.URL.Path)
			r.mu.Unlock()
		}
		h.ServeHTTP(w, req)
	}))
	t.Cleanup(srv.Close)
	r.Host = strings.TrimPrefix(srv.URL, "http://")
	return r
}

// Writes returns the requests that changed the registry since the last
// call ("PUT /v2/…", "POST /v2/…"), and forgets them.
func (r *Registry) Writes() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	w := r.writes
	r.writes = nil
	return w
}
