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
