package tests

import (
	"context"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/zitadel/oidc/v3/example/server/storage"
	"github.com/zitadel/oidc/v3/pkg/op"
	"maunium.net/go/mautrix"
	"maunium.net/go/mautrix/id"

	"github.com/synapse-image/synapse-image/internal/dockertest"
	"github.com/synapse-image/synapse-image/tests/internal/matrixflow"
)

// opUsers is the OpenID provider's user store: one user.
type opUsers struct{ user *storage.User }

func (u opUsers) GetUserByID(id string) *storage.User {
	if id == u.user.ID {
		return u.user
	}
	return nil
}

func (u opUsers) GetUserByUsername(name string) *storage.User {
	if name == u.user.Username {
		return u.user
	}
	return nil
}

func (opUsers) ExampleClientID() string { return storage.ServiceUserID }

// startOP runs a real OpenID provider (zitadel/oidc's op package with its
// in-memory storage) on addr (host:0) with one web client, and returns its
// issuer URL. Its login page is the minimum a browser needs: a POST of
// id, username and password to /login/username.
func startOP(t *testing.T, addr string, user *storage.User, clientID, clientSecret, redirectURI string) string {
	t.Helper()
	ln, err := net.Listen("tcp", addr)
	require.NoError(t, err, "listen for the OpenID provider on %s", addr)
	issuer := "http://" + ln.Addr().String()
	store := storage.NewStorageWithClients(opUsers{user}, map[string]*storage.Client{
		clientID: storage.WebClient(clientID, clientSecret, redirectURI),
	})
	var key [32]byte
	_, err = rand.Read(key[:])
	require.NoError(t, err)
	provider, err := op.NewProvider(&op.Config{CryptoKey: key, CodeMethodS256: true},
		store, op.StaticIssuer(issuer), op.WithAllowInsecure())
	require.NoError(t, err)

	callback := op.AuthCallbackURL(provider)
	login := func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost {
			fmt.Fprintf(w, "<form method=post><input name=id value=%q><input name=username><input name=password type=password></form>", r.FormValue("authRequestID"))
			return
		}
		if err := store.CheckUsernamePassword(r.FormValue("username"), r.FormValue("password"), r.FormValue("id")); err != nil {
			http.Error(w, err.Error(), http.StatusForbidden)
			return
		}
		http.Redirect(w, r, callback(r.Context(), r.FormValue("id")), http.StatusFound)
	}
	mux := http.NewServeMux()
	mux.Handle("/login/username", op.NewIssuerInterceptor(provider.IssuerFromRequest).HandlerFunc(login))
	mux.Handle("/", provider)
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 30 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { _ = srv.Close() })
	return issuer
}

// browser is an HTTP client with a cookie jar that reaches Synapse under
// its public_baseurl's host (trusting roots for TLS; nil: the system's)
// and stops at every redirect, so that the test sees each step.
func browser(t *testing.T, publicHost, synapseAddr string, roots *x509.CertPool) *http.Client {
	t.Helper()
	jar, err := cookiejar.New(nil)
	require.NoError(t, err)
	dialer := &net.Dialer{Timeout: 10 * time.Second}
	return &http.Client{
		Jar:     jar,
		Timeout: 60 * time.Second,
		Transport: &http.Transport{
			DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
				if addr == publicHost {
					addr = synapseAddr
				}
				return dialer.DialContext(ctx, network, addr)
			},
			TLSClientConfig: &tls.Config{RootCAs: roots},
		},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}

// ssoLogin walks the browser flow from Synapse's SSO redirect for idp to the
// redirect back to the client, logging in at the provider with username and
// password, and returns the loginToken Synapse hands the client.
func ssoLogin(ctx context.Context, t *testing.T, c *http.Client, baseURL, idp, clientURL, username, password string) string {
	t.Helper()
	client, err := url.Parse(clientURL)
	require.NoError(t, err)
	next, err := http.NewRequestWithContext(ctx, http.MethodGet,
		baseURL+"_matrix/client/v3/login/sso/redirect/"+idp+"?redirectUrl="+url.QueryEscape(clientURL), nil)
	require.NoError(t, err)
	var steps []string
	for range 20 {
		steps = append(steps, next.Method+" "+next.URL.String())
		resp, err := c.Do(next)
		require.NoError(t, err, "%s %s", next.Method, next.URL)
		body, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
		resp.Body.Close()
		if resp.StatusCode < 300 || resp.StatusCode >= 400 {
			t.Fatalf("the SSO flow stopped at %s %s with %s: %s\nsteps:\n%s", next.Method, next.URL, resp.Status, body, strings.Join(steps, "\n"))
		}
		loc, err := resp.Location()
		require.NoError(t, err, "redirect without Location at %s", next.URL)
		switch {
		case loc.Host == client.Host:
			token := loc.Query().Get("loginToken")
			require.NotEmpty(t, token, "the redirect to the client carries a loginToken: %s", loc)
			return token
		case loc.Path == "/login/username":
			// The provider's login page: the user enters the password.
			form := url.Values{"id": {loc.Query().Get("authRequestID")}, "username": {username}, "password": {password}}
			next, err = http.NewRequestWithContext(ctx, http.MethodPost, loc.String(), strings.NewReader(form.Encode()))
			require.NoError(t, err)
			next.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		default:
			next, err = http.NewRequestWithContext(ctx, http.MethodGet, loc.String(), nil)
			require.NoError(t, err)
		}
	}
	t.Fatalf("the SSO flow never came back to %s:\n%s", clientURL, strings.Join(steps, "\n"))
	return ""
}

