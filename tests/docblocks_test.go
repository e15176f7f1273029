package tests

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/synapse-image/synapse-image/internal/dockertest"
)

// docShellBlocks are the shell examples of the operator manual that the
// end-to-end tests run as written, by file and marker name
// (<!-- e2e: NAME --> on the line before the fence).
var docShellBlocks = map[string][]string{
	"migration.md": {"port-db"},
	"backups.md":   {"backup-sqlite", "restore-sqlite", "backup-postgres", "restore-postgres"},
}

// markedBlock matches a marker and the fenced shell block after it.
var markedBlock = regexp.MustCompile("(?m)^<!-- e2e: ([a-z0-9-]+) -->\n```sh\n((?s:.*?))```$")

// shellFence matches the opening fence of any shell block.
var shellFence = regexp.MustCompile("(?m)^\\s*```(sh|bash|shell|console)\\s*$")

func readDocBlocks(t *testing.T, file string) map[string]string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dockertest.RepoRoot(t), "docs", file))
	require.NoError(t, err)
	blocks := map[string]string{}
	for _, m := range markedBlock.FindAllStringSubmatch(string(b), -1) {
		require.NotContains(t, blocks, m[1], "docs/%s: marker %q twice", file, m[1])
		blocks[m[1]] = m[2]
	}
	return blocks
}

// TestDocShellBlocksAreRun: every shell block of the files in
// docShellBlocks carries a marker, and the markers are exactly the blocks
// the end-to-end tests run; a new example without a test fails here.
func TestDocShellBlocksAreRun(t *testing.T) {
	for file, want := range docShellBlocks {
		b, err := os.ReadFile(filepath.Join(dockertest.RepoRoot(t), "docs", file))
		require.NoError(t, err)
		blocks := readDocBlocks(t, file)
		assert.Len(t, shellFence.FindAllString(string(b), -1), len(blocks),
			"docs/%s: every shell block is marked <!-- e2e: NAME --> and run by a test", file)
		var got []string
		for name := range blocks {
			got = append(got, name)
		}
		assert.ElementsMatch(t, want, got, "docs/%s: the marked blocks", file)
	}
}

// docBlock returns the shell block NAME of docs/FILE.
func docBlock(t *testing.T, file, name string) string {
	t.Helper()
	require.Contains(t, docShellBlocks[file], name, "docShellBlocks lists %s in %s", name, file)
	block, ok := readDocBlocks(t, file)[name]
	require.True(t, ok, "docs/%s has no block <!-- e2e: %s -->", file, name)
	return block
}

// runDocBlock runs a documented shell block as written, with sh -eu in
// dir, the variables the manual asks the reader to set in its environment.
// It returns stdout and stderr interleaved.
func runDocBlock(ctx context.Context, dir, block string, vars map[string]string) (string, error) {
	cmd := exec.CommandContext(ctx, "sh", "-eu", "-c", block)
	cmd.Dir = dir
	cmd.Env = os.Environ()
	for k, v := range vars {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		return out.String(), fmt.Errorf("documented commands %q: %w", strings.TrimSpace(block), err)
	}
	return out.String(), nil
}
