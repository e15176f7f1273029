package workers

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestParseTopology(t *testing.T) {
	for _, c := range []struct {
		in    string
		names []string
		err   string
	}{
		{in: "", names: nil},
		{in: " , ", names: nil},
		{in: "synchrotron", names: []string{"synchrotron-1"}},
		{in: "synchrotron:2, event_persister:2 ,typing", names: []string{"event-persister-1", "event-persister-2", "typing-1", "synchrotron-1", "synchrotron-2"}},
		{in: "pusher:1", names: []string{"pusher-1"}},
		{in: "synchrotron:2,client_reader,federation_inbound,federation_reader,federation_sender:2,media_repository,pusher,appservice,user_dir,background_worker,event_persister:2,typing,to_device,account_data,receipts,presence,push_rules,device_lists",
			names: []string{"event-persister-1", "event-persister-2", "typing-1", "to-device-1", "account-data-1", "receipts-1", "presence-1", "push-rules-1", "device-lists-1",
				"media-repository-1", "federation-sender-1", "federation-sender-2", "pusher-1", "appservice-1", "user-dir-1", "background-worker-1",
				"synchrotron-1", "synchrotron-2", "federation-inbound-1", "federation-reader-1", "client-reader-1"}},
		{in: "synchrotrons", err: `unknown worker type "synchrotrons"; expected TYPE or TYPE:COUNT`},
		{in: "frontend_proxy", err: `unknown worker type "frontend_proxy"`},
		{in: "synchrotron:0", err: `synchrotron:0: expected a count from 1 to 64 after the colon, got "0"`},
		{in: "synchrotron:x", err: `expected a count from 1 to 64`},
		{in: "synchrotron:65", err: `expected a count from 1 to 64`},
		{in: "synchrotron:", err: `expected a count from 1 to 64`},
		{in: "typing:2", err: "typing:2: only one typing may run (Synapse allows one writer of the typing stream); expected typing without a count or with :1"},
		{in: "background_worker:2", err: "only one background_worker may run (run_background_tasks_on names one instance)"},
		{in: "appservice:3", err: "only one appservice may run"},
		{in: "synchrotron,synchrotron", err: "lists synchrotron twice, which would name two instances synchrotron-1; list it once with a count (synchrotron:N)"},
		{in: "synchrotron:2,synchrotron:1", err: "lists synchrotron twice"},
	} {
		t.Run(c.in, func(t *testing.T) {
			top, err := ParseTopology(c.in)
			if c.err != "" {
				require.Error(t, err)
				assert.Contains(t, err.Error(), c.err)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, c.names, top.Names())
			assert.Equal(t, len(c.names) == 0, top.Empty())
			again, err := ParseTopology(top.String())
			require.NoError(t, err)
			assert.Equal(t, top, again, "String is the same topology")
		})
	}
}

func TestTopologyLookup(t *testing.T) {
	top, err := ParseTopology("synchrotron:2,pusher")
	require.NoError(t, err)
	in, ok := top.Lookup("synchrotron-2")
	require.True(t, ok)
	assert.Equal(t, "synchrotron", in.Type.Name)
	_, ok = top.Lookup("synchrotron-3")
	assert.False(t, ok)
	assert.Len(t, top.Of("synchrotron"), 2)
	assert.Empty(t, top.Of("typing"))
	assert.Equal(t, "pusher,synchrotron:2", top.String())
}

func TestResolve(t *testing.T) {
	top, err := ParseTopology("synchrotron:2,client_reader,pusher:2,event_persister")
	require.NoError(t, err)
	for _, c := range []struct {
		name, host, want, typ, err string
	}{
		{name: "synchrotron-2", host: "abc", want: "synchrotron-2", typ: "synchrotron"},
		{name: "synchrotron", host: "5fa9a14f2f3d", want: "synchrotron-5fa9a14f2f3d", typ: "synchrotron"},
		{name: "client-reader", host: "AB12", want: "client-reader-ab12", typ: "client_reader"},
		{name: "client_reader", host: "ab12", want: "client-reader-ab12", typ: "client_reader"},
		{name: "pusher", host: "ab12", err: `"pusher" is a type whose instances are named in the shared config (pusher_instances): name one of them (pusher-N)`},
		{name: "event-persister", host: "ab12", err: "(stream_writers): name one of them (event-persister-N)"},
		{name: "synchrotron", host: "", err: `HOSTNAME is ""`},
		{name: "synchrotron", host: "a_b", err: `HOSTNAME is "a_b"`},
		{name: "federation_reader", host: "ab12", err: `expected an instance of SYNAPSE_WORKERS (event-persister-1, pusher-1, pusher-2, synchrotron-1, synchrotron-2, client-reader-1), a scalable type of it for a replica (synchrotron, client-reader), or unset for the main process, got "federation_reader"`},
		{name: "synchrotron-3", host: "ab12", err: `got "synchrotron-3"`},
	} {
		t.Run(c.name+"/"+c.host, func(t *testing.T) {
			in, err := top.Resolve(c.name, c.host)
			if c.err != "" {
				require.Error(t, err)
				assert.Contains(t, err.Error(), c.err)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, c.want, in.Name)
			assert.Equal(t, c.typ, in.Type.Name)
		})
	}
	for _, typ := range Types {
		assert.Equal(t, typ.Scalable(), typ.Stream == "" && typ.Duty == nil && !typ.Replication, typ.Name)
	}
	s, _ := Lookup("synchrotron")
	assert.True(t, s.Scalable())
	p, _ := Lookup("pusher")
	assert.False(t, p.Scalable())
}
