package dockertest

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"
)

// Options describe one `docker run`.
type Options struct {
	Image string
	// Name of the container; empty means a unique e2e- name.
	Name string
	// Env is passed as -e KEY=VALUE, sorted by key.
	Env map[string]string
	// Mounts are -v arguments (host-dir-or-volume:/path[:opts]).
	Mounts []string
	// Ports are container ports ("8008" or "8448/tcp") published on a random
	// loopback port of the host.
	Ports []string
	// Network to attach to, with Aliases on it.
	Network string
	Aliases []string
	// User is --user when not empty.
	User     string
	ReadOnly bool
	// Tmpfs are --tmpfs mount points.
	Tmpfs []string
	// Restart is --restart (e.g. "unless-stopped") when not empty: a test
	// that must prove a container never exited looks at its RestartCount.
	Restart string
	// Entrypoint is --entrypoint when not empty.
	Entrypoint string
	// Memory is --memory (e.g. "120m") when not empty; swap is not added
	// (--memory-swap equal to it), so the limit is the limit.
	Memory string
	// Args follow the image name (the entrypoint's arguments).
	Args []string
	// LogLines is how much of the log a failing test prints (default 200).
	LogLines int
}

func (o Options) runArgs(name string) []string {
	return o.args("--detach", name)
}

// args is `docker run` with mode (--detach, --rm) and the options.
func (o Options) args(mode, name string) []string {
	args := []string{"run", mode, "--name", name, "--label", "e2e=1"}
	keys := make([]string, 0, len(o.Env))
	for k := range o.Env {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		args = append(args, "--env", k+"="+o.Env[k])
	}
	for _, m := range o.Mounts {
		args = append(args, "--volume", m)
	}
	for _, p := range o.Ports {
		args = append(args, "--publish", "127.0.0.1::"+p)
	}
	if o.Network != "" {
		args = append(args, "--network", o.Network)
		for _, a := range o.Aliases {
			args = append(args, "--network-alias", a)
		}
	}
	if o.User != "" {
		args = append(args, "--user", o.User)
	}
	if o.ReadOnly {
		args = append(args, "--read-only")
	}
	for _, m := range o.Tmpfs {
		args = append(args, "--tmpfs", m)
	}
	if o.Restart != "" {
		args = append(args, "--restart", o.Restart)
	}
	if o.Entrypoint != "" {
		args = append(args, "--entrypoint", o.Entrypoint)
	}
	if o.Memory != "" {
		args = append(args, "--memory", o.Memory, "--memory-swap", o.Memory)
	}
	args = append(args, o.Image)
	return append(args, o.Args...)
}

// Container is a container started by Run.
type Container struct {
	t        testing.TB
	Name     string
	logLines int
}

// Run starts a container in the background. When the test ends the container
// is removed (with its anonymous volumes); when the test failed, its logs are
// printed first.
func Run(t testing.TB, opts Options) *Container {
	t.Helper()
	name := opts.Name
	if name == "" {
		name = UniqueName("c")
	}
	c := &Container{t: t, Name: name, logLines: opts.LogLines}
	if c.logLines == 0 {
		c.logLines = 200
	}
	t.Cleanup(c.remove)
	if _, err := Docker(context.Background(), opts.runArgs(name)...); err != nil {
		t.Fatalf("start container: %v", err)
	}
	return c
}

// RunOnce runs a container in the foreground until it exits and returns
// its output, stdout and stderr interleaved (Combined); a non-zero exit is
// an error. The container is removed (--rm).
func RunOnce(ctx context.Context, opts Options) (string, error) {
	name := opts.Name
	if name == "" {
		name = UniqueName("c")
	}
	return Combined(ctx, opts.args("--rm", name)...)
}

func (c *Container) remove() {
	if c.t.Failed() {
		c.PrintLogs()
	}
	ctx, cancel := cleanupContext()
	defer cancel()
	if _, err := Docker(ctx, "rm", "--force", "--volumes", c.Name); err != nil && !strings.Contains(err.Error(), "No such container") {
		c.t.Logf("cleanup: %v", err)
	}
}

