package entrypoint

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"

	"github.com/synapse-image/synapse-image/rootfs/internal/config"
	"github.com/synapse-image/synapse-image/rootfs/internal/env"
	"github.com/synapse-image/synapse-image/rootfs/internal/pgwait"
	"github.com/synapse-image/synapse-image/rootfs/internal/safefs"
	"github.com/synapse-image/synapse-image/rootfs/internal/secrets"
)

// readManualFile reads the hand-written config at path (SYNAPSE_CONFIG_PATH).
// Inside the data directory (where generate puts it, for the Synapse user
// to edit) it is read through safefs: no link out of it, no FIFO or
// device, no hard link, at most safefs.ConfigLimit bytes.
func (s *starter) readManualFile(c env.Common, path string) ([]byte, error) {
	b, err := s.readInData(c, path, safefs.ConfigLimit)
	var fe *safefs.FileError
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return nil, badf("SYNAPSE_CONFIG_PATH: %s does not exist; create it with the generate mode (docker run --rm -v synapse-data:/data -e SYNAPSE_SERVER_NAME=... -e SYNAPSE_REPORT_STATS=no IMAGE generate), edit it, then start again", path)
	case errors.As(err, &fe) && strings.Contains(fe.Reason, "(a directory)"):
		return nil, badf("SYNAPSE_CONFIG_PATH: %s is a directory; expected the homeserver.yaml file", path)
	case err != nil && isDir(err):
		return nil, badf("SYNAPSE_CONFIG_PATH: %s is a directory; expected the homeserver.yaml file", path)
	case err != nil:
		return nil, badf("SYNAPSE_CONFIG_PATH: %v", err)
	}
	return b, nil
}

// isDir: reading a directory as a file (outside the data directory).
func isDir(err error) bool { return errors.Is(err, syscall.EISDIR) }

// readManualAt reads and parses the hand-written config at path.
func (s *starter) readManualAt(c env.Common, path string) (config.Manual, error) {
	b, err := s.readManualFile(c, path)
	if err != nil {
		return config.Manual{}, err
	}
	m, err := config.ParseManual(path, b)
	if err != nil {
		return m, badf("SYNAPSE_CONFIG_PATH: %v", err)
	}
	return m, nil
}

// readManual reads the hand-written config named by SYNAPSE_CONFIG_PATH.
func (s *starter) readManual(c env.Common) (config.Manual, error) {
	return s.readManualAt(c, c.ConfigPath)
}

// runManual prepares /data for a hand-written config: only the signing key
// it names is created when missing; the config itself is never touched.
func (s *starter) runManual(ctx context.Context, c env.Common) (string, error) {
	m, err := s.readManual(c)
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
