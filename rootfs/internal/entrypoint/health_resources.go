package entrypoint

import (
	"context"

	"github.com/synapse-image/synapse-image/rootfs/internal/env"
	"github.com/synapse-image/synapse-image/rootfs/internal/health"
)

// healthResources checks what Synapse's /health does not see but needs to
// serve (docs/start.md#health): room on the data directory's file system
// and, with PostgreSQL over TCP (db, host:port from the config), that the
// database answers. Both are cheap: one statfs, one connection answered
// before authentication. Nothing is cached: a probe that passes again
// makes the container healthy again, without a restart.
func (s *starter) healthResources(ctx context.Context, db string) error {
	c, err := env.LoadCommon(s.sys.Env)
	if err != nil {
		return err
	}
	// The data directory is the operator's path: statfs reads no file in it.
	if err := health.Disk(c.DataDir); err != nil {
		return err
	}
	if db != "" {
		return health.Database(ctx, db)
	}
	return nil
}
