// Package matrixflow is the Matrix client flow the end-to-end suite runs
// against a homeserver, with the mautrix-go client library: an admin
// registered with the shared secret, log-in, a room, a message, a second user
// who joins and sees it through /sync, and media. The same flow serves a
// container started by the suite and a remote homeserver (URL mode).
package matrixflow

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"maunium.net/go/mautrix"
	"maunium.net/go/mautrix/event"
	"maunium.net/go/mautrix/id"
	"maunium.net/go/mautrix/synapseadmin"
)

// Homeserver is where the flow runs.
type Homeserver struct {
	// URL of the client API, e.g. http://127.0.0.1:32768.
	URL string
	// ServerName is the server_name (the part after ':' in user IDs).
	ServerName string
	// SharedSecret is the registration shared secret.
	SharedSecret string
}

// User is a logged-in account.
type User struct {
	ID       id.UserID
	Password string
	Client   *mautrix.Client
}

// Result is what the flow created, for checks after restarts and upgrades.
type Result struct {
	Admin, Member *User
	RoomID        id.RoomID
	EventID       id.EventID
	Message       string
	Media         id.ContentURI
	MediaData     []byte
}

// Client returns a mautrix client for hs with an optional access token.
func (hs Homeserver) Client(t testing.TB, userID id.UserID, token string) *mautrix.Client {
	t.Helper()
	cli, err := mautrix.NewClient(hs.URL, userID, token)
	require.NoError(t, err, "mautrix client for %s", hs.URL)
	cli.Client = &http.Client{Timeout: 60 * time.Second}
	return cli
}

