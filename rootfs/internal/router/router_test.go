package router

import (
	"bufio"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/synapse-image/synapse-image/rootfs/internal/workers"
)

// route interprets the frontend of cfg the way HAProxy does for path: the
// first use_backend whose acl (any of its path_reg lines) matches, else the
// default backend. HAProxy's PCRE reads these patterns as Go's RE2 does.
func route(t *testing.T, cfg, path string) string {
	t.Helper()
	acls := map[string][]*regexp.Regexp{}
	var rules [][2]string
	def := ""
	sc := bufio.NewScanner(strings.NewReader(cfg))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		switch {
		case len(f) == 4 && f[0] == "acl" && f[2] == "path_reg":
			acls[f[1]] = append(acls[f[1]], regexp.MustCompile(f[3]))
		case len(f) == 4 && f[0] == "use_backend" && f[2] == "if":
			rules = append(rules, [2]string{f[1], f[3]})
		case len(f) == 2 && f[0] == "default_backend":
			def = f[1]
		}
	}
	for _, r := range rules {
		require.Contains(t, acls, r[1], "use_backend %s names an acl", r[0])
		for _, re := range acls[r[1]] {
			if re.MatchString(path) {
				return r[0]
			}
		}
	}
	return def
}

// TestRoutesFollowTheTable: for sample requests of every type and for a
// few topologies, the generated config routes as workers.Match says.
func TestRoutesFollowTheTable(t *testing.T) {
	paths := []string{
		"/_matrix/client/v3/sync", "/_matrix/client/r0/sync", "/_matrix/client/v3/rooms/!a:b/initialSync",
		"/_matrix/client/v3/rooms/!a:b/send/m.room.message/t1", "/_matrix/client/v3/rooms/!a:b/typing/@u:b",
		"/_matrix/client/v3/sendToDevice/m.x/t", "/_matrix/client/v3/user/@u:b/account_data/m.direct",
		"/_matrix/client/v3/rooms/!a:b/receipt/m.read/$e", "/_matrix/client/v3/presence/@u:b/status",
		"/_matrix/client/v3/pushrules/global/", "/_matrix/client/v3/keys/upload", "/_matrix/client/v3/keys/query",
		"/_matrix/client/v3/login", "/_matrix/client/versions", "/_matrix/client/v3/user_directory/search",
		"/_matrix/media/v3/upload", "/_matrix/client/v1/media/download/b/x", "/_matrix/federation/v1/media/download/x",
		"/_matrix/federation/v1/send/t1", "/_matrix/federation/v1/version", "/_matrix/key/v2/query",
		"/_matrix/client/v3/rooms/!a:b/messages", "/_synapse/admin/v1/register", "/health", "/",
	}
	for _, topology := range []string{
		"synchrotron:2,client_reader,federation_inbound,federation_reader,federation_sender:2,media_repository,pusher,appservice,user_dir,background_worker,event_persister:2,typing,to_device,account_data,receipts,presence,push_rules,device_lists,event_creator",
		"synchrotron,client_reader",
		"device_lists,client_reader,media_repository:3",
		"pusher,event_persister",
		"",
	} {
		t.Run(topology, func(t *testing.T) {
			top, err := workers.ParseTopology(topology)
			require.NoError(t, err)
			cfg := Config(top, "synapse")
			var present []workers.Type
			for _, typ := range workers.Types {
				if len(top.Of(typ.Name)) > 0 {
					present = append(present, typ)
				}
			}
			for _, p := range paths {
				want := "main"
				if typ, ok := workers.Match(present, p); ok {
					want = typ.Name
				}
				assert.Equal(t, want, route(t, cfg, p), p)
			}
			// Scaled replicas are found through the type's service name.
			for _, typ := range Routed(top) {
				if typ.Scalable() {
					assert.Contains(t, cfg, "\n  server-template replica- 16 "+typ.ServiceName()+":8008\n", typ.Name)
				} else {
					assert.NotContains(t, cfg, "server-template replica- 16 "+typ.ServiceName()+":", typ.Name)
				}
			}
			// Every instance is a server of its type's backend, health-checked.
			for _, in := range top.Instances {
				if len(in.Type.Endpoints) > 0 {
					assert.Contains(t, cfg, "\n  server "+in.Name+" "+in.Name+":8008\n")
				} else {
					assert.NotContains(t, cfg, "server "+in.Name+" ", "a type without endpoints gets no traffic")
				}
			}
			assert.Contains(t, cfg, "backend main\n  balance roundrobin\n  option httpchk GET /health\n  http-check expect status 200\n  server main synapse:8008\n")
		})
	}
}

func TestBalance(t *testing.T) {
	cfg := Config(mustTopology(t, "synchrotron:3,federation_inbound:2,client_reader:2"), "synapse")
	assert.Contains(t, cfg, "backend synchrotron\n  balance hdr(Authorization)\n  hash-type consistent\n", "one user's syncs to one synchrotron")
	assert.Contains(t, cfg, "backend federation_inbound\n  balance source\n  hash-type consistent\n", "one server's transactions to one process")
	assert.Contains(t, cfg, "backend client_reader\n  balance roundrobin\n")
	assert.Contains(t, cfg, "http-request disable-l7-retry if !idempotent", "POSTs are not retried once sent")
	assert.Contains(t, cfg, "default-server check inter 2s", "every server is health-checked")
	assert.Contains(t, cfg, "\n  monitor-uri /_router/health\n")
}

func mustTopology(t *testing.T, s string) workers.Topology {
	t.Helper()
	top, err := workers.ParseTopology(s)
	require.NoError(t, err)
	return top
}