// OpenID Connect: the whole browser flow against a real provider running in
// the test, configured through SYNAPSE_CONFIG__OIDC_PROVIDERS.
func TestOIDCLogin(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	const (
		server = "oidc.e2e.test"
		// public_baseurl's host: Synapse's own TLS listener, reached through
		// the published port. HTTPS because Synapse's session cookie is
		// Secure, as a browser behind a TLS proxy would see it.
		publicHost = "oidc.e2e.test:8448"
		clientURL  = "http://client.e2e.test/after-login"
	)
	img := synapseImage(t)
	net := dockertest.Network(t)
	gateway := dockertest.NetworkGateway(t, net)
	suffix := matrixflow.RandomSuffix()
	user := &storage.User{
		ID: "subject-" + suffix, Username: "oidc-" + suffix, Password: "op password " + suffix,
		FirstName: "Open", LastName: "Connect", Email: "oidc-" + suffix + "@example.org", EmailVerified: true,
	}
	baseURL := "https://" + publicHost + "/"
	clientSecret := "client-secret-" + suffix
	issuer := startOP(t, gateway+":0", user, "synapse", clientSecret, baseURL+"_synapse/client/oidc/callback")

	providers, err := json.Marshal([]map[string]any{{
		"idp_id":              "e2e",
		"idp_name":            "E2E provider",
		"issuer":              issuer,
		"client_id":           "synapse",
		"client_secret":       clientSecret,
		"scopes":              []string{"openid", "profile"},
		"user_profile_method": "userinfo_endpoint",
		// The provider is plain HTTP on the test network.
		"skip_verification": true,
		"user_mapping_provider": map[string]any{"config": map[string]any{
			"localpart_template":    "{{ user.preferred_username }}",
			"display_name_template": "{{ user.name }}",
		}},
	}})
	require.NoError(t, err)
	env := baseEnv(server)
	delete(env, "SYNAPSE_NO_TLS")
	env["SYNAPSE_PUBLIC_BASEURL"] = baseURL
	env["SYNAPSE_CONFIG__OIDC_PROVIDERS"] = string(providers)
	// The client's URL is trusted: Synapse redirects to it straight away
	// instead of asking the user to confirm.
	env["SYNAPSE_CONFIG__SSO__CLIENT_WHITELIST"] = `["http://client.e2e.test/"]`
	s := runSynapse(t, server, "", dockertest.Options{Image: img, Env: env, Network: net, Ports: []string{"8448"}})
	hs := s.homeserver(t)
	synapseAddr, err := s.HostAddr(ctx, "8448")
	require.NoError(t, err)
	// The self-signed certificate the image made for the server name.
	roots := x509.NewCertPool()
	require.True(t, roots.AppendCertsFromPEM([]byte(s.readData(t, server+".tls.crt"))))

	sso, ok := loginFlows(t, hs)[string(mautrix.AuthTypeSSO)]
	require.True(t, ok, "GET /login lists m.login.sso")
	require.Len(t, sso.IdentityProviders, 1)
	assert.Equal(t, "oidc-e2e", sso.IdentityProviders[0].ID)
	assert.Equal(t, "E2E provider", sso.IdentityProviders[0].Name)

	want := id.NewUserID(user.Username, server)
	for _, round := range []string{"first login creates the user from the claims", "second login is the same user"} {
		token := ssoLogin(ctx, t, browser(t, publicHost, synapseAddr, roots), baseURL, "oidc-e2e", clientURL, user.Username, user.Password)
		assert.Equal(t, want, whoami(ctx, t, hs, &mautrix.ReqLogin{Type: mautrix.AuthTypeToken, Token: token}), round)
	}
	var profile struct {
		DisplayName string `json:"displayname"`
	}
	getJSON(t, &http.Client{Timeout: 30 * time.Second}, hs.URL+"/_matrix/client/v3/profile/"+string(want), &profile)
	assert.Equal(t, "Open Connect", profile.DisplayName, "the display name comes from the name claim")

	stdout, stderr, err := s.Logs(ctx)
	require.NoError(t, err)
	assert.NotContains(t, stdout+stderr, clientSecret)
}
