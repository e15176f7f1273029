package main

import (
	"context"
	"fmt"
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
	return []row{
		measured(section, "/start check"+n, ct.Check.String(), ct.Check.Median, nil),
		measured(section, "/start run, up to the exec of Synapse"+n, ct.Run.String(), ct.Run.Median, runTarget),
		measured(section, fmt.Sprintf("2018: python3 -m synapse.app.homeserver --generate-keys (median of %d)", o.pyRuns), ct.Python.String(), ct.Python.Median, nil),
		measured(section, "2018 step / /start run", fmt.Sprintf("%.0f×", ratio), ratio, ratioTarget),
	}
}
