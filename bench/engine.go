package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os/exec"
	"strings"
	"sync"
	"time"

	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/client"
)

// engine talks to the local Docker engine. Set-up and clean-up go through
// the docker CLI (the same flags a user types); the timed path — starting a
// container and polling its state every few milliseconds — goes through the
// Engine API, because a docker CLI process costs tens of milliseconds.
type engine struct {
	api    *client.Client
	prefix string // name prefix of everything this run creates: bench-<pid>

	mu      sync.Mutex
	created []resource // in creation order; removed in reverse
}

type resource struct{ kind, name string } // kind: container, volume, network

func newEngine(ctx context.Context, prefix string) (*engine, error) {
	api, err := client.New(client.FromEnv)
	if err != nil {
		return nil, fmt.Errorf("docker engine client: %w", err)
	}
	if _, err := api.Ping(ctx, client.PingOptions{NegotiateAPIVersion: true}); err != nil {
		api.Close()
		return nil, fmt.Errorf("docker engine: %w", err)
	}
	return &engine{api: api, prefix: prefix}, nil
}

// name returns a name in this run's namespace.
func (e *engine) name(parts ...string) string {
	return e.prefix + "-" + strings.Join(parts, "-")
}

// docker runs the docker CLI and returns its trimmed stdout; the error
// carries stderr.
func docker(ctx context.Context, args ...string) (string, error) {
	var stdout, stderr bytes.Buffer
	cmd := exec.CommandContext(ctx, "docker", args...)
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		msg := strings.TrimSpace(stderr.String())
		if msg == "" {
			msg = strings.TrimSpace(stdout.String())
		}
		return "", fmt.Errorf("docker %s: %w: %s", strings.Join(firstN(args, 3), " "), err, lastLines(msg, 5))
	}
	return strings.TrimSpace(stdout.String()), nil
}

func firstN(s []string, n int) []string {
	if len(s) > n {
		return s[:n]
	}
	return s
}

// lastLines keeps the end of a long message (a container's log tail).
func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, " | ")
}

func (e *engine) track(kind, name string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.created = append(e.created, resource{kind, name})
}

func (e *engine) untrack(kind, name string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	for i, r := range e.created {
		if r == (resource{kind, name}) {
			e.created = append(e.created[:i], e.created[i+1:]...)
			return
		}
	}
}

// network creates a bridge network of this run.
func (e *engine) network(ctx context.Context, name string) error {
	if _, err := docker(ctx, "network", "create", name); err != nil {
		return err
	}
	e.track("network", name)
	return nil
}

// volume creates a named volume of this run.
func (e *engine) volume(ctx context.Context, name string) error {
	if _, err := docker(ctx, "volume", "create", name); err != nil {
		return err
	}
	e.track("volume", name)
	return nil
}

// create creates (does not start) a container named name; args are
// `docker create` flags followed by the image and its arguments.
func (e *engine) create(ctx context.Context, name string, args ...string) error {
	if _, err := docker(ctx, append([]string{"create", "--pull=never", "--name", name}, args...)...); err != nil {
		return err
	}
	e.track("container", name)
	return nil
}

// start starts a created container through the API.
func (e *engine) start(ctx context.Context, name string) error {
	if _, err := e.api.ContainerStart(ctx, name, client.ContainerStartOptions{}); err != nil {
		return fmt.Errorf("start %s: %w", name, err)
	}
	return nil
}

// inspect returns the state of a container through the API.
func (e *engine) inspect(ctx context.Context, name string) (container.InspectResponse, error) {
	r, err := e.api.ContainerInspect(ctx, name, client.ContainerInspectOptions{})
	if err != nil {
		return container.InspectResponse{}, fmt.Errorf("inspect %s: %w", name, err)
	}
	return r.Container, nil
}

// events subscribes to the events of one container; the subscription is
// active when it returns, so nothing after it is missed.
func (e *engine) events(ctx context.Context, name string) client.EventsResult {
	return e.api.Events(ctx, client.EventsListOptions{
		Filters: make(client.Filters).Add("type", "container").Add("container", name),
	})
}

// stop stops a container with SIGTERM (SIGKILL after timeout) and returns
// how long that took.
func (e *engine) stop(ctx context.Context, name string, timeout time.Duration) (time.Duration, error) {
	secs := int(timeout / time.Second)
	t0 := time.Now()
	if _, err := e.api.ContainerStop(ctx, name, client.ContainerStopOptions{Timeout: &secs}); err != nil {
		return 0, fmt.Errorf("stop %s: %w", name, err)
	}
	return time.Since(t0), nil
}

// remove removes a container of this run (and its anonymous volumes).
func (e *engine) remove(ctx context.Context, name string) error {
	if _, err := docker(ctx, "rm", "-f", "-v", name); err != nil {
		return err
	}
	e.untrack("container", name)
	return nil
}

// removeVolume removes a named volume of this run.
func (e *engine) removeVolume(ctx context.Context, name string) error {
	if _, err := docker(ctx, "volume", "rm", "-f", name); err != nil {
		return err
	}
	e.untrack("volume", name)
	return nil
}

// logs returns the end of a container's output, for error messages.
func (e *engine) logs(ctx context.Context, name string) string {
	var out bytes.Buffer
	cmd := exec.CommandContext(ctx, "docker", "logs", "--tail", "8", name)
	cmd.Stdout, cmd.Stderr = &out, &out
	_ = cmd.Run()
	return lastLines(out.String(), 8)
}

// exec runs a command in a running container and returns its stdout;
// argv may start with `docker exec` flags.
func (e *engine) exec(ctx context.Context, name string, argv ...string) (string, error) {
	var flags []string
	for len(argv) > 1 && strings.HasPrefix(argv[0], "-") {
		flags, argv = append(flags, argv[0], argv[1]), argv[2:]
	}
	return docker(ctx, append(append(append([]string{"exec"}, flags...), name), argv...)...)
}

// cleanup removes everything this run created, newest first. It uses its
// own context: it also runs after the run's context was cancelled.
func (e *engine) cleanup() error {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	e.mu.Lock()
	todo := append([]resource(nil), e.created...)
	e.mu.Unlock()
	var errs []error
	for i := len(todo) - 1; i >= 0; i-- {
		r := todo[i]
		var err error
		switch r.kind {
		case "container":
			_, err = docker(ctx, "rm", "-f", "-v", r.name)
		case "volume":
			_, err = docker(ctx, "volume", "rm", "-f", r.name)
		case "network":
			_, err = docker(ctx, "network", "rm", r.name)
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("clean up %s %s: %w", r.kind, r.name, err))
			continue
		}
		e.untrack(r.kind, r.name)
	}
	e.api.Close()
	return errors.Join(errs...)
}
