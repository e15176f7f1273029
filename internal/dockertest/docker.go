// Package dockertest is the one Docker harness of the module's tests: the
// end-to-end suite (tests/), the /start acceptance tests (rootfs/) and the
// image and publisher integration tests (image/, image/publish). It drives
// the local Docker engine through the docker CLI: it runs containers,
// networks and volumes with unique e2e- names, waits for health, maps ports,
// prints logs when a test fails and always cleans up after itself.
//
// It also holds the module's one rule for a missing capability (no engine,
// no image, no registry, not root): skip with a clear message, or fail when
// E2E_REQUIRED is set, as in CI. See Unavailable; unit tests that need root
// use it through RequireRoot.
package dockertest

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// Prefix starts the name of everything the suite creates, so that it can be
// told apart from (and never collides with) other users of the engine.
const Prefix = "e2e-"

// RequiredEnv names the variable that turns a missing capability (no engine,
// no image) from a skip into a failure; CI sets it to 1.
const RequiredEnv = "E2E_REQUIRED"

// ParseRequired reads a value of E2E_REQUIRED: 1, true or yes require the
// end-to-end tests; empty, 0, false or no do not. Anything else is an error,
// so that a misspelt value never quietly turns CI's failures into skips.
func ParseRequired(v string) (bool, error) {
	switch v {
	case "1", "true", "yes":
		return true, nil
	case "", "0", "false", "no":
		return false, nil
	}
	return false, fmt.Errorf("%s=%q: expected 1, true or yes (required) or empty, 0, false or no (not required)", RequiredEnv, v)
}

// Required reports whether E2E_REQUIRED asks for missing capabilities to fail
// the tests; the error says that its value is not one ParseRequired knows.
func Required() (bool, error) {
	return ParseRequired(os.Getenv(RequiredEnv))
}

// Unavailable is the rule for a test that lacks a capability it needs (a
// Docker engine, an image, a registry): it skips the test with the message,
// or fails it when E2E_REQUIRED is set (CI) or has a value that is not
// understood.
func Unavailable(t testing.TB, format string, args ...any) {
	t.Helper()
	msg := fmt.Sprintf(format, args...)
	required, err := Required()
	switch {
	case err != nil:
		t.Fatalf("%s; and %v", msg, err)
	case required:
		t.Fatalf("%s (%s=%s: the end-to-end tests are required)", msg, RequiredEnv, os.Getenv(RequiredEnv))
	}
	t.Skipf("%s; set %s=1 to make this a failure", msg, RequiredEnv)
}

// RequireRoot skips (or with E2E_REQUIRED fails) a test that needs root, for
// what it says (e.g. "changing owners"); CI runs the tests as root.
func RequireRoot(t testing.TB, what string) {
	t.Helper()
	if os.Geteuid() != 0 {
		Unavailable(t, "%s needs root: run the tests as root (scripts/test.sh does in CI)", what)
	}
}

// UniqueName returns Prefix + kind + a random suffix.
func UniqueName(kind string) string {
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	return Prefix + kind + "-" + hex.EncodeToString(b)
}

// Result is the outcome of one docker CLI call.
type Result struct {
	Stdout, Stderr string
	ExitCode       int
}

// Docker runs the docker CLI with args and returns its output. A non-zero exit
// is an error that carries stderr.
func Docker(ctx context.Context, args ...string) (Result, error) {
	return command(ctx, nil, nil, "docker", args...)
}

// DockerStdin is Docker with stdin as the CLI's standard input (docker
// exec -i: a password that is not on the command line).
func DockerStdin(ctx context.Context, stdin io.Reader, args ...string) (Result, error) {
	return command(ctx, nil, stdin, "docker", args...)
}

// Combined runs the docker CLI with args and returns stdout and stderr
// interleaved as a terminal shows them (a container's own output with
// Docker's messages); a non-zero exit is an error.
func Combined(ctx context.Context, args ...string) (string, error) {
	cmd := exec.CommandContext(ctx, "docker", args...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		return out.String(), fmt.Errorf("docker %s: %w", strings.Join(args, " "), err)
	}
	return out.String(), nil
}

