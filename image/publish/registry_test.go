package publish

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/remote/transport"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/synapse-image/synapse-image/internal/registrytest"
)

// testRegistry is the in-process registry (internal/registrytest).
type testRegistry struct {
	*registrytest.Registry
	t *testing.T
}

func newTestRegistry(t *testing.T, wrap ...func(http.Handler) http.Handler) *testRegistry {
	t.Helper()
	var opts []registrytest.Option
	for _, w := range wrap {
		opts = append(opts, registrytest.Wrap(w))
	}
	return &testRegistry{registrytest.New(t, opts...), t}
}

// writes returns the requests that change the registry, and forgets all.
func (r *testRegistry) writes() []string { return r.Writes() }

// blobUploads counts the blob uploads started among writes.
func blobUploads(writes []string) int {
	n := 0
	for _, w := range writes {
		if strings.HasPrefix(w, "POST ") && strings.HasSuffix(w, "/blobs/uploads/") {
			n++
		}
	}
	return n
}

func manifestPuts(writes []string) int {
	n := 0
	for _, w := range writes {
		if strings.HasPrefix(w, "PUT ") && strings.Contains(w, "/manifests/") {
			n++
		}
	}
	return n
}

// digestOf is the digest a tag points at in the registry, or "" when it does not exist.
func (r *testRegistry) digestOf(t *testing.T, repo, tag string) string {
	t.Helper()
	ref, err := name.NewTag(r.Host + "/" + repo + ":" + tag)
	require.NoError(t, err)
	desc, err := remote.Head(ref)
	if isNotFound(err) {
		return ""
	}
	require.NoError(t, err)
	return desc.Digest.String()
}

func testImage(t *testing.T, labels map[string]string) v1.Image {
	t.Helper()
	img, err := random.Image(256, 2)
	require.NoError(t, err)
	img, err = mutate.Config(img, v1.Config{Labels: labels})
	require.NoError(t, err)
	return img
}

func digest(t *testing.T, img Artifact) v1.Hash {
	t.Helper()
	d, err := img.Digest()
	require.NoError(t, err)
	return d
}

// anonymous is a keychain with no credentials, so tests never read the
// Docker config of the machine.
var anonymous = authn.NewMultiKeychain()

func opts(reg *testRegistry, tags ...string) Options {
	return Options{Refs: refs(reg.t, reg.Host, "publish-test/synapse", false, tags...), Keychain: anonymous}
}

func TestPublishPushesEveryTag(t *testing.T) {
	reg := newTestRegistry(t)
	img := testImage(t, nil)
	var logged []string
	o := opts(reg, "v1.160.0", "v1.160", "latest", "sha-0123abc", "latest")
	o.Log = func(f string, a ...any) { logged = append(logged, fmt.Sprintf(f, a...)) }

	res, err := NewRegistry(o).Publish(context.Background(), img)
	require.NoError(t, err)

	want := digest(t, img)
	require.Len(t, res, 4, "a repeated tag is pushed once")
	for i, tag := range []string{"v1.160.0", "v1.160", "latest", "sha-0123abc"} {
		assert.Equal(t, tag, res[i].Ref.TagStr())
		assert.Equal(t, Pushed, res[i].Action)
		assert.Equal(t, want, res[i].Digest)
		assert.Equal(t, want.String(), reg.digestOf(t, "publish-test/synapse", tag))
		assert.Equal(t, fmt.Sprintf("%s/publish-test/synapse:%s → %s (pushed)", reg.Host, tag, want), res[i].String())
	}
	w := reg.writes()
	assert.Equal(t, 3, blobUploads(w), "two layers and the config, each once: %v", w)
	assert.Equal(t, 4, manifestPuts(w), "one manifest per tag: %v", w)
	assert.Contains(t, strings.Join(logged, "\n"), "3 of 3 blobs uploaded")
}

