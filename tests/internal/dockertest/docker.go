// Package dockertest drives the local Docker engine through the docker CLI for
// the end-to-end suite: it runs containers, networks and volumes with unique
// e2e- names, waits for health, maps ports, prints logs when a test fails and
// always cleans up after itself.
package dockertest

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
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

// Required reports whether missing capabilities must fail the suite.
func Required() bool {
	v := strings.ToLower(os.Getenv(RequiredEnv))
	return v == "1" || v == "true" || v == "yes"
}

// Unavailable skips the test with msg, or fails it when E2E_REQUIRED is set.
func Unavailable(t testing.TB, msg string) {
	t.Helper()
	if Required() {
		t.Fatalf("%s (%s=1: required)", msg, RequiredEnv)
	}
	t.Skip(msg)
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
	return command(ctx, nil, "docker", args...)
}

func command(ctx context.Context, env []string, name string, args ...string) (Result, error) {
	cmd := exec.CommandContext(ctx, name, args...)
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

// must runs docker and fails the test on error; it returns trimmed stdout.
func must(t testing.TB, ctx context.Context, args ...string) string {
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
		Unavailable(t, "end-to-end tests need a Docker engine: "+err.Error())
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
		Unavailable(t, fmt.Sprintf("image %s is not in the local Docker engine (%s)", ref, hint))
	}
}

// Network creates a user-defined bridge network that is removed when the test
// ends, and returns its name.
func Network(t testing.TB) string {
	t.Helper()
	name := UniqueName("net")
	must(t, context.Background(), "network", "create", "--label", "e2e=1", name)
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
	gw := must(t, context.Background(), "network", "inspect", "--format",
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
	must(t, context.Background(), "volume", "create", "--label", "e2e=1", name)
	t.Cleanup(func() {
		ctx, cancel := cleanupContext()
		defer cancel()
		if _, err := Docker(ctx, "volume", "rm", "-f", name); err != nil {
			t.Logf("cleanup: %v", err)
		}
	})
	return name
}
