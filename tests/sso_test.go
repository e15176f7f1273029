package tests

import (
	"context"
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"maunium.net/go/mautrix"
	"maunium.net/go/mautrix/id"

	"github.com/synapse-image/synapse-image/internal/dockertest"
	"github.com/synapse-image/synapse-image/tests/internal/matrixflow"
)

// The login methods of Synapse's optional integrations, configured through
// the generic settings (SYNAPSE_CONFIG__…, SYNAPSE_CONFIG_FILE__…,
// /data/conf.d) and proven end to end against the built image.

// loginStatus logs in with req and returns the HTTP status of a refusal
// (0 when the login succeeded) and the response.
func loginStatus(ctx context.Context, t *testing.T, hs matrixflow.Homeserver, req *mautrix.ReqLogin) (int, *mautrix.RespLogin) {
	t.Helper()
	resp, err := hs.Client(t, "", "").Login(ctx, req)
	if err == nil {
		return 0, resp
	}
	var he mautrix.HTTPError
	require.True(t, errors.As(err, &he) && he.Response != nil, "login: %v", err)
	return he.Response.StatusCode, nil
}

// whoami logs in with req and returns who the access token belongs to.
func whoami(ctx context.Context, t *testing.T, hs matrixflow.Homeserver, req *mautrix.ReqLogin) id.UserID {
	t.Helper()
	cli := hs.Client(t, "", "")
	req.StoreCredentials = true
	resp, err := cli.Login(ctx, req)
	require.NoError(t, err, "log in with %s", req.Type)
	me, err := cli.Whoami(ctx)
	require.NoError(t, err, "whoami after %s", req.Type)
	assert.Equal(t, resp.UserID, me.UserID)
	return me.UserID
}

// loginFlows returns GET /_matrix/client/v3/login as JSON, with the
// identity providers that mautrix's type leaves out.
type loginFlow struct {
	Type              string `json:"type"`
	IdentityProviders []struct {
		ID   string `json:"id"`
		Name string `json:"name"`
	} `json:"identity_providers"`
}

func loginFlows(t *testing.T, hs matrixflow.Homeserver) map[string]loginFlow {
	t.Helper()
	var body struct {
		Flows []loginFlow `json:"flows"`
	}
	getJSON(t, &http.Client{Timeout: 30 * time.Second}, hs.URL+"/_matrix/client/v3/login", &body)
	out := map[string]loginFlow{}
	for _, f := range body.Flows {
		out[f.Type] = f
	}
	return out
}

// secretFile writes a secret into a folder of its own, to mount read-only
// in the container at /run/secrets, and returns the folder.
func secretFile(t *testing.T, name, value string) string {
	t.Helper()
	dir := t.TempDir()
	require.NoError(t, os.Chmod(dir, 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(dir, name), []byte(value+"\n"), 0o644))
	return dir
}

// JWT login (org.matrix.login.jwt) with an HS256 secret that Synapse gets
// through the file form of a generic key.
func TestJWTLogin(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	const server = "jwt.e2e.test"
	secret := "jwt-" + matrixflow.RandomSuffix() + matrixflow.RandomSuffix()
	secrets := secretFile(t, "jwt", secret)
	env := baseEnv(server)
	env["SYNAPSE_CONFIG__JWT_CONFIG__ENABLED"] = "true"
	env["SYNAPSE_CONFIG__JWT_CONFIG__ALGORITHM"] = "HS256"
	env["SYNAPSE_CONFIG_FILE__JWT_CONFIG__SECRET"] = "/run/secrets/jwt"
	s := runSynapse(t, server, "", dockertest.Options{Env: env, Mounts: []string{secrets + ":/run/secrets:ro"}})
	hs := s.homeserver(t)

	assert.Contains(t, loginFlows(t, hs), string(mautrix.AuthTypeSynapseJWT))
	sign := func(key string, claims jwt.MapClaims) string {
		tok, err := jwt.NewWithClaims(jwt.SigningMethodHS256, claims).SignedString([]byte(key))
		require.NoError(t, err)
		return tok
	}
	localpart := "jwt-" + matrixflow.RandomSuffix()
	valid := jwt.MapClaims{"sub": localpart, "exp": time.Now().Add(10 * time.Minute).Unix()}
	want := id.NewUserID(localpart, server)
	assert.Equal(t, want, whoami(ctx, t, hs, &mautrix.ReqLogin{Type: mautrix.AuthTypeSynapseJWT, Token: sign(secret, valid)}),
		"the first login creates the user from the sub claim")
	assert.Equal(t, want, whoami(ctx, t, hs, &mautrix.ReqLogin{Type: mautrix.AuthTypeSynapseJWT, Token: sign(secret, valid)}),
		"a second login is the same user")

	for name, tok := range map[string]string{
		"expired":      sign(secret, jwt.MapClaims{"sub": localpart, "exp": time.Now().Add(-10 * time.Minute).Unix()}),
		"wrong secret": sign(secret+"x", valid),
		"not a JWT":    "not-a-token",
	} {
		status, _ := loginStatus(ctx, t, hs, &mautrix.ReqLogin{Type: mautrix.AuthTypeSynapseJWT, Token: tok})
		assert.Equal(t, http.StatusForbidden, status, "%s token", name)
	}

	// The secret came from the file form: it is in no log line.
	stdout, stderr, err := s.Logs(ctx)
	require.NoError(t, err)
	assert.NotContains(t, stdout+stderr, secret)
}

