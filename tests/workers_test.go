package tests

import (
	"context"
	"fmt"
	"io"
	stdnet "net"
	"net/http"
	"net/url"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"maunium.net/go/mautrix"
	"maunium.net/go/mautrix/event"
	"maunium.net/go/mautrix/id"

	"github.com/synapse-image/synapse-image/internal/dockertest"
	"github.com/synapse-image/synapse-image/tests/internal/matrixflow"
)

// redisImage returns the Redis image (REDIS_IMAGE, default
// synapse-redis:latest), or skips when it is not loaded.
func redisImage(t *testing.T) string {
	t.Helper()
	requireEngine(t)
	img := envOr("REDIS_IMAGE", "synapse-redis:latest")
	dockertest.RequireImage(t, img, "build it with `go run . build --recipe image/redis.yaml --load`, or set REDIS_IMAGE")
	return img
}

// requireRedisModule skips (without a txredisapi wheel at hand) or fails
// (with one, under E2E_REQUIRED) a worker test when the image lacks
// txredisapi, which comes from the build's wheel cache.
func requireRedisModule(t *testing.T, image string) {
	t.Helper()
	dockertest.RequirePythonModule(t, image, "txredisapi")
}

// Workers: PostgreSQL, Redis, the main and seven workers sharing /data, each
// reached directly, then through the router. Each worker proves it served
// its traffic: the synchrotron answers /sync, the event persister persisted
// the events the main created (PostgreSQL records the writer of each
// event), the media worker stores and serves uploads, which the main no
// longer does, the typing, receipts and to-device writers take their
// requests (PostgreSQL records the writer of the receipt and of the
// to-device message), and the pusher, not the main, pushes a message to a
// second user's push gateway.
func TestWorkers(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	const server = "workers.e2e.test"
	image := synapseImage(t)
	requireRedisModule(t, image)
	pgImage, rdImage := postgresImage(t), redisImage(t)
	net := dockertest.Network(t)
	data := dockertest.HostDir(t, image)

	db := dockertest.Run(t, dockertest.Options{Image: pgImage, Network: net, Aliases: []string{"db"},
		Env: postgresEnv("matrix", "pg-password", "synapse")})
	dockertest.Run(t, dockertest.Options{Image: rdImage, Network: net, Aliases: []string{"redis"},
		Env: map[string]string{"REDIS_PASSWORD": "redis-password"}})

	const topology = "synchrotron,event_persister,media_repository,typing,to_device,receipts,pusher"
	gateway := dockertest.NetworkGateway(t, net)
	pushURL, pushes := pushGateway(t, gateway)
	env := func(name string) map[string]string {
		e := baseEnv(server)
		e["POSTGRES_PASSWORD"] = "pg-password"
		e["SYNAPSE_REDIS_HOST"] = "redis"
		e["SYNAPSE_REDIS_PASSWORD"] = "redis-password"
		e["SYNAPSE_WORKERS"] = topology
		if name != "" {
			e["SYNAPSE_WORKER_NAME"] = name
		}
		// The push gateway of the test is on the Docker network's gateway,
		// a private address Synapse refuses unless allowed.
		e["SYNAPSE_CONFIG__IP_RANGE_WHITELIST"] = "['" + gateway + "/32']"
		return e
	}
	mainProc := runSynapse(t, server, data, dockertest.Options{Env: env(""), Network: net, Aliases: []string{"synapse"}})
	procs := map[string]*synapse{}
	for _, name := range []string{"synchrotron-1", "event-persister-1", "media-repository-1", "typing-1", "to-device-1", "receipts-1", "pusher-1"} {
		procs[name] = runSynapse(t, server, data, dockertest.Options{Env: env(name), Network: net, Aliases: []string{name}})
	}
	for name, p := range procs {
		cmd, err := p.Exec(ctx, "cat", "/proc/1/cmdline")
		require.NoError(t, err)
		assert.Equal(t, "python3 -s -P -m synapse.app.generic_worker --config-path /data/generated/"+name+".yaml",
			strings.TrimSpace(strings.ReplaceAll(cmd, "\x00", " ")), "the worker is PID 1")
	}

	hs := mainProc.homeserver(t)
	suffix := matrixflow.RandomSuffix()
	admin, pass := "admin-"+suffix, "pass "+suffix
	hs.RegisterShared(ctx, t, admin, pass, true)
	user := hs.Login(ctx, t, admin, pass)
	room, err := user.Client.CreateRoom(ctx, &mautrix.ReqCreateRoom{Preset: "private_chat"})
	require.NoError(t, err, "create a room (on the main)")
	body := "persisted by a worker " + suffix
	sent, err := user.Client.SendText(ctx, room.RoomID, body)
	require.NoError(t, err, "send a message (on the main)")

	// The event persister wrote the events the main created.
	writer, err := psql(ctx, db, "matrix", "synapse", fmt.Sprintf("SELECT instance_name FROM events WHERE event_id = '%s'", sent.EventID))
	require.NoError(t, err)
	assert.Equal(t, "event-persister-1", writer, "events.instance_name: the writer of the message")
	mainWriters, err := psql(ctx, db, "matrix", "synapse", fmt.Sprintf("SELECT count(*) FROM events WHERE room_id = '%s' AND instance_name IS DISTINCT FROM 'event-persister-1'", room.RoomID))
	require.NoError(t, err)
	assert.Equal(t, "0", mainWriters, "every event of the room was persisted by the event persister")

	// The synchrotron answers /sync and sees the message.
	syncHS := matrixflow.Homeserver{URL: procs["synchrotron-1"].URL("http", "8008"), ServerName: server}
	syncHS.WaitForMessage(ctx, t, syncHS.Client(t, user.ID, user.Client.AccessToken), room.RoomID, sent.EventID, body)
	// Synapse logs a request once its connection is done: wait for the line.
	procs["synchrotron-1"].WaitForLog(ctx, `"GET /_matrix/client/v3/sync?`, 30*time.Second)

	// The media worker stores and serves media; the main has no media repository.
	mediaHS := matrixflow.Homeserver{URL: procs["media-repository-1"].URL("http", "8008"), ServerName: server}
	media := mediaHS.Client(t, user.ID, user.Client.AccessToken)
	content := []byte("media on a worker " + suffix)
	up, err := media.UploadBytesWithName(ctx, content, "text/plain", "w.txt")
	require.NoError(t, err, "upload to the media worker")
	mediaHS.CheckMedia(ctx, t, media, up.ContentURI, content)
	procs["media-repository-1"].WaitForLog(ctx, `"POST /_matrix/media/v3/upload`, 30*time.Second)
	resp, err := http.Get(mainProc.URL("http", "8008") + "/_matrix/client/v1/media/config")
	require.NoError(t, err)
	resp.Body.Close()
	assert.NotEqual(t, http.StatusOK, resp.StatusCode, "the main serves no media (enable_media_repo: false)")

	// The stream writers: each answers its requests and writes its stream.
	direct := func(name string) *mautrix.Client {
		hs := matrixflow.Homeserver{URL: procs[name].URL("http", "8008"), ServerName: server}
		cli := hs.Client(t, user.ID, user.Client.AccessToken)
		cli.DeviceID = user.Client.DeviceID
		return cli
	}
	_, err = direct("typing-1").UserTyping(ctx, room.RoomID, true, 10*time.Second)
	require.NoError(t, err, "typing (on the typing writer)")
	procs["typing-1"].WaitForLog(ctx, `"PUT /_matrix/client/v3/rooms/`+url.PathEscape(string(room.RoomID))+`/typing/`, 30*time.Second)
	require.NoError(t, direct("receipts-1").SendReceipt(ctx, room.RoomID, sent.EventID, event.ReceiptTypeRead, nil), "a read receipt (on the receipts writer)")
	receiptWriter, err := psql(ctx, db, "matrix", "synapse", fmt.Sprintf("SELECT instance_name FROM receipts_linearized WHERE room_id = '%s' AND user_id = '%s'", room.RoomID, user.ID))
	require.NoError(t, err)
	assert.Equal(t, "receipts-1", receiptWriter, "receipts_linearized.instance_name: the writer of the receipt")
	_, err = direct("to-device-1").SendToDevice(ctx, event.NewEventType("org.example.e2e"), &mautrix.ReqSendToDevice{
		Messages: map[id.UserID]map[id.DeviceID]*event.Content{user.ID: {user.Client.DeviceID: {Raw: map[string]any{"hello": suffix}}}}})
	require.NoError(t, err, "a to-device message (on the to_device writer)")
	toDeviceWriter, err := psql(ctx, db, "matrix", "synapse", fmt.Sprintf("SELECT DISTINCT instance_name FROM device_inbox WHERE user_id = '%s' AND message_json LIKE '%%%s%%'", user.ID, suffix))
	require.NoError(t, err)
	assert.Equal(t, "to-device-1", toDeviceWriter, "device_inbox.instance_name: the writer of the to-device message")

	// The pusher sends the push of a message to another user's gateway.
	memberName := "member-" + suffix
	hs.RegisterShared(ctx, t, memberName, pass, false)
	member := hs.Login(ctx, t, memberName, pass)
	_, err = user.Client.InviteUser(ctx, room.RoomID, &mautrix.ReqInviteUser{UserID: member.ID})
	require.NoError(t, err)
	_, err = member.Client.JoinRoomByID(ctx, room.RoomID)
	require.NoError(t, err)
	kind := mautrix.PusherKindHTTP
	require.NoError(t, member.Client.SetPusher(ctx, &mautrix.Pusher{AppDisplayName: "e2e", AppID: "org.example.e2e", DeviceDisplayName: "e2e",
		Kind: &kind, Language: "en", PushKey: "key-" + suffix, Data: mautrix.PusherData{"url": pushURL}}), "set a pusher (on the main)")
	pushed, err := user.Client.SendText(ctx, room.RoomID, "pushed "+suffix)
	require.NoError(t, err)
	select {
	case body := <-pushes:
		assert.Contains(t, body, string(pushed.EventID), "the push names the message")
	case <-time.After(90 * time.Second):
		t.Fatal("no push reached the gateway")
	}
	procs["pusher-1"].WaitForLog(ctx, "/_matrix/push/v1/notify", 30*time.Second)
	assert.NotContains(t, logsOf(ctx, t, mainProc.Container), "/_matrix/push/v1/notify", "the main sends no push (start_pushers: false)")

	t.Run("through the router", func(t *testing.T) {
		throughRouter(ctx, t, net, topology, user, procs, mainProc, server)
	})

	// The workers used Redis and the main's replication listener.
	for name, p := range procs {
		assert.NotContains(t, logsOf(ctx, t, p.Container), "Traceback", name)
	}
	// The main handed its events to the persister over HTTP replication.
	procs["event-persister-1"].WaitForLog(ctx, `"POST /_synapse/replication/send_events/`, 30*time.Second)
	assert.NotContains(t, logsOf(ctx, t, mainProc.Container), `"GET /_matrix/client/v3/sync?`, "the main served no /sync")
}