func TestPublishSameImageAgainWritesNothing(t *testing.T) {
	reg := newTestRegistry(t)
	img := testImage(t, nil)
	o := opts(reg, "v1.160.0", "latest")
	_, err := NewRegistry(o).Publish(context.Background(), img)
	require.NoError(t, err)
	reg.writes()

	res, err := NewRegistry(o).Publish(context.Background(), img)
	require.NoError(t, err)
	for _, r := range res {
		assert.Equal(t, Unchanged, r.Action, r.Ref.String())
	}
	assert.Empty(t, reg.writes(), "publishing the same image again must write nothing")

	// A new tag for an image the registry has: only its manifest is written.
	o.Refs = refs(t, reg.Host, "publish-test/synapse", false, "v1.160.0", "sha-0123abc")
	res, err = NewRegistry(o).Publish(context.Background(), img)
	require.NoError(t, err)
	assert.Equal(t, []Action{Unchanged, Pushed}, []Action{res[0].Action, res[1].Action})
	w := reg.writes()
	assert.Equal(t, 0, blobUploads(w), "no blob is uploaded again: %v", w)
	assert.Equal(t, []string{"PUT /v2/publish-test/synapse/manifests/sha-0123abc"}, w)
}

func TestPublishMovesTags(t *testing.T) {
	reg := newTestRegistry(t)
	old, img := testImage(t, nil), testImage(t, nil)
	_, err := NewRegistry(opts(reg, "latest", "v1.160")).Publish(context.Background(), old)
	require.NoError(t, err)

	res, err := NewRegistry(opts(reg, "v1.160.1", "v1.160", "latest")).Publish(context.Background(), img)
	require.NoError(t, err)
	assert.Equal(t, Pushed, res[0].Action)
	for _, r := range res[1:] {
		assert.Equal(t, Moved, r.Action)
		assert.Equal(t, digest(t, old), r.Previous)
		assert.Contains(t, r.String(), "(moved from "+digest(t, old).String()+")")
		assert.Equal(t, digest(t, img).String(), reg.digestOf(t, "publish-test/synapse", r.Ref.TagStr()))
	}
}

func TestPublishNoOverwrite(t *testing.T) {
	reg := newTestRegistry(t)
	old, img := testImage(t, nil), testImage(t, nil)
	_, err := NewRegistry(opts(reg, "latest", "v1.160")).Publish(context.Background(), old)
	require.NoError(t, err)
	_, err = NewRegistry(opts(reg, "sha-0123abc")).Publish(context.Background(), img)
	require.NoError(t, err)
	reg.writes()

	o := opts(reg, "v1.160.1", "sha-0123abc", "v1.160", "latest")
	o.NoOverwrite = true
	res, err := NewRegistry(o).Publish(context.Background(), img)
	require.Error(t, err)
	assert.Nil(t, res)
	var conflict *ConflictError
	require.ErrorAs(t, err, &conflict)
	assert.Equal(t, []Conflict{{"v1.160", digest(t, old)}, {"latest", digest(t, old)}}, conflict.Conflicts)
	assert.NotContains(t, err.Error(), "\n")
	assert.Contains(t, err.Error(), "v1.160 → "+digest(t, old).String())
	assert.Contains(t, err.Error(), "nothing was pushed")

	assert.Empty(t, reg.writes(), "a conflict must leave the registry unchanged")
	assert.Empty(t, reg.digestOf(t, "publish-test/synapse", "v1.160.1"), "the new tag must not be pushed either")
	assert.Equal(t, digest(t, old).String(), reg.digestOf(t, "publish-test/synapse", "latest"))

	// Tags that already point at the image are no conflict.
	o.Refs = refs(t, reg.Host, "publish-test/synapse", false, "v1.160.1", "sha-0123abc")
	res, err = NewRegistry(o).Publish(context.Background(), img)
	require.NoError(t, err)
	assert.Equal(t, []Action{Pushed, Unchanged}, []Action{res[0].Action, res[1].Action})
}

func TestPublishDryRunWritesNothing(t *testing.T) {
	reg := newTestRegistry(t)
	old, img := testImage(t, nil), testImage(t, nil)
	_, err := NewRegistry(opts(reg, "latest")).Publish(context.Background(), old)
	require.NoError(t, err)
	_, err = NewRegistry(opts(reg, "sha-0123abc")).Publish(context.Background(), img)
	require.NoError(t, err)
	reg.writes()

	o := opts(reg, "v1.160.1", "latest", "sha-0123abc")
	o.DryRun = true
	res, err := NewRegistry(o).Publish(context.Background(), img)
	require.NoError(t, err)
	assert.Equal(t, []Action{WouldPush, WouldMove, Unchanged}, []Action{res[0].Action, res[1].Action, res[2].Action})
	assert.Equal(t, digest(t, old), res[1].Previous)
	assert.Empty(t, reg.writes())
	assert.Empty(t, reg.digestOf(t, "publish-test/synapse", "v1.160.1"))

	// A dry run still reports the conflicts a real --no-overwrite push would hit.
	o.NoOverwrite = true
	_, err = NewRegistry(o).Publish(context.Background(), img)
	var conflict *ConflictError
	require.ErrorAs(t, err, &conflict)
	assert.Empty(t, reg.writes())
}

