// Package appservices finds and checks the application service
// registrations in /data/appservices before Synapse reads them.
package appservices

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/synapse-image/synapse-image/rootfs/internal/safefs"
)

// Find returns the *.yaml and *.yml files in dir, sorted by name, each
// checked the way Synapse checks it (an error names the file). A missing
// dir means no app services.
func Find(dir string) ([]string, error) {
	root, err := os.OpenRoot(filepath.Dir(dir))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("%s: cannot read the app service directory: %w", dir, err)
	}
	defer root.Close()
	return FindIn(root, filepath.Base(dir), dir)
}

// FindIn is Find for the directory name of root, whose absolute path is
// abs (for the returned paths and messages). Registrations are read
// through safefs: no link out of root, no FIFO, device or hard link, at
// most safefs.RegistrationLimit bytes each.
func FindIn(root *os.Root, name, abs string) ([]string, error) {
	fsys := root.FS()
	entries, err := fs.ReadDir(fsys, name)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("%s: cannot read the app service directory: %w", abs, err)
	}
	var names []string
	for _, e := range entries {
		n := e.Name()
		if strings.HasPrefix(n, ".") || (!strings.HasSuffix(n, ".yaml") && !strings.HasSuffix(n, ".yml")) {
			continue
		}
		if fi, err := fs.Stat(fsys, path.Join(name, n)); err == nil && fi.IsDir() {
			continue
		}
		names = append(names, n)
	}
	sort.Strings(names)
	var files []string
	ids := map[string]string{}
	for _, n := range names {
		p := filepath.Join(abs, n)
		b, err := safefs.ReadFile(root, path.Join(name, n), safefs.RegistrationLimit)
		var fe *safefs.FileError
		if errors.As(err, &fe) {
			return nil, fmt.Errorf("%s: cannot read app service registration: %s; %s", p, fe.Reason, fe.Advice)
		}
		if err != nil {
			return nil, fmt.Errorf("%s: cannot read app service registration: %w", p, unwrap(err))
		}
		id, err := check(p, b)
		if err != nil {
			return nil, err
		}
		if other, dup := ids[id]; dup {
			return nil, fmt.Errorf("%s: app service id %q is already used by %s; ids must be unique", p, id, other)
		}
		ids[id] = p
		files = append(files, p)
	}
	return files, nil
}

// Check parses one registration file and checks the fields Synapse
// requires; it returns the id.
func Check(path string) (string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return "", fmt.Errorf("%s: cannot read app service registration: %w", path, unwrap(err))
	}
	return check(path, b)
}

func check(path string, b []byte) (string, error) {
	var reg map[string]any
	if err := yaml.Unmarshal(b, &reg); err != nil {
		return "", fmt.Errorf("%s: app service registration is not valid YAML: %w", path, err)
	}
	if reg == nil {
		return "", fmt.Errorf("%s: app service registration is empty; expected a YAML mapping with id, url, as_token, hs_token, sender_localpart, namespaces", path)
	}
	for _, k := range []string{"id", "as_token", "hs_token", "sender_localpart"} {
		if _, ok := reg[k].(string); !ok {
			return "", fmt.Errorf("%s: app service registration needs %q as a string", path, k)
		}
	}
	if u, ok := reg["url"]; !ok || (u != nil && !isString(u)) {
		return "", fmt.Errorf("%s: app service registration needs \"url\" as a string or an explicit null", path)
	}
	if _, ok := reg["namespaces"].(map[string]any); !ok {
		return "", fmt.Errorf("%s: app service registration needs a \"namespaces\" mapping", path)
	}
	return reg["id"].(string), nil
}

func isString(v any) bool { _, ok := v.(string); return ok }

func unwrap(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}
