// Package tests is the end-to-end suite: it runs the built image the way its
// users do — docker run with the variables of docs/configuration.md,
// docker-compose with the sample file, SQLite and PostgreSQL — and drives
// Synapse with a real Matrix client (mautrix-go). Without a Docker engine or the images it skips with a
// clear message; with E2E_REQUIRED=1 (CI) that is a failure.
//
// Images: SYNAPSE_IMAGE (default synapse:latest), POSTGRES_IMAGE (default
// synapse-postgres:latest). URL mode: TestRemoteHomeserver.
package tests

import (
	"context"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/synapse-image/synapse-image/internal/dockertest"
	"github.com/synapse-image/synapse-image/tests/internal/matrixflow"
)

const (
	// healthTimeout is generous: the machine may be shared and slow.
	healthTimeout = 3 * time.Minute
	// synapseUID is the image's default user.
	synapseUID = 991
)

// engineErr says why the Docker engine cannot be used (nil: it can): no
// engine, or not root. Found once by TestMain, so that such a machine gets
// one clear message.
var engineErr error

func TestMain(m *testing.M) {
	engineErr = dockertest.EngineAvailable(context.Background())
	if engineErr == nil && os.Geteuid() != 0 {
		// Host folders on /data end up owned by uid 991 with 0600 files.
		engineErr = fmt.Errorf("the suite must run as root: it reads, chowns and snapshots host folders that containers own as uid %d", synapseUID)
	}
	required, err := dockertest.Required()
	if err != nil {
		fmt.Fprintf(os.Stderr, "end-to-end suite: %v\n", err)
		os.Exit(2)
	}
	if engineErr != nil {
		verdict := "tests that need one skip"
		if required {
			verdict = "tests that need one fail (" + dockertest.RequiredEnv + " is set)"
		}
		fmt.Fprintf(os.Stderr, "end-to-end suite: cannot use the Docker engine (%v): %s\n", engineErr, verdict)
	}
	os.Exit(m.Run())
}

// requireEngine skips (or with E2E_REQUIRED=1 fails) a test that needs Docker.
func requireEngine(t *testing.T) {
	t.Helper()
	if engineErr != nil {
		dockertest.Unavailable(t, "cannot use the Docker engine: %v", engineErr)
	}
}

func envOr(key, def string) string {
	if v := os.Getenv(key); v != "" {
		return v
	}
	return def
}

// synapseImage returns the image under test, skipping (or failing with
// E2E_REQUIRED=1) when it is not in the engine.
func synapseImage(t *testing.T) string {
	t.Helper()
	return dockertest.SynapseImage(t)
}

// postgresImage returns the PostgreSQL image, likewise.
func postgresImage(t *testing.T) string {
	t.Helper()
	requireEngine(t)
	img := envOr("POSTGRES_IMAGE", "synapse-postgres:latest")
	dockertest.RequireImage(t, img, "build it with `go run . build --recipe image/postgres.yaml --load`, or set POSTGRES_IMAGE")
	return img
}

// baseEnv is the least a user sets for docker run behind a TLS proxy.
func baseEnv(serverName string) map[string]string {
	return map[string]string{
		"SYNAPSE_SERVER_NAME":  serverName,
		"SYNAPSE_REPORT_STATS": "no",
		"SYNAPSE_NO_TLS":       "1",
	}
}

// synapse is a running Synapse container.
type synapse struct {
	*dockertest.Container
	ServerName string
	// Data is the host folder on /data ("" for a volume).
	Data string
}

// runSynapse starts the image with env and waits until Docker reports it
// healthy. The Synapse HTTP port 8008 is always published on loopback.
func runSynapse(t *testing.T, serverName, data string, opts dockertest.Options) *synapse {
	t.Helper()
	if opts.Image == "" {
		opts.Image = synapseImage(t)
	}
	if data != "" {
		opts.Mounts = append(opts.Mounts, data+":/data")
	}
	opts.Ports = append(opts.Ports, "8008")
	c := dockertest.Run(t, opts)
	c.WaitHealthy(context.Background(), healthTimeout)
	return &synapse{Container: c, ServerName: serverName, Data: data}
}

// homeserver describes s for the client flow; the shared secret is the one
// the image keeps in /data.
func (s *synapse) homeserver(t *testing.T) matrixflow.Homeserver {
	t.Helper()
	return matrixflow.Homeserver{
		URL:          s.URL("http", "8008"),
		ServerName:   s.ServerName,
		SharedSecret: s.readData(t, s.ServerName+".registration.key"),
	}
}

// readData reads a file of /data, from the host folder or, for a volume,
// from inside the container; trailing newlines are dropped.
func (s *synapse) readData(t *testing.T, name string) string {
	t.Helper()
	var b []byte
	var err error
	if s.Data != "" {
		b, err = os.ReadFile(filepath.Join(s.Data, name))
	} else {
		var out string
		out, err = s.Exec(context.Background(), "cat", "/data/"+name)
		b = []byte(out)
	}
	require.NoError(t, err, "read /data/%s", name)
	v := strings.TrimRight(string(b), "\r\n")
	require.NotEmpty(t, v, "/data/%s is empty", name)
	return v
}

// freePort returns a TCP port that is free on loopback right now.
func freePort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

func itoa(i int) string { return strconv.Itoa(i) }
