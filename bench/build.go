package main

import (
	"context"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/synapse-image/synapse-image/image/build"
	"github.com/synapse-image/synapse-image/image/platform"
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
	buildLine   = regexp.MustCompile(`^(cold|again|warm|no change)\b.*?\s(\d+(?:\.\d+)?) s\b(.*)$`)
	digestInRow = regexp.MustCompile(`sha256:[0-9a-f]{64}`)
)

// parseBuildBench reads the output of scripts/bench-build.sh: the cold,
// warm and no-change builds, in that order (and "again", a second cold
// build, with --again).
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

// buildPlatform is one platform the build section measures, and its goals.
type buildPlatform struct {
	platform platform.Platform
	// again: a second cold build in another empty cache, to show the build
	// is reproducible (the same digest).
	again                bool
	cold, warm, noChange *target
}

// buildPlatforms: the host's (amd64) and arm64, built on this machine
// under qemu user emulation.
var buildPlatforms = []buildPlatform{
	{platform: platform.AMD64, again: true, cold: atMost(180, "≤ 3 min"), warm: atMost(15, "≤ 15 s"), noChange: atMost(5, "≤ 5 s")},
	{platform: platform.ARM64, again: true, cold: atMost(600, "≤ 10 min"), warm: atMost(30, "≤ 30 s"), noChange: atMost(5, "≤ 5 s")},
}

// benchBuild runs scripts/bench-build.sh for each platform, which builds in
// a temporary copy of the repository with its own empty layer cache: a cold
// build, a warm one after a change to the config generator, and one without
// changes. The working tree and the shared cache stay untouched.
func benchBuild(ctx context.Context, repo string, platforms []platform.Platform, logf logFunc) []row {
	var rows []row
	for _, p := range buildPlatforms {
		if slices.Contains(platforms, p.platform) {
			rows = append(rows, benchBuildPlatform(ctx, repo, p, logf)...)
		}
	}
	return rows
}

func benchBuildPlatform(ctx context.Context, repo string, p buildPlatform, logf logFunc) []row {
	const section = "build"
	prefix := p.platform.String() + ": "
	targets := map[string]*target{"cold": p.cold, "warm": p.warm, "no change": p.noChange}
	if err := build.CheckForeignArch(p.platform); err != nil {
		return []row{{Section: section, What: prefix + "builds", Result: "not measured: " + err.Error()}}
	}
	args := []string{"--no-load", "--platform", p.platform.String()}
	if p.again {
		args = append(args, "--again")
	}
	logf("build: scripts/bench-build.sh %s (a cold build takes minutes)", strings.Join(args, " "))
	out, err := runScript(ctx, repo, "scripts/bench-build.sh", nil, newLogWriter(logf, "build: "), args...)
	var builds map[string]buildTime
	if err == nil {
		builds, err = parseBuildBench(out)
	}
	kinds := []string{"cold", "warm", "no change"}
	var rows []row
	for _, k := range kinds {
		if err != nil {
			rows = append(rows, failedRow(section, prefix+k, err, targets[k]))
			continue
		}
		b := builds[k]
		rows = append(rows, measured(section, prefix+b.Label, seconds(b.Duration), b.Duration.Seconds(), targets[k]))
	}
	if err != nil {
		return rows
	}
	rows = append(rows, sameDigest(section, prefix+"same inputs, same digest (warm vs. no change)", builds["warm"].Digest, builds["no change"].Digest))
	if p.again {
		again, ok := builds["again"]
		if !ok {
			return append(rows, failedRow(section, prefix+"again", fmt.Errorf("scripts/bench-build.sh printed no second cold build"), nil))
		}
		rows = append(rows, sameDigest(section, prefix+"reproducible: two cold builds in empty caches, same digest", builds["cold"].Digest, again.Digest))
	}
	return rows
}

// sameDigest is the row that compares the digests of two builds.
func sameDigest(section, what, a, b string) row {
	r := row{Section: section, What: what}
	switch {
	case a == "" || b == "":
		r.Result = "not known: scripts/bench-build.sh prints no digests"
	case a == b:
		r.Result, r.Target, r.Verdict = "yes, "+a[:19], "same", met
	default:
		r.Result, r.Target, r.Verdict = fmt.Sprintf("no: %s vs %s", a[:19], b[:19]), "same", notMet
	}
	return r
}
