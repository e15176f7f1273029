package entrypoint

import (
	"os"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestManualRedisNeedsTxredisapi(t *testing.T) {
	for _, tc := range []struct {
		name    string
		config  string
		modules map[string]bool
		refused bool
	}{
		{"enabled without the module", "redis: {enabled: true, host: redis}", nil, true},
		{"enabled as YAML 1.1 yes", "redis:\n  enabled: yes", map[string]bool{"hiredis": true}, true},
		{"enabled with the module", "redis: {enabled: true}", map[string]bool{RedisModule: true}, false},
		{"disabled", "redis: {enabled: false, host: redis}", nil, false},
		{"absent", "", nil, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t)
			h.modules = tc.modules
			h.env["SYNAPSE_CONFIG_PATH"] = h.path("homeserver.yaml")
			require.NoError(t, os.MkdirAll(h.data, 0o755))
			require.NoError(t, os.WriteFile(h.path("homeserver.yaml"), []byte("server_name: example.com\n"+tc.config+"\n"), 0o600))
			before := snapshot(t, h.data)
			code := h.main("run")
			if !tc.refused {
				assert.Equal(t, ExitOK, code, h.stderr.String())
				assert.NotNil(t, h.exec)
				return
			}
			assert.Equal(t, ExitUsage, code)
			assert.Equal(t, "start: error: "+h.path("homeserver.yaml")+": redis.enabled is true, but the image lacks the Python module txredisapi that Synapse needs for Redis (Debian does not package it): add its wheel to wheels/ and build the image again (docs/sso.md, Redis)\n", h.stderr.String())
			assert.Equal(t, 1, strings.Count(h.stderr.String(), "\n"))
			assert.Equal(t, before, snapshot(t, h.data), "nothing written")
			assert.Nil(t, h.exec)
		})
	}
}

// In automated mode the merged config decides, and the error names the
// variable or fragment that enabled Redis.
func TestGenericRedisNeedsTxredisapi(t *testing.T) {
	for _, tc := range []struct {
		name     string
		env      []string
		fragment string
		modules  map[string]bool
		want     string // "" means accepted
	}{
		{"variable", []string{"SYNAPSE_CONFIG__REDIS__ENABLED", "true"}, "", nil, "SYNAPSE_CONFIG__REDIS__ENABLED: redis.enabled is true, but the image lacks the Python module txredisapi"},
		{"variable for the section", []string{"SYNAPSE_CONFIG__REDIS", "{enabled: yes, host: redis}"}, "", nil, "SYNAPSE_CONFIG__REDIS: redis.enabled is true"},
		{"fragment", nil, "redis:\n  host: redis\n  enabled: on\n", nil, "/conf.d/10-redis.yaml:1: redis.enabled is true"},
		{"fragment, variable turns it off", []string{"SYNAPSE_CONFIG__REDIS__ENABLED", "false"}, "redis:\n  enabled: true\n", nil, ""},
		{"with the module", []string{"SYNAPSE_CONFIG__REDIS__ENABLED", "true"}, "", map[string]bool{RedisModule: true}, ""},
	} {
		for _, mode := range []string{"run", "check"} {
			t.Run(tc.name+"/"+mode, func(t *testing.T) {
				h := newHarness(t, tc.env...)
				h.modules = tc.modules
				if tc.fragment != "" {
					h.fragment("10-redis.yaml", tc.fragment)
				}
				before := snapshot(t, h.data)
				code := h.main(mode)
				if tc.want == "" {
					assert.Equal(t, ExitOK, code, h.stderr.String())
					return
				}
				assert.Equal(t, ExitUsage, code)
				lines := strings.Split(strings.TrimSpace(h.stderr.String()), "\n")
				last := lines[len(lines)-1]
				assert.True(t, strings.HasPrefix(last, "start: error: "), last)
				assert.Contains(t, last, tc.want)
				assert.Equal(t, filesOf(before), filesOf(snapshot(t, h.data)), "no file written to the data directory")
				if tc.fragment == "" {
					assert.Equal(t, before, snapshot(t, h.data), "a variable's setting stops /start before it writes anything")
				}
				assert.Nil(t, h.exec)
			})
		}
	}
}