// basicAuth lets only user:secret through, as a registry with htpasswd does.
func basicAuth(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if u, p, ok := r.BasicAuth(); !ok || u != "user" || p != "secret" {
			w.Header().Set("WWW-Authenticate", `Basic realm="test"`)
			http.Error(w, `{"errors":[{"code":"UNAUTHORIZED","message":"authentication required"}]}`, http.StatusUnauthorized)
			return
		}
		h.ServeHTTP(w, r)
	})
}

func TestPublishCredentials(t *testing.T) {
	reg := newTestRegistry(t, basicAuth)
	img := testImage(t, nil)
	tests := []struct {
		name string
		set  func(*Options)
		ok   bool
	}{
		{"anonymous", func(o *Options) {}, false},
		{"wrong password", func(o *Options) { o.Auth = &authn.Basic{Username: "user", Password: "wrong"} }, false},
		{"right password", func(o *Options) { o.Auth = &authn.Basic{Username: "user", Password: "secret"} }, true},
		{"docker config", func(o *Options) {
			dir := t.TempDir()
			auth := base64.StdEncoding.EncodeToString([]byte("user:secret"))
			cfg := fmt.Sprintf(`{"auths":{%q:{"auth":%q}}}`, reg.Host, auth)
			require.NoError(t, os.WriteFile(filepath.Join(dir, "config.json"), []byte(cfg), 0o600))
			t.Setenv("DOCKER_CONFIG", dir)
			o.Keychain = nil // authn.DefaultKeychain
		}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := opts(reg, "latest")
			tt.set(&o)
			_, err := NewRegistry(o).Publish(context.Background(), img)
			if tt.ok {
				require.NoError(t, err)
				return
			}
			require.Error(t, err)
			assert.Contains(t, err.Error(), "registry "+reg.Host+" refused the credentials for publish-test/synapse (401 Unauthorized)")
			assert.NotContains(t, err.Error(), "\n")
			assert.NotContains(t, err.Error(), "wrong", "never print a password")
		})
	}
}

func TestPublishForbidden(t *testing.T) {
	forbid := func(h http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.Method != http.MethodGet && r.Method != http.MethodHead {
				http.Error(w, `{"errors":[{"code":"DENIED","message":"requested access to the resource is denied"}]}`, http.StatusForbidden)
				return
			}
			h.ServeHTTP(w, r)
		})
	}
	reg := newTestRegistry(t, forbid)
	_, err := NewRegistry(opts(reg, "latest")).Publish(context.Background(), testImage(t, nil))
	require.Error(t, err)
	assert.Contains(t, err.Error(), "denied access to publish-test/synapse (403 Forbidden)")
}

func TestPublishUnreachable(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	host := l.Addr().String()
	require.NoError(t, l.Close()) // nothing listens there now

	o := Options{Refs: refs(t, host, "synapse", false, "latest"), Keychain: anonymous}
	_, err = NewRegistry(o).Publish(context.Background(), testImage(t, nil))
	require.Error(t, err)
	assert.Contains(t, err.Error(), "registry "+host+" is unreachable: ")
	assert.Contains(t, err.Error(), "connection refused")
	assert.NotContains(t, err.Error(), "\n")
}

// redirect sends every request, whatever its host, to the test registry over
// plain HTTP, and fails HTTPS like a server without TLS would: the plain-HTTP
// rules can be tested for any host name without sending it any traffic.
// With tls set it plays a registry that speaks only HTTPS instead.
type redirect struct {
	target string
	tls    bool
	mu     sync.Mutex
	hosts  []string
}

func (r *redirect) RoundTrip(req *http.Request) (*http.Response, error) {
	r.mu.Lock()
	r.hosts = append(r.hosts, req.URL.Scheme+"://"+req.URL.Host)
	r.mu.Unlock()
	switch {
	case req.URL.Scheme == "https" && !r.tls:
		return nil, &url.Error{Op: req.Method, URL: req.URL.String(), Err: errors.New("http: server gave HTTP response to HTTPS client")}
	case req.URL.Scheme == "http" && r.tls:
		return nil, &url.Error{Op: req.Method, URL: req.URL.String(), Err: errors.New("connection reset by peer")}
	}
	out := req.Clone(req.Context())
	out.URL.Scheme = "http"
	out.URL.Host = r.target
	out.Host = r.target
	resp, err := http.DefaultTransport.RoundTrip(out)
	if resp != nil {
		resp.Request = req // as if the server had answered at the address asked
	}
	return resp, err
}

