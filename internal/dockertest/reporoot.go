package dockertest

import (
	"os"
	"path/filepath"
	"testing"
)

// RepoRoot is the repository's root (the directory of the root go.mod),
// where tests find what the builder wrote (.build/<name>/...).
func RepoRoot(t testing.TB) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("no go.mod above the test's directory")
		}
		dir = parent
	}
}
