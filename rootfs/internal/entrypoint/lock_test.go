package entrypoint

import (
	"context"
	"io"
	"os"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/synapse-image/synapse-image/rootfs/internal/datalock"
)

// One server per data directory: a start while another holds the lock
// exits 2 naming the holder and writes nothing, in every mode that writes.
func TestDataDirInUse(t *testing.T) {
	for _, tc := range []struct {
		name string
		kv   []string
		args []string
	}{
		{"automated", nil, []string{"run"}},
		{"generate", nil, []string{"generate"}},
		{"manual", []string{"SYNAPSE_CONFIG_PATH", "/placeholder"}, []string{"run"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t, tc.kv...)
			require.NoError(t, os.MkdirAll(h.data, 0o755))
			if tc.name == "manual" {
				h.env["SYNAPSE_CONFIG_PATH"] = h.path("homeserver.yaml")
				require.Equal(t, ExitOK, h.main("generate"), h.stderr.String())
			}
			held, err := datalock.Acquire(h.data)
			require.NoError(t, err)
			defer held.Close()
			require.NoError(t, os.WriteFile(h.path(datalock.HolderFile), []byte("container 4f2a9c1d0b3e, since 2026-12-07T22:00:00Z\n"), 0o644))
			before := snapshot(t, h.data)

			code := h.main(tc.args...)
			assert.Equal(t, ExitUsage, code)
			assert.Equal(t, "start: error: SYNAPSE_DATA_DIR: "+h.data+" is in use by another Synapse (container 4f2a9c1d0b3e, since 2026-12-07T22:00:00Z): one server per data directory; stop the other container first, or give this one a data directory of its own\n", h.stderr.String())
			assert.Nil(t, h.exec, "Synapse not started")
			assert.Equal(t, before, snapshot(t, h.data), "nothing written")

			require.NoError(t, held.Close())
			assert.Equal(t, ExitOK, h.main(tc.args...), "started once the other one is gone: %s", h.stderr.String())
		})
	}
}

// Synapse inherits the lock: it is held, on a descriptor without
// close-on-exec, when /start executes Synapse, and the holder is named.
func TestRunHandsTheLockToSynapse(t *testing.T) {
	h := newHarness(t, "SYNAPSE_NO_TLS", "1")
	sys := h.system()
	var busy error
	sys.Exec = func(string, []string, []string) error {
		_, busy = datalock.Acquire(h.data)
		return nil
	}
	require.Equal(t, ExitOK, Main(context.Background(), sys, []string{"run"}))
	assert.ErrorIs(t, busy, datalock.ErrBusy, "the lock is held at exec")
	host, err := os.Hostname()
	require.NoError(t, err)
	assert.Equal(t, datalock.Holder(host, sys.Now()), h.read(datalock.HolderFile))
	l, err := datalock.Acquire(h.data)
	require.NoError(t, err, "released when /start returns (exec failed)")
	l.Close()
}

// A key that another start (generate and run at once) created between
// load and its creation is the one used, not an error.
func TestSecretCreatedMeanwhile(t *testing.T) {
	h := newHarness(t, "SYNAPSE_NO_TLS", "1")
	sys := h.system()
	// The first random bytes drawn are for the registration secret: the
	// other start writes it just then.
	sys.Rand = &raceRand{Reader: sys.Rand, race: func() {
		require.NoError(t, os.WriteFile(h.path("example.com.registration.key"), []byte("winner\n"), 0o600))
	}}
	require.Equal(t, ExitOK, Main(context.Background(), sys, []string{"run"}), h.stderr.String())
	assert.Equal(t, "winner", h.generated()["registration_shared_secret"])
	assert.Equal(t, "winner\n", h.read("example.com.registration.key"), "kept")
	assert.Contains(t, h.stderr.String(), "example.com.registration.key was created by another start meanwhile: using it")
}

type raceRand struct {
	io.Reader
	race func()
}

func (r *raceRand) Read(p []byte) (int, error) {
	if r.race != nil {
		r.race()
		r.race = nil
	}
	return r.Reader.Read(p)
}