// ldapImage returns the OpenLDAP test image (image/ldap.yaml).
func ldapImage(t *testing.T) string {
	t.Helper()
	requireEngine(t)
	img := envOr("LDAP_IMAGE", "synapse-ldap:latest")
	dockertest.RequireImage(t, img, "build it with `go run . build --recipe image/ldap.yaml --load`, or set LDAP_IMAGE")
	return img
}

// writeFragment writes /data/conf.d/<name> into the host folder data.
func writeFragment(t *testing.T, data, name, yaml string) {
	t.Helper()
	dir := filepath.Join(data, "conf.d")
	require.NoError(t, os.MkdirAll(dir, 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(dir, name), []byte(yaml), 0o644))
}

// LDAP login through Synapse's ldap3 module, loaded under modules: by a
// conf.d fragment, against slapd seeded with one user.
func TestLDAPLogin(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	const server = "ldap.e2e.test"
	ldapImg, img := ldapImage(t), synapseImage(t)
	net := dockertest.Network(t)
	user, password := "ldap-"+matrixflow.RandomSuffix(), "ldap pass "+matrixflow.RandomSuffix()
	adminPassword := "admin-" + matrixflow.RandomSuffix()
	ldap := dockertest.Run(t, dockertest.Options{
		Image: ldapImg, Network: net, Aliases: []string{"ldap"},
		Env: map[string]string{
			"LDAP_DOMAIN":         "e2e.test",
			"LDAP_ADMIN_PASSWORD": adminPassword,
			"LDAP_USER":           user,
			"LDAP_USER_PASSWORD":  password,
			"LDAP_USER_NAME":      "LDAP User",
		},
	})
	ldap.WaitHealthy(ctx, healthTimeout)

	data := dockertest.HostDir(t, img)
	// Search mode: Synapse binds as the admin to find the user's entry
	// (and its cn and mail), then binds as the user with the password given.
	writeFragment(t, data, "50-ldap.yaml", `modules:
  - module: ldap_auth_provider.LdapAuthProviderModule
    config:
      enabled: true
      mode: search
      uri: ldap://ldap:389
      start_tls: false
      base: ou=people,dc=e2e,dc=test
      bind_dn: cn=admin,dc=e2e,dc=test
      bind_password_file: /run/secrets/ldap-bind
      attributes:
        uid: uid
        mail: mail
        name: cn
`)
	secrets := secretFile(t, "ldap-bind", adminPassword)
	s := runSynapse(t, server, data, dockertest.Options{Image: img, Env: baseEnv(server), Network: net,
		Mounts: []string{secrets + ":/run/secrets:ro"}})
	hs := s.homeserver(t)
	assert.Contains(t, loginFlows(t, hs), string(mautrix.AuthTypePassword))

	pw := func(localpart, password string) *mautrix.ReqLogin {
		return &mautrix.ReqLogin{
			Type:       mautrix.AuthTypePassword,
			Identifier: mautrix.UserIdentifier{Type: mautrix.IdentifierTypeUser, User: localpart},
			Password:   password,
		}
	}
	want := id.NewUserID(user, server)
	assert.Equal(t, want, whoami(ctx, t, hs, pw(user, password)), "the LDAP password logs in and creates the user")
	assert.Equal(t, want, whoami(ctx, t, hs, pw(user, password)), "a second login is the same user")
	var profile struct {
		DisplayName string `json:"displayname"`
	}
	getJSON(t, &http.Client{Timeout: 30 * time.Second}, hs.URL+"/_matrix/client/v3/profile/"+string(want), &profile)
	assert.Equal(t, "LDAP User", profile.DisplayName, "the display name comes from the LDAP cn")

	status, _ := loginStatus(ctx, t, hs, pw(user, password+"x"))
	assert.Equal(t, http.StatusForbidden, status, "a wrong LDAP password")
	status, _ = loginStatus(ctx, t, hs, pw("nobody-"+matrixflow.RandomSuffix(), password))
	assert.Equal(t, http.StatusForbidden, status, "a user in neither LDAP nor Synapse")

	local := "local-" + matrixflow.RandomSuffix()
	hs.RegisterShared(ctx, t, local, "local password", false)
	assert.Equal(t, id.NewUserID(local, server), whoami(ctx, t, hs, pw(local, "local password")),
		"a local-only user still logs in with its Synapse password")
}
