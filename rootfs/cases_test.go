package rootfs_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/synapse-image/synapse-image/rootfs/internal/entrypoint"
	"github.com/synapse-image/synapse-image/rootfs/internal/env"
)

// goldenCase is one environment whose config is kept as a golden file and
// loaded by real Synapse in the acceptance test.
type goldenCase struct {
	name        string
	mode        string // "run" or "generate"
	env         map[string]string
	appServices []string // files from testdata/appservices
	fragments   []string // files from testdata/conf.d
	ipv6        bool
	// generic are the values Synapse must parse that the case's generic
	// settings change, over what the contract's variables ask for
	// (understood_test.go).
	generic map[string]any
}

// output is the config file the mode writes, relative to the data dir.
func (c goldenCase) output() string {
	if c.mode == "generate" {
		return "homeserver.yaml"
	}
	return "generated/homeserver.yaml"
}

func (c goldenCase) golden() string {
	return filepath.Join("testdata", "golden", c.name+".homeserver.yaml")
}

var goldenCases = []goldenCase{
	{
		name: "sqlite-minimal",
		mode: "run",
		env:  map[string]string{"SYNAPSE_SERVER_NAME": "example.com", "SYNAPSE_REPORT_STATS": "no"},
	},
	{
		name: "postgres",
		mode: "run",
		env: map[string]string{
			"SYNAPSE_SERVER_NAME": "matrix.example.org", "SYNAPSE_REPORT_STATS": "yes", "SYNAPSE_NO_TLS": "true",
			"POSTGRES_PASSWORD": "pg-pass\"word: with # yaml", "POSTGRES_HOST": "postgres", "POSTGRES_USER": "synapse",
			"POSTGRES_DB": "synapse_db", "POSTGRES_PORT": "5433", "POSTGRES_CP_MIN": "3", "POSTGRES_CP_MAX": "12",
			"POSTGRES_WAIT_TIMEOUT": "0",
		},
		ipv6: true,
	},
	{
		name: "everything",
		mode: "run",
		env: map[string]string{
			"SYNAPSE_SERVER_NAME": "example.com", "SYNAPSE_REPORT_STATS": "yes",
			"SYNAPSE_ENABLE_REGISTRATION": "yes", "SYNAPSE_RECAPTCHA_PUBLIC_KEY": "6LeIxAcTAAAAAJcZVRqyHh71UMIEGNQ_MXjiZKhI",
			"SYNAPSE_RECAPTCHA_PRIVATE_KEY": "6LeIxAcTAAAAAGG-vFI1TnRWxMZNFuojJ4WifJWe",
			"SYNAPSE_ALLOW_GUEST":           "on", "SYNAPSE_EVENT_CACHE_SIZE": "20k", "SYNAPSE_CACHE_FACTOR": "2",
			"SYNAPSE_TURN_URIS":   "turn:turn.example.com:3478?transport=udp, turns:turn.example.com:5349 ,stun:stun.example.com",
			"SYNAPSE_TURN_SECRET": "turn-shared-secret",
			"SYNAPSE_SMTP_HOST":   "smtp.example.com", "SYNAPSE_SMTP_PORT": "587", "SYNAPSE_SMTP_USER": "synapse@example.com",
			"SYNAPSE_SMTP_PASSWORD": "smtp-password", "SYNAPSE_SMTP_FROM": "Example Chat <chat@example.com>",
			"SYNAPSE_PUBLIC_BASEURL": "https://matrix.example.com", "SYNAPSE_MAX_UPLOAD_SIZE": "100M",
			"SYNAPSE_ENABLE_METRICS": "1", "SYNAPSE_LOG_LEVEL": "warning",
		},
		appServices: []string{"bridge-a.yaml", "bot-b.yml"},
	},
	{
		// Generic settings: SYNAPSE_CONFIG__ variables over conf.d
		// fragments over the contract's config, values read as YAML 1.1.
		name: "generic",
		mode: "run",
		env: map[string]string{
			"SYNAPSE_SERVER_NAME": "example.com", "SYNAPSE_REPORT_STATS": "no", "SYNAPSE_NO_TLS": "yes",
			"SYNAPSE_CONFIG__RC_MESSAGE__PER_SECOND":             "100",
			"SYNAPSE_CONFIG__RC_MESSAGE__BURST_COUNT":            "1000",
			"SYNAPSE_CONFIG__RC_JOINS__LOCAL":                    "{per_second: 10, burst_count: 100}",
			"SYNAPSE_CONFIG__PRESENCE__ENABLED":                  "off",
			"SYNAPSE_CONFIG__FEDERATION_DOMAIN_WHITELIST":        "[matrix.org, example.org]",
			"SYNAPSE_CONFIG__ALLOW_PUBLIC_ROOMS_OVER_FEDERATION": "yes",
			"SYNAPSE_CONFIG__EVENT_CACHE_SIZE":                   "50K",
			"SYNAPSE_CONFIG__URL_PREVIEW_ACCEPT_LANGUAGE":        "~",
			"SYNAPSE_CONFIG__MEDIA_STORE_PATH":                   "/data/media-store",
			"SYNAPSE_CONFIG__LISTENERS":                          "[{port: 8080, type: http, x_forwarded: true, bind_addresses: ['0.0.0.0'], resources: [{names: [client, federation], compress: false}]}]",
		},
		fragments: []string{"10-previews.yaml", "20-retention.yml"},
		generic: map[string]any{
			"listeners": []any{map[string]any{"port": 8080.0, "type": "http", "tls": false, "bind_addresses": []any{"0.0.0.0"},
				"x_forwarded": true, "names": []any{"client", "federation"}}},
			"media_store_path": "/data/media-store",
			"event_cache_size": 50.0 * 1024,
		},
	},
	{
		name: "generate",
		mode: "generate",
		env:  map[string]string{"SYNAPSE_SERVER_NAME": "example.com", "SYNAPSE_REPORT_STATS": "no", "SYNAPSE_ENABLE_REGISTRATION": "1"},
	},
}