// PrintLogs writes the tail of the container's log to the test log.
func (c *Container) PrintLogs() {
	ctx, cancel := cleanupContext()
	defer cancel()
	res, err := Docker(ctx, "logs", "--tail", strconv.Itoa(c.logLines), c.Name)
	if err != nil {
		c.t.Logf("logs of %s: %v", c.Name, err)
		return
	}
	c.t.Logf("---- last %d log lines of container %s (stdout) ----\n%s", c.logLines, c.Name, res.Stdout)
	c.t.Logf("---- last %d log lines of container %s (stderr) ----\n%s", c.logLines, c.Name, res.Stderr)
}

// Logs returns the container's stdout and stderr.
func (c *Container) Logs(ctx context.Context) (stdout, stderr string, err error) {
	res, err := Docker(ctx, "logs", c.Name)
	return res.Stdout, res.Stderr, err
}

// State is the part of `docker inspect` the suite looks at.
type State struct {
	Status    string
	Running   bool
	OOMKilled bool
	ExitCode  int
	Health    *struct {
		Status string
		Log    []struct {
			ExitCode int
			Output   string
		}
	}
}

// State inspects the container.
func (c *Container) State(ctx context.Context) (State, error) {
	res, err := Docker(ctx, "inspect", "--format", "{{json .State}}", c.Name)
	if err != nil {
		return State{}, err
	}
	var s State
	if err := json.Unmarshal([]byte(res.Stdout), &s); err != nil {
		return State{}, fmt.Errorf("inspect %s: %w", c.Name, err)
	}
	return s, nil
}

// WaitHealthy waits until Docker reports the container healthy, and fails
// the test when it exits, turns unhealthy or the timeout passes.
func (c *Container) WaitHealthy(ctx context.Context, timeout time.Duration) {
	c.t.Helper()
	start := time.Now()
	if err := c.waitHealthy(ctx, timeout); err != nil {
		c.t.Fatalf("container %s: %v", c.Name, err)
	}
	c.t.Logf("container %s healthy after %s", c.Name, time.Since(start).Round(100*time.Millisecond))
}

func (c *Container) waitHealthy(ctx context.Context, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	for {
		s, err := c.State(ctx)
		if err != nil {
			return err
		}
		if s.Health == nil {
			return fmt.Errorf("the image defines no HEALTHCHECK")
		}
		switch {
		case s.Status == "exited" || s.Status == "dead":
			return fmt.Errorf("exited with status %d before it was healthy", s.ExitCode)
		case s.Health.Status == "healthy":
			return nil
		case s.Health.Status == "unhealthy":
			last := ""
			if n := len(s.Health.Log); n > 0 {
				last = s.Health.Log[n-1].Output
			}
			return fmt.Errorf("unhealthy; last health check said: %s", strings.TrimSpace(last))
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("not healthy after %s (health: %s)", timeout, s.Health.Status)
		case <-time.After(250 * time.Millisecond):
		}
	}
}

// WaitHealth waits until Docker reports the health status want
// ("healthy", "unhealthy") and returns how long that took; it fails the
// test when the container exits or the timeout passes.
func (c *Container) WaitHealth(ctx context.Context, want string, timeout time.Duration) time.Duration {
	c.t.Helper()
	start := time.Now()
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	for {
		s, err := c.State(ctx)
		if err != nil {
			c.t.Fatalf("container %s: %v", c.Name, err)
		}
		switch {
		case s.Health == nil:
			c.t.Fatalf("container %s: the image defines no HEALTHCHECK", c.Name)
		case !s.Running:
			c.t.Fatalf("container %s: %s (exit %d) while waiting for %s", c.Name, s.Status, s.ExitCode, want)
		case s.Health.Status == want:
			took := time.Since(start)
			c.t.Logf("container %s %s after %s", c.Name, want, took.Round(100*time.Millisecond))
			return took
		}
		select {
		case <-ctx.Done():
			c.t.Fatalf("container %s: not %s after %s (health: %s)", c.Name, want, timeout, s.Health.Status)
		case <-time.After(250 * time.Millisecond):
		}
	}
}

