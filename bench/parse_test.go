package main

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Output of scripts/bench-config-step.sh, as it prints it.
const configOutput = `config step per container start, image synapse:latest (median of 21; Python: 5)
  /start check                                                    19.8 ms   (min 9.6, max 41.7)
  /start run (up to the exec of Synapse)                          35.1 ms   (min 17.9, max 68.3)
  2018: python3 -m synapse.app.homeserver --generate-keys       7470.4 ms   (min 6632.0, max 8308.7)
  /start run is 213x faster than the 2018 per-start Python step
`

func TestParseConfigStep(t *testing.T) {
	tests := []struct {
		name    string
		out     string
		want    configTimes
		wantErr string
	}{
		{
			name: "all three lines",
			out:  configOutput,
			want: configTimes{
				Check:  timing{19.8, 9.6, 41.7},
				Run:    timing{35.1, 17.9, 68.3},
				Python: timing{7470.4, 6632.0, 8308.7},
			},
		},
		{
			name: "integers, lines in another order, noise around",
			out:  "building...\n  2018: python3 x   2360 ms (min 2300, max 2400)\n  /start run (x)  3 ms (min 2, max 4)\n  /start check  2 ms (min 1, max 3)\n",
			want: configTimes{Check: timing{2, 1, 3}, Run: timing{3, 2, 4}, Python: timing{2360, 2300, 2400}},
		},
		{name: "no Python line", out: "  /start check  2 ms (min 1, max 3)\n  /start run  3 ms (min 2, max 4)\n", wantErr: `no "python" line`},
		{name: "empty", out: "", wantErr: `no "check" line`},
		{name: "unit changed", out: "  /start check  2 s (min 1, max 3)\n", wantErr: `no "check" line`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseConfigStep(tt.out)
			if tt.wantErr != "" {
				assert.ErrorContains(t, err, tt.wantErr)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.want, got)
		})
	}
}

func TestTimingString(t *testing.T) {
	assert.Equal(t, "12.3 ms (10.1–15.0)", timing{12.34, 10.1, 15}.String())
	assert.Equal(t, "2.36 s (2.30–2.51)", timing{2360, 2300, 2510}.String())
}

// Output of scripts/bench-build.sh, as it prints it.
const buildOutput = `synapse-image build benchmark (2 CPUs, load 0.50 0.40 0.30, 2026-11-26T02:30:00Z)
cold (empty cache)                 142.3 s
    [rootfs] DONE 120.1s
warm (rootfs/ changed)               9.8 s
    [rootfs] CACHED
no change                            2.1 s

layers:
    1: 288.6 MB
total: 295.5 MB
`

func TestParseBuildBench(t *testing.T) {
	digest := "sha256:" + "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
	tests := []struct {
		name    string
		out     string
		want    map[string]buildTime
		wantErr string
	}{
		{
			name: "three builds, no digests",
			out:  buildOutput,
			want: map[string]buildTime{
				"cold":      {Label: "cold (empty cache)", Duration: 142300 * time.Millisecond},
				"warm":      {Label: "warm (rootfs/ changed)", Duration: 9800 * time.Millisecond},
				"no change": {Label: "no change", Duration: 2100 * time.Millisecond},
			},
		},
		{
			name: "digests after the time",
			out:  "cold (empty cache)  100.0 s  " + digest + "\nwarm (x)  9.0 s  " + digest + "\nno change  1.0 s  " + digest + "\n",
			want: map[string]buildTime{
				"cold":      {Label: "cold (empty cache)", Duration: 100 * time.Second, Digest: digest},
				"warm":      {Label: "warm (x)", Duration: 9 * time.Second, Digest: digest},
				"no change": {Label: "no change", Duration: time.Second, Digest: digest},
			},
		},
		{
			name: "a second cold build (--again)",
			out:  "cold (empty cache)  500.0 s  " + digest + "\nagain (another empty cache)  480.5 s  " + digest + "\nwarm (x)  9.0 s  " + digest + "\nno change  1.0 s  " + digest + "\n",
			want: map[string]buildTime{
				"cold":      {Label: "cold (empty cache)", Duration: 500 * time.Second, Digest: digest},
				"again":     {Label: "again (another empty cache)", Duration: 480500 * time.Millisecond, Digest: digest},
				"warm":      {Label: "warm (x)", Duration: 9 * time.Second, Digest: digest},
				"no change": {Label: "no change", Duration: time.Second, Digest: digest},
			},
		},
		{name: "a build missing", out: "cold (empty cache)  100.0 s\nwarm  9.0 s\n", wantErr: `no "no change" build`},
		{name: "indented step lines are not builds", out: "    cold 1.0 s\n", wantErr: `no "cold" build`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseBuildBench(tt.out)
			if tt.wantErr != "" {
				assert.ErrorContains(t, err, tt.wantErr)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.want, got)
		})
	}
}

