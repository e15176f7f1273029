package tests

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"maunium.net/go/mautrix"
	"maunium.net/go/mautrix/event"

	"github.com/synapse-image/synapse-image/internal/dockertest"
	"github.com/synapse-image/synapse-image/tests/internal/matrixflow"
)

// Generic settings (SYNAPSE_CONFIG__…, SYNAPSE_CONFIG_FILE__…, conf.d):
// settings the image has no variable for reach Synapse and change what it
// does, seen through a Matrix client.

// burst sends n messages as fast as the client can and returns how many
// were refused with 429 M_LIMIT_EXCEEDED. mautrix-go retries 429s on its
// own; the burst must see them, so the client does not retry.
func burst(ctx context.Context, t *testing.T, cli *mautrix.Client, n int) int {
	t.Helper()
	room, err := cli.CreateRoom(ctx, &mautrix.ReqCreateRoom{Preset: "private_chat", Name: "burst"})
	require.NoError(t, err)
	limited := 0
	for i := range n {
		_, err := cli.SendMessageEvent(ctx, room.RoomID, event.EventMessage,
			&event.MessageEventContent{MsgType: event.MsgText, Body: fmt.Sprintf("burst %d", i)})
		var httpErr mautrix.HTTPError
		switch {
		case err == nil:
		case errors.As(err, &httpErr) && httpErr.IsStatus(http.StatusTooManyRequests):
			assert.ErrorIs(t, err, mautrix.MLimitExceeded)
			limited++
		default:
			require.NoError(t, err, "message %d", i)
		}
	}
	return limited
}

func noRetries(cli *mautrix.Client) *mautrix.Client {
	cli.DefaultHTTPRetries = 0
	cli.IgnoreRateLimit = true
	return cli
}

// TestGenericRateLimit: with Synapse's defaults an ordinary user sending 50
// messages at once is rate-limited; with rc_message raised through
// SYNAPSE_CONFIG__RC_MESSAGE__… (a bridge bot's setting) none is.
func TestGenericRateLimit(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	const server = "ratelimit.e2e.test"
	data := dockertest.HostDir(t, synapseImage(t))

	s := runSynapse(t, server, data, dockertest.Options{Env: baseEnv(server)})
	hs := s.homeserver(t)
	user := "e2e-bot-" + matrixflow.RandomSuffix()
	reg := hs.RegisterShared(ctx, t, user, "bot pass", false)
	limited := burst(ctx, t, noRetries(hs.Client(t, reg.UserID, reg.AccessToken)), 50)
	assert.Positive(t, limited, "with the defaults, 50 messages at once get 429 M_LIMIT_EXCEEDED")
	_, err := s.Stop(ctx)
	require.NoError(t, err)

	env := baseEnv(server)
	env["SYNAPSE_CONFIG__RC_MESSAGE__PER_SECOND"] = "1000"
	env["SYNAPSE_CONFIG__RC_MESSAGE__BURST_COUNT"] = "1000"
	s = runSynapse(t, server, data, dockertest.Options{Env: env})
	hs = s.homeserver(t)
	cli := noRetries(hs.Client(t, reg.UserID, reg.AccessToken))
	assert.Zero(t, burst(ctx, t, cli, 50), "rc_message raised through SYNAPSE_CONFIG__RC_MESSAGE__*: no message is rate-limited")
}

// TestGenericURLPreview: URL previews, off by default, are turned on by a
// conf.d fragment; Synapse fetches a page the test serves on the gateway of
// the test's own network (allowed by url_preview_ip_range_whitelist) and
// returns its title.
func TestGenericURLPreview(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	const server = "preview.e2e.test"
	const title = "Generic settings reach Synapse"
	image := synapseImage(t)
	network := dockertest.Network(t)
	gateway := dockertest.NetworkGateway(t, network)

	ln, err := net.Listen("tcp", gateway+":0")
	require.NoError(t, err)
	page := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprintf(w, "<!doctype html><html><head><title>%s</title></head><body>preview me</body></html>", title)
	})}
	go func() { _ = page.Serve(ln) }()
	t.Cleanup(func() { _ = page.Close() })
	pageURL := "http://" + ln.Addr().String() + "/page.html"

	data := dockertest.HostDir(t, image)
	require.NoError(t, os.MkdirAll(filepath.Join(data, "conf.d"), 0o755))
	fragment := fmt.Sprintf(`# URL previews, for the test's page on its own Docker network only.
url_preview_enabled: yes
url_preview_ip_range_blacklist:
  - 127.0.0.0/8
  - 10.0.0.0/8
  - 172.16.0.0/12
  - 192.168.0.0/16
  - 169.254.0.0/16
  - ::1/128
  - fe80::/10
  - fc00::/7
url_preview_ip_range_whitelist: ['%s/32']
`, gateway)
	require.NoError(t, os.WriteFile(filepath.Join(data, "conf.d", "50-previews.yaml"), []byte(fragment), 0o644))

	s := runSynapse(t, server, data, dockertest.Options{Image: image, Env: baseEnv(server), Network: network})
	hs := s.homeserver(t)
	reg := hs.RegisterShared(ctx, t, "e2e-previewer-"+matrixflow.RandomSuffix(), "preview pass", false)
	cli := hs.Client(t, reg.UserID, reg.AccessToken)

	var preview map[string]any
	_, err = cli.MakeRequest(ctx, http.MethodGet, cli.BuildURLWithQuery(mautrix.MediaURLPath{"v3", "preview_url"},
		map[string]string{"url": pageURL}), nil, &preview)
	require.NoError(t, err, "GET /_matrix/media/v3/preview_url")
	assert.Equal(t, title, preview["og:title"], "the preview has the page's title")
}