func command(ctx context.Context, env []string, stdin io.Reader, name string, args ...string) (Result, error) {
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Stdin = stdin
	if env != nil {
		cmd.Env = append(os.Environ(), env...)
	}
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	res := Result{Stdout: stdout.String(), Stderr: stderr.String()}
	var exit *exec.ExitError
	switch {
	case errors.As(err, &exit):
		res.ExitCode = exit.ExitCode()
		return res, fmt.Errorf("%s %s: exit %d: %s", name, strings.Join(args, " "), res.ExitCode, strings.TrimSpace(res.Stderr))
	case err != nil:
		return res, fmt.Errorf("%s %s: %w", name, strings.Join(args, " "), err)
	}
	return res, nil
}

// Must runs the docker CLI and fails the test on error; it returns the
// trimmed stdout.
func Must(t testing.TB, ctx context.Context, args ...string) string {
	t.Helper()
	res, err := Docker(ctx, args...)
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimSpace(res.Stdout)
}

// cleanupContext is for work done in t.Cleanup, when the test's own context
// may already be cancelled.
func cleanupContext() (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.Background(), 60*time.Second)
}

// RequireEngine skips (or with E2E_REQUIRED fails) the test when no Docker
// engine answers.
func RequireEngine(t testing.TB) {
	t.Helper()
	if err := EngineAvailable(context.Background()); err != nil {
		Unavailable(t, "these tests need a Docker engine: %v", err)
	}
}

// EngineAvailable reports why the Docker engine cannot be used, or nil.
func EngineAvailable(ctx context.Context) error {
	if _, err := exec.LookPath("docker"); err != nil {
		return fmt.Errorf("no docker CLI on PATH")
	}
	ctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	if _, err := Docker(ctx, "version", "--format", "{{.Server.Version}}"); err != nil {
		return fmt.Errorf("the Docker engine does not answer: %w", err)
	}
	return nil
}

// RequireImage skips (or with E2E_REQUIRED fails) the test when ref is not in
// the local engine; hint says how to get it. Check the engine first.
func RequireImage(t testing.TB, ref, hint string) {
	t.Helper()
	if _, err := Docker(context.Background(), "image", "inspect", "--format", "{{.Id}}", ref); err != nil {
		Unavailable(t, "image %s is not in the local Docker engine (%s)", ref, hint)
	}
}

// SynapseImageRef is the Synapse image under test: $SYNAPSE_IMAGE, else
// synapse:latest (what `go run . build --load` makes).
func SynapseImageRef() string {
	if ref := os.Getenv("SYNAPSE_IMAGE"); ref != "" {
		return ref
	}
	return "synapse:latest"
}

// SynapseImage is SynapseImageRef, skipping (or with E2E_REQUIRED failing)
// the test without a Docker engine or that image in it.
func SynapseImage(t testing.TB) string {
	t.Helper()
	RequireEngine(t)
	ref := SynapseImageRef()
	RequireImage(t, ref, "build it with `go run . build --load`, or set SYNAPSE_IMAGE")
	return ref
}

// Network creates a user-defined bridge network that is removed when the test
// ends, and returns its name.
func Network(t testing.TB) string {
	t.Helper()
	name := UniqueName("net")
	Must(t, context.Background(), "network", "create", "--label", "e2e=1", name)
	t.Cleanup(func() {
		ctx, cancel := cleanupContext()
		defer cancel()
		if _, err := Docker(ctx, "network", "rm", name); err != nil {
			t.Logf("cleanup: %v", err)
		}
	})
	return name
}

// NetworkGateway returns the IPv4 gateway of network, that is the host's
// address on it.
func NetworkGateway(t testing.TB, network string) string {
	t.Helper()
	gw := Must(t, context.Background(), "network", "inspect", "--format",
		"{{range .IPAM.Config}}{{if .Gateway}}{{.Gateway}} {{end}}{{end}}", network)
	for _, f := range strings.Fields(gw) {
		if !strings.Contains(f, ":") {
			return f
		}
	}
	t.Fatalf("network %s has no IPv4 gateway (got %q)", network, gw)
	return ""
}

// Volume creates a named volume that is removed when the test ends.
func Volume(t testing.TB) string {
	t.Helper()
	name := UniqueName("vol")
	Must(t, context.Background(), "volume", "create", "--label", "e2e=1", name)
	t.Cleanup(func() {
		ctx, cancel := cleanupContext()
		defer cancel()
		if _, err := Docker(ctx, "volume", "rm", "-f", name); err != nil {
			t.Logf("cleanup: %v", err)
		}
	})
	return name
}
