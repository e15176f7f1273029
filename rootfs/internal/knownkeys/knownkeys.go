// Package knownkeys knows the top-level homeserver.yaml keys of the Synapse
// in the image, to catch misspelled generic settings early: Synapse itself
// ignores keys it does not know.
//
// synapse-keys.txt is generated from the image's Synapse by extract.py
// (go test ./rootfs -run TestKnownKeysMatchImage -update); the test fails
// when the image's Synapse reads other keys than the list, so the list
// follows the Synapse version.
package knownkeys

import (
	_ "embed"
	"slices"
	"strings"
)

//go:embed synapse-keys.txt
var list string

// Set is a list of known keys.
type Set struct {
	Version string
	keys    []string // sorted
}

// Synapse is the set of the image's Synapse.
func Synapse() Set { return Parse(list) }

// Parse reads a list in the format of synapse-keys.txt.
func Parse(text string) Set {
	var s Set
	for _, line := range strings.Split(text, "\n") {
		line = strings.TrimSpace(line)
		if v, ok := strings.CutPrefix(line, "# Top-level homeserver.yaml keys read by Synapse "); ok {
			s.Version, _, _ = strings.Cut(v, " ")
		}
		if line != "" && !strings.HasPrefix(line, "#") {
			s.keys = append(s.keys, line)
		}
	}
	slices.Sort(s.keys)
	return s
}

// Keys returns the known keys, sorted.
func (s Set) Keys() []string { return slices.Clone(s.keys) }

// Known reports whether key is a top-level key Synapse reads.
func (s Set) Known(key string) bool {
	_, ok := slices.BinarySearch(s.keys, key)
	return ok
}

// Closest is the known key nearest to key by edit distance, or "" when
// none is close enough to be a likely misspelling (at most a third of the
// characters differ).
func (s Set) Closest(key string) string {
	best, bestD := "", len(key)/3+1
	for _, k := range s.keys {
		if d := distance(key, k); d < bestD {
			best, bestD = k, d
		}
	}
	return best
}

// distance is the Levenshtein distance, counting a swap of two neighbours
// as one edit (optimal string alignment).
func distance(a, b string) int {
	prev2 := make([]int, len(b)+1)
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
			if i > 1 && j > 1 && a[i-1] == b[j-2] && a[i-2] == b[j-1] {
				cur[j] = min(cur[j], prev2[j-2]+1)
			}
		}
		prev2, prev, cur = prev, cur, prev2
	}
	return prev[len(b)]
}