func TestProcStatus(t *testing.T) {
	status := "Name:\tpython3\nUmask:\t0022\nState:\tS (sleeping)\nPid:\t1\nVmPeak:\t  412036 kB\nVmHWM:\t  151000 kB\nVmRSS:\t  148724 kB\nThreads:\t3\n"
	tests := []struct {
		name    string
		in      string
		rss     int64
		hwm     int64
		wantErr string
	}{
		{"python3 as PID 1", status, 148724 * 1024, 151000 * 1024, ""},
		{"no VmRSS (a kernel thread)", "Name:\tkthreadd\nThreads:\t1\n", 0, 0, "no VmRSS"},
		{"bad number", "VmRSS:\t  x1 kB\n", 0, 0, "VmRSS"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := procStatus(tt.in)
			if tt.wantErr != "" {
				assert.ErrorContains(t, err, tt.wantErr)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.rss, got["VmRSS"])
			assert.Equal(t, tt.hwm, got["VmHWM"])
			assert.NotContains(t, got, "Threads", "only kB fields")
		})
	}
}

func TestMemTotal(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		want    uint64
		wantErr bool
	}{
		{"meminfo", "MemTotal:       24683520 kB\nMemFree:        18766000 kB\n", 24683520 * 1024, false},
		{"missing", "MemFree: 1 kB\n", 0, true},
		{"other unit", "MemTotal: 1 MB\n", 0, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := memTotal(tt.in)
			if tt.wantErr {
				assert.Error(t, err)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.want, got)
		})
	}
}

func TestAPIBefore(t *testing.T) {
	tests := []struct {
		v    string
		want bool
	}{
		{"1.41", true}, // Docker 20.10: no start-interval
		{"1.43", true},
		{"1.44", false}, // Docker 25
		{"1.47", false},
		{"2.0", false},
		{"", true},
		{"x.y", true},
	}
	for _, tt := range tests {
		assert.Equal(t, tt.want, apiBefore(tt.v, 1, 44), tt.v)
	}
}

func TestCompression(t *testing.T) {
	assert.Equal(t, "gzip", compression("application/vnd.oci.image.layer.v1.tar+gzip"))
	assert.Equal(t, "gzip", compression("application/vnd.docker.image.rootfs.diff.tar.gzip"))
	assert.Equal(t, "zstd", compression("application/vnd.oci.image.layer.v1.tar+zstd"))
	assert.Equal(t, "as stored (application/vnd.oci.image.layer.v1.tar)", compression("application/vnd.oci.image.layer.v1.tar"))
}

func TestParseGoBench(t *testing.T) {
	out := `goos: linux
goarch: amd64
pkg: github.com/synapse-image/synapse-image/rootfs/internal/entrypoint
cpu: AMD EPYC
BenchmarkConfigStep/restart-2         	      50	   3709307 ns/op
BenchmarkConfigStep/check-2           	      50	   1596964 ns/op
BenchmarkConfigStep/first-start-2     	      50	  15209869 ns/op
PASS
`
	got, err := parseGoBench(out)
	require.NoError(t, err)
	assert.InDeltaMapValues(t, map[string]float64{"restart": 3.709307, "check": 1.596964, "first-start": 15.209869}, got, 1e-9)

	got, err = parseGoBench("BenchmarkConfigStep/restart \t 10 \t 2500.5 ns/op\n")
	require.NoError(t, err, "GOMAXPROCS=1 has no -N suffix")
	assert.InDelta(t, 0.0025005, got["restart"], 1e-12)

	_, err = parseGoBench("PASS\n")
	assert.ErrorContains(t, err, "no BenchmarkConfigStep result")
}

func TestSameDigest(t *testing.T) {
	a := "sha256:" + strings.Repeat("a", 64)
	b := "sha256:" + strings.Repeat("b", 64)
	tests := []struct {
		name, a, b, result string
		verdict            verdict
	}{
		{"same", a, a, "yes, sha256:aaaaaaaaaaaa", met},
		{"different", a, b, "no: sha256:aaaaaaaaaaaa vs sha256:bbbbbbbbbbbb", notMet},
		{"unknown", a, "", "not known: scripts/bench-build.sh prints no digests", noTarget},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := sameDigest("build", "x", tt.a, tt.b)
			assert.Equal(t, tt.result, r.Result)
			assert.Equal(t, tt.verdict, r.Verdict)
		})
	}
}