// WaitForLog waits until the container's log (stdout or stderr) contains
// text, and fails the test when the container exits first or the timeout
// passes. It returns the log up to then.
func (c *Container) WaitForLog(ctx context.Context, text string, timeout time.Duration) string {
	c.t.Helper()
	start := time.Now()
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	for {
		stdout, stderr, err := c.Logs(ctx)
		if err == nil && (strings.Contains(stdout, text) || strings.Contains(stderr, text)) {
			c.t.Logf("container %s logged %q after %s", c.Name, text, time.Since(start).Round(100*time.Millisecond))
			return stdout + stderr
		}
		if s, err := c.State(ctx); err == nil && !s.Running {
			c.t.Fatalf("container %s: %s (exit %d) before it logged %q", c.Name, s.Status, s.ExitCode, text)
		}
		select {
		case <-ctx.Done():
			c.t.Fatalf("container %s: %q not in its log after %s", c.Name, text, timeout)
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// RestartCount is how often Docker restarted the container under its
// restart policy (Options.Restart).
func (c *Container) RestartCount(ctx context.Context) (int, error) {
	res, err := Docker(ctx, "inspect", "--format", "{{.RestartCount}}", c.Name)
	if err != nil {
		return 0, err
	}
	n, err := strconv.Atoi(strings.TrimSpace(res.Stdout))
	if err != nil {
		return 0, fmt.Errorf("inspect %s: RestartCount %q: %w", c.Name, res.Stdout, err)
	}
	return n, nil
}

// Wait waits for the container to exit and returns its exit status.
func (c *Container) Wait(ctx context.Context) (int, error) {
	res, err := Docker(ctx, "wait", c.Name)
	if err != nil {
		return 0, err
	}
	code, err := strconv.Atoi(strings.TrimSpace(res.Stdout))
	if err != nil {
		return 0, fmt.Errorf("docker wait %s: %q: %w", c.Name, res.Stdout, err)
	}
	return code, nil
}

// Stop runs `docker stop` (SIGTERM, then SIGKILL after Docker's default 10 s)
// and returns how long it took.
func (c *Container) Stop(ctx context.Context) (time.Duration, error) {
	start := time.Now()
	_, err := Docker(ctx, "stop", c.Name)
	return time.Since(start), err
}

// Start starts a stopped container again.
func (c *Container) Start(ctx context.Context) error {
	_, err := Docker(ctx, "start", c.Name)
	return err
}

// HostAddr returns host:port of the loopback port that publishes the
// container's port (e.g. "8008").
func (c *Container) HostAddr(ctx context.Context, port string) (string, error) {
	if !strings.Contains(port, "/") {
		port += "/tcp"
	}
	res, err := Docker(ctx, "port", c.Name, port)
	if err != nil {
		return "", err
	}
	for _, line := range strings.Split(strings.TrimSpace(res.Stdout), "\n") {
		if strings.HasPrefix(line, "127.0.0.1:") {
			return line, nil
		}
	}
	return "", fmt.Errorf("container %s publishes %s on no loopback port: %q", c.Name, port, res.Stdout)
}

// URL returns http://127.0.0.1:PORT for the container's port, failing the
// test when it is not published.
func (c *Container) URL(scheme, port string) string {
	c.t.Helper()
	addr, err := c.HostAddr(context.Background(), port)
	if err != nil {
		c.t.Fatal(err)
	}
	return scheme + "://" + addr
}

// Exec runs a command in the running container and returns its stdout.
func (c *Container) Exec(ctx context.Context, args ...string) (string, error) {
	res, err := Docker(ctx, append([]string{"exec", c.Name}, args...)...)
	return res.Stdout, err
}
