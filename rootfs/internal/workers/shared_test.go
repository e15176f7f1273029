package workers

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestShared(t *testing.T) {
	top, err := ParseTopology("synchrotron:2,event_persister:2,typing,receipts:2,media_repository:2,federation_sender:2,pusher,appservice,user_dir,background_worker")
	require.NoError(t, err)
	sh := top.Shared("synapse")
	loc := func(h string) Location { return Location{Host: h, Port: ReplicationPort} }
	assert.Equal(t, map[string]Location{
		"main":               loc("synapse"),
		"event-persister-1":  loc("event-persister-1"),
		"event-persister-2":  loc("event-persister-2"),
		"typing-1":           loc("typing-1"),
		"receipts-1":         loc("receipts-1"),
		"receipts-2":         loc("receipts-2"),
		"media-repository-1": loc("media-repository-1"),
		"media-repository-2": loc("media-repository-2"),
	}, sh.InstanceMap, "the main and every instance answering replication; not the synchrotrons, senders…")
	assert.Equal(t, map[string][]string{
		"events":                    {"event-persister-1", "event-persister-2"},
		"typing":                    {"typing-1"},
		"receipts":                  {"receipts-1", "receipts-2"},
		"quarantined_media_changes": {"media-repository-1", "media-repository-2"},
	}, sh.StreamWriters)
	assert.Equal(t, map[string][]string{
		"federation_sender_instances": {"federation-sender-1", "federation-sender-2"},
		"pusher_instances":            {"pusher-1"},
	}, sh.Lists)
	assert.Equal(t, map[string]string{
		"media_instance_running_background_jobs": "media-repository-1",
		"notify_appservices_from_worker":         "appservice-1",
		"update_user_directory_from_worker":      "user-dir-1",
		"run_background_tasks_on":                "background-worker-1",
	}, sh.One)
	assert.Equal(t, []string{"enable_media_repo", "send_federation", "start_pushers"}, sh.MainOff)

	none, err := ParseTopology("synchrotron")
	require.NoError(t, err)
	sh = none.Shared("m")
	assert.Equal(t, map[string]Location{"main": loc("m")}, sh.InstanceMap)
	assert.Empty(t, sh.StreamWriters)
	assert.Empty(t, sh.MainOff)
}

func TestHTTPResources(t *testing.T) {
	top, err := ParseTopology("synchrotron,pusher,media_repository,federation_reader,event_persister")
	require.NoError(t, err)
	for name, want := range map[string][]string{
		"synchrotron-1":       {Client},
		"pusher-1":            {Health},
		"media-repository-1":  {Media},
		"federation-reader-1": {Federation},
		"event-persister-1":   {Health},
	} {
		in, ok := top.Lookup(name)
		require.True(t, ok)
		assert.Equal(t, want, in.HTTPResources(), name)
	}
}