// routerImage returns the router image (ROUTER_IMAGE, default
// synapse-router:latest), or skips when it is not loaded.
func routerImage(t *testing.T) string {
	t.Helper()
	img := envOr("ROUTER_IMAGE", "synapse-router:latest")
	dockertest.RequireImage(t, img, "build it with `go run . build --recipe image/router.yaml --load`, or set ROUTER_IMAGE")
	return img
}

// throughRouter: the router, generated from the same SYNAPSE_WORKERS, sends
// /sync to the synchrotron, media to the media worker and the rest to the
// main.
func throughRouter(ctx context.Context, t *testing.T, net, topology string, user *matrixflow.User, procs map[string]*synapse, mainProc *synapse, server string) {
	image := routerImage(t)
	r := dockertest.Run(t, dockertest.Options{Image: image, Network: net, Ports: []string{"8008"},
		Env: map[string]string{"SYNAPSE_WORKERS": topology}})
	r.WaitHealthy(ctx, healthTimeout)
	cmd, err := r.Exec(ctx, "cat", "/proc/1/cmdline")
	require.NoError(t, err)
	assert.Equal(t, "haproxy -W -db -f /tmp/haproxy.cfg", strings.TrimSpace(strings.ReplaceAll(cmd, "\x00", " ")), "HAProxy is PID 1")

	hs := matrixflow.Homeserver{URL: r.URL("http", "8008"), ServerName: server}
	cli := hs.Client(t, user.ID, user.Client.AccessToken)
	count := func(p *synapse, text string) int { return strings.Count(logsOf(ctx, t, p.Container), text) }
	syncs, mainSyncs := count(procs["synchrotron-1"], `"GET /_matrix/client/v3/sync?`), count(mainProc, `"GET /_matrix/client/v3/sync?`)
	_, err = cli.SyncRequest(ctx, 0, "", "", true, "")
	require.NoError(t, err, "/sync through the router")
	// Synapse logs a request once its connection is done: wait for the line.
	require.Eventually(t, func() bool { return count(procs["synchrotron-1"], `"GET /_matrix/client/v3/sync?`) > syncs }, 30*time.Second, 200*time.Millisecond,
		"the router sent /sync to the synchrotron")
	assert.Equal(t, mainSyncs, count(mainProc, `"GET /_matrix/client/v3/sync?`), "not to the main")

	uploads := count(procs["media-repository-1"], `"POST /_matrix/media/v3/upload`)
	content := []byte("media through the router")
	up, err := cli.UploadBytesWithName(ctx, content, "text/plain", "r.txt")
	require.NoError(t, err, "upload through the router")
	hs.CheckMedia(ctx, t, cli, up.ContentURI, content)
	require.Eventually(t, func() bool { return count(procs["media-repository-1"], `"POST /_matrix/media/v3/upload`) > uploads }, 30*time.Second, 200*time.Millisecond,
		"the router sent the upload to the media worker")

	who, err := cli.Whoami(ctx)
	require.NoError(t, err, "whoami through the router (to the main)")
	assert.Equal(t, user.ID, who.UserID)
	resp, err := http.Get(r.URL("http", "8008") + "/_router/health")
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusOK, resp.StatusCode)
}

