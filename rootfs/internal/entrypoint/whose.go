package entrypoint

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/synapse-image/synapse-image/rootfs/internal/config"
	"github.com/synapse-image/synapse-image/rootfs/internal/env"
	"github.com/synapse-image/synapse-image/rootfs/internal/safefs"
)

// dataServerName is the server name the data directory belongs to, and
// how /start knows it: the server_name of the config the last start wrote
// (generated/homeserver.yaml), else the name of a signing key
// (<server>.signing.key). "" when neither is there (a new data directory).
func (s *starter) dataServerName(c env.Common, data *os.Root) (name, source string, err error) {
	gen := filepath.Join("generated", "homeserver.yaml")
	b, err := safefs.ReadFile(data, gen, safefs.ConfigLimit)
	switch {
	case err == nil:
		m, err := config.ParseManual(dataPath(c, gen), b)
		if err == nil && m.ServerName != "" {
			return m.ServerName, dataPath(c, gen), nil
		}
	case !errors.Is(err, fs.ErrNotExist):
		return "", "", bad(err)
	}
	entries, err := fs.ReadDir(data.FS(), ".")
	if err != nil {
		return "", "", fmt.Errorf("list %s: %w", c.DataDir, err)
	}
	var names []string
	for _, e := range entries {
		if n, ok := strings.CutSuffix(e.Name(), ".signing.key"); ok && n != "" && !e.IsDir() {
			names = append(names, n)
		}
	}
	sort.Strings(names)
	if len(names) == 0 {
		return "", "", nil
	}
	return names[0], dataPath(c, names[0]+".signing.key"), nil
}

// checkServerName refuses a SYNAPSE_SERVER_NAME that differs from the one
// the data directory belongs to, before anything is written: Synapse would
// run another server on the same database (and /start would make a second
// set of keys beside the first).
func (s *starter) checkServerName(st env.Settings, data *os.Root) error {
	name, source, err := s.dataServerName(st.Common, data)
	if err != nil || name == "" || name == st.ServerName {
		return err
	}
	// A data directory may hold keys for its own name beside an older
	// one's: the current name's signing key says the data is its own.
	if _, err := data.Lstat(st.ServerName + ".signing.key"); err == nil && !strings.HasPrefix(source, config.GeneratedDir(st.DataDir)) {
		return nil
	}
	return badf("SYNAPSE_SERVER_NAME: %s, but %s belongs to %s (%s): a server name cannot change once Synapse has run on its data; set SYNAPSE_SERVER_NAME=%s, or start the new server on a new volume",
		st.ServerName, st.DataDir, name, source, name)
}

// common reads the settings every mode needs, and finds a hand-written
// config in the data directory when SYNAPSE_CONFIG_PATH is not set: a
// homeserver.yaml there (the official image's layout, or one generate
// wrote) is run as it is, in manual mode, as the official image runs it;
// it is never ignored in favour of a fresh config and a fresh database.
func (s *starter) common(say bool) (env.Common, error) {
	c, err := env.LoadCommon(s.sys.Env)
	if err != nil || c.ConfigPath != "" {
		return c, err
	}
	data, err := s.openData(c, false)
	if errors.Is(err, fs.ErrNotExist) {
		return c, nil
	}
	if err != nil {
		return c, err
	}
	_, err = data.Lstat("homeserver.yaml")
	data.Close()
	if errors.Is(err, fs.ErrNotExist) {
		return c, nil
	}
	path := dataPath(c, "homeserver.yaml")
	c.ConfigPath = path
	if say {
		s.logf("found %s (the official image's layout, or generate's): running it as it is, in manual mode; set SYNAPSE_CONFIG_PATH=%s to say so, or move it out of the data directory for automated mode", path, path)
	}
	return c, nil
}
