package rootfs_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"gopkg.in/yaml.v3"

	"github.com/synapse-image/synapse-image/internal/dockertest"
	"github.com/synapse-image/synapse-image/rootfs/internal/entrypoint"
	"github.com/synapse-image/synapse-image/rootfs/internal/env"
)

// yaml11Values are strings that a YAML 1.1 reader (PyYAML, Synapse's) takes
// for something else, or refuses, when they are written plain.
var yaml11Values = []string{
	"=", "<<", "yes", "no", "on", "off", "y", "N", "True", "1:20", "0777", "0o17", "0x1F", "1_000", "~", "null",
	".inf", "-.Inf", ".NaN", "1e3", "12", "2001-12-14", "!tag", "!!python/object/apply:os.system", "&a", "*a",
	"%x", "@x", "`x", "|", ">", "- x", "? x", "a: b", "a #b", "'", "\"", "\\", "\u0085x", "é ☃ 🐉", " lead", "trail ",
}

// stringVars are the string-valued variables, where their value lands in
// the config, and what else they need to be used at all.
var stringVars = []struct {
	name   string
	path   []string
	prefix string // the config holds prefix+value
	needs  map[string]string
}{
	{"POSTGRES_PASSWORD", []string{"database", "args", "password"}, "", nil},
	{"POSTGRES_USER", []string{"database", "args", "user"}, "", map[string]string{"POSTGRES_PASSWORD": "pw"}},
	{"POSTGRES_DB", []string{"database", "args", "database"}, "", map[string]string{"POSTGRES_PASSWORD": "pw"}},
	{"POSTGRES_HOST", []string{"database", "args", "host"}, "", map[string]string{"POSTGRES_PASSWORD": "pw"}},
	{"SYNAPSE_SMTP_HOST", []string{"email", "smtp_host"}, "", nil},
	{"SYNAPSE_SMTP_USER", []string{"email", "smtp_user"}, "", map[string]string{"SYNAPSE_SMTP_HOST": "mail"}},
	{"SYNAPSE_SMTP_PASSWORD", []string{"email", "smtp_pass"}, "", map[string]string{"SYNAPSE_SMTP_HOST": "mail"}},
	{"SYNAPSE_SMTP_FROM", []string{"email", "notif_from"}, "", map[string]string{"SYNAPSE_SMTP_HOST": "mail"}},
	{"SYNAPSE_TURN_SECRET", []string{"turn_shared_secret"}, "", map[string]string{"SYNAPSE_TURN_URIS": "turn:x"}},
	{"SYNAPSE_TURN_URIS", []string{"turn_uris", "0"}, "turn:", map[string]string{"SYNAPSE_TURN_SECRET": "s"}},
	{"SYNAPSE_RECAPTCHA_PUBLIC_KEY", []string{"recaptcha_public_key"}, "", map[string]string{"SYNAPSE_RECAPTCHA_PRIVATE_KEY": "k"}},
	{"SYNAPSE_RECAPTCHA_PRIVATE_KEY", []string{"recaptcha_private_key"}, "", map[string]string{"SYNAPSE_RECAPTCHA_PUBLIC_KEY": "k"}},
	{"SYNAPSE_REGISTRATION_SHARED_SECRET", []string{"registration_shared_secret"}, "", nil},
	{"SYNAPSE_MACAROON_SECRET_KEY", []string{"macaroon_secret_key"}, "", nil},
	{"SYNAPSE_FORM_SECRET", []string{"form_secret"}, "", nil},
}

// readWithPyYAML is run by the image's python3: each config as Synapse
// reads it (yaml.safe_load), as JSON; a file PyYAML refuses is an error
// string.
const readWithPyYAML = `
import json, os, sys, yaml
out = {}
for d in sorted(os.listdir(sys.argv[1])):
    p = os.path.join(sys.argv[1], d, "generated", "homeserver.yaml")
    try:
        with open(p) as f:
            out[d] = yaml.safe_load(f)
    except Exception as e:
        out[d] = "PyYAML refused: %r" % e
print(json.dumps(out, default=lambda v: "non-JSON %s %r" % (type(v).__name__, v)))
`

