// Package source finds what a build records about the tree it builds from:
// the module root, the git revision and SOURCE_DATE_EPOCH.
package source

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// Root is the directory of the nearest go.mod at or above dir: recipe files
// and programs are relative to it.
func Root(dir string) (string, error) {
	for d := dir; ; d = filepath.Dir(d) {
		if _, err := os.Stat(filepath.Join(d, "go.mod")); err == nil {
			return d, nil
		}
		if filepath.Dir(d) == d {
			return "", fmt.Errorf("no go.mod in %s or above: run the build from the repository", dir)
		}
	}
}

// Revision is git's HEAD in root, with "-dirty" when the tree has
// uncommitted changes; empty when root is not a git checkout.
func Revision(ctx context.Context, root string) string {
	out, err := exec.CommandContext(ctx, "git", "-C", root, "rev-parse", "HEAD").Output()
	if err != nil {
		return ""
	}
	rev := strings.TrimSpace(string(out))
	status, err := exec.CommandContext(ctx, "git", "-C", root, "status", "--porcelain").Output()
	if err == nil && len(strings.TrimSpace(string(status))) > 0 {
		rev += "-dirty"
	}
	return rev
}

// DateEpoch is $SOURCE_DATE_EPOCH (read with getenv), else the time of the
// last commit in root. found is false when neither exists: then, like ko,
// the start of the Unix epoch, so the build stays reproducible.
func DateEpoch(ctx context.Context, root string, getenv func(string) string) (t time.Time, found bool, err error) {
	if v := getenv("SOURCE_DATE_EPOCH"); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n < 0 {
			return time.Time{}, false, fmt.Errorf("SOURCE_DATE_EPOCH=%q: expected seconds since 1970", v)
		}
		return time.Unix(n, 0).UTC(), true, nil
	}
	out, err := exec.CommandContext(ctx, "git", "-C", root, "log", "-1", "--format=%ct").Output()
	if err != nil {
		return time.Unix(0, 0).UTC(), false, nil
	}
	n, err := strconv.ParseInt(strings.TrimSpace(string(out)), 10, 64)
	if err != nil {
		return time.Time{}, false, fmt.Errorf("git log: %w", err)
	}
	return time.Unix(n, 0).UTC(), true, nil
}
