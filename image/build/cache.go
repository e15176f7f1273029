package build

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"time"
)

// cacheVersion changes whenever the builder changes what a layer contains,
// so old cache entries are not reused.
const cacheVersion = "synapse-image/build v2"

// Cache stores finished layers by the hash of what made them. Entries are
// written in a temporary directory and renamed, so a crash never leaves a
// half-written entry.
type Cache struct {
	Dir string
	// Refresh ignores existing entries (--no-cache); new results are still stored.
	Refresh bool
}

// DefaultCacheDir is $XDG_CACHE_HOME/synapse-image or ~/.cache/synapse-image.
func DefaultCacheDir() (string, error) {
	if d := os.Getenv("XDG_CACHE_HOME"); d != "" {
		return filepath.Join(d, "synapse-image"), nil
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return "", fmt.Errorf("cache directory: %w (set XDG_CACHE_HOME or use --cache-dir)", err)
	}
	return filepath.Join(home, ".cache", "synapse-image"), nil
}

// Key hashes the inputs of a step. parts are encoded as JSON, so any
// change in any of them gives another key.
func Key(step string, parts ...any) (string, error) {
	h := sha256.New()
	enc := json.NewEncoder(h)
	for _, p := range append([]any{cacheVersion, step}, parts...) {
		if err := enc.Encode(p); err != nil {
			return "", fmt.Errorf("cache key for %s: %w", step, err)
		}
	}
	return step + "-" + hex.EncodeToString(h.Sum(nil))[:32], nil
}

// Lookup returns the directory of the entry for key, if there is one.
func (c *Cache) Lookup(key string) (string, bool) {
	if c.Refresh {
		return "", false
	}
	dir := filepath.Join(c.Dir, "layers", key)
	done := filepath.Join(dir, "done")
	if _, err := os.Stat(done); err != nil {
		return "", false
	}
	now := time.Now()
	_ = os.Chtimes(done, now, now) // last use, for Prune
	return dir, true
}

// Prune removes the entries not used for maxAge and returns how many.
func (c *Cache) Prune(maxAge time.Duration) (int, error) {
	entries, err := os.ReadDir(filepath.Join(c.Dir, "layers"))
	if os.IsNotExist(err) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("cache: %w", err)
	}
	n := 0
	for _, e := range entries {
		dir := filepath.Join(c.Dir, "layers", e.Name())
		info, err := os.Stat(filepath.Join(dir, "done"))
		if err != nil || time.Since(info.ModTime()) < maxAge {
			continue // in use, or being written by another build
		}
		if err := os.RemoveAll(dir); err != nil {
			return n, fmt.Errorf("cache: %w", err)
		}
		n++
	}
	return n, nil
}

// Store runs fill on a new, empty directory and makes it the entry for key.
func (c *Cache) Store(key string, fill func(dir string) error) (string, error) {
	parent := filepath.Join(c.Dir, "layers")
	if err := os.MkdirAll(parent, 0o755); err != nil {
		return "", fmt.Errorf("cache: %w", err)
	}
	tmp, err := os.MkdirTemp(parent, ".tmp-"+key+"-")
	if err != nil {
		return "", fmt.Errorf("cache: %w", err)
	}
	defer removeAll(tmp) //nolint:errcheck // a left-over temporary entry is never used
	if err := fill(tmp); err != nil {
		return "", err
	}
	if err := os.WriteFile(filepath.Join(tmp, "done"), nil, 0o644); err != nil {
		return "", fmt.Errorf("cache: %w", err)
	}
	final := filepath.Join(parent, key)
	if err := os.RemoveAll(final); err != nil {
		return "", fmt.Errorf("cache: %w", err)
	}
	if err := os.Rename(tmp, final); err != nil && !errors.Is(err, fs.ErrExist) {
		return "", fmt.Errorf("cache: %w", err)
	}
	return final, nil
}

// writeJSON and readJSON keep the facts a step learned next to its layer.
func writeJSON(file string, v any) error {
	data, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(file, data, 0o644)
}

func readJSON(file string, v any) error {
	data, err := os.ReadFile(file)
	if err != nil {
		return err
	}
	if err := json.Unmarshal(data, v); err != nil {
		return fmt.Errorf("%s: %w", file, err)
	}
	return nil
}
