package publish

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote/transport"
)

// isLoopback reports whether host (HOST, HOST:PORT, [::1]:PORT) is on this
// machine: localhost, 127.0.0.0/8 or ::1. Only such registries may speak
// plain HTTP without --insecure; Docker trusts 127.0.0.0/8 the same way.
func isLoopback(host string) bool {
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	host = strings.TrimSuffix(strings.TrimPrefix(host, "["), "]")
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// PlainHTTPError is returned for a plain HTTP request to a registry that is
// not on loopback without Options.Insecure.
type PlainHTTPError struct{ Host string }

func (e *PlainHTTPError) Error() string {
	return fmt.Sprintf("plain HTTP to %s refused: only loopback registries may use it without --insecure", e.Host)
}

// plainHTTPGuard refuses plain HTTP to hosts that are not on loopback.
// go-containerregistry itself falls back to HTTP for private (RFC 1918)
// addresses too, and a redirect may point anywhere: both stay on HTTPS here.
type plainHTTPGuard struct {
	next  http.RoundTripper
	allow bool
}

func (g *plainHTTPGuard) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.URL.Scheme == "http" && !g.allow && !isLoopback(req.URL.Host) {
		return nil, &PlainHTTPError{Host: req.URL.Host}
	}
	return g.next.RoundTrip(req)
}

// countingTransport records which blobs were uploaded, so Publish can say
// what a push really did.
type countingTransport struct {
	next http.RoundTripper

	sent atomic.Int64 // bytes of blob uploads sent so far

	mu        sync.Mutex
	committed map[string]bool // blob digests whose upload the registry accepted
}

func (c *countingTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.Body != nil && (req.Method == http.MethodPatch || req.Method == http.MethodPut) && strings.Contains(req.URL.Path, "/blobs/uploads/") {
		req = req.Clone(req.Context())
		req.Body = &countingBody{ReadCloser: req.Body, n: &c.sent}
	}
	resp, err := c.next.RoundTrip(req)
	if err != nil {
		return resp, err
	}
	// The last request of a blob upload is PUT …/blobs/uploads/…?digest=D.
	if req.Method == http.MethodPut && strings.Contains(req.URL.Path, "/blobs/uploads/") && resp.StatusCode == http.StatusCreated {
		if d := req.URL.Query().Get("digest"); d != "" {
			c.mu.Lock()
			if c.committed == nil {
				c.committed = map[string]bool{}
			}
			c.committed[d] = true
			c.mu.Unlock()
		}
	}
	return resp, nil
}

// countingBody adds what is read from a request body to n.
type countingBody struct {
	io.ReadCloser
	n *atomic.Int64
}

func (b *countingBody) Read(p []byte) (int, error) {
	k, err := b.ReadCloser.Read(p)
	b.n.Add(int64(k))
	return k, err
}

// uploaded counts the blobs in sizes that were uploaded, and their bytes.
func (c *countingTransport) uploaded(sizes map[v1.Hash]int64) (n int, bytes int64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for h, size := range sizes {
		if c.committed[h.String()] {
			n++
			bytes += size
		}
	}
	return n, bytes
}

// RegistryError is a failed registry operation, with a message that says
// what is wrong and what to do.
type RegistryError struct {
	msg string
	err error
}

func (e *RegistryError) Error() string { return e.msg }
func (e *RegistryError) Unwrap() error { return e.err }

// explain turns an error from go-containerregistry into one line a person can act on.
func explain(repo name.Repository, err error) error {
	reg := repo.RegistryStr()
	var (
		plain   *PlainHTTPError
		terr    *transport.Error
		opErr   *net.OpError
		unknown x509.UnknownAuthorityError
		hostErr x509.HostnameError
		certErr *tls.CertificateVerificationError
	)
	msg := ""
	switch {
	case errors.Is(err, context.DeadlineExceeded):
		msg = fmt.Sprintf("registry %s: timed out", reg)
	case errors.Is(err, context.Canceled):
		msg = fmt.Sprintf("registry %s: interrupted", reg)
	case errors.As(err, &plain):
		msg = fmt.Sprintf("registry %s: %v (pass --insecure if it really has no TLS)", reg, plain)
	case errors.As(err, &terr) && terr.StatusCode == http.StatusUnauthorized:
		msg = fmt.Sprintf("registry %s refused the credentials for %s (401 Unauthorized): run `docker login %s`, or pass --username with --password-file, --password-stdin or REGISTRY_PASSWORD", reg, repo.RepositoryStr(), reg)
	case errors.As(err, &terr) && terr.StatusCode == http.StatusForbidden:
		msg = fmt.Sprintf("registry %s denied access to %s (403 Forbidden): these credentials may not push to this repository", reg, repo.RepositoryStr())
	case errors.As(err, &terr):
		msg = fmt.Sprintf("registry %s: %s", reg, oneLine(terr.Error()))
	case errors.As(err, &unknown), errors.As(err, &hostErr), errors.As(err, &certErr):
		msg = fmt.Sprintf("registry %s: its TLS certificate is not trusted: %s", reg, oneLine(err.Error()))
	case strings.Contains(err.Error(), "server gave HTTP response to HTTPS client"):
		msg = fmt.Sprintf("registry %s speaks plain HTTP, not HTTPS: pass --insecure to allow that", reg)
	case errors.As(err, &opErr):
		msg = fmt.Sprintf("registry %s is unreachable: %s", reg, oneLine(opErr.Error()))
	default:
		msg = fmt.Sprintf("registry %s: %s", reg, oneLine(err.Error()))
	}
	return &RegistryError{msg: msg, err: err}
}

func oneLine(s string) string {
	return strings.Join(strings.Fields(s), " ")
}