// TestGenericSecretFromFile: a secret given as SYNAPSE_CONFIG_FILE__… (a
// Docker secret mounted as a file) is the one Synapse uses — the shared
// secret registration works with it — and is in no log line and not in
// `check`'s output.
func TestGenericSecretFromFile(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	const server = "secretfile.e2e.test"
	image := synapseImage(t)
	secret := "file-secret-" + matrixflow.RandomSuffix() + matrixflow.RandomSuffix()
	dir := t.TempDir()
	require.NoError(t, os.Chmod(dir, 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "registration"), []byte(secret+"\n"), 0o644))

	env := baseEnv(server)
	env["SYNAPSE_CONFIG_FILE__REGISTRATION_SHARED_SECRET"] = "/run/secrets/registration"
	opts := dockertest.Options{Image: image, Env: env, Mounts: []string{dir + ":/run/secrets:ro"}}
	s := runSynapse(t, server, "", opts)
	hs := s.homeserver(t)
	hs.SharedSecret = secret
	user := "e2e-secret-" + matrixflow.RandomSuffix()
	reg := hs.RegisterShared(ctx, t, user, "secret pass", false)
	assert.Equal(t, "@"+user+":"+server, reg.UserID.String(), "registered with the secret from the file")

	check, err := dockertest.Combined(ctx, append([]string{"run", "--rm", "--volume", dir + ":/run/secrets:ro",
		"--env", "SYNAPSE_SERVER_NAME=" + server, "--env", "SYNAPSE_REPORT_STATS=no",
		"--env", "SYNAPSE_CONFIG_FILE__REGISTRATION_SHARED_SECRET=/run/secrets/registration"}, image, "check")...)
	require.NoError(t, err, check)
	assert.Contains(t, check, "registration_shared_secret replaced by SYNAPSE_CONFIG_FILE__REGISTRATION_SHARED_SECRET")
	assert.NotContains(t, check, secret, "check masks the secret")

	stdout, stderr, err := s.Logs(ctx)
	require.NoError(t, err)
	assert.NotContains(t, stdout+stderr, secret, "the secret is in no log line")
	// As Synapse's user: root in the container may not read another
	// user's /proc/1/environ (no CAP_SYS_PTRACE).
	environ, err := dockertest.Combined(ctx, "exec", "--user", "991:991", s.Name, "cat", "/proc/1/environ")
	require.NoError(t, err, "read Synapse's environment: %s", environ)
	assert.Contains(t, environ, "SYNAPSE_SERVER_NAME=", "/proc/1/environ is Synapse's environment")
	assert.NotContains(t, environ, "SYNAPSE_CONFIG_FILE__", "Synapse's environment has no generic variable")
}

// TestGenericMovedMediaAndPort: media_store_path on its own volume and the
// listener on another port, both through generic variables: /start gives
// the new media store to the Synapse user, the health check follows the
// port, and uploads land in the moved store.
func TestGenericMovedMediaAndPort(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	const server = "moved.e2e.test"
	image := synapseImage(t)
	media := dockertest.Volume(t)

	env := baseEnv(server)
	env["SYNAPSE_CONFIG__MEDIA_STORE_PATH"] = "/media"
	env["SYNAPSE_CONFIG__LISTENERS"] = `[{port: 8118, type: http, x_forwarded: true, bind_addresses: ['0.0.0.0'], resources: [{names: [client, federation], compress: false}]}]`
	c := dockertest.Run(t, dockertest.Options{Image: image, Env: env, Mounts: []string{media + ":/media"}, Ports: []string{"8118"}})
	c.WaitHealthy(ctx, healthTimeout) // /start health probes 8118
	s := &synapse{Container: c, ServerName: server}
	hs := matrixflow.Homeserver{URL: c.URL("http", "8118"), ServerName: server, SharedSecret: s.readData(t, server+".registration.key")}
	reg := hs.RegisterShared(ctx, t, "e2e-media-"+matrixflow.RandomSuffix(), "media pass", false)
	cli := hs.Client(t, reg.UserID, reg.AccessToken)
	body := []byte("moved media store " + matrixflow.RandomSuffix())
	up, err := cli.UploadBytes(ctx, body, "text/plain")
	require.NoError(t, err, "upload")
	hs.CheckMedia(ctx, t, cli, up.ContentURI, body)

	out, err := c.Exec(ctx, "find", "/media", "-type", "f", "-path", "*local_content*")
	require.NoError(t, err, out)
	assert.NotEmpty(t, strings.TrimSpace(out), "the upload is stored in the moved media store")
	out, err = c.Exec(ctx, "stat", "-c", "%u:%g", "/media")
	require.NoError(t, err, out)
	assert.Equal(t, "991:991", strings.TrimSpace(out), "the moved media store belongs to the Synapse user")
	_, err = c.Exec(ctx, "test", "-e", "/data/media/local_content")
	assert.Error(t, err, "nothing is stored in the default media store")

	health, err := c.Exec(ctx, "/start", "health")
	assert.NoError(t, err, "/start health follows the listener port: %s", health)
}
