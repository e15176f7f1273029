package main

import (
	"encoding/json"
	"testing"

	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/api/types/events"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Trimmed `docker inspect` objects (Engine API GET /containers/{id}/json),
// as Docker 20.10 writes them.
const (
	inspectStarting = `{"Id":"d64c","Name":"/bench-1-synapse","State":{"Status":"running","Running":true,"Pid":30989,"ExitCode":0,
		"StartedAt":"2026-11-26T01:02:59.626566417Z","FinishedAt":"0001-01-01T00:00:00Z",
		"Health":{"Status":"starting","FailingStreak":1,"Log":[{"Start":"2026-11-26T01:03:04.1Z","End":"2026-11-26T01:03:04.3Z","ExitCode":1,"Output":"GET http://127.0.0.1:8008/health: connection refused\n"}]}}}`
	inspectHealthy = `{"Id":"d64c","State":{"Status":"running","Running":true,"ExitCode":0,
		"Health":{"Status":"healthy","FailingStreak":0,"Log":[{"ExitCode":1,"Output":"refused"},{"ExitCode":0,"Output":""}]}}}`
	inspectUnhealthy = `{"Id":"d64c","State":{"Status":"running","Running":true,
		"Health":{"Status":"unhealthy","FailingStreak":3,"Log":[{"ExitCode":1,"Output":"line 1\nline 2\nGET /health: 500\n"}]}}}`
	inspectExited  = `{"Id":"d64c","State":{"Status":"exited","Running":false,"ExitCode":2,"Health":{"Status":"unhealthy","Log":[]}}}`
	inspectDead    = `{"Id":"d64c","State":{"Status":"dead","Running":false,"ExitCode":137}}`
	inspectCreated = `{"Id":"d64c","State":{"Status":"created","Running":false,"ExitCode":0,"Health":{"Status":"starting"}}}`
	inspectNoCheck = `{"Id":"d64c","State":{"Status":"running","Running":true}}`
	inspectNoState = `{"Id":"d64c","Name":"/x"}`
)

func decodeInspect(t *testing.T, s string) container.InspectResponse {
	t.Helper()
	var c container.InspectResponse
	require.NoError(t, json.Unmarshal([]byte(s), &c))
	return c
}

func TestObserve(t *testing.T) {
	tests := []struct {
		name    string
		inspect string
		want    observation
		probe   string
		wantErr bool
	}{
		{"starting", inspectStarting, observation{Running: true, Health: "starting"}, "exit 1: GET http://127.0.0.1:8008/health: connection refused", false},
		{"healthy", inspectHealthy, observation{Running: true, Health: "healthy"}, "exit 0: ", false},
		{"unhealthy", inspectUnhealthy, observation{Running: true, Health: "unhealthy"}, "exit 1: line 2 | GET /health: 500", false},
		{"exited", inspectExited, observation{Exited: true, ExitCode: 2, Health: "unhealthy"}, "", false},
		{"dead", inspectDead, observation{Exited: true, ExitCode: 137}, "", false},
		{"created, not started", inspectCreated, observation{Health: "starting"}, "", false},
		{"no health check", inspectNoCheck, observation{Running: true}, "", false},
		{"no state", inspectNoState, observation{}, "", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := decodeInspect(t, tt.inspect)
			got, err := observe(c)
			if tt.wantErr {
				assert.Error(t, err)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.want, got)
			assert.Equal(t, tt.probe, lastProbeOutput(c))
		})
	}
}

func TestHealthEvent(t *testing.T) {
	// `docker events --format '{{json .}}'` lines, as Docker 20.10 writes them.
	tests := []struct {
		name, event, want string
	}{
		{"healthy", `{"status":"health_status: healthy","id":"d64c","Type":"container","Action":"health_status: healthy","Actor":{"ID":"d64c","Attributes":{"name":"bench-1-synapse"}},"scope":"local","time":1764118979,"timeNano":1764118979626566417}`, "healthy"},
		{"unhealthy", `{"Type":"container","Action":"health_status: unhealthy","Actor":{"ID":"d64c"}}`, "unhealthy"},
		{"died", `{"status":"die","Type":"container","Action":"die","Actor":{"ID":"d64c","Attributes":{"exitCode":"2","name":"bench-1-synapse"}}}`, "exited"},
		{"start is not a health event", `{"Type":"container","Action":"start","Actor":{"ID":"d64c"}}`, ""},
		{"exec of the probe is not one either", `{"Type":"container","Action":"exec_start: /start health","Actor":{"ID":"d64c"}}`, ""},
		{"health_status running (Docker 28)", `{"Type":"container","Action":"health_status: running","Actor":{"ID":"d64c"}}`, ""},
		{"a network's die-like event", `{"Type":"network","Action":"die","Actor":{"ID":"n1"}}`, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var m events.Message
			require.NoError(t, json.Unmarshal([]byte(tt.event), &m))
			assert.Equal(t, tt.want, healthEvent(m))
		})
	}
}
