package synapsecheck

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// fakePython stands in for python3: it prints what the script would and
// exits with code.
func fakePython(t *testing.T, output string, code int) string {
	t.Helper()
	dir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, "out"), []byte(output), 0o644))
	p := filepath.Join(dir, "python3")
	script := fmt.Sprintf("#!/bin/sh\ncat >/dev/null\ncat %s\nexit %d\n", filepath.Join(dir, "out"), code)
	require.NoError(t, os.WriteFile(p, []byte(script), 0o755))
	return p
}

func TestCheck(t *testing.T) {
	ctx := context.Background()
	for _, c := range []struct {
		name, output string
		code         int
		invalid      string
		fails        bool
	}{
		{"valid", "warning: key servers\nsynapse: the config is valid\n", 0, "", false},
		{"invalid", "some warning\nsynapse: error in configuration at 'rc_message.per_second': bad\n", 2, "synapse: error in configuration at 'rc_message.per_second': bad", true},
		{"crash", "Traceback\nImportError: no synapse\n", 1, "", true},
		{"no verdict", "", 0, "", true},
	} {
		t.Run(c.name, func(t *testing.T) {
			err := Check(ctx, fakePython(t, c.output, c.code), []byte("a: 1"), "/data/generated", "/data", false, 0, 0)
			if !c.fails {
				require.NoError(t, err)
				return
			}
			require.Error(t, err)
			var inv *Invalid
			if c.invalid != "" {
				require.ErrorAs(t, err, &inv)
				assert.Equal(t, c.invalid, inv.Msg)
			} else {
				assert.NotErrorAs(t, err, &inv)
			}
		})
	}
}

// TestCheckIsolated: the child that parses a config runs in a session of
// its own without a controlling terminal (no TIOCSTI into root's shell),
// with python3 -I (no user site), and a HOME outside the data directory.
func TestCheckIsolated(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "python3")
	script := "#!/bin/sh\ncat >/dev/null\nset -- $(cut -d' ' -f6,7 /proc/$$/stat) \"$*\"\n" +
		"echo \"synapse: sid=$1 tty=$2 pid=$$ home=$HOME nousersite=$PYTHONNOUSERSITE args=$3\"\nexit 2\n"
	require.NoError(t, os.WriteFile(p, []byte(script), 0o755))
	err := Check(context.Background(), p, []byte("a: 1"), "/data/generated", "/data", false, 0, 0)
	var inv *Invalid
	require.ErrorAs(t, err, &inv)
	var sid, tty, pid int
	var home, nousersite, args string
	_, scanErr := fmt.Sscanf(inv.Msg, "synapse: sid=%d tty=%d pid=%d home=%s nousersite=%s args=%s", &sid, &tty, &pid, &home, &nousersite, &args)
	require.NoError(t, scanErr, inv.Msg)
	assert.Equal(t, pid, sid, "a session leader: %s", inv.Msg)
	assert.Zero(t, tty, "no controlling terminal")
	assert.Equal(t, "/nonexistent", home)
	assert.Equal(t, "1", nousersite)
	assert.Equal(t, "-I", args, "isolated mode: no user site, no PYTHON* variables")
}
