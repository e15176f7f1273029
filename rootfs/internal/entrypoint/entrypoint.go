// Package entrypoint is /start: it dispatches the modes of the image's
// runtime contract (run, generate, check, health, register, help).
package entrypoint

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/synapse-image/synapse-image/rootfs/internal/datalock"
	"github.com/synapse-image/synapse-image/rootfs/internal/env"
)

// Exit statuses.
const (
	ExitOK      = 0
	ExitFailure = 1 // something failed at run time
	ExitUsage   = 2 // bad input: a variable, a file, the command line
	// ExitStopped is 128+SIGTERM: a stop was requested before Synapse ran.
	ExitStopped = 143
)

// System is everything /start touches outside its own logic, so tests can
// run every mode as an ordinary user in a temporary directory.
type System struct {
	Env    env.Source
	Stdout io.Writer
	Stderr io.Writer
	Rand   io.Reader
	Now    func() time.Time
	// Euid is the effective user id /start runs as.
	Euid int
	// HasIPv6 reports whether the container has IPv6 (then Synapse also binds '::').
	HasIPv6 func() bool
	// Drop switches to uid:gid (setgroups, setgid, setuid).
	Drop func(uid, gid int) error
	// Exec replaces the process (syscall.Exec); it returns only on failure.
	Exec func(argv0 string, argv, envv []string) error
	// LookPath finds python3.
	LookPath func(string) (string, error)
	// Environ is the environment passed to Synapse.
	Environ []string
	// Jemalloc is the path of libjemalloc.so.2 to preload, or "".
	Jemalloc string
	// Umask sets the file mode creation mask Synapse inherits (syscall.Umask); nil leaves it.
	Umask func(mask int) int
	// Validate has Synapse parse a config (check --synapse); nil means
	// synapsecheck.Check.
	Validate func(ctx context.Context, python string, cfg []byte, configDir, dataDir string, asRoot bool, uid, gid int) error
	// PythonModule reports whether the image's Python can import the
	// top-level module name (pymodule.Installed on the image's path); nil:
	// no module is checked.
	PythonModule func(name string) bool
}

// badInput is an error of the operator's input: exit status 2.
type badInput struct{ err error }

func (b badInput) Error() string { return b.err.Error() }

func (b badInput) Unwrap() error { return b.err }

func bad(err error) error { return badInput{err} }

func badf(format string, args ...any) error { return badInput{fmt.Errorf(format, args...)} }

// Main runs /start with args (without the program name) and returns the
// exit status. In run mode it returns only if Synapse could not be executed.
func Main(ctx context.Context, sys System, args []string) int {
	mode := "run"
	if len(args) > 0 {
		mode, args = args[0], args[1:]
	}
	s := &starter{sys: sys}
	// The lock of the data directory is released when /start returns
	// (run mode returns only when Synapse could not be executed).
	defer func() { s.lock.Close() }()
	var err error
	switch mode {
	case "run":
		err = s.run(ctx, args)
	case "generate":
		err = s.generate(ctx)
	case "check":
		err = s.check(ctx, args)
	case "health":
		err = s.health(ctx)
	case "port-db":
		err = s.portDB(ctx, args)
	case "migrate_config":
		// The official image's mode writes a config from its variables
		// once; here automated mode does that at every start.
		err = badf("migrate_config: a mode of the official image; this image writes the config from the variables at every start (run, automated mode), or once for hand editing (generate); check prints it")
	case "register":
		err = s.register(ctx, args)
	case "help", "--help", "-h":
		Usage(sys.Stdout, env.Vars)
		return ExitOK
	default:
		fmt.Fprintf(sys.Stderr, "start: unknown mode %q\n\n", mode)
		Usage(sys.Stderr, env.Vars)
		return ExitUsage
	}
	if err == nil {
		return ExitOK
	}
	if errors.Is(err, context.Canceled) {
		fmt.Fprintf(sys.Stderr, "start: stopped before Synapse started (%s)\n", oneLine(err.Error()))
		return ExitStopped
	}
	fmt.Fprintf(sys.Stderr, "start: error: %s\n", oneLine(err.Error()))
	var b badInput
	var e *env.Error
	if errors.As(err, &b) || errors.As(err, &e) {
		return ExitUsage
	}
	return ExitFailure
}

type starter struct {
	sys System
	// lock is held on the data directory from prepareDataDir on.
	lock *datalock.Lock
}

func (s *starter) logf(format string, args ...any) {
	fmt.Fprintf(s.sys.Stderr, "start: "+format+"\n", args...)
}

// oneLine keeps an error on one line, as the contract asks.
func oneLine(s string) string {
	return strings.Join(strings.Fields(strings.ReplaceAll(s, "\n", " ")), " ")
}
