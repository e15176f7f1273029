package tests

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/synapse-image/synapse-image/internal/dockertest"
)

// Scenario 11: bad input ends with exit status 2, one line on stderr naming
// the variable or file, and /data exactly as it was.
func TestBadInput(t *testing.T) {
	t.Parallel()
	image := synapseImage(t)
	const server = "bad.e2e.test"
	with := func(kv ...string) map[string]string {
		env := baseEnv(server)
		for i := 0; i+1 < len(kv); i += 2 {
			if kv[i+1] == "<unset>" {
				delete(env, kv[i])
			} else {
				env[kv[i]] = kv[i+1]
			}
		}
		return env
	}
	for _, tc := range []struct {
		name string
		env  map[string]string
		args []string
		// want is what stderr's last line must name.
		want string
		// anywhere: want may be on any line of stderr (usage text).
		anywhere bool
		// brokenAppservice puts an unparsable file into /data/appservices.
		brokenAppservice bool
		// files are written into /data (name -> content) first.
		files map[string]string
		// withoutWheels hides the image's wheel layer (/usr/local/lib),
		// as in an image built without wheels: CI's has txredisapi.
		withoutWheels bool
	}{
		{name: "server name missing", env: with("SYNAPSE_SERVER_NAME", "<unset>"), want: "SYNAPSE_SERVER_NAME"},
		{name: "server name with scheme", env: with("SYNAPSE_SERVER_NAME", "https://bad.e2e.test"), want: "SYNAPSE_SERVER_NAME"},
		{name: "report stats missing", env: with("SYNAPSE_REPORT_STATS", "<unset>"), want: "SYNAPSE_REPORT_STATS"},
		{name: "report stats perhaps", env: with("SYNAPSE_REPORT_STATS", "perhaps"), want: "SYNAPSE_REPORT_STATS"},
		{name: "no tls maybe", env: with("SYNAPSE_NO_TLS", "maybe"), want: "SYNAPSE_NO_TLS"},
		{name: "registration 2", env: with("SYNAPSE_ENABLE_REGISTRATION", "2"), want: "SYNAPSE_ENABLE_REGISTRATION"},
		{name: "turn uri scheme", env: with("SYNAPSE_TURN_URIS", "http://turn.e2e.test", "SYNAPSE_TURN_SECRET", "s"), want: "SYNAPSE_TURN_URIS"},
		{name: "turn without secret", env: with("SYNAPSE_TURN_URIS", "turn:turn.e2e.test"), want: "SYNAPSE_TURN_SECRET"},
		{name: "event cache size", env: with("SYNAPSE_EVENT_CACHE_SIZE", "lots"), want: "SYNAPSE_EVENT_CACHE_SIZE"},
		{name: "cache factor", env: with("SYNAPSE_CACHE_FACTOR", "-1"), want: "SYNAPSE_CACHE_FACTOR"},
		{name: "smtp port", env: with("SYNAPSE_SMTP_HOST", "mail.e2e.test", "SYNAPSE_SMTP_PORT", "70000"), want: "SYNAPSE_SMTP_PORT"},
		{name: "recaptcha half", env: with("SYNAPSE_RECAPTCHA_PUBLIC_KEY", "pub"), want: "SYNAPSE_RECAPTCHA_PRIVATE_KEY"},
		{name: "secret and secret file", env: with("SYNAPSE_REGISTRATION_SHARED_SECRET", "s", "SYNAPSE_REGISTRATION_SHARED_SECRET_FILE", "/etc/hostname"), want: "SYNAPSE_REGISTRATION_SHARED_SECRET_FILE"},
		{name: "secret file missing", env: with("POSTGRES_PASSWORD_FILE", "/nonexistent/pw"), want: "POSTGRES_PASSWORD_FILE"},
		{name: "postgres port", env: with("POSTGRES_PASSWORD", "p", "POSTGRES_PORT", "port"), want: "POSTGRES_PORT"},
		{name: "uid", env: with("UID", "synapse"), want: "UID"},
		{name: "the official image's SYNAPSE_CONFIG_DIR", env: with("SYNAPSE_CONFIG_DIR", "/data"), want: "SYNAPSE_CONFIG_DIR"},
		{name: "the official image's SYNAPSE_HTTP_PORT", env: with("SYNAPSE_HTTP_PORT", "8080"), want: "SYNAPSE_HTTP_PORT"},
		{name: "the official image's migrate_config", env: with(), args: []string{"migrate_config"}, want: "migrate_config"},
		{name: "port-db without PostgreSQL", env: with(), args: []string{"port-db"}, files: map[string]string{"homeserver.db": ""}, want: "POSTGRES_PASSWORD"},
		{name: "port-db without SQLite database", env: with("POSTGRES_PASSWORD", "p"), args: []string{"port-db"}, want: "no SQLite database /data/homeserver.db"},
		{name: "port-db of the official layout", env: with("POSTGRES_PASSWORD", "p"), args: []string{"port-db"},
			files: map[string]string{"homeserver.yaml": "server_name: bad.e2e.test\n", "homeserver.db": ""}, want: "port-db: manual mode (config /data/homeserver.yaml)"},
		{name: "broken appservice", env: with(), brokenAppservice: true, want: "broken.yaml"},
		{name: "manual config missing", env: map[string]string{"SYNAPSE_CONFIG_PATH": "/data/missing.yaml"}, want: "/data/missing.yaml"},
		{name: "manual config enables redis without txredisapi", env: map[string]string{"SYNAPSE_CONFIG_PATH": "/data/homeserver.yaml"},
			files: map[string]string{"homeserver.yaml": "server_name: bad.e2e.test\nredis:\n  enabled: true\n"}, want: "txredisapi", withoutWheels: true},
		{name: "generic setting enables redis without txredisapi", env: with("SYNAPSE_CONFIG__REDIS__ENABLED", "true"), withoutWheels: true,
			want: "SYNAPSE_CONFIG__REDIS__ENABLED: redis.enabled is true, but the image lacks the Python module txredisapi"},
		{name: "redis variable without txredisapi", env: with("SYNAPSE_REDIS_HOST", "redis"), withoutWheels: true,
			want: "SYNAPSE_REDIS_HOST: redis.enabled is true, but the image lacks the Python module txredisapi"},
		{name: "workers with SQLite", env: with("SYNAPSE_WORKERS", "synchrotron", "SYNAPSE_REDIS_HOST", "redis"), want: "SYNAPSE_WORKERS: workers need PostgreSQL"},
		{name: "workers without Redis", env: with("SYNAPSE_WORKERS", "synchrotron", "POSTGRES_PASSWORD", "p"), want: "SYNAPSE_WORKERS: workers need Redis"},
		{name: "unknown worker type", env: with("SYNAPSE_WORKERS", "synchrotron,frontend_proxy"), want: `SYNAPSE_WORKERS: unknown worker type "frontend_proxy"`},
		{name: "two of a singleton", env: with("SYNAPSE_WORKERS", "typing:2"), want: "SYNAPSE_WORKERS: typing:2: only one typing may run"},
		{name: "worker not in the topology", env: with("SYNAPSE_WORKERS", "synchrotron", "SYNAPSE_WORKER_NAME", "synchrotron-2"), want: "SYNAPSE_WORKER_NAME: expected an instance of SYNAPSE_WORKERS"},
		{name: "unknown mode", env: with(), args: []string{"frobnicate"}, want: "generate", anywhere: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			data := dockertest.HostDir(t, image)
			require.NoError(t, os.WriteFile(filepath.Join(data, "keep.txt"), []byte("the user's file\n"), 0o640))
			for name, content := range tc.files {
				require.NoError(t, os.WriteFile(filepath.Join(data, name), []byte(content), 0o644))
			}
			if tc.brokenAppservice {
				require.NoError(t, os.MkdirAll(filepath.Join(data, "appservices"), 0o755))
				require.NoError(t, os.WriteFile(filepath.Join(data, "appservices", "broken.yaml"), []byte("id: [unclosed\n"), 0o644))
			}
			before, err := dockertest.Snapshot(data)
			require.NoError(t, err)

			opts := dockertest.Options{Image: image, Env: tc.env, Args: tc.args, Mounts: []string{data + ":/data"}}
			if tc.withoutWheels {
				opts.Tmpfs = []string{"/usr/local/lib"}
			}
			code, _, stderr := runToExit(t, opts)
			assert.Equal(t, 2, code, "exit status; stderr:\n%s", stderr)
			if tc.anywhere {
				assert.Contains(t, stderr, tc.want, "stderr:\n%s", stderr)
			} else {
				assert.Contains(t, lastLine(stderr), tc.want, "the last line on stderr names %s; stderr:\n%s", tc.want, stderr)
			}

			after, err := dockertest.Snapshot(data)
			require.NoError(t, err)
			assert.Empty(t, dockertest.DiffSnapshots(before, after), "/data must stay unchanged")
		})
	}
}

func lastLine(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	return lines[len(lines)-1]
}