// TestPyYAMLRoundTrip: for every string-valued variable and every value
// that YAML 1.1 reads differently from YAML 1.2, the config /start writes
// holds, as the image's PyYAML reads it, exactly the string /start meant;
// or /start refused the value with one line naming the variable (exit 2).
func TestPyYAMLRoundTrip(t *testing.T) {
	d := setupDocker(t)
	base := t.TempDir()
	type want struct {
		path  []string
		value string
	}
	wants := map[string]want{}
	refused := 0
	for i, v := range stringVars {
		for j, val := range yaml11Values {
			name := fmt.Sprintf("%02d-%02d", i, j)
			dir := filepath.Join(base, name)
			vars := map[string]string{"SYNAPSE_SERVER_NAME": "example.com", "SYNAPSE_REPORT_STATS": "no",
				"POSTGRES_WAIT_TIMEOUT": "0", v.name: v.prefix + val}
			for k, x := range v.needs {
				vars[k] = x
			}
			code, stderr := startIn(t, vars, dir)
			if code == 2 {
				refused++
				assert.Equal(t, 1, strings.Count(stderr, "start: error: "+v.name), "%s=%q refused without one line naming it: %s", v.name, val, stderr)
				require.NoError(t, os.RemoveAll(dir))
				continue
			}
			require.Equal(t, 0, code, "%s=%q: %s", v.name, val, stderr)
			// What /start meant: the value its own YAML library reads back
			// (the variable's value, trimmed where the variable says so).
			b, err := os.ReadFile(filepath.Join(dir, "generated", "homeserver.yaml"))
			require.NoError(t, err)
			var meant map[string]any
			require.NoError(t, yaml.Unmarshal(b, &meant))
			w := want{v.path, fmt.Sprint(lookup(meant, v.path))}
			assert.Equal(t, strings.TrimSpace(v.prefix+val), strings.TrimSpace(w.value), "%s=%q did not reach the config", v.name, val)
			wants[name] = w
		}
	}
	t.Logf("%d configs written, %d values refused with exit 2", len(wants), refused)
	require.NotEmpty(t, wants)

	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	out, err := dockertest.RunOnce(ctx, dockertest.Options{Image: d.image, Mounts: []string{base + ":/cases:ro"},
		Entrypoint: "python3", Args: []string{"-c", readWithPyYAML, "/cases"}})
	require.NoError(t, err, out)
	var got map[string]any
	require.NoError(t, json.Unmarshal([]byte(out), &got), out)
	for name, w := range wants {
		v := lookup(got[name], w.path)
		if !assert.Equal(t, w.value, v, "%s: %s", name, strings.Join(w.path, ".")) {
			b, _ := os.ReadFile(filepath.Join(base, name, "generated", "homeserver.yaml"))
			t.Logf("%s", b)
		}
	}
}

// startIn runs /start (run mode, Synapse not exec'd) in-process with vars
// and data directory dir; it returns the exit status and stderr.
func startIn(t *testing.T, vars map[string]string, dir string) (int, string) {
	t.Helper()
	all := map[string]string{"SYNAPSE_DATA_DIR": dir, "UID": fmt.Sprint(testUID), "GID": fmt.Sprint(testGID)}
	for k, v := range vars {
		all[k] = v
	}
	var stdout, stderr strings.Builder
	code := entrypoint.Main(context.Background(), entrypoint.System{
		Env: env.Map(all), Stdout: &stdout, Stderr: &stderr, Rand: &detRand{},
		Now: time.Now, Euid: os.Geteuid(), HasIPv6: func() bool { return false },
		Drop:     func(int, int) error { return nil },
		Exec:     func(string, []string, []string) error { return nil },
		LookPath: func(string) (string, error) { return "/usr/bin/python3", nil },
	}, []string{"run"})
	return code, stderr.String()
}

// lookup follows path (keys; "0" is a list's first item) in a parsed document.
func lookup(v any, path []string) any {
	for _, k := range path {
		switch c := v.(type) {
		case map[string]any:
			v = c[k]
		case []any:
			v = c[0]
		default:
			return fmt.Sprintf("not a mapping at %s: %#v", k, c)
		}
	}
	return v
}