// detRand is a deterministic random stream, so generated secrets are stable.
type detRand struct {
	n   uint64
	buf []byte
}

func (r *detRand) Read(p []byte) (int, error) {
	for i := range p {
		if len(r.buf) == 0 {
			s := sha256.Sum256([]byte(fmt.Sprint("golden", r.n)))
			r.n++
			r.buf = s[:]
		}
		p[i] = r.buf[0]
		r.buf = r.buf[1:]
	}
	return len(p), nil
}

// copyInputs puts the case's app services and conf.d fragments into the
// data directory dir.
func (c goldenCase) copyInputs(t testing.TB, dir string) {
	t.Helper()
	for sub, files := range map[string][]string{"appservices": c.appServices, "conf.d": c.fragments} {
		if len(files) == 0 {
			continue
		}
		require.NoError(t, os.MkdirAll(filepath.Join(dir, sub), 0o755))
		for _, f := range files {
			b, err := os.ReadFile(filepath.Join("testdata", sub, f))
			require.NoError(t, err)
			require.NoError(t, os.WriteFile(filepath.Join(dir, sub, f), b, 0o644))
		}
	}
}

// runCase runs /start in-process for c with data dir dir; it returns stderr.
func runCase(t testing.TB, c goldenCase, dir string) string {
	t.Helper()
	c.copyInputs(t, dir)
	vars := map[string]string{"SYNAPSE_DATA_DIR": dir, "UID": fmt.Sprint(testUID), "GID": fmt.Sprint(testGID)}
	for k, v := range c.env {
		vars[k] = v
	}
	var stdout, stderr bytes.Buffer
	code := entrypoint.Main(context.Background(), entrypoint.System{
		Env:      env.Map(vars),
		Stdout:   &stdout,
		Stderr:   &stderr,
		Rand:     &detRand{},
		Now:      func() time.Time { return time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC) },
		Euid:     os.Geteuid(),
		HasIPv6:  func() bool { return c.ipv6 },
		Drop:     func(int, int) error { return nil },
		Exec:     func(string, []string, []string) error { return nil },
		LookPath: func(string) (string, error) { return "/usr/bin/python3", nil },
	}, []string{c.mode})
	require.Equal(t, entrypoint.ExitOK, code, stderr.String())
	return stderr.String()
}

// testUID and testGID own the data directory: the test's own ids, or, as
// root (which /start refuses as UID), the image's 991:991.
var testUID, testGID = func() (int, int) {
	if os.Geteuid() == 0 {
		return 991, 991
	}
	return os.Geteuid(), os.Getegid()
}()

// asData rewrites the temporary data dir to /data, as in the image.
func asData(b []byte, dir string) []byte {
	return []byte(strings.ReplaceAll(string(b), dir, "/data"))
}
