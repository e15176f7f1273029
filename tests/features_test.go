package tests

import (
	"context"
	"crypto/ed25519"
	"crypto/hmac"
	"crypto/sha1"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"maunium.net/go/mautrix"
	"maunium.net/go/mautrix/id"

	"github.com/synapse-image/synapse-image/internal/dockertest"
	"github.com/synapse-image/synapse-image/tests/internal/matrixflow"
	"github.com/synapse-image/synapse-image/tests/internal/smtpsink"
)

// Scenario 5: TLS on (SYNAPSE_NO_TLS unset): 8448 serves the generated
// self-signed certificate from /data, with the client and federation APIs.
func TestTLSListener(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	const server = "tls.e2e.test"
	data := dockertest.HostDir(t, synapseImage(t))
	env := baseEnv(server)
	delete(env, "SYNAPSE_NO_TLS")
	s := runSynapse(t, server, data, dockertest.Options{Env: env, Ports: []string{"8448"}})

	certPEM, err := os.ReadFile(filepath.Join(data, server+".tls.crt"))
	require.NoError(t, err, "the image generates /data/<server>.tls.crt")
	assert.FileExists(t, filepath.Join(data, server+".tls.key"))
	block, _ := pem.Decode(certPEM)
	require.NotNil(t, block, "%s.tls.crt holds no PEM block", server)
	want, err := x509.ParseCertificate(block.Bytes)
	require.NoError(t, err)
	assert.NoError(t, want.VerifyHostname(server), "the self-signed certificate is for the server name")

	addr, err := s.HostAddr(ctx, "8448")
	require.NoError(t, err)
	conn, err := tls.Dial("tcp", addr, &tls.Config{InsecureSkipVerify: true, ServerName: server}) // self-signed: compared below
	require.NoError(t, err, "TLS handshake on 8448")
	peer := conn.ConnectionState().PeerCertificates
	_ = conn.Close()
	require.NotEmpty(t, peer)
	assert.True(t, want.Equal(peer[0]), "8448 serves the certificate in /data/%s.tls.crt", server)

	// The certificate from /data is the only root the client trusts.
	roots := x509.NewCertPool()
	roots.AddCert(want)
	client := &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{
		TLSClientConfig: &tls.Config{RootCAs: roots, ServerName: server},
	}}
	var keys struct {
		ServerName string `json:"server_name"`
		VerifyKeys map[string]struct {
			Key string `json:"key"`
		} `json:"verify_keys"`
	}
	getJSON(t, client, "https://"+addr+"/_matrix/key/v2/server", &keys)
	assert.Equal(t, server, keys.ServerName)
	keyID, public := signingKey(t, filepath.Join(data, server+".signing.key"))
	require.Contains(t, keys.VerifyKeys, keyID, "the key from /data/%s.signing.key is published", server)
	assert.Equal(t, public, keys.VerifyKeys[keyID].Key)

	var versions struct {
		Versions []string `json:"versions"`
	}
	getJSON(t, client, "https://"+addr+"/_matrix/client/versions", &versions)
	assert.NotEmpty(t, versions.Versions, "the client API on 8448")
}

// signingKey reads a Synapse signing key file ("ed25519 a_XXXX <seed>") and
// returns its key ID and the unpadded base64 public key.
func signingKey(t *testing.T, file string) (string, string) {
	t.Helper()
	b, err := os.ReadFile(file)
	require.NoError(t, err)
	f := strings.Fields(string(b))
	require.Len(t, f, 3, "signing key file %s: want 'ed25519 <version> <seed>'", file)
	require.Equal(t, "ed25519", f[0])
	seed, err := base64.RawStdEncoding.DecodeString(strings.TrimRight(f[2], "="))
	require.NoError(t, err, "seed of %s", file)
	require.Len(t, seed, ed25519.SeedSize)
	pub := ed25519.NewKeyFromSeed(seed).Public().(ed25519.PublicKey)
	return "ed25519:" + f[1], base64.RawStdEncoding.EncodeToString(pub)
}

