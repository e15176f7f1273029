package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strconv"
	"time"
)

// startCase is one way of starting the image: SQLite or PostgreSQL, with a
// fresh or an existing /data.
type startCase struct {
	key, label string
	postgres   bool
	fresh      bool
	extra      []string // more `docker create` flags
	target     *target  // for the "healthy" time, in seconds
}

type startResult struct {
	health, healthy, stop []time.Duration
	err                   error
}

const pgPassword = "bench"

// benchStart measures container start to the first /health 200 and to
// Docker's "healthy", for each case, in rounds (each round runs every case
// once, so a change of the machine's load hits all cases alike).
func benchStart(ctx context.Context, e *engine, o options, dockerAPI string, logf logFunc) []row {
	const section = "start"
	cases := []startCase{
		{key: "sqlite-fresh", label: "SQLite, fresh /data", fresh: true},
		{key: "sqlite-existing", label: "SQLite, existing /data", target: atMost(3, "≤ 3 s")},
		{key: "pg-fresh", label: "PostgreSQL, fresh /data and database", postgres: true, fresh: true},
		{key: "pg-existing", label: "PostgreSQL, existing /data and database", postgres: true},
	}
	// Docker before 25 (API 1.44) ignores the health check's start-interval
	// and probes only every interval: show what start-interval would give.
	if apiBefore(dockerAPI, 1, 44) {
		cases = append(cases, startCase{
			key: "sqlite-existing-1s", label: "SQLite, existing /data, --health-interval=1s (as start-interval on Docker ≥ 25)",
			extra: []string{"--health-interval=1s"},
		})
	}
	fail := func(err error) []row {
		var rows []row
		for _, c := range cases {
			rows = append(rows, failedRow(section, c.label+": start → healthy", err, c.target))
		}
		return rows
	}

	port, err := freePort(o.portFrom, o.portTo)
	if err != nil {
		return fail(err)
	}
	network := e.name("net")
	if err := e.network(ctx, network); err != nil {
		return fail(err)
	}
	pg := e.name("pg")
	if err := startPostgres(ctx, e, o, network, pg, logf); err != nil {
		logf("start: PostgreSQL: %v", err)
		// SQLite still runs; the PostgreSQL rows say why they are missing.
		var kept []startCase
		for _, c := range cases {
			if !c.postgres {
				kept = append(kept, c)
			}
		}
		rows := benchStartCases(ctx, e, o, kept, network, pg, port, logf)
		for _, c := range cases {
			if c.postgres {
				rows = append(rows, failedRow(section, c.label+": start → healthy", fmt.Errorf("PostgreSQL: %w", err), nil))
			}
		}
		return rows
	}
	return benchStartCases(ctx, e, o, cases, network, pg, port, logf)
}

func benchStartCases(ctx context.Context, e *engine, o options, cases []startCase, network, pg string, port int, logf logFunc) []row {
	const section = "start"
	results := make([]startResult, len(cases))
	// An existing /data: one volume (and database) per case, started once
	// before the timed runs.
	for i, c := range cases {
		if c.fresh {
			continue
		}
		vol := e.name("data", c.key)
		if err := e.volume(ctx, vol); err != nil {
			results[i].err = err
			continue
		}
		logf("start: %s: first start (not timed)", c.label)
		if _, err := startOnce(ctx, e, o, c, network, pg, "synapse", vol, port, "warm"); err != nil {
			results[i].err = fmt.Errorf("first start: %w", err)
		}
	}
	for run := 1; run <= o.runs; run++ {
		for i, c := range cases {
			if results[i].err != nil || ctx.Err() != nil {
				continue
			}
			vol, db := e.name("data", c.key), "synapse"
			if c.fresh {
				vol = e.name("data", c.key, strconv.Itoa(run))
				if err := e.volume(ctx, vol); err != nil {
					results[i].err = err
					continue
				}
				if c.postgres {
					db = "fresh" + strconv.Itoa(run)
					if _, err := e.exec(ctx, pg, "createdb", "-U", "matrix", "-E", "UTF8", "--lc-collate=C", "--lc-ctype=C", "-T", "template0", db); err != nil {
						results[i].err = fmt.Errorf("create database %s: %w", db, err)
						continue
					}
				}
			}
			t, err := startOnce(ctx, e, o, c, network, pg, db, vol, port, strconv.Itoa(run))
			if c.fresh {
				if rerr := e.removeVolume(ctx, vol); rerr != nil {
					logf("start: %v", rerr)
				}
			}
			if err != nil {
				results[i].err = fmt.Errorf("run %d: %w", run, err)
				continue
			}
			logf("start: %s, run %d/%d: /health 200 after %s, healthy after %s, stop %s",
				c.label, run, o.runs, seconds(t.health), seconds(t.healthy), seconds(t.stop))
			results[i].health = append(results[i].health, t.health)
			results[i].healthy = append(results[i].healthy, t.healthy)
			results[i].stop = append(results[i].stop, t.stop)
		}
	}
	var rows []row
	var stops []time.Duration
	for i, c := range cases {
		r := results[i]
		if r.err == nil && len(r.healthy) == 0 {
			r.err = errors.New("no runs")
			if ctx.Err() != nil {
				r.err = fmt.Errorf("no runs: %w", ctx.Err())
			}
		}
		if r.err != nil {
			rows = append(rows, failedRow(section, c.label+": start → healthy", r.err, c.target))
			continue
		}
		rows = append(rows,
			measured(section, c.label+": start → first /health 200", spread(r.health), 0, nil),
			measured(section, c.label+": start → Docker healthy", spread(r.healthy), median(r.healthy).Seconds(), c.target))
		if c.key == "sqlite-existing" {
			stops = r.stop
		}
	}
	if len(stops) > 0 {
		rows = append(rows, measured(section, "SQLite: docker stop (SIGTERM → exit)", spread(stops), 0, nil))
	}
	return rows
}

