package main

import (
	"fmt"
	"io"
	"strings"
	"time"
)

// verdict says whether a measurement met its target.
type verdict int

const (
	noTarget verdict = iota
	met
	notMet
	failed // the measurement itself failed; the result column says why
)

func (v verdict) String() string {
	switch v {
	case met:
		return "met"
	case notMet:
		return "**not met**"
	case failed:
		return "error"
	}
	return ""
}

// row is one line of the result table.
type row struct {
	Section, What, Result, Target string
	Verdict                       verdict
}

// target is a goal for a number, e.g. "≤ 3 s".
type target struct {
	Text string
	OK   func(v float64) bool
}

func atMost(limit float64, text string) *target {
	return &target{Text: text, OK: func(v float64) bool { return v <= limit }}
}

func below(limit float64, text string) *target {
	return &target{Text: text, OK: func(v float64) bool { return v < limit }}
}

func atLeast(limit float64, text string) *target {
	return &target{Text: text, OK: func(v float64) bool { return v >= limit }}
}

// measured makes a row for a value v shown as result, judged by t (may be nil).
func measured(section, what, result string, v float64, t *target) row {
	r := row{Section: section, What: what, Result: result}
	if t != nil {
		r.Target = t.Text
		r.Verdict = notMet
		if t.OK(v) {
			r.Verdict = met
		}
	}
	return r
}

// failedRow reports a measurement that could not be made.
func failedRow(section, what string, err error, t *target) row {
	r := row{Section: section, What: what, Result: "error: " + err.Error(), Verdict: failed}
	if t != nil {
		r.Target = t.Text
	}
	return r
}

// machine describes where the numbers were taken.
type machine struct {
	CPUs      int
	MemBytes  uint64
	Kernel    string
	Docker    string // the server's version
	DockerAPI string
	Storage   string // the engine's storage driver: Python reads ~1500 files at start-up
	LoadAvg   string
	Date      time.Time
	Image     string // reference and ID of the image measured
	ImageID   string // its ID (config digest), "" when it is not in the engine
	Arguments string // the bench command line
}

func (m machine) String() string {
	docker := m.Docker
	if m.Storage != "" {
		docker += " (storage driver " + m.Storage + ")"
	}
	return fmt.Sprintf("%s — %d CPUs, %.1f GiB RAM, Linux %s, Docker %s, load average %s",
		m.Date.UTC().Format("2006-01-02 15:04 UTC"), m.CPUs, float64(m.MemBytes)/(1<<30), m.Kernel, docker, m.LoadAvg)
}

// writeTable prints the machine line and the rows as one markdown table.
func writeTable(w io.Writer, m machine, rows []row) error {
	var b strings.Builder
	fmt.Fprintf(&b, "Machine: %s\n", m)
	if m.Image != "" {
		fmt.Fprintf(&b, "Image: %s\n", m.Image)
	}
	if m.Arguments != "" {
		fmt.Fprintf(&b, "Command: `%s`\n", m.Arguments)
	}
	b.WriteString("\n")
	b.WriteString(markdownTable(rows))
	_, err := io.WriteString(w, b.String())
	return err
}

// markdownTable renders rows as a markdown table, columns padded so the
// plain text reads well too.
func markdownTable(rows []row) string {
	header := []string{"section", "measurement", "result", "target", "met"}
	cells := make([][]string, 0, len(rows))
	for _, r := range rows {
		cells = append(cells, []string{r.Section, r.What, r.Result, r.Target, r.Verdict.String()})
	}
	width := make([]int, len(header))
	for i, h := range header {
		width[i] = len([]rune(h))
	}
	for _, c := range cells {
		for i := range c {
			c[i] = escapeCell(c[i])
			width[i] = max(width[i], len([]rune(c[i])))
		}
	}
	var b strings.Builder
	line := func(c []string) {
		b.WriteString("|")
		for i, s := range c {
			fmt.Fprintf(&b, " %s%s |", s, strings.Repeat(" ", width[i]-len([]rune(s))))
		}
		b.WriteString("\n")
	}
	line(header)
	sep := make([]string, len(header))
	for i := range sep {
		sep[i] = strings.Repeat("-", width[i])
	}
	line(sep)
	for _, c := range cells {
		line(c)
	}
	return b.String()
}

// escapeCell keeps a cell on one line and its pipes out of the table syntax.
func escapeCell(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	return strings.ReplaceAll(s, "|", `\|`)
}
