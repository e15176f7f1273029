package main

import (
	"flag"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

func docsMachine(date time.Time) machine {
	return machine{
		CPUs: 2, MemBytes: 8 << 30, Kernel: "6.1.0", Docker: "27.5.1", Storage: "overlay2", LoadAvg: "0.50 0.40 0.30",
		Date: date, Image: "synapse:latest (sha256:abc, Synapse 1.160.0)", Arguments: "go run ./bench -write-docs docs/benchmarks.md",
	}
}

var docsRows = []row{
	measured("start", "SQLite, existing /data: start → Docker healthy", "2.41 s (2.30–2.90, n=5)", 2.41, atMost(3, "≤ 3 s")),
	measured("size", "image, compressed", "120.0 MB", 120e6, atMost(110e6, "≤ 110 MB")),
	measured("config step", "a | b", "16.1 ms", 0, nil),
}

// TestAddRunGolden renders a run into a results file that holds one older
// run: the new one comes first, the text around the markers stays.
func TestAddRunGolden(t *testing.T) {
	older, err := renderRun(docsMachine(time.Date(2026, 11, 26, 2, 22, 0, 0, time.UTC)), docsRows[:1])
	require.NoError(t, err)
	before := "# Benchmarks\n\nWritten by hand.\n\n" + docsBegin + "\n" + older + docsEnd + "\n\n## Analysis\n\nBy hand too.\n"
	run, err := renderRun(docsMachine(time.Date(2026, 11, 29, 21, 30, 0, 0, time.UTC)), docsRows)
	require.NoError(t, err)
	got, err := addRun(before, run)
	require.NoError(t, err)
	golden := "testdata/benchmarks-after.golden.md"
	if *update {
		require.NoError(t, os.WriteFile(golden, []byte(got), 0o644))
	}
	want, err := os.ReadFile(golden)
	require.NoError(t, err)
	assert.Equal(t, string(want), got, "go test ./bench -run TestAddRunGolden -update rewrites %s", golden)
	checkResults(t, got)
}

func TestAddRunKeepsTheLastRuns(t *testing.T) {
	text := "# Results\n\n" + docsBegin + "\n" + docsEnd + "\n"
	for i := range keptRuns + 2 {
		run, err := renderRun(docsMachine(time.Date(2026, 11, 1+i, 0, 0, 0, 0, time.UTC)), docsRows)
		require.NoError(t, err)
		text, err = addRun(text, run)
		require.NoError(t, err)
	}
	d, err := splitDocs(text)
	require.NoError(t, err)
	require.Len(t, d.runs, keptRuns)
	assert.True(t, strings.HasPrefix(d.runs[0], "### 2026-11-07 00:00 UTC\n"), "newest first: %q", d.runs[0])
	assert.True(t, strings.HasPrefix(d.runs[keptRuns-1], "### 2026-11-03 00:00 UTC\n"), "oldest dropped: %q", d.runs[keptRuns-1])
	assert.True(t, strings.HasPrefix(text, "# Results\n\n"+docsBegin+"\n### "))
	assert.True(t, strings.HasSuffix(text, "|\n"+docsEnd+"\n"))
	checkResults(t, text)
}

func TestSplitDocsErrors(t *testing.T) {
	run, err := renderRun(docsMachine(time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)), docsRows)
	require.NoError(t, err)
	tests := []struct {
		name, text, wantErr string
	}{
		{"no markers", "# Benchmarks\n", "found it 0 times"},
		{"no end marker", docsBegin + "\n", "found it 0 times"},
		{"two begin markers", docsBegin + "\n" + docsBegin + "\n" + docsEnd, "found it 2 times"},
		{"end before begin", docsEnd + "\n" + docsBegin + "\n", "comes before"},
		{"text by hand in the generated part", docsBegin + "\nsome notes\n" + run + docsEnd, `found "some notes"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := splitDocs(tt.text)
			assert.ErrorContains(t, err, tt.wantErr)
			_, err = addRun(tt.text, run)
			assert.ErrorContains(t, err, tt.wantErr, "addRun refuses it too")
		})
	}
}

func TestParseRun(t *testing.T) {
	m := docsMachine(time.Date(2026, 11, 1, 12, 5, 0, 0, time.UTC))
	run, err := renderRun(m, docsRows)
	require.NoError(t, err)
	p, err := parseRun(run)
	require.NoError(t, err)
	assert.Equal(t, "2026-11-01 12:05 UTC", p.heading)
	assert.Equal(t, m.String(), p.machine)
	assert.Contains(t, p.machine, "Docker 27.5.1 (storage driver overlay2)")
	assert.Equal(t, docsRows, p.rows, "the rows read back are the rows written")
	assert.Equal(t, markdownTable(docsRows), p.table)

	broken := []struct {
		name, old, new, wantErr string
	}{
		{"no heading", "### ", "## ", "starts with its heading"},
		{"no machine line", "Machine: ", "Host: ", "expected a Machine: line"},
		{"machine of another date", "Machine: 2026-11-01", "Machine: 2026-11-02", "another date"},
		{"another header", "| section ", "| part    ", "table header"},
		{"a missing cell", "| 16.1 ms                 |", "|", "cells, expected 5"},
		{"unknown verdict", "| ≤ 3 s    | met         |", "| ≤ 3 s    | ok          |", `unknown verdict "ok"`},
	}
	for _, tt := range broken {
		t.Run(tt.name, func(t *testing.T) {
			require.Contains(t, run, tt.old)
			_, err := parseRun(strings.Replace(run, tt.old, tt.new, 1))
			assert.ErrorContains(t, err, tt.wantErr)
		})
	}
}

// TestCommittedResults checks the generated part of docs/benchmarks.md: it
// cannot run the benchmark again, so it checks that the part is what
// -write-docs writes: runs newest first, each one parsable, each table
// exactly what the renderer makes of its rows.
func TestCommittedResults(t *testing.T) {
	text, err := os.ReadFile("../docs/benchmarks.md")
	require.NoError(t, err)
	checkResults(t, string(text))
}

func checkResults(t *testing.T, text string) {
	t.Helper()
	d, err := splitDocs(text)
	require.NoError(t, err)
	require.NotEmpty(t, d.runs, "no run between the markers")
	assert.LessOrEqual(t, len(d.runs), keptRuns)
	var previous string
	for i, run := range d.runs {
		p, err := parseRun(run)
		if !assert.NoError(t, err, "run %d", i+1) {
			continue
		}
		_, err = time.Parse("2006-01-02 15:04 UTC", p.heading)
		assert.NoError(t, err, "run %d: heading", i+1)
		if previous != "" {
			assert.Less(t, p.heading, previous, "runs newest first")
		}
		previous = p.heading
		assert.Equal(t, markdownTable(p.rows), p.table, "run %s: the table is not what the renderer makes of its rows", p.heading)
	}
}

func TestWriteDocs(t *testing.T) {
	path := filepath.Join(t.TempDir(), "benchmarks.md")
	require.NoError(t, os.WriteFile(path, []byte("# B\n\n"+docsBegin+"\n"+docsEnd+"\n\nafter\n"), 0o640))
	m := docsMachine(time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC))
	require.NoError(t, writeDocs(path, m, docsRows))
	got, err := os.ReadFile(path)
	require.NoError(t, err)
	run, err := renderRun(m, docsRows)
	require.NoError(t, err)
	assert.Equal(t, "# B\n\n"+docsBegin+"\n"+run+docsEnd+"\n\nafter\n", string(got))
	info, err := os.Stat(path)
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o640), info.Mode().Perm(), "mode kept")
	entries, err := os.ReadDir(filepath.Dir(path))
	require.NoError(t, err)
	assert.Len(t, entries, 1, "no temporary file left")

	require.NoError(t, os.WriteFile(path, []byte("no markers\n"), 0o644))
	assert.ErrorContains(t, writeDocs(path, m, docsRows), "found it 0 times")
	got, err = os.ReadFile(path)
	require.NoError(t, err)
	assert.Equal(t, "no markers\n", string(got), "left alone")
}

// A bad -write-docs file fails before the benchmark starts, with exit status 2.
func TestWriteDocsCheckedFirst(t *testing.T) {
	dir := t.TempDir()
	noMarkers := filepath.Join(dir, "plain.md")
	require.NoError(t, os.WriteFile(noMarkers, []byte("# B\n"), 0o644))
	tests := []struct {
		path, wantErr string
	}{
		{filepath.Join(dir, "missing.md"), "no such file"},
		{noMarkers, "plain.md: expected the line"},
	}
	for _, tt := range tests {
		var stderr strings.Builder
		code := run(t.Context(), []string{"-write-docs", tt.path}, io.Discard, &stderr)
		assert.Equal(t, 2, code, tt.path)
		assert.Contains(t, stderr.String(), "bench: -write-docs: ")
		assert.Contains(t, stderr.String(), tt.wantErr)
		assert.Equal(t, 1, strings.Count(stderr.String(), "\n"), "one line: %q", stderr.String())
	}
}

func TestCells(t *testing.T) {
	tests := []struct {
		line string
		want []string
	}{
		{"| a | b |", []string{"a", "b"}},
		{`| a \| b | c |`, []string{"a | b", "c"}},
		{"|  |  |", []string{"", ""}},
		{"not a row", nil},
	}
	for _, tt := range tests {
		assert.Equal(t, tt.want, cells(tt.line), tt.line)
	}
}
