package workers

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestWorkersDoc: the table of docs/workers.md is what the table of types
// generates.
func TestWorkersDoc(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("..", "..", "..", "docs", "workers.md"))
	require.NoError(t, err)
	want, err := ReplaceTable(string(b))
	require.NoError(t, err)
	if string(b) != want {
		t.Fatalf("the table of docs/workers.md differs from rootfs/internal/workers/types.go; regenerate it with:\n\tgo generate ./rootfs/internal/workers")
	}
	for _, typ := range Types {
		assert.Contains(t, string(b), "| `"+typ.Name+"` |")
	}
}

func TestReplaceTable(t *testing.T) {
	out, err := ReplaceTable("intro\n" + TableStart + "\nold\n" + TableEnd + "\nrest\n")
	require.NoError(t, err)
	assert.True(t, strings.HasPrefix(out, "intro\n"+TableStart+"\n\n| type |"))
	assert.True(t, strings.HasSuffix(out, "\n"+TableEnd+"\nrest\n"))
	assert.NotContains(t, out, "old")
	_, err = ReplaceTable("no table")
	assert.Error(t, err)
}
