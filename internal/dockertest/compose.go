package dockertest

import (
	"context"
	"fmt"
	"os/exec"
	"strings"
	"testing"
)

// Compose is one docker-compose project made from a compose file, with its
// own unique project name. When the test ends it is taken down with its
// volumes; when the test failed, its logs are printed first.
type Compose struct {
	t       testing.TB
	cli     []string
	Project string
	File    string
	env     []string
}

// NewCompose prepares a project for file; env (KEY=VALUE) is added to the
// environment of every docker-compose call, for the file's ${...}.
func NewCompose(t testing.TB, file string, env ...string) *Compose {
	t.Helper()
	cli, err := composeCLI()
	if err != nil {
		Unavailable(t, "%v", err)
	}
	c := &Compose{t: t, cli: cli, Project: UniqueName("compose"), File: file, env: env}
	t.Cleanup(func() {
		ctx, cancel := cleanupContext()
		defer cancel()
		if t.Failed() {
			if res, err := c.Run(ctx, "logs", "--no-color", "--tail", "200"); err == nil {
				t.Logf("---- docker-compose logs of %s ----\n%s", c.Project, res.Stdout)
			}
		}
		if _, err := c.Run(ctx, "down", "--volumes", "--remove-orphans", "--timeout", "20"); err != nil {
			t.Logf("cleanup: %v", err)
		}
	})
	return c
}

// composeCLI finds docker-compose (v1 or v2 standalone), else the v2 plugin.
func composeCLI() ([]string, error) {
	if p, err := exec.LookPath("docker-compose"); err == nil {
		return []string{p}, nil
	}
	if err := exec.Command("docker", "compose", "version").Run(); err == nil {
		return []string{"docker", "compose"}, nil
	}
	return nil, fmt.Errorf("neither docker-compose nor the docker compose plugin is installed")
}

// Run runs one docker-compose command for the project.
func (c *Compose) Run(ctx context.Context, args ...string) (Result, error) {
	full := append([]string{}, c.cli[1:]...)
	full = append(full, "--project-name", c.Project, "--file", c.File)
	return command(ctx, c.env, nil, c.cli[0], append(full, args...)...)
}

// Must runs one docker-compose command and fails the test on error.
func (c *Compose) Must(ctx context.Context, args ...string) string {
	c.t.Helper()
	res, err := c.Run(ctx, args...)
	if err != nil {
		c.t.Fatal(err)
	}
	return res.Stdout
}

// Container returns the container of service (which must be running or
// stopped, not removed), wrapped so that its logs print on failure.
func (c *Compose) Container(ctx context.Context, service string) *Container {
	c.t.Helper()
	id := strings.TrimSpace(c.Must(ctx, "ps", "--quiet", service))
	if id == "" || strings.Contains(id, "\n") {
		c.t.Fatalf("compose service %s: want one container, got %q", service, id)
	}
	name := strings.TrimPrefix(Must(c.t, ctx, "inspect", "--format", "{{.Name}}", id), "/")
	return &Container{t: c.t, Name: name, logLines: 200}
}

// Containers returns every container of service (its replicas, with
// --scale or scale:), in the order docker-compose lists them.
func (c *Compose) Containers(ctx context.Context, service string) []*Container {
	c.t.Helper()
	var out []*Container
	for _, id := range strings.Fields(c.Must(ctx, "ps", "--quiet", service)) {
		name := strings.TrimPrefix(Must(c.t, ctx, "inspect", "--format", "{{.Name}}", id), "/")
		out = append(out, &Container{t: c.t, Name: name, logLines: 200})
	}
	if len(out) == 0 {
		c.t.Fatalf("compose service %s has no container", service)
	}
	return out
}
