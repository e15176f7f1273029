package contract

import (
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// checkGolden compares got with the golden file (or rewrites it with
// -update), and on a difference shows where, not both texts whole.
func checkGolden(t *testing.T, golden, got, howToUpdate string) {
	t.Helper()
	if *update {
		require.NoError(t, os.WriteFile(golden, []byte(got), 0o644))
		return
	}
	want, err := os.ReadFile(golden)
	require.NoError(t, err, "golden file missing: %s", howToUpdate)
	if d := lineDiff(string(want), got); d != "" {
		t.Errorf("%s differs from what the module does now (- golden, + now); if that is intended, %s:\n%s", golden, howToUpdate, d)
	}
}

// lineDiff shows the lines around the first difference of a and b.
func lineDiff(a, b string) string {
	if a == b {
		return ""
	}
	al, bl := strings.Split(a, "\n"), strings.Split(b, "\n")
	i := 0
	for i < len(al) && i < len(bl) && al[i] == bl[i] {
		i++
	}
	// Skip the common tail too, so only the changed block shows.
	ja, jb := len(al), len(bl)
	for ja > i && jb > i && al[ja-1] == bl[jb-1] {
		ja--
		jb--
	}
	const context = 3
	var out strings.Builder
	for k := max(0, i-context); k < i; k++ {
		fmt.Fprintf(&out, "  %d  %s\n", k+1, al[k])
	}
	for k := i; k < ja && k < i+40; k++ {
		fmt.Fprintf(&out, "- %d  %s\n", k+1, al[k])
	}
	for k := i; k < jb && k < i+40; k++ {
		fmt.Fprintf(&out, "+ %d  %s\n", k+1, bl[k])
	}
	for k := ja; k < len(al) && k < ja+context; k++ {
		fmt.Fprintf(&out, "  %d  %s\n", k+1, al[k])
	}
	return out.String()
}

func TestLineDiff(t *testing.T) {
	tests := []struct {
		name, a, b, want string
	}{
		{"equal", "x\ny", "x\ny", ""},
		{"changed line", "a\nb\nc\nd", "a\nB\nc\nd", "  1  a\n- 2  b\n+ 2  B\n  3  c\n  4  d\n"},
		{"added line", "a\nc", "a\nb\nc", "  1  a\n+ 2  b\n  2  c\n"},
		{"removed tail", "a\nb", "a", "  1  a\n- 2  b\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			require.Equal(t, tt.want, lineDiff(tt.a, tt.b))
		})
	}
}
