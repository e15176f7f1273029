// Package docs holds the manual; its test checks that the relative links of
// the front page and the manual point at files that exist.
package docs

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// mdLink matches an inline markdown link or image: [text](target) or
// [text](target "title"); the target is the first capture.
var mdLink = regexp.MustCompile(`\]\(([^)\s]+)(?:\s+"[^"]*")?\)`)

// relativeLinks returns the relative link targets of a markdown text, without
// their #fragment; external URLs, mail addresses and same-page anchors are left out.
func relativeLinks(text string) []string {
	var out []string
	for _, m := range mdLink.FindAllStringSubmatch(stripCode(text), -1) {
		target := m[1]
		if strings.Contains(target, "://") || strings.HasPrefix(target, "mailto:") || strings.HasPrefix(target, "#") {
			continue
		}
		target, _, _ = strings.Cut(target, "#")
		out = append(out, target)
	}
	return out
}

// stripCode drops fenced code blocks and inline code spans, where brackets
// and parentheses are code, not links.
func stripCode(text string) string {
	var b strings.Builder
	fenced := false
	for _, line := range strings.SplitAfter(text, "\n") {
		if strings.HasPrefix(strings.TrimSpace(line), "```") {
			fenced = !fenced
			continue
		}
		if !fenced {
			b.WriteString(line)
		}
	}
	return regexp.MustCompile("`[^`\n]*`").ReplaceAllString(b.String(), "")
}

func TestRelativeLinks(t *testing.T) {
	tests := []struct {
		text string
		want []string
	}{
		{"[a](b.md)", []string{"b.md"}},
		{"[a](../image/README.md#recipe-format)", []string{"../image/README.md"}},
		{`[a](b.md "title")`, []string{"b.md"}},
		{"[a](https://example.com/x.md) [b](#top) [c](mailto:x@example.com)", nil},
		{"`[a](code.md)` and\n```\n[b](fenced.md)\n```\n[c](real.md)", []string{"real.md"}},
	}
	for _, tt := range tests {
		got := relativeLinks(tt.text)
		if strings.Join(got, ",") != strings.Join(tt.want, ",") {
			t.Errorf("relativeLinks(%q) = %q, want %q", tt.text, got, tt.want)
		}
	}
}

// TestLinksResolve checks every relative link in README.md, docs/*.md and
// the other READMEs of the repository.
func TestLinksResolve(t *testing.T) {
	files, err := filepath.Glob("*.md")
	if err != nil {
		t.Fatal(err)
	}
	files = append(files, "../README.md", "../image/README.md", "../wheels/README.md")
	if len(files) < 4 {
		t.Fatalf("found only %v: the test runs in docs/", files)
	}
	checked := 0
	for _, f := range files {
		text, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, target := range relativeLinks(string(text)) {
			checked++
			if _, err := os.Stat(filepath.Join(filepath.Dir(f), target)); err != nil {
				t.Errorf("%s: link to %s: %v", f, target, err)
			}
		}
	}
	if checked == 0 {
		t.Fatal("no relative links found: the link pattern is broken")
	}
}
