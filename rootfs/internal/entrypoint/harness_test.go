package entrypoint

import (
	"bytes"
	"context"
	"crypto/sha256"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"gopkg.in/yaml.v3"

	"github.com/synapse-image/synapse-image/rootfs/internal/env"
)

// detRand is a deterministic random stream (SHA-256 of a counter).
type detRand struct {
	n   uint64
	buf []byte
}

func (r *detRand) Read(p []byte) (int, error) {
	for i := range p {
		if len(r.buf) == 0 {
			s := sha256.Sum256([]byte(fmt.Sprint(r.n)))
			r.n++
			r.buf = s[:]
		}
		p[i] = r.buf[0]
		r.buf = r.buf[1:]
	}
	return len(p), nil
}

type execCall struct {
	argv0 string
	argv  []string
	envv  []string
}

type harness struct {
	t              *testing.T
	data           string
	env            map[string]string
	stdout, stderr bytes.Buffer
	exec           *execCall
	dropped        []int
	ipv6           bool
	jemalloc       string
	umask          int
	validate       func(ctx context.Context, python string, cfg []byte, configDir, dataDir string, asRoot bool, uid, gid int) error
	// modules are the Python modules the image has.
	modules map[string]bool
}

func newHarness(t *testing.T, kv ...string) *harness {
	h := &harness{t: t, data: filepath.Join(t.TempDir(), "data")}
	h.env = map[string]string{
		"SYNAPSE_SERVER_NAME":  "example.com",
		"SYNAPSE_REPORT_STATS": "no",
		"SYNAPSE_DATA_DIR":     h.data,
		// As root, ids other than ours exercise the real ownership fix; UID
		// and GID differ, so swapped arguments cannot pass.
		"UID": fmt.Sprint(testUID),
		"GID": fmt.Sprint(testGID),
	}
	for i := 0; i+1 < len(kv); i += 2 {
		h.env[kv[i]] = kv[i+1]
	}
	return h
}

// testUID and testGID are the UID and GID of the tests: 4242:4343 as root,
// else the test's own ids (an ordinary user cannot give files away).
var testUID, testGID = func() (int, int) {
	if os.Geteuid() == 0 {
		return 4242, 4343
	}
	return os.Geteuid(), os.Getegid()
}()

func (h *harness) system() System {
	return System{
		Env:     env.Map(h.env),
		Stdout:  &h.stdout,
		Stderr:  &h.stderr,
		Rand:    &detRand{},
		Now:     func() time.Time { return time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC) },
		Euid:    os.Geteuid(),
		HasIPv6: func() bool { return h.ipv6 },
		Drop:    func(uid, gid int) error { h.dropped = []int{uid, gid}; return nil },
		Exec: func(argv0 string, argv, envv []string) error {
			h.exec = &execCall{argv0, argv, envv}
			return nil
		},
		LookPath:     func(string) (string, error) { return "/usr/bin/python3", nil },
		Environ:      []string{"PATH=/usr/bin", "SYNAPSE_SERVER_NAME=example.com", "POSTGRES_PASSWORD=pw", "SYNAPSE_MACAROON_SECRET_KEY=m", "SYNAPSE_TURN_SECRET_FILE=/run/secrets/turn"},
		Jemalloc:     h.jemalloc,
		Umask:        func(m int) int { h.umask = m; return 0o022 },
		Validate:     h.validate,
		PythonModule: func(name string) bool { return h.modules[name] },
	}
}

func (h *harness) main(args ...string) int {
	h.stdout.Reset()
	h.stderr.Reset()
	h.exec = nil
	return Main(context.Background(), h.system(), args)
}

func (h *harness) path(name string) string { return filepath.Join(h.data, name) }

func (h *harness) read(name string) string {
	b, err := os.ReadFile(h.path(name))
	require.NoError(h.t, err)
	return string(b)
}

func (h *harness) mode(name string) fs.FileMode {
	fi, err := os.Stat(h.path(name))
	require.NoError(h.t, err)
	return fi.Mode().Perm()
}

// snapshot lists every entry below dir with its size, mode and content hash.
func snapshot(t *testing.T, dir string) []string {
	var out []string
	filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			out = append(out, "error "+err.Error())
			return nil
		}
		fi, _ := d.Info()
		sum := ""
		if d.Type().IsRegular() {
			b, _ := os.ReadFile(p)
			sum = fmt.Sprintf("%x", sha256.Sum256(b))
		}
		out = append(out, fmt.Sprintf("%s %v %d %s %d", p, fi.Mode(), fi.Size(), sum, fi.ModTime().UnixNano()))
		return nil
	})
	sort.Strings(out)
	return out
}

func (h *harness) generated() map[string]any {
	var m map[string]any
	require.NoError(h.t, yaml.Unmarshal([]byte(h.read("generated/homeserver.yaml")), &m))
	return m
}

const appservice = "id: %s\nurl: null\nas_token: at-%s\nhs_token: ht-%s\nsender_localpart: %s\nnamespaces: {}\n"

func (h *harness) addAppservice(name, id string) {
	require.NoError(h.t, os.MkdirAll(h.path("appservices"), 0o755))
	require.NoError(h.t, os.WriteFile(h.path("appservices/"+name), []byte(fmt.Sprintf(appservice, id, id, id, id)), 0o644))
}
