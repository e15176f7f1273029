package main

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestMeasured(t *testing.T) {
	tests := []struct {
		name string
		v    float64
		t    *target
		want verdict
	}{
		{"no target", 5, nil, noTarget},
		{"at most: below", 2.9, atMost(3, "≤ 3 s"), met},
		{"at most: equal", 3, atMost(3, "≤ 3 s"), met},
		{"at most: above", 3.01, atMost(3, "≤ 3 s"), notMet},
		{"below: equal is not met", 20, below(20, "< 20 ms"), notMet},
		{"below: under", 19.9, below(20, "< 20 ms"), met},
		{"at least: equal", 50, atLeast(50, "≥ 50×"), met},
		{"at least: under", 49, atLeast(50, "≥ 50×"), notMet},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := measured("s", "w", "r", tt.v, tt.t)
			assert.Equal(t, tt.want, r.Verdict)
			if tt.t != nil {
				assert.Equal(t, tt.t.Text, r.Target)
			} else {
				assert.Empty(t, r.Target)
			}
		})
	}
}

func TestWriteTable(t *testing.T) {
	m := machine{
		CPUs: 2, MemBytes: 8 << 30, Kernel: "6.1.0", Docker: "20.10.24", LoadAvg: "0.50 0.40 0.30",
		Date: time.Date(2026, 11, 26, 2, 30, 0, 0, time.UTC), Image: "synapse:latest (sha256:abc, Synapse 1.160.0)",
		Arguments: "go run ./bench",
	}
	tests := []struct {
		name string
		rows []row
		want string
	}{
		{
			name: "columns padded to the widest cell, verdicts spelled out",
			rows: []row{
				measured("start", "SQLite, existing /data: start → Docker healthy", "2.41 s (2.30–2.90, n=5)", 2.41, atMost(3, "≤ 3 s")),
				measured("size", "image, compressed", "120.0 MB", 120e6, atMost(110e6, "≤ 110 MB")),
				measured("memory", "RSS", "145.0 MB", 0, nil),
				failedRow("build", "cold", errors.New("scripts/bench-build.sh: exit status 1"), atMost(180, "≤ 3 min")),
			},
			want: `Machine: 2026-11-26 02:30 UTC — 2 CPUs, 8.0 GiB RAM, Linux 6.1.0, Docker 20.10.24, load average 0.50 0.40 0.30
Image: synapse:latest (sha256:abc, Synapse 1.160.0)
Command: ` + "`go run ./bench`" + `

| section | measurement                                    | result                                       | target   | met         |
| ------- | ---------------------------------------------- | -------------------------------------------- | -------- | ----------- |
| start   | SQLite, existing /data: start → Docker healthy | 2.41 s (2.30–2.90, n=5)                      | ≤ 3 s    | met         |
| size    | image, compressed                              | 120.0 MB                                     | ≤ 110 MB | **not met** |
| memory  | RSS                                            | 145.0 MB                                     |          |             |
| build   | cold                                           | error: scripts/bench-build.sh: exit status 1 | ≤ 3 min  | error       |
`,
		},
		{
			name: "pipes escaped and newlines folded, so a cell cannot break the table",
			rows: []row{measured("config", "a | b", "line one\nline two", 0, nil)},
			want: `Machine: 2026-11-26 02:30 UTC — 2 CPUs, 8.0 GiB RAM, Linux 6.1.0, Docker 20.10.24, load average 0.50 0.40 0.30
Image: synapse:latest (sha256:abc, Synapse 1.160.0)
Command: ` + "`go run ./bench`" + `

| section | measurement | result            | target | met |
| ------- | ----------- | ----------------- | ------ | --- |
| config  | a \| b      | line one line two |        |     |
`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var b strings.Builder
			require.NoError(t, writeTable(&b, m, tt.rows))
			assert.Equal(t, tt.want, b.String())
		})
	}
}
