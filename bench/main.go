// Command bench measures the Synapse image and prints one markdown table:
// container start to /health and to Docker's "healthy" (SQLite and
// PostgreSQL, fresh and existing /data), the per-start config step against
// the 2018 image's, the image size per layer, the build (with -build) and
// Synapse's memory with and without jemalloc, each against its target.
// The startup section compares the start-up mechanisms of the image's
// recipe (each turned off by a variable) with an image of the current
// recipe (-baseline), side by side in one run.
//
//	go run ./bench                 # everything but the build (a few minutes)
//	go run ./bench -build          # also cold, warm and no-change builds
//	go run ./bench -sections size,config -runs 3
//	go run ./bench -write-docs docs/benchmarks.md   # also add the run to the docs
//	go run ./bench -sections startup -baseline synapse-main:latest
//
// Progress goes to stderr, the table to stdout. Everything it starts is
// named bench-<pid>-… and removed at the end, also on Ctrl-C.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/synapse-image/synapse-image/image/names"
	"github.com/synapse-image/synapse-image/image/platform"
)

var allSections = []string{"start", "startup", "config", "size", "build", "memory", "faults", "workers"}

type options struct {
	image, pgImage, ociDir, repo string
	// imageRef is what containers are created from: the ID image had when
	// the run began, so a rebuild of synapse:latest meanwhile (other work
	// on the machine) cannot mix two images in one table.
	imageRef string
	// baseline is the image of the current recipe the startup section
	// compares with; baselineRef its ID when the run began.
	baseline, baselineRef string
	sections              []string
	runs, memRuns         int
	configRuns, pyRuns    int
	poll, idle, timeout   time.Duration
	portFrom, portTo      int
	// writeDocs is the results file (docs/benchmarks.md) this run is added
	// to; "" leaves it alone.
	writeDocs string
	// buildPlatforms are the platforms the build section builds.
	buildPlatforms []platform.Platform
	// The workers section: the topology compared with one process, the
	// images of Redis and the router, the clients and how long they load.
	workers, redisImage, routerImage string
	workerClients, workerRooms       int
	workerLoad                       time.Duration
}

