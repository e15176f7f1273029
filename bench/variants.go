package main

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"
)

// startVariant is one way of starting Synapse compared in the startup
// section: an image and the variables that switch its start-up mechanisms.
type startVariant struct {
	key, label string
	image      string   // image ID to create containers from
	env        []string // NAME=value
	targets    bool     // whether the start-up targets apply
}

// startupVariants are the variants the startup section compares, the
// current recipe's image (baseline) first when there is one. Each variable
// turns one mechanism of image/synapse.yaml's python: section off.
func startupVariants(image, baseline string) []startVariant {
	var vs []startVariant
	if baseline != "" {
		vs = append(vs, startVariant{key: "base", label: "current recipe", image: baseline})
	}
	return append(vs,
		startVariant{key: "new", label: "new (unchecked-hash .pyc, check without imports, bundle, its finder, dependency check record)", image: image, targets: true},
		startVariant{key: "nofinder", label: "new, SYNAPSE_BYTECODE_BUNDLE_FINDER=off", image: image,
			env: []string{"SYNAPSE_BYTECODE_BUNDLE_FINDER=off"}},
		startVariant{key: "norecord", label: "new, SYNAPSE_DEPENDENCY_CHECK_RECORD=off", image: image,
			env: []string{"SYNAPSE_DEPENDENCY_CHECK_RECORD=off"}},
		startVariant{key: "nobundle", label: "new, SYNAPSE_BYTECODE_BUNDLE=off", image: image,
			env: []string{"SYNAPSE_BYTECODE_BUNDLE=off"}},
		startVariant{key: "pyc", label: "new, both variables off (unchecked-hash .pyc only)", image: image,
			env: []string{"SYNAPSE_BYTECODE_BUNDLE=off", "SYNAPSE_FAST_DEPENDENCY_CHECK=off"}},
		// The early SIGTERM thread (docs/start.md#stopping): its cost.
		startVariant{key: "nosigterm", label: "new, SYNAPSE_EARLY_SIGTERM=off", image: image,
			env: []string{"SYNAPSE_EARLY_SIGTERM=off"}},
	)
}

type variantResult struct {
	health, healthy map[bool][]time.Duration // by fresh
	cpu             map[bool][]time.Duration // Synapse's CPU time when healthy, by fresh
	rss             []int64                  // existing /data, idle after healthy
	err             error
}

// benchStartup compares the start-up of the variants, SQLite, fresh and
// existing /data, in rounds: each round starts every variant in each case
// once, in turn, so the machine's changing load hits all of them alike.
// Synapse's RSS is read in the existing-/data starts after o.idle.
func benchStartup(ctx context.Context, e *engine, o options, image string, logf logFunc) []row {
	const section = "startup"
	variants := startupVariants(image, o.baselineRef)
	results := make([]variantResult, len(variants))
	fail := func(err error) []row {
		return []row{failedRow(section, "start-up variants", err, nil)}
	}
	port, err := freePort(o.portFrom, o.portTo)
	if err != nil {
		return fail(err)
	}
	load0 := loadAvg()
	for i, v := range variants {
		results[i] = variantResult{health: map[bool][]time.Duration{}, healthy: map[bool][]time.Duration{}, cpu: map[bool][]time.Duration{}}
		vol := e.name("startup", v.key)
		if err := e.volume(ctx, vol); err != nil {
			return fail(err)
		}
		logf("startup: %s: first start (not timed)", v.label)
		if _, _, _, err := startVariantOnce(ctx, e, o, v, vol, port, "warm", false); err != nil {
			results[i].err = fmt.Errorf("first start: %w", err)
		}
	}
	for run := 1; run <= o.runs && ctx.Err() == nil; run++ {
		for _, fresh := range []bool{false, true} {
			for i, v := range variants {
				r := &results[i]
				if r.err != nil || ctx.Err() != nil {
					continue
				}
				vol := e.name("startup", v.key)
				if fresh {
					vol = e.name("startup", v.key, "fresh", strconv.Itoa(run))
					if err := e.volume(ctx, vol); err != nil {
						r.err = err
						continue
					}
				}
				t, cpu, rss, err := startVariantOnce(ctx, e, o, v, vol, port, strconv.Itoa(run), !fresh)
				if fresh {
					if err := e.removeVolume(ctx, vol); err != nil {
						logf("startup: %v", err)
					}
				}
				if err != nil {
					r.err = fmt.Errorf("run %d: %w", run, err)
					continue
				}
				what := "existing /data"
				if fresh {
					what = "fresh /data"
				} else {
					r.rss = append(r.rss, rss)
				}
				logf("startup: %s, %s, run %d/%d: /health 200 after %s, healthy after %s, Synapse's CPU time %s", v.label, what, run, o.runs, seconds(t.health), seconds(t.healthy), seconds(cpu))
				r.cpu[fresh] = append(r.cpu[fresh], cpu)
				r.health[fresh] = append(r.health[fresh], t.health)
				r.healthy[fresh] = append(r.healthy[fresh], t.healthy)
			}
		}
	}
	rows := []row{measured(section, "machine load (1, 5, 15 min averages) before → after the section", load0+" → "+loadAvg(), 0, nil)}
	for i, v := range variants {
		r := results[i]
		if r.err == nil && len(r.rss) == 0 {
			r.err = fmt.Errorf("no runs: %v", ctx.Err())
		}
		if r.err != nil {
			rows = append(rows, failedRow(section, v.label, r.err, nil))
			continue
		}
		for _, fresh := range []bool{false, true} {
			data := "existing /data"
			var t *target
			if fresh {
				data = "fresh /data"
				if v.targets {
					t = atMost(2.3, "≤ 2.3 s")
				}
			} else if v.targets {
				t = atMost(2.0, "≤ 2.0 s")
			}
			h := r.health[fresh]
			rows = append(rows,
				measured(section, fmt.Sprintf("%s: SQLite, %s: start → first /health 200", v.label, data), spread(h), median(h).Seconds(), t),
				measured(section, fmt.Sprintf("%s: SQLite, %s: start → Docker healthy", v.label, data), spread(r.healthy[fresh]), 0, nil),
				measured(section, fmt.Sprintf("%s: SQLite, %s: Synapse's CPU time (user+system) up to healthy", v.label, data), spread(r.cpu[fresh]), 0, nil))
			if i > 0 && variants[0].key == "base" && results[0].err == nil {
				ratio := median(h).Seconds() / median(results[0].health[fresh]).Seconds()
				cpuRatio := median(r.cpu[fresh]).Seconds() / median(results[0].cpu[fresh]).Seconds()
				rows = append(rows, measured(section, fmt.Sprintf("%s: SQLite, %s: ÷ current recipe's (start → /health; Synapse's CPU time)", v.label, data),
					fmt.Sprintf("%.2f; %.2f", ratio, cpuRatio), 0, nil))
			}
		}
		var rssTarget *target
		if v.targets && variants[0].key == "base" && results[0].err == nil {
			base := median(results[0].rss)
			rssTarget = atMost(float64(base), "≤ current recipe's "+megabytes(base))
		}
		rows = append(rows, measured(section, fmt.Sprintf("%s: Synapse RSS, existing /data, %s after healthy", v.label, o.idle),
			fmt.Sprintf("%s (median of %d)", megabytes(median(r.rss)), len(r.rss)), float64(median(r.rss)), rssTarget))
	}
	return rows
}

