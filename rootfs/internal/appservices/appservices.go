// Package appservices finds and checks the application service
// registrations in /data/appservices before Synapse reads them.
package appservices

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"gopkg.in/yaml.v3"
)

// Find returns the *.yaml and *.yml files in dir, sorted by name, each
// checked the way Synapse checks it (an error names the file). A missing
// dir means no app services.
func Find(dir string) ([]string, error) {
	entries, err := os.ReadDir(dir)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("%s: cannot read the app service directory: %w", dir, err)
	}
	var files []string
	for _, e := range entries {
		name := e.Name()
		if strings.HasPrefix(name, ".") || (!strings.HasSuffix(name, ".yaml") && !strings.HasSuffix(name, ".yml")) {
			continue
		}
		p := filepath.Join(dir, name)
		if fi, err := os.Stat(p); err == nil && fi.IsDir() {
			continue
		}
		files = append(files, p)
	}
	sort.Strings(files)
	ids := map[string]string{}
	for _, p := range files {
		id, err := Check(p)
		if err != nil {
			return nil, err
		}
		if other, dup := ids[id]; dup {
			return nil, fmt.Errorf("%s: app service id %q is already used by %s; ids must be unique", p, id, other)
		}
		ids[id] = p
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
	var pe *os.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}
