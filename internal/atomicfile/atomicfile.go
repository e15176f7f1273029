// Package atomicfile writes files so that a reader never sees them
// half-written, for the whole module: WriteNew for /start's files kept
// between starts (keys, secrets), which are never replaced, and
// WriteReplace for files written afresh each time (the generated config,
// the build's package list, the benchmark's results file).
package atomicfile

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
)

// WriteNew creates path with data and mode, and fails with os.ErrExist if
// it exists. The content is complete before the name appears (temporary
// file, fsync, hard link), so a crash never leaves a half-written key.
func WriteNew(path string, data []byte, mode os.FileMode) error {
	tmp, err := writeTemp(path, data, mode, true)
	if err != nil {
		return err
	}
	defer os.Remove(tmp)
	if err := os.Link(tmp, path); err != nil {
		if errors.Is(err, os.ErrExist) {
			return fmt.Errorf("%s: %w", path, os.ErrExist)
		}
		return fmt.Errorf("create %s: %w", path, err)
	}
	return nil
}

// WriteReplace writes path atomically (temporary file and rename),
// replacing it if it exists. It does not fsync: it is for files written
// afresh on every start, which a crash cannot leave half-written.
func WriteReplace(path string, data []byte, mode os.FileMode) error {
	tmp, err := writeTemp(path, data, mode, false)
	if err != nil {
		return err
	}
	if err := os.Rename(tmp, path); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}

func writeTemp(path string, data []byte, mode os.FileMode, sync bool) (string, error) {
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp*")
	if err != nil {
		return "", fmt.Errorf("write %s: %w", path, err)
	}
	name := f.Name()
	fail := func(err error) (string, error) {
		f.Close()
		os.Remove(name)
		return "", fmt.Errorf("write %s: %w", path, err)
	}
	if err := f.Chmod(mode); err != nil {
		return fail(err)
	}
	if _, err := f.Write(data); err != nil {
		return fail(err)
	}
	if sync {
		if err := f.Sync(); err != nil {
			return fail(err)
		}
	}
	if err := f.Close(); err != nil {
		os.Remove(name)
		return "", fmt.Errorf("write %s: %w", path, err)
	}
	return name, nil
}
