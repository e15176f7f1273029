package main

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// healthProbes is how many `/start health` runs one timing covers.
const healthProbes = 20

// probeLoop times healthProbes runs of /start health inside the container
// (the clock is the container's: docker exec's own cost is not in it) and
// prints the nanoseconds.
var probeLoop = `s=$(date +%s%N); i=0; while [ $i -lt ` + strconv.Itoa(healthProbes) + ` ]; do /start health >/dev/null 2>&1 || exit 1; i=$((i+1)); done; e=$(date +%s%N); echo $((e-s))`

// maxRSS runs a command in the container and prints its peak resident set
// size in kB (getrusage of the child; the measuring Python is not counted).
const maxRSS = `import resource, subprocess, sys
r = subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
if r.returncode: sys.exit(r.returncode)
print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)`

// benchFaults measures what the fault handling of docs/start.md costs:
// one `/start health` probe (it runs every 5 s: Synapse's /health, a statfs
// of /data, PostgreSQL's SSLRequest when the config uses it) and the peak
// memory of the two ways to register a user in the container, next to a
// Synapse under a memory limit.
func benchFaults(ctx context.Context, e *engine, o options, logf logFunc) []row {
	const section = "faults"
	probeWhat := fmt.Sprintf("/start health, one probe (median of %d timings of %d in the container), SQLite: /health + statfs of /data", o.memRuns, healthProbes)
	regWhat := func(tool string) string {
		return "peak RSS of one registration with " + tool
	}
	tools := []struct {
		label string
		argv  func(user string) []string
	}{
		{"/start register", func(u string) []string { return []string{"/start", "register", "-u", u, "-p", "bench pass"} }},
		{"register_new_matrix_user (Python)", func(u string) []string {
			return []string{"register_new_matrix_user", "-c", "/data/generated/homeserver.yaml", "-u", u, "-p", "bench pass", "--no-admin", "http://localhost:8008"}
		}},
	}
	fail := func(err error) []row {
		rows := []row{failedRow(section, probeWhat, err, nil)}
		for _, t := range tools {
			rows = append(rows, failedRow(section, regWhat(t.label), err, nil))
		}
		return rows
	}
	port, err := freePort(o.portFrom, o.portTo)
	if err != nil {
		return fail(err)
	}
	vol := e.name("faults")
	if err := e.volume(ctx, vol); err != nil {
		return fail(err)
	}
	name := e.name("faults", "synapse")
	if err := e.create(ctx, name, "-p", fmt.Sprintf("127.0.0.1:%d:8008", port), "-v", vol+":/data",
		"-e", "SYNAPSE_SERVER_NAME=bench.test", "-e", "SYNAPSE_REPORT_STATS=no", o.imageRef); err != nil {
		return fail(err)
	}
	defer e.remove(context.WithoutCancel(ctx), name)
	if _, err := timeStart(ctx, e, name, fmt.Sprintf("http://127.0.0.1:%d/health", port), o.poll, o.timeout); err != nil {
		return fail(err)
	}

	var rows []row
	var probes []time.Duration
	var probeErr error
	for run := 1; run <= o.memRuns && probeErr == nil; run++ {
		out, err := e.exec(ctx, name, "sh", "-c", probeLoop)
		if err != nil {
			probeErr = err
			break
		}
		ns, err := strconv.ParseInt(strings.TrimSpace(out), 10, 64)
		if err != nil {
			probeErr = fmt.Errorf("probe loop printed %q", out)
			break
		}
		probes = append(probes, time.Duration(ns/healthProbes))
		logf("faults: /start health, run %d/%d: %s per probe", run, o.memRuns, probes[len(probes)-1].Round(10*time.Microsecond))
	}
	if probeErr != nil {
		rows = append(rows, failedRow(section, probeWhat, probeErr, nil))
	} else {
		rows = append(rows, measured(section, probeWhat, fmt.Sprintf("%.1f ms", float64(median(probes))/1e6), 0, nil))
	}

	for _, t := range tools {
		var peaks []int64
		var err error
		for run := 1; run <= o.memRuns && err == nil; run++ {
			user := fmt.Sprintf("bench-%d-%d", time.Now().UnixNano(), run)
			var out string
			out, err = e.exec(ctx, name, append([]string{"python3", "-c", maxRSS}, t.argv(user)...)...)
			if err != nil {
				break
			}
			var kb int64
			if kb, err = strconv.ParseInt(strings.TrimSpace(out), 10, 64); err != nil {
				err = fmt.Errorf("%s printed %q", t.label, out)
				break
			}
			peaks = append(peaks, kb*1000)
			logf("faults: %s, run %d/%d: peak RSS %s", t.label, run, o.memRuns, megabytes(kb*1000))
		}
		if err != nil {
			rows = append(rows, failedRow(section, regWhat(t.label), err, nil))
			continue
		}
		rows = append(rows, measured(section, regWhat(t.label), fmt.Sprintf("%s (median of %d)", megabytes(median(peaks)), len(peaks)), 0, nil))
	}
	return rows
}
