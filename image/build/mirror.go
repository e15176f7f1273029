package build

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// MirrorState identifies the state of a suite on a Debian mirror: the hash
// of its InRelease file (which lists every package index) and its Date.
// The root file system's cache key uses the hash; its layer uses the Date
// as SOURCE_DATE_EPOCH, so it depends on the mirror, not on when it is built.
type MirrorState struct {
	InReleaseSHA256 string    `json:"inrelease_sha256"`
	Date            time.Time `json:"date"`
	// Remembered is set when the mirror could not be reached and this is
	// the state seen by the last build that reached it.
	Remembered bool `json:"-"`
}

// RememberMirror wraps fetch: a state read from the mirror is remembered in
// dir; when the mirror cannot be reached, the remembered one is used, so a
// build whose layers are all cached works offline (one that needs
// mmdebstrap still fails, saying why).
func RememberMirror(dir string, fetch func(ctx context.Context, mirror, suite string) (MirrorState, error)) func(ctx context.Context, mirror, suite string) (MirrorState, error) {
	return func(ctx context.Context, mirror, suite string) (MirrorState, error) {
		sum := sha256.Sum256([]byte(mirror + "\n" + suite))
		file := filepath.Join(dir, hex.EncodeToString(sum[:8])+".json")
		st, err := fetch(ctx, mirror, suite)
		if err == nil {
			if os.MkdirAll(dir, 0o755) == nil {
				_ = writeJSON(file, st)
			}
			return st, nil
		}
		var old MirrorState
		if readJSON(file, &old) != nil || old.InReleaseSHA256 == "" {
			return MirrorState{}, err
		}
		old.Remembered = true
		return old, nil
	}
}

// FetchMirrorState reads <mirror>/dists/<suite>/InRelease.
func FetchMirrorState(ctx context.Context, client *http.Client, mirror, suite string) (MirrorState, error) {
	url := strings.TrimSuffix(mirror, "/") + "/dists/" + suite + "/InRelease"
	ctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return MirrorState{}, fmt.Errorf("debian.mirror: %w", err)
	}
	resp, err := client.Do(req)
	if err != nil {
		return MirrorState{}, fmt.Errorf("cannot reach the Debian mirror (debian.mirror, debian.suite): %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return MirrorState{}, fmt.Errorf("%s: %s (check debian.mirror and debian.suite)", url, resp.Status)
	}
	data, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
	if err != nil {
		return MirrorState{}, fmt.Errorf("%s: %w", url, err)
	}
	sum := sha256.Sum256(data)
	date, err := releaseDate(string(data))
	if err != nil {
		return MirrorState{}, fmt.Errorf("%s: %w", url, err)
	}
	return MirrorState{InReleaseSHA256: hex.EncodeToString(sum[:]), Date: date}, nil
}

// releaseDate finds the "Date:" field of a Release file.
func releaseDate(release string) (time.Time, error) {
	for _, line := range strings.Split(release, "\n") {
		v, ok := strings.CutPrefix(line, "Date:")
		if !ok {
			continue
		}
		v = strings.TrimSpace(v)
		for _, layout := range []string{time.RFC1123, time.RFC1123Z, "Mon, 2 Jan 2006 15:04:05 MST", "Mon, 2 Jan 2006 15:04:05 -0700"} {
			if t, err := time.Parse(layout, v); err == nil {
				return t.UTC(), nil
			}
		}
		return time.Time{}, fmt.Errorf("cannot parse Date %q", v)
	}
	return time.Time{}, fmt.Errorf("no Date field")
}