func TestPublishPlainHTTPRules(t *testing.T) {
	reg := newTestRegistry(t)
	img := testImage(t, nil)
	tests := []struct {
		registry string
		insecure bool
		tls      bool // the registry speaks HTTPS only
		wantErr  string
	}{
		{"127.0.0.1:5000", false, false, ""},
		{"127.0.0.2:5000", false, false, ""},
		{"localhost:5000", false, false, ""},
		{"[::1]:5000", false, false, ""},
		{"10.1.2.3:5000", false, false, "plain HTTP to 10.1.2.3:5000 refused: only loopback registries may use it without --insecure"},
		{"192.168.1.2:5000", false, false, "plain HTTP to 192.168.1.2:5000 refused"},
		{"registry.example:5000", false, false, "speaks plain HTTP, not HTTPS: pass --insecure"},
		{"foo.localhost:5000", false, false, "plain HTTP to foo.localhost:5000 refused"},
		{"10.1.2.3:5000", true, false, ""},
		{"registry.example:5000", true, false, ""},
		{"10.1.2.3:5000", false, true, ""},
		{"registry.example:5000", false, true, ""},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%s insecure=%v tls=%v", tt.registry, tt.insecure, tt.tls), func(t *testing.T) {
			rt := &redirect{target: reg.Host, tls: tt.tls}
			o := Options{Refs: refs(t, tt.registry, "synapse", tt.insecure, "latest"),
				Insecure: tt.insecure, Keychain: anonymous, Transport: rt}
			_, err := NewRegistry(o).Publish(context.Background(), img)
			if tt.wantErr == "" {
				require.NoError(t, err, "requests: %v", rt.hosts)
				if tt.tls {
					for _, h := range rt.hosts {
						assert.True(t, strings.HasPrefix(h, "https://"), "a registry with TLS is spoken to over HTTPS: %s", h)
					}
				}
				return
			}
			require.Error(t, err)
			assert.Contains(t, err.Error(), tt.wantErr)
			assert.Contains(t, err.Error(), "--insecure")
			for _, h := range rt.hosts {
				assert.True(t, strings.HasPrefix(h, "https://"), "no plain HTTP request may leave: %s", h)
			}
		})
	}
}

func TestReferencesRejectsBadInput(t *testing.T) {
	tests := []struct {
		name                 string
		registry, repository string
		tags                 []string
		wantErr              string
	}{
		{"no registry", "", "synapse", []string{"latest"}, "registry: empty, expected HOST[:PORT]"},
		{"scheme", "http://127.0.0.1:5000", "synapse", []string{"latest"}, "without a scheme"},
		{"path in registry", "127.0.0.1:5000/org", "synapse", []string{"latest"}, "give the path with --repository"},
		{"no repository", "127.0.0.1:5000", "", []string{"latest"}, "repository: empty"},
		{"upper-case repository", "127.0.0.1:5000", "Synapse", []string{"latest"}, `repository "Synapse": expected lower-case`},
		{"no tags", "127.0.0.1:5000", "synapse", nil, "no tags to publish"},
		{"bad tag", "127.0.0.1:5000", "synapse", []string{"v1.160.0+1"}, `tag "v1.160.0+1": expected letters`},
		{"tag with a colon", "127.0.0.1:5000", "synapse", []string{"a:b"}, `tag "a:b": expected letters`},
		{"tag with a slash", "127.0.0.1:5000", "synapse", []string{"a/b"}, `tag "a/b": expected letters`},
		{"tag starting with a dot", "127.0.0.1:5000", "synapse", []string{".a"}, `tag ".a": expected letters`},
		{"tag starting with a dash", "127.0.0.1:5000", "synapse", []string{"-a"}, `tag "-a": expected letters`},
		{"empty tag", "127.0.0.1:5000", "synapse", []string{""}, `tag "": expected letters`},
		{"tag of 129", "127.0.0.1:5000", "synapse", []string{strings.Repeat("a", 129)}, `expected letters`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := References(tt.registry, tt.repository, tt.tags, false)
			assert.ErrorContains(t, err, tt.wantErr)
		})
	}
	got, err := References("127.0.0.1:5000", "org/synapse", []string{"latest", "v1.160.0", "latest"}, false)
	require.NoError(t, err)
	assert.Equal(t, []string{"127.0.0.1:5000/org/synapse:latest", "127.0.0.1:5000/org/synapse:v1.160.0"}, []string{got[0].String(), got[1].String()}, "a repeated tag counts once")
	assert.Len(t, got, 2)
}

