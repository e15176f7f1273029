// Command synapse-image builds, publishes and measures the Synapse container
// image. Each subcommand lives in its own cmd_*.go file.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/synapse-image/synapse-image/image/pipeline"
)

// command is one subcommand: its one-line summary and its entry point.
type command struct {
	summary string
	run     func(ctx context.Context, args []string, stdout, stderr io.Writer) error
}

func commands() map[string]command {
	return map[string]command{
		"build":   {"build an image from a recipe (default image/synapse.yaml)", runBuild},
		"publish": {"push a built image to an OCI registry under its tags", runPublish},
		"verify":  {"check a published image's SBOM, provenance and signatures", runVerify},
	}
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	cmds := commands()
	if len(args) == 0 || args[0] == "help" || args[0] == "-h" || args[0] == "--help" {
		usage(stdout, cmds)
		return 0
	}
	cmd, ok := cmds[args[0]]
	if !ok {
		fmt.Fprintf(stderr, "synapse-image: unknown command %q\n", args[0])
		usage(stderr, cmds)
		return 2
	}
	if err := cmd.run(ctx, args[1:], stdout, stderr); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		fmt.Fprintf(stderr, "synapse-image %s: %v\n", args[0], err)
		var u usageError
		if errors.As(err, &u) {
			return 2
		}
		return 1
	}
	return 0
}

// usageError marks an error caused by the command line rather than the
// work; the pipeline returns the same type for a bad flag value.
type usageError = pipeline.UsageError

func usage(w io.Writer, cmds map[string]command) {
	fmt.Fprintln(w, "usage: go run . COMMAND [flags]   (COMMAND -h for its flags)")
	for _, name := range []string{"build", "publish", "verify"} {
		if c, ok := cmds[name]; ok {
			fmt.Fprintf(w, "  %-8s %s\n", name, c.summary)
		}
	}
}