func parseFlags(args []string, stderr io.Writer) (options, error) {
	var o options
	var sections string
	var build bool
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&sections, "sections", "start,config,size,memory", "comma-separated `sections` to run, of "+strings.Join(allSections, ","))
	fs.BoolVar(&build, "build", false, "also run the build section (scripts/bench-build.sh: a cold build, minutes)")
	var buildPlats string
	fs.StringVar(&buildPlats, "build-platforms", "linux/amd64,linux/arm64", "comma-separated `platforms` the build section builds (linux/arm64 under qemu: two cold builds, about 20 min)")
	fs.StringVar(&o.image, "image", "synapse:latest", "Synapse `image` in the local Docker engine")
	fs.StringVar(&o.pgImage, "postgres-image", "synapse-postgres:latest", "PostgreSQL `image` for the PostgreSQL start rows")
	fs.StringVar(&o.ociDir, "oci", names.DefaultLayout(), "OCI layout `dir` the builder wrote, for the size section")
	fs.StringVar(&o.repo, "repo", ".", "repository root `dir` (where scripts/ is)")
	fs.StringVar(&o.baseline, "baseline", "", "`image` of the current recipe for the startup section to compare with (e.g. one built from main); empty: only the variables' variants")
	fs.StringVar(&o.writeDocs, "write-docs", "", "also add this run (date, machine, table) to the generated part of `file`, e.g. docs/benchmarks.md, keeping the last 5 runs")
	fs.IntVar(&o.runs, "runs", 5, "timed container starts per start case (median reported)")
	fs.IntVar(&o.memRuns, "memory-runs", 3, "starts per memory variant")
	fs.IntVar(&o.configRuns, "config-runs", 21, "runs of /start per config-step measurement")
	fs.IntVar(&o.pyRuns, "python-runs", 5, "runs of the 2018 Python config step")
	fs.StringVar(&o.workers, "workers", "synchrotron:2,event_persister:2", "worker topology (SYNAPSE_WORKERS) the workers section compares with one process")
	fs.StringVar(&o.redisImage, "redis-image", "synapse-redis:latest", "Redis `image` for the workers section")
	fs.StringVar(&o.routerImage, "router-image", "synapse-router:latest", "router `image` for the workers section")
	fs.IntVar(&o.workerClients, "workers-clients", 32, "clients of the workers section's load")
	fs.IntVar(&o.workerRooms, "workers-rooms", 8, "rooms the workers section's clients are spread over (persistence is sharded by room)")
	fs.DurationVar(&o.workerLoad, "workers-load", time.Minute, "how long the workers section's load runs per deployment")
	fs.DurationVar(&o.poll, "poll", 20*time.Millisecond, "how often to poll /health on the published loopback port")
	fs.DurationVar(&o.idle, "idle", 5*time.Second, "idle time after healthy before reading memory")
	fs.DurationVar(&o.timeout, "timeout", 3*time.Minute, "longest wait for one container to turn healthy")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: go run ./bench [flags]\n\nMeasures the Synapse image and prints one markdown table (progress on stderr).\n\nflags:")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	if fs.NArg() > 0 {
		return o, fmt.Errorf("unexpected argument %q (flags only; see -h)", fs.Arg(0))
	}
	for _, s := range strings.Split(sections, ",") {
		s = strings.TrimSpace(s)
		if s == "" {
			continue
		}
		if !slices.Contains(allSections, s) {
			return o, fmt.Errorf("-sections: unknown section %q; expected some of %s", s, strings.Join(allSections, ","))
		}
		if !slices.Contains(o.sections, s) {
			o.sections = append(o.sections, s)
		}
	}
	if build && !slices.Contains(o.sections, "build") {
		o.sections = append(o.sections, "build")
	}
	for _, s := range strings.Split(buildPlats, ",") {
		if s = strings.TrimSpace(s); s == "" {
			continue
		}
		p, err := platform.Parse(s)
		if err != nil {
			return o, fmt.Errorf("-build-platforms: unknown platform %q; expected linux/amd64 and/or linux/arm64", s)
		}
		o.buildPlatforms = append(o.buildPlatforms, p)
	}
	if len(o.sections) == 0 {
		return o, errors.New("-sections: no section selected")
	}
	for _, n := range []struct {
		name string
		v    int
	}{{"-runs", o.runs}, {"-memory-runs", o.memRuns}, {"-config-runs", o.configRuns}, {"-python-runs", o.pyRuns},
		{"-workers-clients", o.workerClients}, {"-workers-rooms", o.workerRooms}} {
		if n.v < 1 {
			return o, fmt.Errorf("%s: %d; expected at least 1", n.name, n.v)
		}
	}
	if o.poll <= 0 || o.timeout <= 0 || o.idle < 0 {
		return o, errors.New("-poll and -timeout must be positive, -idle not negative")
	}
	o.portFrom, o.portTo = 18600, 18699
	return o, nil
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// run returns the exit status: 0 when every measurement was made (targets
// missed are reported, not failures), 1 when one failed, 2 for bad flags.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	o, err := parseFlags(args, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	if err != nil {
		fmt.Fprintln(stderr, "bench:", err)
		return 2
	}
	if o.writeDocs != "" {
		if err := checkDocsFile(o.writeDocs); err != nil {
			fmt.Fprintln(stderr, "bench:", err)
			return 2
		}
	}
	logf := newLogf(stderr)
	m, err := describeMachine(ctx, o)
	if err != nil {
		fmt.Fprintln(stderr, "bench:", err)
		return 1
	}
	m.Arguments = strings.TrimSpace("go run ./bench " + strings.Join(args, " "))
	o.imageRef = o.image
	if m.ImageID != "" {
		o.imageRef = m.ImageID
	}
	logf("%s", m)

	var e *engine
	if o.baseline != "" && slices.Contains(o.sections, "startup") {
		id, err := docker(ctx, "image", "inspect", "--format", "{{.Id}}", o.baseline)
		if err != nil {
			fmt.Fprintf(stderr, "bench: -baseline %s: %v\n", o.baseline, err)
			return 2
		}
		o.baselineRef = id
		logf("baseline: %s (%s)", o.baseline, shortID(id))
	}
	needsEngine := slices.ContainsFunc(o.sections, func(s string) bool {
		return s == "start" || s == "startup" || s == "memory" || s == "faults" || s == "workers"
	})
	if needsEngine {
		if e, err = newEngine(ctx, fmt.Sprintf("bench-%d", os.Getpid())); err != nil {
			fmt.Fprintln(stderr, "bench:", err)
			return 1
		}
		defer func() {
			if err := e.cleanup(); err != nil {
				fmt.Fprintln(stderr, "bench:", err)
			}
		}()
	}

	var rows []row
	for _, s := range allSections { // in table order
		if !slices.Contains(o.sections, s) || ctx.Err() != nil {
			continue
		}
		t0 := time.Now()
		switch s {
		case "start":
			rows = append(rows, benchStart(ctx, e, o, m.DockerAPI, logf)...)
		case "startup":
			rows = append(rows, benchStartup(ctx, e, o, o.imageRef, logf)...)
		case "config":
			rows = append(rows, benchConfigStep(ctx, o.repo, o, logf)...)
		case "size":
			rows = append(rows, benchSize(ctx, o, m.ImageID, logf)...)
		case "build":
			rows = append(rows, benchBuild(ctx, o.repo, o.buildPlatforms, logf)...)
		case "memory":
			rows = append(rows, benchMemory(ctx, e, o, logf)...)
		case "faults":
			rows = append(rows, benchFaults(ctx, e, o, logf)...)
		case "workers":
			rows = append(rows, benchWorkers(ctx, e, o, logf)...)
		}
		logf("%s: done in %s", s, time.Since(t0).Round(time.Second))
	}
	if err := ctx.Err(); err != nil {
		fmt.Fprintln(stderr, "bench: interrupted; partial results:")
		rows = append(rows, row{Section: "bench", What: "interrupted", Result: err.Error(), Verdict: failed})
	}
	if err := writeTable(stdout, m, rows); err != nil {
		fmt.Fprintln(stderr, "bench:", err)
		return 1
	}
	if slices.ContainsFunc(rows, func(r row) bool { return r.Verdict == failed }) {
		if o.writeDocs != "" {
			fmt.Fprintf(stderr, "bench: not written to %s: a measurement failed\n", o.writeDocs)
		}
		return 1
	}
	if o.writeDocs != "" {
		if err := writeDocs(o.writeDocs, m, rows); err != nil {
			fmt.Fprintln(stderr, "bench: -write-docs:", err)
			return 1
		}
		logf("results added to %s", o.writeDocs)
	}
	return 0
}

type logFunc func(format string, args ...any)

// newLogf logs progress lines with the time since the start.
func newLogf(w io.Writer) logFunc {
	t0 := time.Now()
	return func(format string, args ...any) {
		d := time.Since(t0).Round(time.Second)
		fmt.Fprintf(w, "[%02d:%02d] %s\n", int(d.Minutes()), int(d.Seconds())%60, fmt.Sprintf(format, args...))
	}
}

// logWriter turns a script's output into progress lines.
type logWriter struct {
	logf   logFunc
	prefix string
	buf    []byte
}

func newLogWriter(logf logFunc, prefix string) *logWriter {
	return &logWriter{logf: logf, prefix: prefix}
}

func (w *logWriter) Write(p []byte) (int, error) {
	w.buf = append(w.buf, p...)
	for {
		i := slices.Index(w.buf, '\n')
		if i < 0 {
			return len(p), nil
		}
		if line := strings.TrimRight(string(w.buf[:i]), "\r"); strings.TrimSpace(line) != "" {
			w.logf("%s%s", w.prefix, line)
		}
		w.buf = w.buf[i+1:]
	}
}
