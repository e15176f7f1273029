package config

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Synapse tests redis.enabled with a plain `if` on what PyYAML read.
func TestRedisEnabled(t *testing.T) {
	dir := t.TempDir()
	for _, tc := range []struct {
		yaml string
		want bool
	}{
		{"", false},
		{"redis: {}", false},
		{"redis: null", false},
		{"redis: {host: redis}", false},
		{"redis: {enabled: true}", true},
		{"redis: {enabled: yes}", true},  // YAML 1.1
		{"redis: {enabled: On}", true},   // YAML 1.1
		{"redis: {enabled: no}", false},  // YAML 1.1
		{"redis: {enabled: off}", false}, // YAML 1.1
		{"redis: {enabled: false}", false},
		{"redis: {enabled: ~}", false},
		{"redis: {enabled: }", false},
		{"redis: {enabled: 1}", true},
		{"redis: {enabled: 0}", false},
		{"redis: {enabled: 0x0}", false},
		{"redis: {enabled: -0}", false},
		{"redis: {enabled: 0.0}", false},
		{"redis: {enabled: 0.5}", true},
		{`redis: {enabled: "false"}`, true}, // a non-empty string is true in Python
		{`redis: {enabled: ""}`, false},
		{"redis: {enabled: !!str false}", true},
		{"redis: {enabled: []}", false},
		{"redis: {enabled: [x]}", true},
		{"flag: &on true\nredis: {enabled: *on}", true},
	} {
		t.Run(tc.yaml, func(t *testing.T) {
			p := filepath.Join(dir, "homeserver.yaml")
			require.NoError(t, os.WriteFile(p, []byte("server_name: x\n"+tc.yaml+"\n"), 0o600))
			m, err := ReadManual(p)
			require.NoError(t, err)
			assert.Equal(t, tc.want, m.RedisEnabled)
		})
	}
}
