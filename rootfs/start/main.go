// Command start is the entrypoint of the Synapse image (/start): it writes
// Synapse's config from environment variables, prepares /data, drops
// privileges and execs Synapse. See `/start help`.
package main

import (
	"context"
	"crypto/rand"
	"os"
	"os/exec"
	"os/signal"
	"runtime"
	"syscall"
	"time"

	"github.com/synapse-image/synapse-image/rootfs/internal/entrypoint"
	"github.com/synapse-image/synapse-image/rootfs/internal/env"
	"github.com/synapse-image/synapse-image/rootfs/internal/privileges"
	"github.com/synapse-image/synapse-image/rootfs/internal/pymodule"
	"github.com/synapse-image/synapse-image/rootfs/internal/sigexec"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	code := entrypoint.Main(ctx, entrypoint.System{
		Env:     env.OS(),
		Stdout:  os.Stdout,
		Stderr:  os.Stderr,
		Rand:    rand.Reader,
		Now:     time.Now,
		Euid:    os.Geteuid(),
		HasIPv6: entrypoint.HasIPv6,
		Drop:    privileges.Drop,
		// SIGTERM stays blocked across the exec when the image's Synapse
		// has the hook that takes it over: a stop while Synapse starts is
		// kept for it (rootfs/internal/sigexec).
		Exec: func(argv0 string, argv, envv []string) error {
			if sigexec.HookInstalled(sigexec.SynapseInit) {
				return sigexec.Exec(ctx, argv0, argv, envv)
			}
			return syscall.Exec(argv0, argv, envv)
		},
		LookPath: exec.LookPath,
		Environ:  os.Environ(),
		Jemalloc: entrypoint.Jemalloc(runtime.GOARCH),
		Umask:    syscall.Umask,
		PythonModule: func(name string) bool {
			return pymodule.Installed(name, pymodule.Path("/", os.Getenv("PYTHONPATH")))
		},
	}, os.Args[1:])
	stop()
	os.Exit(code)
}
