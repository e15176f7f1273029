package entrypoint

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/synapse-image/synapse-image/rootfs/internal/config"
	"github.com/synapse-image/synapse-image/rootfs/internal/env"
	"github.com/synapse-image/synapse-image/rootfs/internal/pgwait"
	"github.com/synapse-image/synapse-image/rootfs/internal/secrets"
)

// statManual checks that the config named by SYNAPSE_CONFIG_PATH exists
// and is a file. It does not read it: that is done as the Synapse user,
// who may have edited it.
func statManual(c env.Common) error {
	fi, err := os.Stat(c.ConfigPath)
	if errors.Is(err, os.ErrNotExist) {
		return badf("SYNAPSE_CONFIG_PATH: %s does not exist; create it with the generate mode (docker run --rm -v synapse-data:/data -e SYNAPSE_SERVER_NAME=... -e SYNAPSE_REPORT_STATS=no IMAGE generate), edit it, then start again", c.ConfigPath)
	}
	if err != nil {
		return badf("SYNAPSE_CONFIG_PATH: %v", err)
	}
	if fi.IsDir() {
		return badf("SYNAPSE_CONFIG_PATH: %s is a directory; expected the homeserver.yaml file", c.ConfigPath)
	}
	return nil
}

// readManual reads the hand-written config named by SYNAPSE_CONFIG_PATH.
// Inside the data directory (where generate puts it, for the Synapse user
// to edit) it is read without following a symbolic link out of it.
func readManual(c env.Common) (config.Manual, error) {
	if err := statManual(c); err != nil {
		return config.Manual{}, err
	}
	b, err := readInData(c, c.ConfigPath)
	if err != nil {
		return config.Manual{}, badf("SYNAPSE_CONFIG_PATH: %v", err)
	}
	m, err := config.ParseManual(c.ConfigPath, b)
	if err != nil {
		return m, badf("SYNAPSE_CONFIG_PATH: %v", err)
	}
	return m, nil
}

// runManual prepares /data for a hand-written config: only the signing key
// it names is created when missing; the config itself is never touched.
func (s *starter) runManual(ctx context.Context, c env.Common) (string, error) {
	m, err := readManual(c)
	if err != nil {
		return "", err
	}
	if err := s.checkModules(m, m.Path); err != nil {
		return "", err
	}
	wait, err := env.WaitTimeout(s.sys.Env)
	if err != nil {
		return "", err
	}
	// The config is the Synapse user's to edit (generate leaves it to them):
	// as root, only the data directory's fixed paths are touched; the
	// signing key it names is created after the drop.
	if err := s.prepareDataDir(ctx, c, nil); err != nil {
		return "", err
	}
	if m.SigningKeyPath != "" && !secrets.Exists(m.SigningKeyPath) {
		if err := os.MkdirAll(filepath.Dir(m.SigningKeyPath), 0o750); err != nil {
			return "", fmt.Errorf("create directory of the signing key: %w", err)
		}
		if err := s.createSigningKey(m.SigningKeyPath); err != nil {
			return "", err
		}
	}
	s.logf("manual mode: using %s", c.ConfigPath)
	s.warnGenericIgnored()
	if m.DBAddress != "" {
		if err := pgwait.Wait(ctx, m.DBAddress, wait, s.logf); err != nil {
			return "", err
		}
	}
	return c.ConfigPath, nil
}
