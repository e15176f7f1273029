package entrypoint

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestBadTopologies: every refusal of a bad topology is one line, exit 2,
// in check and in run, with nothing written.
func TestBadTopologies(t *testing.T) {
	pg := []string{"POSTGRES_PASSWORD", "pw", "POSTGRES_WAIT_TIMEOUT", "0"}
	redis := []string{"SYNAPSE_REDIS_HOST", "redis"}
	all := append(append([]string{}, pg...), redis...)
	for _, tc := range []struct {
		name    string
		env     []string
		modules map[string]bool
		want    string
	}{
		{"unknown type", append([]string{"SYNAPSE_WORKERS", "synchrotron,frontend_proxy"}, all...), map[string]bool{RedisModule: true},
			`SYNAPSE_WORKERS: unknown worker type "frontend_proxy"`},
		{"singleton twice", append([]string{"SYNAPSE_WORKERS", "presence:2"}, all...), map[string]bool{RedisModule: true},
			"SYNAPSE_WORKERS: presence:2: only one presence may run (Synapse allows one writer of the presence stream)"},
		{"duplicate instance", append([]string{"SYNAPSE_WORKERS", "pusher:2,pusher"}, all...), map[string]bool{RedisModule: true},
			"SYNAPSE_WORKERS: lists pusher twice"},
		{"unknown instance", append([]string{"SYNAPSE_WORKERS", "pusher:2", "SYNAPSE_WORKER_NAME", "pusher-3"}, all...), map[string]bool{RedisModule: true},
			`SYNAPSE_WORKER_NAME: expected an instance of SYNAPSE_WORKERS (pusher-1, pusher-2)`},
		{"sqlite", append([]string{"SYNAPSE_WORKERS", "pusher"}, redis...), map[string]bool{RedisModule: true},
			"SYNAPSE_WORKERS: workers need PostgreSQL"},
		{"no redis", append([]string{"SYNAPSE_WORKERS", "pusher"}, pg...), map[string]bool{RedisModule: true},
			"SYNAPSE_WORKERS: workers need Redis, their replication channel: set SYNAPSE_REDIS_HOST"},
		{"redis without txredisapi", append([]string{"SYNAPSE_WORKERS", "pusher"}, all...), nil,
			"SYNAPSE_REDIS_HOST: redis.enabled is true, but the image lacks the Python module txredisapi"},
	} {
		for _, mode := range []string{"check", "run"} {
			t.Run(tc.name+"/"+mode, func(t *testing.T) {
				h := newHarness(t, tc.env...)
				h.modules = tc.modules
				code := h.main(mode)
				assert.Equal(t, ExitUsage, code, h.stderr.String())
				require.Equal(t, 1, strings.Count(h.stderr.String(), "\n"), h.stderr.String())
				assert.Contains(t, h.stderr.String(), "start: error: "+tc.want)
				assert.NoDirExists(t, h.data, "nothing written")
				assert.Nil(t, h.exec)
			})
		}
	}
}
