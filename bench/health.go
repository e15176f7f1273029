package main

import (
	"fmt"
	"strings"

	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/api/types/events"
)

// observation is what one look at a container's state says.
type observation struct {
	Running  bool
	Exited   bool // the container stopped (or died): waiting longer is pointless
	ExitCode int
	Health   string // "" (no health check), "starting", "healthy" or "unhealthy"
}

// observe reads a container's state from `docker inspect` (Engine API
// GET /containers/{id}/json) output.
func observe(c container.InspectResponse) (observation, error) {
	if c.State == nil {
		return observation{}, fmt.Errorf("container %s: inspect has no State", c.Name)
	}
	s := c.State
	o := observation{Running: s.Running, ExitCode: s.ExitCode}
	if s.Status == "exited" || s.Status == "dead" {
		o.Exited = true
	}
	if s.Health != nil {
		o.Health = string(s.Health.Status)
	}
	return o, nil
}

// lastProbeOutput is the output of the newest health probe, for errors.
func lastProbeOutput(c container.InspectResponse) string {
	if c.State == nil || c.State.Health == nil || len(c.State.Health.Log) == 0 {
		return ""
	}
	l := c.State.Health.Log[len(c.State.Health.Log)-1]
	return fmt.Sprintf("exit %d: %s", l.ExitCode, lastLines(l.Output, 2))
}

// healthEvent reads a container event of `docker events`: "healthy" or
// "unhealthy" for a health status change, "exited" when the container's
// process ended, "" for anything else.
func healthEvent(m events.Message) string {
	if m.Type != events.ContainerEventType {
		return ""
	}
	switch {
	case m.Action == events.ActionDie:
		return "exited"
	case strings.HasPrefix(string(m.Action), string(events.ActionHealthStatus)+":"):
		switch strings.TrimSpace(strings.TrimPrefix(string(m.Action), string(events.ActionHealthStatus)+":")) {
		case "healthy":
			return "healthy"
		case "unhealthy":
			return "unhealthy"
		}
	}
	return ""
}