// startVariantOnce starts variant v on vol and waits until it is healthy,
// then reads the CPU time Synapse (PID 1) used so far, which the machine's
// load changes far less than the wall time; with readRSS it then idles and
// reads Synapse's VmRSS.
func startVariantOnce(ctx context.Context, e *engine, o options, v startVariant, vol string, port int, run string, readRSS bool) (startTimes, time.Duration, int64, error) {
	name := e.name("startup", v.key, run)
	args := []string{
		"-p", fmt.Sprintf("127.0.0.1:%d:8008", port), "-v", vol + ":/data",
		"-e", "SYNAPSE_SERVER_NAME=bench.test", "-e", "SYNAPSE_REPORT_STATS=no",
	}
	for _, kv := range v.env {
		args = append(args, "-e", kv)
	}
	if err := e.create(ctx, name, append(args, v.image)...); err != nil {
		return startTimes{}, 0, 0, err
	}
	defer e.remove(context.WithoutCancel(ctx), name)
	t, err := timeStart(ctx, e, name, fmt.Sprintf("http://127.0.0.1:%d/health", port), o.poll, o.timeout)
	if err != nil {
		return t, 0, 0, err
	}
	stat, err := e.exec(ctx, name, "cat", "/proc/1/stat")
	if err != nil {
		return t, 0, 0, err
	}
	cpu, err := procCPUTime(stat)
	if err != nil {
		return t, 0, 0, err
	}
	var rss int64
	if readRSS {
		select {
		case <-ctx.Done():
			return t, 0, 0, ctx.Err()
		case <-time.After(o.idle):
		}
		status, err := e.exec(ctx, name, "cat", "/proc/1/status")
		if err != nil {
			return t, 0, 0, err
		}
		st, err := procStatus(status)
		if err != nil {
			return t, 0, 0, err
		}
		rss = st["VmRSS"]
	}
	_, err = e.stop(ctx, name, 30*time.Second)
	return t, cpu, rss, err
}

// clockTicks is USER_HZ, the unit of /proc/PID/stat's times (100 on Linux).
const clockTicks = 100

// procCPUTime reads utime + stime from /proc/PID/stat.
func procCPUTime(stat string) (time.Duration, error) {
	// The command name (field 2) is in parentheses and may hold spaces.
	i := strings.LastIndexByte(stat, ')')
	if i < 0 {
		return 0, fmt.Errorf("/proc stat: no command name in %q", stat)
	}
	f := strings.Fields(stat[i+1:])
	// After the name: state is field 3, utime 14, stime 15.
	if len(f) < 13 {
		return 0, fmt.Errorf("/proc stat: %d fields after the name, expected at least 13", len(f))
	}
	var ticks int64
	for _, s := range f[11:13] {
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			return 0, fmt.Errorf("/proc stat: %w", err)
		}
		ticks += n
	}
	return time.Duration(ticks) * time.Second / clockTicks, nil
}

// loadAvg is the machine's 1, 5 and 15 minute load averages.
func loadAvg() string {
	data, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "unknown"
	}
	f := strings.Fields(string(data))
	if len(f) < 3 {
		return "unknown"
	}
	return strings.Join(f[:3], " ")
}