// RandomSuffix returns 8 hex characters, so that accounts are unique on a
// homeserver that outlives one run (URL mode).
func RandomSuffix() string {
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// RegisterShared registers localpart with the shared secret through the
// Synapse admin API (nonce + HMAC-SHA1).
func (hs Homeserver) RegisterShared(ctx context.Context, t testing.TB, localpart, password string, admin bool) *mautrix.RespRegister {
	t.Helper()
	adm := synapseadmin.Client{Client: hs.Client(t, "", "")}
	resp, err := adm.SharedSecretRegister(ctx, hs.SharedSecret, synapseadmin.ReqSharedSecretRegister{
		Username: localpart,
		Password: password,
		Admin:    admin,
	})
	require.NoError(t, err, "shared-secret registration of %s", localpart)
	require.Equal(t, id.NewUserID(localpart, hs.ServerName), resp.UserID)
	require.NotEmpty(t, resp.AccessToken)
	return resp
}

// Login logs localpart in with its password and returns the user with a
// client that holds the new access token.
func (hs Homeserver) Login(ctx context.Context, t testing.TB, localpart, password string) *User {
	t.Helper()
	cli := hs.Client(t, "", "")
	resp, err := cli.Login(ctx, &mautrix.ReqLogin{
		Type:             mautrix.AuthTypePassword,
		Identifier:       mautrix.UserIdentifier{Type: mautrix.IdentifierTypeUser, User: localpart},
		Password:         password,
		StoreCredentials: true,
	})
	require.NoError(t, err, "log in %s", localpart)
	require.Equal(t, id.NewUserID(localpart, hs.ServerName), resp.UserID)
	return &User{ID: resp.UserID, Password: password, Client: cli}
}

// Basics checks the unauthenticated surface: /_matrix/client/versions.
func (hs Homeserver) Basics(ctx context.Context, t testing.TB) {
	t.Helper()
	versions, err := hs.Client(t, "", "").Versions(ctx)
	require.NoError(t, err, "GET /_matrix/client/versions")
	require.NotEmpty(t, versions.Versions, "versions list")
}

// Run runs the whole client flow and returns what it created.
func (hs Homeserver) Run(ctx context.Context, t testing.TB) *Result {
	t.Helper()
	hs.Basics(ctx, t)
	suffix := RandomSuffix()
	res := &Result{}

	// An admin, registered with the shared secret, then logged in.
	adminName, adminPass := "e2e-admin-"+suffix, "admin pass "+suffix
	hs.RegisterShared(ctx, t, adminName, adminPass, true)
	res.Admin = hs.Login(ctx, t, adminName, adminPass)
	info, err := (&synapseadmin.Client{Client: res.Admin.Client}).GetUserInfo(ctx, res.Admin.ID)
	require.NoError(t, err, "admin API: user info")
	assert.True(t, info.Admin, "the shared-secret registration asked for an admin")

	// A room with a message.
	room, err := res.Admin.Client.CreateRoom(ctx, &mautrix.ReqCreateRoom{
		Name:   "e2e " + suffix,
		Preset: "public_chat",
	})
	require.NoError(t, err, "create room")
	res.RoomID = room.RoomID
	res.Message = "hello from the end-to-end suite " + suffix
	sent, err := res.Admin.Client.SendText(ctx, res.RoomID, res.Message)
	require.NoError(t, err, "send message")
	res.EventID = sent.EventID

	// A second, ordinary user joins and sees the message through /sync.
	memberName, memberPass := "e2e-member-"+suffix, "member pass "+suffix
	hs.RegisterShared(ctx, t, memberName, memberPass, false)
	res.Member = hs.Login(ctx, t, memberName, memberPass)
	_, err = res.Member.Client.JoinRoomByID(ctx, res.RoomID)
	require.NoError(t, err, "second user joins the room")
	hs.WaitForMessage(ctx, t, res.Member.Client, res.RoomID, res.EventID, res.Message)

	// Media: upload, then download the same bytes.
	res.MediaData = []byte("e2e media " + suffix + "\n")
	up, err := res.Admin.Client.UploadBytesWithName(ctx, res.MediaData, "text/plain", "e2e.txt")
	require.NoError(t, err, "upload media")
	res.Media = up.ContentURI
	hs.CheckMedia(ctx, t, res.Member.Client, res.Media, res.MediaData)
	return res
}

// WaitForMessage syncs as cli until the room's timeline holds eventID with
// body, or fails after 30 s.
func (hs Homeserver) WaitForMessage(ctx context.Context, t testing.TB, cli *mautrix.Client, roomID id.RoomID, eventID id.EventID, body string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	since := ""
	for {
		resp, err := cli.SyncRequest(ctx, 5000, since, "", since == "", "")
		require.NoError(t, err, "/sync")
		if room := resp.Rooms.Join[roomID]; room != nil {
			for _, evt := range room.Timeline.Events {
				if evt.ID == eventID {
					assert.Equal(t, event.EventMessage, evt.Type)
					assert.Equal(t, body, evt.Content.Raw["body"], "message body seen through /sync")
					return
				}
			}
		}
		since = resp.NextBatch
		if ctx.Err() != nil {
			t.Fatalf("/sync of %s never showed event %s in room %s", cli.UserID, eventID, roomID)
		}
	}
}

// CheckMedia downloads uri and compares it with want.
func (hs Homeserver) CheckMedia(ctx context.Context, t testing.TB, cli *mautrix.Client, uri id.ContentURI, want []byte) {
	t.Helper()
	got, err := cli.DownloadBytes(ctx, uri)
	require.NoError(t, err, "download %s", uri)
	require.True(t, bytes.Equal(want, got), "downloaded media differs: got %q, want %q", got, want)
}

// Verify checks that what Run created is still there: both access tokens
// work, the message is in the room's history and the media downloads.
func (hs Homeserver) Verify(ctx context.Context, t testing.TB, res *Result) {
	t.Helper()
	for _, u := range []*User{res.Admin, res.Member} {
		cli := hs.Client(t, u.ID, u.Client.AccessToken)
		who, err := cli.Whoami(ctx)
		require.NoError(t, err, "the old access token of %s must still work", u.ID)
		require.Equal(t, u.ID, who.UserID)
	}
	cli := hs.Client(t, res.Member.ID, res.Member.Client.AccessToken)
	evt, err := cli.GetEvent(ctx, res.RoomID, res.EventID)
	require.NoError(t, err, "the old message %s must still be there", res.EventID)
	assert.Equal(t, res.Message, evt.Content.Raw["body"])
	msgs, err := cli.Messages(ctx, res.RoomID, "", "", mautrix.DirectionBackward, nil, 50)
	require.NoError(t, err, "room history")
	found := false
	for _, e := range msgs.Chunk {
		found = found || e.ID == res.EventID
	}
	assert.True(t, found, "the old message is in /messages of room %s", res.RoomID)
	hs.CheckMedia(ctx, t, cli, res.Media, res.MediaData)
}

// String names the homeserver in test logs.
func (hs Homeserver) String() string {
	return fmt.Sprintf("%s (%s)", hs.URL, hs.ServerName)
}
