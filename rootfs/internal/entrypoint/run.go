package entrypoint

import (
	"context"
	"fmt"
	"os"
	"strings"

	"github.com/synapse-image/synapse-image/rootfs/internal/env"
	"github.com/synapse-image/synapse-image/rootfs/internal/overrides"
)

// run prepares everything and execs Synapse.
func (s *starter) run(ctx context.Context, args []string) error {
	c, err := s.common(true)
	if err != nil {
		return err
	}
	cfgPath, app := "", MainApp
	if c.ConfigPath != "" {
		cfgPath, err = s.runManual(ctx, c)
	} else {
		if cfgPath, err = s.runAutomated(ctx); err == nil {
			app, err = automatedApp(s.sys.Env)
		}
	}
	if err != nil {
		return err
	}
	// A stop requested while /start prepared (SIGTERM is caught for that)
	// is honoured: Synapse is not started.
	if err := ctx.Err(); err != nil {
		return err
	}
	// Only a start that gets this far names itself as the holder: bad
	// input writes nothing to the data directory.
	if err := s.writeHolder(c); err != nil {
		return err
	}
	return s.exec(cfgPath, app, args)
}

// exec replaces /start with Synapse's module app (the main's or a
// worker's), so that Synapse is PID 1.
func (s *starter) exec(cfgPath, app string, args []string) error {
	python, err := s.sys.LookPath("python3")
	if err != nil {
		return fmt.Errorf("find python3: %w", err)
	}
	// -P: the working directory /data, which the Synapse user can write,
	// is not on the module path (a planted /data/yaml/ would run inside
	// Synapse); -s: no user site directory (its .pth files run at start);
	// the image also sets PYTHONSAFEPATH=1 and PYTHONNOUSERSITE=1 for
	// docker exec.
	argv := append([]string{"python3", "-s", "-P", "-m", app, "--config-path", cfgPath}, args...)
	envv := withoutSecrets(s.sys.Environ, env.Vars)
	if s.sys.Jemalloc != "" {
		envv = withPreload(envv, s.sys.Jemalloc)
	}
	if s.sys.Umask != nil {
		// Files Synapse creates (database, media) are not world-readable,
		// also on a bind mount that host users can list.
		s.sys.Umask(0o027)
	}
	if err := s.keepLockOnExec(); err != nil {
		return err
	}
	s.logf("starting Synapse as %d:%d: %s", os.Geteuid(), os.Getegid(), strings.Join(argv, " "))
	if err := s.sys.Exec(python, argv, envv); err != nil {
		return fmt.Errorf("exec %s: %w", python, err)
	}
	return nil
}

// withoutSecrets drops the secret variables of vars (env.Vars) and every
// generic SYNAPSE_CONFIG__ / SYNAPSE_CONFIG_FILE__ variable: Synapse reads
// them from its config, and its environment is visible in /proc.
// NAME_FILE variables stay: a path is not a secret.
func withoutSecrets(envv []string, vars env.Table) []string {
	secret := vars.Secrets()
	out := make([]string, 0, len(envv))
	for _, kv := range envv {
		name, _, _ := strings.Cut(kv, "=")
		if !secret[name] && !overrides.IsGeneric(name) {
			out = append(out, kv)
		}
	}
	return out
}

// withPreload adds lib to LD_PRELOAD.
func withPreload(envv []string, lib string) []string {
	out := make([]string, 0, len(envv)+1)
	found := false
	for _, kv := range envv {
		if v, ok := strings.CutPrefix(kv, "LD_PRELOAD="); ok {
			found = true
			if v != "" && !strings.Contains(v, lib) {
				kv = "LD_PRELOAD=" + lib + ":" + v
			} else {
				kv = "LD_PRELOAD=" + lib
			}
		}
		out = append(out, kv)
	}
	if !found {
		out = append(out, "LD_PRELOAD="+lib)
	}
	return out
}
