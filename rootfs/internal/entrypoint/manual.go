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

// readManual reads the hand-written config named by SYNAPSE_CONFIG_PATH.
func readManual(c env.Common) (config.Manual, error) {
	fi, err := os.Stat(c.ConfigPath)
	if errors.Is(err, os.ErrNotExist) {
		return config.Manual{}, badf("SYNAPSE_CONFIG_PATH: %s does not exist; create it with the generate mode (docker run --rm -v synapse-data:/data -e SYNAPSE_SERVER_NAME=... -e SYNAPSE_REPORT_STATS=no IMAGE generate), edit it, then start again", c.ConfigPath)
	}
	if err != nil {
		return config.Manual{}, badf("SYNAPSE_CONFIG_PATH: %v", err)
	}
	if fi.IsDir() {
		return config.Manual{}, badf("SYNAPSE_CONFIG_PATH: %s is a directory; expected the homeserver.yaml file", c.ConfigPath)
	}
	m, err := config.ReadManual(c.ConfigPath)
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
	wait, err := env.WaitTimeout(s.sys.Env)
	if err != nil {
		return "", err
	}
	if err := s.prepareDataDir(c, m.SigningKeyPath); err != nil {
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
	if m.DBAddress != "" {
		if err := pgwait.Wait(ctx, m.DBAddress, wait, s.logf); err != nil {
			return "", err
		}
	}
	return c.ConfigPath, nil
}