func getJSON(t *testing.T, client *http.Client, url string, v any) {
	t.Helper()
	resp, err := client.Get(url)
	require.NoError(t, err, "GET %s", url)
	defer resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode, "GET %s", url)
	require.NoError(t, json.NewDecoder(resp.Body).Decode(v), "GET %s", url)
}

// Scenario 6: open registration through the client API, and closed.
func TestRegistration(t *testing.T) {
	t.Parallel()
	image := synapseImage(t)
	for _, tc := range []struct {
		value string
		open  bool
	}{{"yes", true}, {"", false}} {
		name := "SYNAPSE_ENABLE_REGISTRATION=" + tc.value
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			server := "reg.e2e.test"
			env := baseEnv(server)
			if tc.value != "" {
				env["SYNAPSE_ENABLE_REGISTRATION"] = tc.value
			}
			s := runSynapse(t, server, "", dockertest.Options{Image: image, Env: env})
			hs := matrixflow.Homeserver{URL: s.URL("http", "8008"), ServerName: server}
			cli := hs.Client(t, "", "")
			user := "e2e-self-" + matrixflow.RandomSuffix()
			req := &mautrix.ReqRegister[any]{Username: user, Password: "self registered"}
			if !tc.open {
				_, _, err := cli.Register(ctx, req)
				require.Error(t, err, "registration must be refused")
				assert.True(t, errors.Is(err, mautrix.MForbidden), "want 403 M_FORBIDDEN, got %v", err)
				return
			}
			resp, err := cli.RegisterDummy(ctx, req)
			require.NoError(t, err, "register through the client API")
			assert.Equal(t, id.NewUserID(user, server), resp.UserID)
			who, err := hs.Client(t, resp.UserID, resp.AccessToken).Whoami(ctx)
			require.NoError(t, err)
			assert.Equal(t, resp.UserID, who.UserID)
		})
	}
}

// Scenario 7: an app service registration in /data/appservices is loaded.
func TestAppService(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	const server = "as.e2e.test"
	const asToken = "e2e-as-token-0123456789"
	data := dockertest.HostDir(t, synapseImage(t))
	require.NoError(t, os.MkdirAll(filepath.Join(data, "appservices"), 0o755))
	reg := `# An app service without a URL: Synapse pushes it nothing.
id: e2e-bridge
url: null
as_token: ` + asToken + `
hs_token: e2e-hs-token-0123456789
sender_localpart: e2e-bridgebot
rate_limited: false
namespaces:
  users:
    - exclusive: true
      regex: "@e2ebridge_.*:as\\.e2e\\.test"
  aliases: []
  rooms: []
`
	require.NoError(t, os.WriteFile(filepath.Join(data, "appservices", "e2e-bridge.yaml"), []byte(reg), 0o644))
	s := runSynapse(t, server, data, dockertest.Options{Env: baseEnv(server)})

	hs := matrixflow.Homeserver{URL: s.URL("http", "8008"), ServerName: server}
	as := hs.Client(t, "", asToken)
	resp, _, err := as.Register(ctx, &mautrix.ReqRegister[any]{Username: "e2ebridge_alice", Type: mautrix.AuthTypeAppservice})
	require.NoError(t, err, "the app service registers a user in its namespace")
	assert.Equal(t, id.NewUserID("e2ebridge_alice", server), resp.UserID)

	_, _, err = as.Register(ctx, &mautrix.ReqRegister[any]{Username: "e2e-outside", Type: mautrix.AuthTypeAppservice})
	assert.True(t, errors.Is(err, mautrix.MExclusive), "a user outside the namespace is refused with M_EXCLUSIVE, got %v", err)
	_, _, err = hs.Client(t, "", "not-the-as-token").Register(ctx, &mautrix.ReqRegister[any]{Username: "e2ebridge_bob", Type: mautrix.AuthTypeAppservice})
	assert.Error(t, err, "a wrong as_token is refused")
}