type startTimes struct{ health, healthy, stop time.Duration }

// startOnce creates a Synapse container for case c, starts it, waits until
// it is healthy, then stops and removes it.
func startOnce(ctx context.Context, e *engine, o options, c startCase, network, pg, db, vol string, port int, run string) (startTimes, error) {
	name := e.name("synapse", c.key, run)
	args := []string{
		"--network", network,
		"-p", fmt.Sprintf("127.0.0.1:%d:8008", port),
		"-v", vol + ":/data",
		"-e", "SYNAPSE_SERVER_NAME=bench.test", "-e", "SYNAPSE_REPORT_STATS=no",
	}
	if c.postgres {
		args = append(args, "-e", "POSTGRES_HOST="+pg, "-e", "POSTGRES_USER=matrix",
			"-e", "POSTGRES_PASSWORD="+pgPassword, "-e", "POSTGRES_DB="+db)
	}
	args = append(append(args, c.extra...), o.imageRef)
	if err := e.create(ctx, name, args...); err != nil {
		return startTimes{}, err
	}
	// On failure the container stays tracked, and cleanup() removes it.
	defer e.remove(context.WithoutCancel(ctx), name)
	t, err := timeStart(ctx, e, name, fmt.Sprintf("http://127.0.0.1:%d/health", port), o.poll, o.timeout)
	if err != nil {
		return t, err
	}
	t.stop, err = e.stop(ctx, name, 30*time.Second)
	return t, err
}

// timeStart starts a created container and measures when its /health
// first answers 200 (polled every `every` on the published loopback port)
// and when Docker marks it healthy (from the engine's event stream, which
// reports the change the moment it happens, where polling `docker inspect`
// would add load to the machine it measures).
func timeStart(ctx context.Context, e *engine, name, healthURL string, every, limit time.Duration) (startTimes, error) {
	httpc := &http.Client{
		Timeout:   time.Second,
		Transport: &http.Transport{DisableKeepAlives: true},
	}
	ctx, cancel := context.WithTimeout(ctx, limit)
	defer cancel()
	events := e.events(ctx, name)
	var t startTimes
	t0 := time.Now()
	if err := e.start(ctx, name); err != nil {
		return t, err
	}
	tick := time.NewTicker(every)
	defer tick.Stop()
	for t.health == 0 || t.healthy == 0 {
		select {
		case <-ctx.Done():
			if errors.Is(ctx.Err(), context.DeadlineExceeded) {
				return t, fmt.Errorf("%s not ready after %s (/health 200: %v, healthy: %v): %s",
					name, limit, t.health != 0, t.healthy != 0, e.logs(context.WithoutCancel(ctx), name))
			}
			return t, ctx.Err()
		case err := <-events.Err:
			return t, fmt.Errorf("docker events of %s: %w", name, err)
		case m := <-events.Messages:
			switch healthEvent(m) {
			case "healthy":
				if t.healthy == 0 {
					t.healthy = time.Since(t0)
				}
			case "unhealthy":
				c, _ := e.inspect(ctx, name)
				return t, fmt.Errorf("%s is unhealthy (%s): %s", name, lastProbeOutput(c), e.logs(ctx, name))
			case "exited":
				return t, fmt.Errorf("%s exited with status %s: %s", name, m.Actor.Attributes["exitCode"], e.logs(ctx, name))
			}
		case <-tick.C:
			if t.health == 0 && healthOK(ctx, httpc, healthURL) {
				t.health = time.Since(t0)
			}
		}
	}
	return t, nil
}

func healthOK(ctx context.Context, c *http.Client, url string) bool {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return false
	}
	resp, err := c.Do(req)
	if err != nil {
		return false
	}
	resp.Body.Close()
	return resp.StatusCode == http.StatusOK
}

// startPostgres starts the PostgreSQL test image on the network and waits
// until Docker says it is healthy.
func startPostgres(ctx context.Context, e *engine, o options, network, name string, logf logFunc) error {
	if err := e.create(ctx, name, "--network", network,
		"-e", "POSTGRES_USER=matrix", "-e", "POSTGRES_PASSWORD="+pgPassword, "-e", "POSTGRES_DB=synapse",
		"-e", "POSTGRES_INITDB_ARGS=--encoding=UTF8 --lc-collate=C --lc-ctype=C",
		"--health-interval=1s", o.pgImage); err != nil {
		return err
	}
	logf("start: starting PostgreSQL (%s)", o.pgImage)
	t0 := time.Now()
	if err := e.start(ctx, name); err != nil {
		return err
	}
	if err := waitHealthy(ctx, e, name, o.timeout); err != nil {
		return err
	}
	logf("start: PostgreSQL healthy after %s", seconds(time.Since(t0)))
	return nil
}

// freePort returns the first port in [from, to] free on the loopback.
func freePort(from, to int) (int, error) {
	for p := from; p <= to; p++ {
		l, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", p))
		if err != nil {
			continue
		}
		l.Close()
		return p, nil
	}
	return 0, fmt.Errorf("no free port on 127.0.0.1 in %d-%d", from, to)
}
