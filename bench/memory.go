package main

import (
	"bufio"
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// procStatus reads the kB fields of /proc/PID/status (VmRSS, VmHWM, ...)
// as bytes.
func procStatus(s string) (map[string]int64, error) {
	out := map[string]int64{}
	sc := bufio.NewScanner(strings.NewReader(s))
	for sc.Scan() {
		key, val, ok := strings.Cut(sc.Text(), ":")
		if !ok {
			continue
		}
		f := strings.Fields(val)
		if len(f) != 2 || f[1] != "kB" {
			continue
		}
		n, err := strconv.ParseInt(f[0], 10, 64)
		if err != nil {
			return nil, fmt.Errorf("/proc status: %s: %w", key, err)
		}
		out[key] = n * 1024
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("/proc status: %w", err)
	}
	if _, ok := out["VmRSS"]; !ok {
		return nil, fmt.Errorf("/proc status has no VmRSS line")
	}
	return out, nil
}

// memVariant is one way of running the same Synapse on the same /data.
type memVariant struct {
	label    string
	args     []string // `docker create` flags before the image
	cmd      []string // after the image
	jemalloc bool     // whether libjemalloc must be mapped into PID 1
}

// benchMemory measures Synapse's resident memory (PID 1's VmRSS), once it
// is healthy and has been idle, with jemalloc (as /start runs it) and
// without. /start preloads jemalloc whenever the image has it, with no
// switch to turn that off, so "without" starts python3 directly, as the
// synapse user, on the config /start generated.
func benchMemory(ctx context.Context, e *engine, o options, logf logFunc) []row {
	const section = "memory"
	variants := []memVariant{
		{label: "with jemalloc (/start, as shipped)", jemalloc: true},
		{label: "without jemalloc (python3 started directly)",
			args: []string{"--entrypoint", "python3", "--user", "991:991"},
			cmd:  []string{"-m", "synapse.app.homeserver", "--config-path", "/data/generated/homeserver.yaml"}},
	}
	what := func(v memVariant) string {
		return fmt.Sprintf("Synapse RSS, SQLite, %s idle after healthy, %s", o.idle, v.label)
	}
	fail := func(err error) []row {
		var rows []row
		for _, v := range variants {
			rows = append(rows, failedRow(section, what(v), err, nil))
		}
		return rows
	}
	port, err := freePort(o.portFrom, o.portTo)
	if err != nil {
		return fail(err)
	}
	vol := e.name("mem")
	if err := e.volume(ctx, vol); err != nil {
		return fail(err)
	}
	logf("memory: first start (not measured)")
	if _, err := memOnce(ctx, e, o, variants[0], vol, port, "warm", 0); err != nil {
		return fail(fmt.Errorf("first start: %w", err))
	}
	rss := make([][]int64, len(variants))
	hwm := make([][]int64, len(variants))
	errs := make([]error, len(variants))
	for run := 1; run <= o.memRuns && ctx.Err() == nil; run++ {
		for i, v := range variants {
			if errs[i] != nil {
				continue
			}
			st, err := memOnce(ctx, e, o, v, vol, port, strconv.Itoa(run), o.idle)
			if err != nil {
				errs[i] = fmt.Errorf("run %d: %w", run, err)
				continue
			}
			logf("memory: %s, run %d/%d: VmRSS %s, VmHWM %s", v.label, run, o.memRuns, megabytes(st["VmRSS"]), megabytes(st["VmHWM"]))
			rss[i] = append(rss[i], st["VmRSS"])
			hwm[i] = append(hwm[i], st["VmHWM"])
		}
	}
	var rows []row
	for i, v := range variants {
		if errs[i] == nil && len(rss[i]) == 0 {
			errs[i] = fmt.Errorf("no runs: %w", ctx.Err())
		}
		if errs[i] != nil {
			rows = append(rows, failedRow(section, what(v), errs[i], nil))
			continue
		}
		rows = append(rows, measured(section, what(v),
			fmt.Sprintf("%s (peak %s, median of %d)", megabytes(median(rss[i])), megabytes(median(hwm[i])), len(rss[i])), 0, nil))
	}
	return rows
}

// memOnce starts variant v on vol, waits until healthy, idles, reads PID 1's
// memory and whether jemalloc is mapped, then stops the container.
func memOnce(ctx context.Context, e *engine, o options, v memVariant, vol string, port int, run string, idle time.Duration) (map[string]int64, error) {
	name := e.name("mem", strconv.FormatBool(v.jemalloc), run)
	args := append([]string{
		"-p", fmt.Sprintf("127.0.0.1:%d:8008", port), "-v", vol + ":/data",
		"-e", "SYNAPSE_SERVER_NAME=bench.test", "-e", "SYNAPSE_REPORT_STATS=no",
	}, v.args...)
	args = append(append(args, o.imageRef), v.cmd...)
	if err := e.create(ctx, name, args...); err != nil {
		return nil, err
	}
	defer e.remove(context.WithoutCancel(ctx), name)
	if _, err := timeStart(ctx, e, name, fmt.Sprintf("http://127.0.0.1:%d/health", port), o.poll, o.timeout); err != nil {
		return nil, err
	}
	select {
	case <-ctx.Done():
		return nil, ctx.Err()
	case <-time.After(idle):
	}
	status, err := e.exec(ctx, name, "cat", "/proc/1/status")
	if err != nil {
		return nil, err
	}
	st, err := procStatus(status)
	if err != nil {
		return nil, err
	}
	// /proc/1/maps needs ptrace rights over PID 1: read it as Synapse's user.
	maps, err := e.exec(ctx, name, "-u", "991:991", "cat", "/proc/1/maps")
	if err != nil {
		return nil, err
	}
	if got := strings.Contains(maps, "libjemalloc"); got != v.jemalloc {
		return nil, fmt.Errorf("%s: libjemalloc mapped into PID 1: %v, expected %v", name, got, v.jemalloc)
	}
	if _, err := e.stop(ctx, name, 30*time.Second); err != nil {
		return nil, err
	}
	return st, nil
}
