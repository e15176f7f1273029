package sigexec

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"
)

func TestAddSignal(t *testing.T) {
	for _, sig := range []unix.Signal{unix.SIGHUP, unix.SIGTERM, unix.SIGUSR2, 33, 64} {
		var set unix.Sigset_t
		addSignal(&set, sig)
		// SigBlk in /proc is the same mask as hex; here bit sig-1.
		n := uint(sig) - 1
		assert.NotZero(t, set.Val[n/64]&(1<<(n%64)), "signal %d", sig)
	}
}

// The program executed starts with SIGTERM blocked (SigBlk of its
// /proc/self/status), the rest of the mask unchanged.
func TestExecBlocksSIGTERM(t *testing.T) {
	grep, err := exec.LookPath("grep")
	if err != nil {
		t.Skip("no grep to execute")
	}
	if os.Getenv("SIGEXEC_CHILD") == "1" {
		err := Exec(context.Background(), grep, []string{"grep", "^SigBlk:", "/proc/self/status"}, os.Environ())
		t.Fatalf("exec: %v", err)
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestExecBlocksSIGTERM$")
	cmd.Env = append(os.Environ(), "SIGEXEC_CHILD=1")
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, "%s", out)
	fields := strings.Fields(string(out))
	require.Len(t, fields, 2, "%s", out)
	assert.Equal(t, "0000000000004000", fields[1], "only SIGTERM (15: bit 14) blocked")
}

func TestExecStoppedBefore(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	err := Exec(ctx, "/nonexistent", []string{"x"}, nil)
	assert.ErrorIs(t, err, context.Canceled, "a stop requested before: not executed")
	var now unix.Sigset_t
	require.NoError(t, unix.PthreadSigmask(unix.SIG_BLOCK, nil, &now))
	assert.Zero(t, now.Val[0]&(1<<14), "unblocked again")
}

func TestHookInstalled(t *testing.T) {
	dir := t.TempDir()
	for _, tc := range []struct {
		name, content string
		want          bool
	}{
		{"the recipe's edit", "\"\"\"doc\"\"\"\n\n\ndef _synapse_image_early_sigterm() -> None:\n    pass\n", true},
		{"Synapse as packaged", "\"\"\"This is an implementation of a Matrix homeserver.\"\"\"\nimport os\n", false},
		{"missing", "", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(dir, strings.ReplaceAll(tc.name, " ", "_"))
			if tc.content != "" {
				require.NoError(t, os.WriteFile(path, []byte(tc.content), 0o644))
			}
			assert.Equal(t, tc.want, HookInstalled(path))
		})
	}
}
