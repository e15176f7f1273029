package entrypoint

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"strings"
	"time"

	"github.com/synapse-image/synapse-image/rootfs/internal/config"
	"github.com/synapse-image/synapse-image/rootfs/internal/env"
	"github.com/synapse-image/synapse-image/rootfs/internal/overrides"
	"github.com/synapse-image/synapse-image/rootfs/internal/safefs"
	"github.com/synapse-image/synapse-image/rootfs/internal/secrets"
)

// MainApp is the module of the main process.
const MainApp = "synapse.app.homeserver"

// checkWorkers refuses, before anything is written, what the variables of
// Redis and workers need and the image lacks: Redis from SYNAPSE_REDIS_HOST
// needs txredisapi (the variable is named, not the generated file).
func (s *starter) checkWorkers(st env.Settings) error {
	if st.Redis == nil {
		return nil
	}
	return s.checkModules(config.Manual{RedisEnabled: true}, "SYNAPSE_REDIS_HOST")
}

// workerSecretFiles: with workers, the replication secret is one more of
// the main's secrets, kept in the data directory unless a variable gives it.
func workerSecretFiles(p *plan) []secretFile {
	st := p.settings
	if st.Workers == nil {
		return nil
	}
	p.secrets.WorkerReplicationSecret = st.Workers.ReplicationSecret
	return []secretFile{{"replication secret", config.ReplicationKeyFile(st.DataDir, st.ServerName), &p.secrets.WorkerReplicationSecret}}
}

// isWorker reports whether this process is a worker, not the main.
func isWorker(st env.Settings) bool {
	_, ok := st.Workers.Worker()
	return ok
}

// automatedApp is the Python module the process of automated mode runs:
// the main's, or its worker type's.
func automatedApp(src env.Source) (string, error) {
	in, ok, err := env.WorkerInstance(src)
	if err != nil || !ok {
		return MainApp, err
	}
	return in.Type.App, nil
}

// awaitMain is a worker's stand-in for creating secrets and keys: it
// never creates the main's signing key or secrets (a second key would
// split the server), but waits, up to SYNAPSE_WORKER_WAIT_TIMEOUT, for the
// main to create them in the shared data directory, reads them, and
// merges the config again with them.
func (s *starter) awaitMain(ctx context.Context, p *plan, m *merged, layers []overrides.Layer, hsPath, logPath string) (*merged, error) {
	st := p.settings
	wait := st.Workers.WaitTimeout
	deadline := time.Now().Add(wait)
	logged := false
	for {
		missing, err := s.readMissing(p)
		if err != nil {
			return nil, err
		}
		if k := m.facts.SigningKeyPath; k != "" && !secrets.Exists(k) {
			missing = append(missing, k)
		}
		if len(missing) == 0 {
			break
		}
		if !time.Now().Before(deadline) {
			return nil, fmt.Errorf("SYNAPSE_WORKER_NAME=%s: the main process has not created %s (waited %s, SYNAPSE_WORKER_WAIT_TIMEOUT): a worker never creates the main's keys and secrets; start the main with the same data directory first, or give the secrets as variables",
				st.Workers.Name, strings.Join(missing, ", "), wait)
		}
		if !logged {
			s.logf("waiting up to %s for the main process to create %s", wait, strings.Join(missing, ", "))
			logged = true
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(250 * time.Millisecond):
		}
	}
	if logged {
		s.logf("the main process's keys and secrets are there")
	}
	return s.merge(s.homeserver(p, logPath), layers, config.Header, hsPath)
}

// readMissing reads the secret files of p.missing that exist now, and
// returns the paths of those still missing.
func (s *starter) readMissing(p *plan) ([]string, error) {
	var still []secretFile
	var paths []string
	for _, f := range p.missing {
		b, err := s.readInData(p.settings.Common, f.path, safefs.SecretLimit)
		if errors.Is(err, fs.ErrNotExist) {
			still = append(still, f)
			paths = append(paths, f.path)
			continue
		}
		if err != nil {
			return nil, badf("%s: %v (/start does not follow symbolic links out of the data directory)", f.what, err)
		}
		v, err := secrets.Parse(f.path, b)
		if err != nil {
			return nil, bad(err)
		}
		*f.dst = v
	}
	p.missing = still
	return paths, nil
}
