package entrypoint

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestPortDBRefuses: every input port-db cannot use is exit 2 with one
// line naming what to set, and nothing is written or run.
func TestPortDBRefuses(t *testing.T) {
	for _, tc := range []struct {
		name   string
		env    []string
		sqlite bool
		// official: the official image's layout, /data/homeserver.yaml.
		official bool
		args     []string
		want     string
	}{
		{"no PostgreSQL", nil, true, false, nil, "start: error: port-db: POSTGRES_PASSWORD (or POSTGRES_PASSWORD_FILE) is not set; set the POSTGRES_* variables of the database to port to, as the server will run with them\n"},
		{"no SQLite database", []string{"POSTGRES_PASSWORD", "pw"}, false, false, nil, "start: error: port-db: no SQLite database %DATA%/homeserver.db to port\n"},
		{"manual mode", []string{"POSTGRES_PASSWORD", "pw", "SYNAPSE_CONFIG_PATH", "/etc/hs.yaml"}, true, false, nil, "start: error: port-db: manual mode (config /etc/hs.yaml); port-db writes the PostgreSQL config of automated mode from the POSTGRES_* variables: run synapse_port_db --sqlite-database FILE --postgres-config FILE with your own files instead\n"},
		{"official image's layout", []string{"POSTGRES_PASSWORD", "pw"}, true, true, nil, "start: error: port-db: manual mode (config %DATA%/homeserver.yaml); port-db writes the PostgreSQL config of automated mode from the POSTGRES_* variables: run synapse_port_db --sqlite-database FILE --postgres-config FILE with your own files instead\n"},
		{"database given", []string{"POSTGRES_PASSWORD", "pw"}, true, false, []string{"--sqlite-database", "/x.db"}, "start: error: port-db: --sqlite-database is set by /start (from SYNAPSE_DATA_DIR and the POSTGRES_* variables); other synapse_port_db options are passed on\n"},
		{"config given", []string{"POSTGRES_PASSWORD", "pw"}, true, false, []string{"--postgres-config=/x.yaml"}, "start: error: port-db: --postgres-config=/x.yaml is set by /start (from SYNAPSE_DATA_DIR and the POSTGRES_* variables); other synapse_port_db options are passed on\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t, tc.env...)
			if tc.sqlite {
				require.NoError(t, os.MkdirAll(h.data, 0o755))
				require.NoError(t, os.WriteFile(h.path("homeserver.db"), []byte("sqlite"), 0o600))
			}
			if tc.official {
				require.NoError(t, os.WriteFile(h.path("homeserver.yaml"), []byte("server_name: example.com\n"), 0o600))
			}
			assert.Equal(t, ExitUsage, h.main(append([]string{"port-db"}, tc.args...)...))
			assert.Equal(t, strings.ReplaceAll(tc.want, "%DATA%", h.data), h.stderr.String())
			assert.Nil(t, h.exec, "nothing is run")
			assert.NoDirExists(t, h.path("generated"), "nothing is written")
		})
	}
}

// TestPortDBRunsSynapsePortDB: port-db writes the config run would use and
// runs synapse_port_db with it and the SQLite database, options passed on,
// secrets not in its environment.
func TestPortDBRunsSynapsePortDB(t *testing.T) {
	h := newHarness(t, "POSTGRES_PASSWORD", "pw", "POSTGRES_WAIT_TIMEOUT", "0")
	require.NoError(t, os.MkdirAll(h.data, 0o755))
	require.NoError(t, os.WriteFile(h.path("homeserver.db"), []byte("sqlite"), 0o600))
	require.Equal(t, ExitOK, h.main("port-db", "--batch-size", "100"), h.stderr.String())
	require.NotNil(t, h.exec)
	if os.Geteuid() == 0 {
		assert.Equal(t, []int{testUID, testGID}, h.dropped, "synapse_port_db runs as UID:GID")
	}
	hs := filepath.Join(h.data, "generated", "homeserver.yaml")
	assert.Equal(t, []string{"python3", "-s", "-P", "-m", "synapse._scripts.synapse_port_db",
		"--sqlite-database", h.path("homeserver.db"), "--postgres-config", hs, "--batch-size", "100"}, h.exec.argv)
	db := h.generated()["database"].(map[string]any)
	assert.Equal(t, "psycopg2", db["name"], "the config names PostgreSQL")
	assert.NotContains(t, h.exec.envv, "POSTGRES_PASSWORD=pw", "secrets stay out of the environment")
}
