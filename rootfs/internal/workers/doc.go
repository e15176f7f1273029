package workers

//go:generate go run ./mkdoc ../../../docs/workers.md

import (
	"bytes"
	"errors"
	"fmt"
	"sort"
	"strings"
)

// The generated table of docs/workers.md sits between these lines.
const (
	TableStart = "<!-- types: generated from rootfs/internal/workers/types.go by \"go generate ./rootfs/internal/workers\"; do not edit -->"
	TableEnd   = "<!-- end of types -->"
)

// Markdown is the table of worker types for docs/workers.md, generated so
// that it cannot drift from what /start and the router do.
func Markdown() string {
	var b bytes.Buffer
	b.WriteString("| type | instances | writes stream | takes from the main | HTTP resources | replication | routed requests | what it does |\n")
	b.WriteString("|---|---|---|---|---|---|---|---|\n")
	for _, t := range Types {
		instances := "one"
		if t.Multiple {
			instances = "several"
		}
		duty := ""
		if t.Duty != nil {
			duty = "`" + t.Duty.Key + "`"
			if t.Duty.MainOff != "" {
				duty += ", `" + t.Duty.MainOff + ": false`"
			}
		}
		stream := ""
		if t.Stream != "" {
			stream = "`" + t.Stream + "`"
		}
		repl := ""
		if t.Replication {
			repl = "yes"
		}
		var res []string
		for _, r := range (Instance{Type: t}).HTTPResources() {
			res = append(res, "`"+r+"`")
		}
		routed := fmt.Sprint(len(t.Endpoints))
		if len(t.Endpoints) == 0 {
			routed = "none"
		}
		fmt.Fprintf(&b, "| `%s` | %s | %s | %s | %s | %s | %s | %s |\n",
			t.Name, instances, stream, duty, strings.Join(res, ", "), repl, routed, t.Help)
	}
	for _, s := range sortedKeys(MainOnlyStreams) {
		fmt.Fprintf(&b, "\nThe `%s` stream stays on the main: %s.\n", s, MainOnlyStreams[s])
	}
	return b.String()
}

func sortedKeys(m map[string]string) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// ReplaceTable returns doc with the text between TableStart and TableEnd
// replaced by Markdown().
func ReplaceTable(doc string) (string, error) {
	start := strings.Index(doc, TableStart)
	end := strings.Index(doc, TableEnd)
	if start < 0 || end < start {
		return "", errors.New("docs/workers.md has no generated table (the lines " + TableStart + " and " + TableEnd + ")")
	}
	return doc[:start+len(TableStart)] + "\n\n" + Markdown() + "\n" + doc[end:], nil
}
