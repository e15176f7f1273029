package entrypoint

import (
	"context"

	"github.com/synapse-image/synapse-image/rootfs/internal/config"
	"github.com/synapse-image/synapse-image/rootfs/internal/health"
)

// health probes Synapse's /health on the port of the config.
func (s *starter) health(ctx context.Context) error {
	url := config.HealthURL()
	if p := s.sys.Env.String("SYNAPSE_CONFIG_PATH"); p != "" {
		m, err := config.ReadManual(p)
		if err != nil {
			return err
		}
		url = m.HealthURL
	}
	return health.Check(ctx, url)
}
