package main

import (
	"context"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// buildTime is one build of scripts/bench-build.sh.
type buildTime struct {
	Label    string
	Duration time.Duration
	Digest   string // "" when the script does not print it
}

// A build line: "cold (empty cache)   123.4 s", optionally followed by the
// image digest.
var (
	buildLine   = regexp.MustCompile(`^(cold|warm|no change)\b.*?\s(\d+(?:\.\d+)?) s\b(.*)$`)
	digestInRow = regexp.MustCompile(`sha256:[0-9a-f]{64}`)
)

// parseBuildBench reads the output of scripts/bench-build.sh: the cold,
// warm and no-change builds, in that order.
func parseBuildBench(out string) (map[string]buildTime, error) {
	builds := map[string]buildTime{}
	for _, line := range strings.Split(out, "\n") {
		m := buildLine.FindStringSubmatch(line)
		if m == nil {
			continue
		}
		secs, err := strconv.ParseFloat(m[2], 64)
		if err != nil {
			return nil, fmt.Errorf("build benchmark output: %q: %w", line, err)
		}
		builds[m[1]] = buildTime{
			Label:    strings.TrimSpace(line[:strings.LastIndex(line, m[2])]),
			Duration: time.Duration(secs * float64(time.Second)),
			Digest:   digestInRow.FindString(m[3]),
		}
	}
	for _, k := range []string{"cold", "warm", "no change"} {
		if _, ok := builds[k]; !ok {
			return nil, fmt.Errorf("build benchmark output has no %q build (did scripts/bench-build.sh change its format?)", k)
		}
	}
	return builds, nil
}

// benchBuild runs the builder helper's scripts/bench-build.sh, which builds
// in a temporary copy of the repository with its own empty layer cache: a
// cold build, a warm one after a change to the config generator, and one
// without changes. The working tree and the shared cache stay untouched.
func benchBuild(ctx context.Context, repo string, logf logFunc) []row {
	const section = "build"
	targets := map[string]*target{
		"cold":      atMost(180, "≤ 3 min"),
		"warm":      atMost(15, "≤ 15 s"),
		"no change": atMost(5, "≤ 5 s"),
	}
	logf("build: scripts/bench-build.sh --no-load (a cold build takes minutes)")
	out, err := runScript(ctx, repo, "scripts/bench-build.sh", nil, newLogWriter(logf, "build: "), "--no-load")
	var builds map[string]buildTime
	if err == nil {
		builds, err = parseBuildBench(out)
	}
	var rows []row
	for _, k := range []string{"cold", "warm", "no change"} {
		if err != nil {
			rows = append(rows, failedRow(section, k, err, targets[k]))
			continue
		}
		b := builds[k]
		rows = append(rows, measured(section, b.Label, seconds(b.Duration), b.Duration.Seconds(), targets[k]))
	}
	if err != nil {
		return rows
	}
	w, n := builds["warm"].Digest, builds["no change"].Digest
	repeat := row{Section: section, What: "same inputs, same digest (warm vs. no change)"}
	switch {
	case w == "" || n == "":
		repeat.Result = "not known: scripts/bench-build.sh prints no digests"
	case w == n:
		repeat.Result, repeat.Target, repeat.Verdict = "yes, "+w[:19], "same", met
	default:
		repeat.Result, repeat.Target, repeat.Verdict = fmt.Sprintf("no: %s vs %s", w[:19], n[:19]), "same", notMet
	}
	return append(rows, repeat)
}