// pushGateway is a push gateway on address (the Docker network's gateway):
// its notify URL, and the bodies of the pushes it receives.
func pushGateway(t *testing.T, address string) (string, <-chan string) {
	t.Helper()
	ln, err := stdnet.Listen("tcp", address+":0")
	require.NoError(t, err)
	got := make(chan string, 16)
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		select {
		case got <- string(body):
		default:
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"rejected":[]}`))
	})}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	return "http://" + ln.Addr().String() + "/_matrix/push/v1/notify", got
}

// logsOf is the combined log of c.
func logsOf(ctx context.Context, t *testing.T, c *dockertest.Container) string {
	t.Helper()
	stdout, stderr, err := c.Logs(ctx)
	require.NoError(t, err)
	return stdout + stderr
}

// The workers sample, docker-compose.workers.yml, up with only the images
// and the port overridden, and the synchrotron scaled to three replicas:
// every container healthy, each replica its own instance, the client flow
// through the router, the message persisted by the event persister, /sync
// answered by the synchrotrons.
func TestComposeWorkersSample(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	const server = "matrix.example.com" // the sample's default
	image := synapseImage(t)
	requireRedisModule(t, image)
	port := freePort(t)
	c := dockertest.NewCompose(t, filepath.Join(filepath.Dir(composeFile(t)), "docker-compose.workers.yml"),
		"SYNAPSE_IMAGE="+image,
		"POSTGRES_IMAGE="+postgresImage(t),
		"REDIS_IMAGE="+redisImage(t),
		"ROUTER_IMAGE="+routerImage(t),
		"SYNAPSE_HTTP_PORT="+itoa(port),
	)
	start := time.Now()
	c.Must(ctx, "up", "--detach", "--scale", "synchrotron=3")
	services := []string{"db", "redis", "synapse", "synchrotron", "event-persister-1", "media-repository-1", "router"}
	for _, svc := range services {
		for _, ctr := range c.Containers(ctx, svc) {
			ctr.WaitHealthy(ctx, healthTimeout)
		}
	}
	syncers := c.Containers(ctx, "synchrotron")
	require.Len(t, syncers, 3)
	names := map[string]bool{}
	for _, s := range syncers {
		// Each replica names itself after its container (synchrotron-ID).
		logs := s.WaitForLog(ctx, "Instance name: synchrotron-", time.Minute)
		i := strings.Index(logs, "Instance name: ")
		names[strings.Fields(logs[i+len("Instance name: "):])[0]] = true
	}
	assert.Len(t, names, 3, "three replicas, three instance names: %v", names)
	t.Logf("docker-compose up to every service healthy: %s", time.Since(start).Round(100*time.Millisecond))

	mainProc := &synapse{Container: c.Container(ctx, "synapse"), ServerName: server}
	hs := matrixflow.Homeserver{URL: "http://127.0.0.1:" + itoa(port), ServerName: server, SharedSecret: mainProc.readData(t, server+".registration.key")}
	res := hs.Run(ctx, t)

	writer, err := psql(ctx, c.Container(ctx, "db"), "synapse", "synapse", fmt.Sprintf("SELECT instance_name FROM events WHERE event_id = '%s'", res.EventID))
	require.NoError(t, err)
	assert.Equal(t, "event-persister-1", writer, "the event persister wrote the message")
	syncs := 0
	for _, s := range syncers {
		syncs += strings.Count(logsOf(ctx, t, s), `"GET /_matrix/client/v3/sync?`)
	}
	assert.Positive(t, syncs, "the synchrotrons answered /sync")
	assert.NotContains(t, logsOf(ctx, t, mainProc.Container), `"GET /_matrix/client/v3/sync?`, "the main answered no /sync")

	// The faults below have the admin send more messages, quicker, than
	// Synapse's default rc_message lets one user (429 once, when the sends
	// held while Redis was down went through together): lift it for them.
	admin := res.Admin.Client
	_, err = admin.MakeRequest(ctx, http.MethodPost,
		admin.BuildURL(mautrix.SynapseAdminURLPath{"v1", "users", admin.UserID.String(), "override_ratelimit"}),
		map[string]int{"messages_per_second": 0, "burst_count": 0}, nil)
	require.NoError(t, err, "lift the admin's message rate limit")

	// Faults, while a client syncs in a loop through the router.
	cli := hs.Client(t, res.Member.ID, res.Member.Client.AccessToken)
	send := func(t *testing.T, n int, what string) []id.EventID {
		var ids []id.EventID
		for i := 0; i < n; i++ {
			r, err := res.Admin.Client.SendText(ctx, res.RoomID, fmt.Sprintf("%s %d", what, i))
			require.NoError(t, err, "send %s %d", what, i)
			ids = append(ids, r.EventID)
		}
		return ids
	}
	t.Run("a synchrotron killed", func(t *testing.T) {
		loop := startSyncLoop(ctx, cli, res.RoomID)
		loop.waitSeen(t, send(t, 1, "before"), 30*time.Second)
		// Kill the replica that serves this user (its log has the syncs).
		counts := map[string]int{}
		victim := syncers[0]
		for _, s := range syncers {
			counts[s.Name] = strings.Count(logsOf(ctx, t, s), "{"+string(res.Member.ID)+"}")
			if counts[s.Name] > counts[victim.Name] {
				victim = s
			}
		}
		t.Logf("syncs of %s per synchrotron: %v; killing %s", res.Member.ID, counts, victim.Name)
		dockertest.Must(t, ctx, "kill", victim.Name)
		loop.waitSeen(t, send(t, 5, "after the kill"), 60*time.Second)
		longest, failed := loop.finish()
		t.Logf("longest time without a successful sync: %s (%d failed syncs)", longest.Round(100*time.Millisecond), failed)
		assert.Less(t, longest, 15*time.Second, "clients keep syncing within seconds")
		dockertest.Must(t, ctx, "start", victim.Name)
	})
	t.Run("Redis stopped for 10 s", func(t *testing.T) {
		loop := startSyncLoop(ctx, cli, res.RoomID)
		c.Must(ctx, "stop", "redis")
		back := false
		defer func() {
			if !back {
				c.Run(ctx, "start", "redis")
			}
		}()
		// The main answers a send once the persister's position came back
		// through Redis: the sends wait, in the background, for Redis.
		type sent struct {
			ids []id.EventID
			err error
		}
		done := make(chan sent, 1)
		go func() {
			var out sent
			for i := 0; i < 5 && out.err == nil; i++ {
				var r *mautrix.RespSendEvent
				if r, out.err = res.Admin.Client.SendText(ctx, res.RoomID, fmt.Sprintf("while Redis is down %d", i)); out.err == nil {
					out.ids = append(out.ids, r.EventID)
				}
			}
			done <- out
		}()
		time.Sleep(10 * time.Second)
		c.Must(ctx, "start", "redis")
		back = true
		var got sent
		select {
		case got = <-done:
		case <-time.After(3 * time.Minute):
			t.Fatal("the sends made while Redis was down never finished")
		}
		require.NoError(t, got.err, "a send made while Redis was down")
		ids := append(got.ids, send(t, 2, "after Redis is back")...)
		loop.waitSeen(t, ids, 120*time.Second)
		longest, failed := loop.finish()
		t.Logf("longest time without a successful sync: %s (%d failed syncs)", longest.Round(100*time.Millisecond), failed)
	})
	t.Run("the main restarted", func(t *testing.T) {
		c.Must(ctx, "restart", "synapse")
		mainProc.WaitHealthy(ctx, healthTimeout)
		loop := startSyncLoop(ctx, cli, res.RoomID)
		loop.waitSeen(t, send(t, 3, "after the main's restart"), 120*time.Second)
		loop.finish()
	})
}

