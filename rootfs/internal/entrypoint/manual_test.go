package entrypoint

import (
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestManualBadInput(t *testing.T) {
	for _, tc := range []struct {
		name  string
		setup func(h *harness)
		args  []string
		want  string
	}{
		{"missing", nil, []string{"run"}, "SYNAPSE_CONFIG_PATH: " + "%s does not exist; create it with the generate mode"},
		{"missing check", nil, []string{"check"}, "does not exist"},
		{"directory", func(h *harness) { require.NoError(t, os.MkdirAll(h.path("homeserver.yaml"), 0o755)) }, []string{"run"}, "is a directory"},
		{"not yaml", func(h *harness) {
			require.NoError(t, os.MkdirAll(h.data, 0o755))
			require.NoError(t, os.WriteFile(h.path("homeserver.yaml"), []byte("server_name: [\n"), 0o600))
		}, []string{"run"}, "not valid YAML"},
		{"bad wait", func(h *harness) {
			h.env["POSTGRES_WAIT_TIMEOUT"] = "x"
			require.NoError(t, os.MkdirAll(h.data, 0o755))
			require.NoError(t, os.WriteFile(h.path("homeserver.yaml"), []byte("server_name: a\n"), 0o600))
		}, []string{"run"}, "POSTGRES_WAIT_TIMEOUT"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t)
			h.env["SYNAPSE_CONFIG_PATH"] = h.path("homeserver.yaml")
			if tc.setup != nil {
				tc.setup(h)
			}
			before := snapshot(t, h.data)
			assert.Equal(t, ExitUsage, h.main(tc.args...))
			want := tc.want
			if strings.Contains(want, "%s") {
				want = fmt.Sprintf(want, h.path("homeserver.yaml"))
			}
			assert.Contains(t, h.stderr.String(), want)
			assert.Equal(t, 1, strings.Count(h.stderr.String(), "\n"))
			assert.Equal(t, before, snapshot(t, h.data))
			assert.Nil(t, h.exec)
		})
	}
}
