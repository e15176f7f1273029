package entrypoint

import (
	"github.com/synapse-image/synapse-image/rootfs/internal/config"
	"github.com/synapse-image/synapse-image/rootfs/internal/env"
)

// checkWorkers refuses, before anything is written, what the variables of
// Redis and workers need and the image lacks: Redis from SYNAPSE_REDIS_HOST
// needs txredisapi (the variable is named, not the generated file).
func (s *starter) checkWorkers(st env.Settings) error {
	if st.Redis == nil {
		return nil
	}
	return s.checkModules(config.Manual{RedisEnabled: true}, "SYNAPSE_REDIS_HOST")
}
