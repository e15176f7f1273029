package main

import (
	"context"
	"fmt"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
)

// configTimes is what scripts/bench-config-step.sh measured, in ms.
type configTimes struct {
	Check, Run, Python timing
}

type timing struct{ Median, Min, Max float64 }

// String shows the median with the range, in ms or, from 1 s, in s:
// "12.3 ms (10.1–15.0)", "2.36 s (2.30–2.51)".
func (t timing) String() string {
	if t.Median >= 1000 {
		return fmt.Sprintf("%.2f s (%.2f–%.2f)", t.Median/1000, t.Min/1000, t.Max/1000)
	}
	return fmt.Sprintf("%.1f ms (%.1f–%.1f)", t.Median, t.Min, t.Max)
}

// A result line of the script: "  LABEL   12.3 ms   (min 10.1, max 15.0)".
var configLine = regexp.MustCompile(`^\s+(\S.*?)\s+(\d+(?:\.\d+)?) ms\s+\(min (\d+(?:\.\d+)?), max (\d+(?:\.\d+)?)\)\s*$`)

// parseConfigStep reads the output of scripts/bench-config-step.sh.
func parseConfigStep(out string) (configTimes, error) {
	var ct configTimes
	found := map[string]bool{}
	for _, line := range strings.Split(out, "\n") {
		m := configLine.FindStringSubmatch(line)
		if m == nil {
			continue
		}
		var t timing
		for i, p := range []*float64{&t.Median, &t.Min, &t.Max} {
			v, err := strconv.ParseFloat(m[i+2], 64)
			if err != nil {
				return ct, fmt.Errorf("config step output: %q: %w", line, err)
			}
			*p = v
		}
		switch label := m[1]; {
		case strings.HasPrefix(label, "/start check"):
			ct.Check, found["check"] = t, true
		case strings.HasPrefix(label, "/start run"):
			ct.Run, found["run"] = t, true
		case strings.HasPrefix(label, "2018"):
			ct.Python, found["python"] = t, true
		}
	}
	for _, k := range []string{"check", "run", "python"} {
		if !found[k] {
			return ct, fmt.Errorf("config step output has no %q line (did scripts/bench-config-step.sh change its format?)", k)
		}
	}
	return ct, nil
}

// A line of `go test -bench`: "BenchmarkConfigStep/restart-2  50  3709307 ns/op".
var goBenchLine = regexp.MustCompile(`^BenchmarkConfigStep/([\w-]+?)(?:-\d+)?\s+\d+\s+(\d+(?:\.\d+)?) ns/op`)

// parseGoBench reads BenchmarkConfigStep's results: sub-benchmark → ms per op.
func parseGoBench(out string) (map[string]float64, error) {
	res := map[string]float64{}
	for _, line := range strings.Split(out, "\n") {
		m := goBenchLine.FindStringSubmatch(strings.TrimSpace(line))
		if m == nil {
			continue
		}
		ns, err := strconv.ParseFloat(m[2], 64)
		if err != nil {
			return nil, fmt.Errorf("go test -bench output: %q: %w", line, err)
		}
		res[m[1]] = ns / 1e6
	}
	if len(res) == 0 {
		return nil, fmt.Errorf("go test -bench printed no BenchmarkConfigStep result")
	}
	return res, nil
}

// goBenchConfigStep runs the start helper's Go benchmark of the config step
// on the host: /start's own work, in process, without creating a process.
func goBenchConfigStep(ctx context.Context, repo string) (map[string]float64, error) {
	var out, errb strings.Builder
	cmd := exec.CommandContext(ctx, "go", "test", "-run", "^$", "-bench", "^BenchmarkConfigStep$", "-benchtime", "100x", "./rootfs/internal/entrypoint/")
	cmd.Dir = repo
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		return nil, fmt.Errorf("go test -bench BenchmarkConfigStep: %w: %s", err, lastLines(errb.String()+out.String(), 3))
	}
	return parseGoBench(out.String())
}

// benchConfigStep runs the start helper's scripts/bench-config-step.sh
// (which times /start and the 2018 Python step inside the image, by one
// loop in the container) and turns its output into rows.
func benchConfigStep(ctx context.Context, repo string, o options, logf logFunc) []row {
	const section = "config step"
	logf("config step: scripts/bench-config-step.sh (%d runs, Python %d)", o.configRuns, o.pyRuns)
	out, err := runScript(ctx, repo, "scripts/bench-config-step.sh", []string{
		"SYNAPSE_IMAGE=" + o.imageRef, "RUNS=" + strconv.Itoa(o.configRuns), "PY_RUNS=" + strconv.Itoa(o.pyRuns),
	}, newLogWriter(logf, "config step: "))
	var ct configTimes
	if err == nil {
		ct, err = parseConfigStep(out)
	}
	runTarget, ratioTarget := below(20, "< 20 ms"), atLeast(50, "≥ 50×")
	if err != nil {
		return []row{
			failedRow(section, "/start run, up to the exec of Synapse", err, runTarget),
			failedRow(section, "2018 step / ours", err, ratioTarget),
		}
	}
	ratio := ct.Python.Median / ct.Run.Median
	n := fmt.Sprintf(" (median of %d)", o.configRuns)
	rows := []row{
		measured(section, "/start check, in the image"+n, ct.Check.String(), ct.Check.Median, nil),
		measured(section, "/start run, in the image, up to the exec of Synapse"+n, ct.Run.String(), ct.Run.Median, runTarget),
		measured(section, fmt.Sprintf("2018: python3 -m synapse.app.homeserver --generate-keys, in the image (median of %d)", o.pyRuns), ct.Python.String(), ct.Python.Median, nil),
		measured(section, "2018 step / /start run", fmt.Sprintf("%.0f×", ratio), ratio, ratioTarget),
	}
	// The same work without process creation, to tell /start's own cost
	// from the machine's cost of starting a process.
	gb, err := goBenchConfigStep(ctx, repo)
	const what = "/start's own work, in process on the host (go test -bench BenchmarkConfigStep)"
	if err != nil {
		return append(rows, failedRow(section, what, err, nil))
	}
	var parts []string
	for _, k := range []string{"restart", "check", "first-start"} {
		if v, ok := gb[k]; ok {
			parts = append(parts, fmt.Sprintf("%s %.1f ms", k, v))
		}
	}
	rows = append(rows, measured(section, what, strings.Join(parts, ", "), 0, nil))
	const generic = "/start run with 50 SYNAPSE_CONFIG__ variables and 10 conf.d fragments, in process (restart-generic)"
	if v, ok := gb["restart-generic"]; ok {
		rows = append(rows, measured(section, generic, fmt.Sprintf("%.1f ms", v), v, below(20, "< 20 ms")))
	} else {
		rows = append(rows, failedRow(section, generic, fmt.Errorf("go test -bench printed no restart-generic result"), below(20, "< 20 ms")))
	}
	return rows
}