// syncLoop syncs as cli, every sync a new request through the router, and
// records the events of room it sees and the longest time without a
// successful sync.
type syncLoop struct {
	mu      sync.Mutex
	seen    map[id.EventID]bool
	lastOK  time.Time
	longest time.Duration
	errors  int
	stop    chan struct{}
	done    chan struct{}
}

func startSyncLoop(ctx context.Context, cli *mautrix.Client, room id.RoomID) *syncLoop {
	l := &syncLoop{seen: map[id.EventID]bool{}, lastOK: time.Now(), stop: make(chan struct{}), done: make(chan struct{})}
	go func() {
		defer close(l.done)
		since := ""
		for {
			select {
			case <-l.stop:
				return
			default:
			}
			rctx, cancel := context.WithTimeout(ctx, 20*time.Second)
			resp, err := cli.SyncRequest(rctx, 1000, since, "", since == "", "")
			cancel()
			l.mu.Lock()
			now := time.Now()
			if err != nil {
				l.errors++
				if gap := now.Sub(l.lastOK); gap > l.longest {
					l.longest = gap
				}
				l.mu.Unlock()
				time.Sleep(200 * time.Millisecond)
				continue
			}
			if gap := now.Sub(l.lastOK); gap > l.longest {
				l.longest = gap
			}
			l.lastOK = now
			if r := resp.Rooms.Join[room]; r != nil {
				for _, e := range r.Timeline.Events {
					l.seen[e.ID] = true
				}
			}
			l.mu.Unlock()
			since = resp.NextBatch
		}
	}()
	return l
}

// waitSeen waits until the loop saw every event of ids.
func (l *syncLoop) waitSeen(t *testing.T, ids []id.EventID, timeout time.Duration) {
	t.Helper()
	require.Eventually(t, func() bool {
		l.mu.Lock()
		defer l.mu.Unlock()
		for _, e := range ids {
			if !l.seen[e] {
				return false
			}
		}
		return true
	}, timeout, 200*time.Millisecond, "the sync loop never saw all of %d events", len(ids))
}

// finish stops the loop and returns the longest time without a successful
// sync and the number of failed syncs.
func (l *syncLoop) finish() (time.Duration, int) {
	close(l.stop)
	<-l.done
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.longest, l.errors
}
