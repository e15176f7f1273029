package workers

import (
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestTypesWellFormed: names are unique and usable in instance names,
// patterns are anchored regular expressions served by a resource the type
// listens with, and what a type takes is consistent.
func TestTypesWellFormed(t *testing.T) {
	seen := map[string]bool{}
	streams := map[string]bool{}
	for _, typ := range Types {
		t.Run(typ.Name, func(t *testing.T) {
			assert.Regexp(t, `^[a-z][a-z_]*[a-z]$`, typ.Name)
			assert.False(t, seen[typ.Name], "listed twice")
			seen[typ.Name] = true
			assert.Equal(t, GenericWorker, typ.App)
			assert.NotEmpty(t, typ.Help)
			if typ.Stream != "" {
				assert.False(t, streams[typ.Stream], "stream %s has two types", typ.Stream)
				streams[typ.Stream] = true
				assert.True(t, typ.Replication, "a stream writer answers HTTP replication")
			}
			for _, e := range typ.Endpoints {
				assert.Contains(t, []string{Client, Federation, Media}, e.Resource, e.Pattern)
				assert.Contains(t, typ.Resources(), e.Resource)
				_, err := regexp.Compile(e.Pattern)
				assert.NoError(t, err)
				assert.Regexp(t, `^\^/_(matrix|synapse)/`, e.Pattern)
			}
			if typ.MediaRepo {
				assert.Equal(t, []string{Media}, typ.Resources())
			}
		})
	}
	_, ok := Lookup("synchrotron")
	assert.True(t, ok)
	_, ok = Lookup("frontend_proxy")
	assert.False(t, ok)
}

// TestMatch: requests go to the type the docs name, stream writers before
// the general client reader, and the rest to the main.
func TestMatch(t *testing.T) {
	for _, c := range []struct{ path, want string }{
		{"/_matrix/client/v3/sync", "synchrotron"},
		{"/_matrix/client/r0/sync", "synchrotron"},
		{"/_matrix/client/v3/rooms/!a:b/initialSync", "synchrotron"},
		{"/_matrix/client/v3/rooms/!a:b/send/m.room.message/txn1", "event_creator"},
		{"/_matrix/client/v3/rooms/!a:b/state/m.room.name/", "event_creator"},
		{"/_matrix/client/v3/rooms/!a:b/state", "client_reader"},
		{"/_matrix/client/v3/rooms/!a:b/typing/@u:b", "typing"},
		{"/_matrix/client/v3/sendToDevice/m.room_key/t1", "to_device"},
		{"/_matrix/client/v3/user/@u:b/account_data/m.direct", "account_data"},
		{"/_matrix/client/v3/user/@u:b/rooms/!a:b/tags", "account_data"},
		{"/_matrix/client/v3/rooms/!a:b/receipt/m.read/$e", "receipts"},
		{"/_matrix/client/v3/presence/@u:b/status", "presence"},
		{"/_matrix/client/v3/pushrules/global/", "push_rules"},
		{"/_matrix/client/v3/keys/upload", "device_lists"},
		{"/_matrix/client/v3/devices", "device_lists"},
		{"/_matrix/client/v3/keys/query", "client_reader"},
		{"/_matrix/client/v3/login", "client_reader"},
		{"/_matrix/client/versions", "client_reader"},
		{"/_matrix/client/v3/user_directory/search", "user_dir"},
		{"/_matrix/media/v3/upload", "media_repository"},
		{"/_matrix/client/v1/media/download/b/abc", "media_repository"},
		{"/_matrix/federation/v1/media/download/abc", "media_repository"},
		{"/_synapse/admin/v1/media/b/abc", "media_repository"},
		{"/_matrix/federation/v1/send/txn1", "federation_inbound"},
		{"/_matrix/federation/v1/version", "federation_reader"},
		{"/_matrix/federation/v2/send_join/!a:b/$e", "federation_reader"},
		{"/_matrix/key/v2/query", "federation_reader"},
		{"/_matrix/client/v3/rooms/!a:b/messages", ""},
		{"/_matrix/client/v3/register/email/requestToken", ""},
		{"/_synapse/admin/v1/users/@u:b/admin", ""},
		{"/_matrix/key/v2/server", ""},
		{"/health", ""},
	} {
		t.Run(c.path, func(t *testing.T) {
			got, ok := Match(Types, c.path)
			assert.Equal(t, c.want != "", ok)
			assert.Equal(t, c.want, got.Name)
		})
	}
	// Without the writer, its requests go to the general reader.
	var readers []Type
	for _, typ := range Types {
		if typ.Name != "device_lists" {
			readers = append(readers, typ)
		}
	}
	got, _ := Match(readers, "/_matrix/client/v3/keys/upload")
	assert.Equal(t, "client_reader", got.Name)
}

// synapse160 are the facts facts.py printed for the image's Synapse 1.160.
const synapse160 = `{
 "apps": {"synapse.app.generic_worker": true},
 "duties": {
  "federation_sender_instances": {"list": true, "main_keeps": false, "main_off": "send_federation", "main_off_works": true, "one": true},
  "media_instance_running_background_jobs": {"main_off": "enable_media_repo", "main_off_works": true, "one": true},
  "notify_appservices_from_worker": {"list": false, "main_keeps": false, "one": true},
  "pusher_instances": {"list": true, "main_keeps": false, "main_off": "start_pushers", "main_off_works": true, "one": true},
  "run_background_tasks_on": {"list": false, "main_keeps": false, "one": true},
  "update_user_directory_from_worker": {"list": false, "main_keeps": false, "one": true}
 },
 "streams": {"account_data": {"multiple": false}, "device_lists": {"multiple": true}, "events": {"multiple": true},
  "presence": {"multiple": false}, "push_rules": {"multiple": false}, "quarantined_media_changes": {"multiple": true},
  "receipts": {"multiple": true}, "thread_subscriptions": {"multiple": true}, "to_device": {"multiple": false}, "typing": {"multiple": false}},
 "version": "1.160.0"
}`

// TestCompare: the table agrees with Synapse 1.160's facts, and Compare
// finds each kind of disagreement.
func TestCompare(t *testing.T) {
	facts, err := ParseFacts([]byte(synapse160))
	require.NoError(t, err)
	assert.Empty(t, Compare(Types, MainOnlyStreams, facts))

	change := func(f func([]Type, map[string]string, *Facts) ([]Type, map[string]string)) []string {
		types := append([]Type(nil), Types...)
		mainOnly := map[string]string{}
		for k, v := range MainOnlyStreams {
			mainOnly[k] = v
		}
		fc, err := ParseFacts([]byte(synapse160))
		require.NoError(t, err)
		types, mainOnly = f(types, mainOnly, &fc)
		return Compare(types, mainOnly, fc)
	}
	set := func(name string, edit func(*Type)) func([]Type, map[string]string, *Facts) ([]Type, map[string]string) {
		return func(ts []Type, m map[string]string, _ *Facts) ([]Type, map[string]string) {
			for i := range ts {
				if ts[i].Name == name {
					edit(&ts[i])
				}
			}
			return ts, m
		}
	}
	for name, c := range map[string]struct {
		edit func([]Type, map[string]string, *Facts) ([]Type, map[string]string)
		want string
	}{
		"version": {func(ts []Type, m map[string]string, f *Facts) ([]Type, map[string]string) {
			f.Version = "1.161.0"
			return ts, m
		}, "the image has 1.161.0"},
		"singleton stream": {set("typing", func(t *Type) { t.Multiple = true }), "stream typing allows several writers: false"},
		"unknown stream":   {set("typing", func(t *Type) { t.Stream = "typings" }), `no stream "typings"`},
		"unknown app":      {set("pusher", func(t *Type) { t.App = "synapse.app.pusher" }), "no module synapse.app.pusher"},
		"one-name duty":    {set("appservice", func(t *Type) { t.Multiple = true }), "names one instance, so the type is a singleton"},
		"list duty":        {set("appservice", func(t *Type) { t.Duty = &Duty{Key: "notify_appservices_from_worker", List: true} }), "does not take a list"},
		"main off":         {set("pusher", func(t *Type) { t.Duty = &Duty{Key: "pusher_instances", List: true, MainOff: "send_pushers"} }), "send_pushers: false does not take the job"},
		"unknown duty":     {set("pusher", func(t *Type) { t.Duty = &Duty{Key: "pushers", List: true} }), "no duty pushers"},
		"stream no writer": {func(ts []Type, m map[string]string, _ *Facts) ([]Type, map[string]string) {
			delete(m, "thread_subscriptions")
			return ts, m
		}, "thread_subscriptions has no writer type"},
		"stream main-only": {func(ts []Type, m map[string]string, _ *Facts) ([]Type, map[string]string) {
			m["typing"] = "x"
			return ts, m
		}, "type typing writes it"},
	} {
		t.Run(name, func(t *testing.T) {
			got := change(c.edit)
			require.NotEmpty(t, got)
			assert.Contains(t, strings.Join(got, "\n"), c.want)
		})
	}
}
