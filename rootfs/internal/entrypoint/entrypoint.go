// Package entrypoint is /start: it dispatches the modes of the image's
// runtime contract (run, generate, check, health, help).
package entrypoint

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/synapse-image/synapse-image/rootfs/internal/env"
)

// Exit statuses.
const (
	ExitOK      = 0
	ExitFailure = 1 // something failed at run time
	ExitUsage   = 2 // bad input: a variable, a file, the command line
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
	var err error
	switch mode {
	case "run":
		err = s.run(ctx, args)
	case "generate":
		err = s.generate(ctx)
	case "check":
		err = s.check()
	case "health":
		err = s.health(ctx)
	case "help", "--help", "-h":
		Usage(sys.Stdout)
		return ExitOK
	default:
		fmt.Fprintf(sys.Stderr, "start: unknown mode %q\n\n", mode)
		Usage(sys.Stderr)
		return ExitUsage
	}
	if err == nil {
		return ExitOK
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
}

func (s *starter) logf(format string, args ...any) {
	fmt.Fprintf(s.sys.Stderr, "start: "+format+"\n", args...)
}

// oneLine keeps an error on one line, as the contract asks.
func oneLine(s string) string {
	return strings.Join(strings.Fields(strings.ReplaceAll(s, "\n", " ")), " ")
}

// Usage prints the modes and every variable.
func Usage(w io.Writer) {
	fmt.Fprint(w, `Usage: /start [MODE] [ARGS...]

The entrypoint of the Synapse image: writes Synapse's config from
environment variables (automated mode) or uses yours (manual mode), then
runs Synapse as PID 1.

Modes:
  run [ARGS...]  (default) prepare /data, drop privileges, exec Synapse;
                 ARGS are passed to Synapse. Manual mode when
                 SYNAPSE_CONFIG_PATH is set (the file must exist).
  generate       write a commented homeserver.yaml for hand editing to
                 SYNAPSE_CONFIG_PATH (default /data/homeserver.yaml) plus
                 keys and secrets; never overwrites an existing file
  check          validate the environment and print the config run would
                 use (secrets masked); writes nothing
  health         GET http://127.0.0.1:8008/health (port from the config in
                 manual mode); exit 0 when healthy, 1 otherwise
  help           this text

Exit status: 0 success, 1 failure, 2 bad input (one line on stderr names the
variable or file; nothing is written).

Variables (booleans: 1/0, true/false, yes/no, on/off; empty = false;
NAME_FILE reads the value from a file for variables marked *):
`)
	for _, v := range env.Vars {
		name := v.Name
		if v.File {
			name += " *"
		}
		fmt.Fprintf(w, "  %s (default: %s)\n      %s\n", name, v.Default, v.Help)
	}
	fmt.Fprint(w, `
Files in the data directory (/data): homeserver.db, media/, uploads/,
appservices/*.yaml|*.yml, SERVER.signing.key, SERVER.registration.key,
SERVER.macaroon.key, SERVER.form.key, SERVER.tls.crt, SERVER.tls.key (kept
between starts, secrets mode 0600) and generated/ (written on every start).

Register a user:
  docker exec -it synapse register_new_matrix_user -c /data/generated/homeserver.yaml http://localhost:8008
`)
}

// dataPath joins name to the data directory.
func dataPath(c env.Common, name string) string { return filepath.Join(c.DataDir, name) }

// prepareDataDir makes sure the data directory exists and belongs to
// UID:GID when /start runs as root, or is writable when it does not, then
// drops privileges. It is the first step that writes. files are the known
// files Synapse reads (keys, app services): each one is given to UID:GID
// when it belongs to someone else (e.g. copied in as root).
func (s *starter) prepareDataDir(c env.Common, files ...string) error {
	if s.sys.Euid != 0 {
		if v, ok := s.sys.Env.Lookup("UID"); ok && v != "" && v != strconv.Itoa(s.sys.Euid) {
			s.logf("started as uid %d, not root: UID/GID are ignored, files are created as this user", s.sys.Euid)
		}
		return writable(c.DataDir)
	}
	// media/ and uploads/ are created before the ownership check so that
	// they belong to UID:GID too.
	for _, d := range []string{c.DataDir, dataPath(c, "media"), dataPath(c, "uploads")} {
		if err := os.MkdirAll(d, 0o750); err != nil {
			return fmt.Errorf("create data directory: %w", err)
		}
	}
	if err := s.fixOwnership(c, files); err != nil {
		return err
	}
	if c.UID == 0 && c.GID == 0 {
		s.logf("warning: UID and GID are 0: Synapse runs as root")
		return nil
	}
	if err := s.sys.Drop(c.UID, c.GID); err != nil {
		return fmt.Errorf("drop privileges to %d:%d: %w", c.UID, c.GID, err)
	}
	return nil
}
