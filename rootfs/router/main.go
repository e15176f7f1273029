// Command router is the entrypoint of the router image (image/router.yaml):
// it writes HAProxy's configuration from SYNAPSE_WORKERS (the variable every
// container of the deployment gets) and the table of worker types, then
// replaces itself with HAProxy. "router config" prints the configuration,
// "router health" asks HAProxy's own health URI (the image's healthcheck).
// A bad variable is one line and exit status 2.
package main

import (
	"fmt"
	"net/http"
	"os"
	"syscall"
	"time"

	"github.com/synapse-image/synapse-image/rootfs/internal/env"
	"github.com/synapse-image/synapse-image/rootfs/internal/router"
)

// configPath is where the configuration goes: /tmp is the one directory
// the image's haproxy user may write.
const configPath = "/tmp/haproxy.cfg"

func main() {
	os.Exit(run(os.Args[1:]))
}

func run(args []string) int {
	top, mainHost, err := env.RouterTopology(env.OS())
	if err != nil {
		fmt.Fprintf(os.Stderr, "router: error: %v\n", err)
		return 2
	}
	cfg := router.Config(top, mainHost)
	switch {
	case len(args) == 1 && args[0] == "config":
		fmt.Print(cfg)
		return 0
	case len(args) == 1 && args[0] == "health":
		return health()
	case len(args) > 0:
		fmt.Fprintf(os.Stderr, "router: error: unknown arguments %q; expected none (run HAProxy), config (print its configuration) or health\n", args)
		return 2
	}
	if err := os.WriteFile(configPath, []byte(cfg), 0o644); err != nil {
		fmt.Fprintf(os.Stderr, "router: error: write %s: %v\n", configPath, err)
		return 1
	}
	fmt.Fprintf(os.Stderr, "router: %d routed types, main at %s:%d; starting HAProxy\n", len(router.Routed(top)), mainHost, router.Port)
	// -W: master-worker, -db: foreground, so HAProxy is PID 1.
	argv := []string{"haproxy", "-W", "-db", "-f", configPath}
	if err := syscall.Exec("/usr/sbin/haproxy", argv, os.Environ()); err != nil {
		fmt.Fprintf(os.Stderr, "router: error: exec haproxy: %v\n", err)
		return 1
	}
	return 0
}

// health asks HAProxy's monitor URI on loopback.
func health() int {
	c := http.Client{Timeout: 3 * time.Second}
	resp, err := c.Get(fmt.Sprintf("http://127.0.0.1:%d%s", router.Port, router.HealthPath))
	if err != nil {
		fmt.Fprintf(os.Stderr, "router: unhealthy: %v\n", err)
		return 1
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		fmt.Fprintf(os.Stderr, "router: unhealthy: %s\n", resp.Status)
		return 1
	}
	return 0
}
