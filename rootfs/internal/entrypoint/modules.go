package entrypoint

import (
	"slices"

	"github.com/synapse-image/synapse-image/rootfs/internal/config"
	"github.com/synapse-image/synapse-image/rootfs/internal/overrides"
)

// RedisModule is the Python module Synapse needs for redis.enabled
// (workers). Debian does not package it; docs/sso.md shows how to add its
// wheel through wheels/.
const RedisModule = "txredisapi"

// checkModules refuses a config that needs a Python module the image lacks,
// which Synapse would otherwise report only after seconds of start-up, in a
// traceback. It looks at file names only: starting Python costs a second.
// source names what set the setting: the config file, a variable, a fragment.
func (s *starter) checkModules(m config.Manual, source string) error {
	if m.RedisEnabled && s.sys.PythonModule != nil && !s.sys.PythonModule(RedisModule) {
		return badf("%s: redis.enabled is true, but the image lacks the Python module %s that Synapse needs for Redis (Debian does not package it): add its wheel to wheels/ and build the image again (docs/sso.md, Redis)", source, RedisModule)
	}
	return nil
}

// sourceOf names the generic setting that last set the key at path or a
// mapping above it ("" when none did: the key is the contract's).
func sourceOf(changes []overrides.Change, path ...string) string {
	src := ""
	for _, c := range changes {
		if len(c.Path) <= len(path) && slices.Equal(c.Path, path[:len(c.Path)]) {
			src = c.Source
		}
	}
	return src
}