// Scenario 8: TURN URIs and secret reach /voip/turnServer.
func TestTURN(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	const server = "turn.e2e.test"
	const secret = "e2e turn secret"
	env := baseEnv(server)
	env["SYNAPSE_TURN_URIS"] = " turn:turn.e2e.test:3478?transport=udp, ,turns:turn.e2e.test:5349?transport=tcp,stun:stun.e2e.test:3478,"
	env["SYNAPSE_TURN_SECRET"] = secret
	s := runSynapse(t, server, "", dockertest.Options{Env: env})

	hs := s.homeserver(t)
	user := "e2e-caller-" + matrixflow.RandomSuffix()
	reg := hs.RegisterShared(ctx, t, user, "caller pass", false)
	turn, err := hs.Client(t, reg.UserID, reg.AccessToken).TurnServer(ctx)
	require.NoError(t, err, "GET /_matrix/client/v3/voip/turnServer")
	assert.Equal(t, []string{
		"turn:turn.e2e.test:3478?transport=udp",
		"turns:turn.e2e.test:5349?transport=tcp",
		"stun:stun.e2e.test:3478",
	}, turn.URIs)
	assert.Positive(t, turn.TTL)
	require.NotEmpty(t, turn.Username)
	// With a shared secret the password is base64(HMAC-SHA1(secret, username)).
	mac := hmac.New(sha1.New, []byte(secret))
	mac.Write([]byte(turn.Username))
	assert.Equal(t, base64.StdEncoding.EncodeToString(mac.Sum(nil)), turn.Password, "the TURN password is made with SYNAPSE_TURN_SECRET")
}

// Scenario 9: Synapse sends mail through SYNAPSE_SMTP_HOST. The sink listens
// on the gateway of the test's own Docker network, the host's address there.
func TestSMTP(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	const server = "smtp.e2e.test"
	image := synapseImage(t)
	net := dockertest.Network(t)
	gateway := dockertest.NetworkGateway(t, net)
	sink, err := smtpsink.Listen(gateway + ":0")
	require.NoError(t, err)
	t.Cleanup(func() { _ = sink.Close() })

	env := baseEnv(server)
	env["SYNAPSE_SMTP_HOST"] = gateway
	env["SYNAPSE_SMTP_PORT"] = itoa(sink.Addr().Port)
	s := runSynapse(t, server, "", dockertest.Options{Image: image, Env: env, Network: net})

	hs := s.homeserver(t)
	user := "e2e-mailer-" + matrixflow.RandomSuffix()
	reg := hs.RegisterShared(ctx, t, user, "mailer pass", false)
	cli := hs.Client(t, reg.UserID, reg.AccessToken)
	email := user + "@mail.e2e.test"
	var resp struct {
		SID string `json:"sid"`
	}
	_, err = cli.MakeRequest(ctx, http.MethodPost, cli.BuildClientURL("v3", "account", "3pid", "email", "requestToken"),
		map[string]any{"client_secret": "e2eclientsecret" + matrixflow.RandomSuffix(), "email": email, "send_attempt": 1}, &resp)
	require.NoError(t, err, "POST /account/3pid/email/requestToken")
	assert.NotEmpty(t, resp.SID)

	wctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	msg, err := sink.WaitFor(wctx, email)
	require.NoError(t, err, "the validation mail reaches the SMTP server")
	assert.Equal(t, "noreply@"+server, msg.From, "envelope sender of the default notif_from")
	header, err := msg.Header()
	require.NoError(t, err)
	assert.Equal(t, "Matrix <noreply@"+server+">", header.Get("From"), "default notif_from Matrix <noreply@SERVER_NAME>")
	text, err := msg.Text()
	require.NoError(t, err)
	assert.Contains(t, text, "https://"+server+"/_matrix/client/unstable/add_threepid/email/submit_token?token=",
		"the validation link uses the default public_baseurl https://SERVER_NAME/")
}