// refs are References that must be good.
func refs(t *testing.T, registry, repository string, insecure bool, tags ...string) []name.Tag {
	t.Helper()
	r, err := References(registry, repository, tags, insecure)
	require.NoError(t, err)
	return r
}

func TestIsLoopback(t *testing.T) {
	for host, want := range map[string]bool{
		"127.0.0.1":      true,
		"127.0.0.1:5000": true,
		"127.1.2.3:5000": true,
		"localhost":      true,
		"LOCALHOST:5000": true,
		"::1":            true,
		"[::1]":          true,
		"[::1]:5000":     true,
		"10.0.0.1:5000":  false,
		"128.0.0.1":      false,
		"foo.localhost":  false,
		"example.com":    false,
		"[::2]:5000":     false,
		"":               false,
	} {
		assert.Equal(t, want, isLoopback(host), host)
	}
}

func TestPublishFailureHalfwaySaysWhatWasWritten(t *testing.T) {
	failTag := func(h http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.Method == http.MethodPut && strings.HasSuffix(r.URL.Path, "/manifests/latest") {
				http.Error(w, `{"errors":[{"code":"MANIFEST_INVALID","message":"rejected by policy"}]}`, http.StatusBadRequest)
				return
			}
			h.ServeHTTP(w, r)
		})
	}
	reg := newTestRegistry(t, failTag)
	_, err := NewRegistry(opts(reg, "v1.160.0", "v1.160", "latest")).Publish(context.Background(), testImage(t, nil))
	require.Error(t, err)
	assert.Contains(t, err.Error(), "registry "+reg.Host+": ")
	assert.Contains(t, err.Error(), "rejected by policy")
	assert.Contains(t, err.Error(), "(tags already written: v1.160.0, v1.160)")
	assert.NotContains(t, err.Error(), "\n")
}

// hubLike puts the registry behind bearer tokens and, like Docker Hub,
// answers 401 instead of 404 about a missing manifest to a token that may
// only pull: a check with a pull-only token cannot tell a new repository
// from refused credentials.
func hubLike(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/token" {
			scope := strings.Join(r.URL.Query()["scope"], ";")
			fmt.Fprintf(w, `{"token": %q}`, base64.RawURLEncoding.EncodeToString([]byte(scope)))
			return
		}
		scope := []byte{}
		if tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer "); ok {
			scope, _ = base64.RawURLEncoding.DecodeString(tok)
		}
		if len(scope) == 0 {
			w.Header().Set("WWW-Authenticate", fmt.Sprintf(`Bearer realm="http://%s/token",service="test"`, r.Host))
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		if strings.Contains(r.URL.Path, "/manifests/") && !strings.Contains(string(scope), "push") {
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, r)
			if rec.Code == http.StatusNotFound {
				w.WriteHeader(http.StatusUnauthorized)
				return
			}
			for k, v := range rec.Header() {
				w.Header()[k] = v
			}
			w.WriteHeader(rec.Code)
			_, _ = w.Write(rec.Body.Bytes())
			return
		}
		h.ServeHTTP(w, r)
	})
}

func TestPublishNewRepositoryOnHubLikeRegistry(t *testing.T) {
	reg := newTestRegistry(t, hubLike)
	img := testImage(t, nil)
	res, err := NewRegistry(opts(reg, "v1.160.0", "latest")).Publish(context.Background(), img)
	require.NoError(t, err)
	assert.Equal(t, []Action{Pushed, Pushed}, []Action{res[0].Action, res[1].Action})

	res, err = NewRegistry(opts(reg, "v1.160.0", "v1.160")).Publish(context.Background(), img)
	require.NoError(t, err)
	assert.Equal(t, []Action{Unchanged, Pushed}, []Action{res[0].Action, res[1].Action})

	// The pull-only check this guards against really fails here.
	ref, err := name.NewTag(reg.Host + "/publish-test/synapse:missing")
	require.NoError(t, err)
	_, err = remote.Head(ref)
	var terr *transport.Error
	require.ErrorAs(t, err, &terr)
	assert.Equal(t, http.StatusUnauthorized, terr.StatusCode)
}
