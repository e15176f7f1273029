package main

import (
	"fmt"
	"slices"
	"time"
)

// median of xs (the mean of the two middle values for an even count).
func median[T ~int64 | ~float64](xs []T) T {
	if len(xs) == 0 {
		return 0
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	n := len(s)
	if n%2 == 1 {
		return s[n/2]
	}
	return (s[n/2-1] + s[n/2]) / 2
}

// spread formats the median of durations with their range and count:
// "2.41 s (2.30–2.90, n=5)".
func spread(ds []time.Duration) string {
	if len(ds) == 0 {
		return "no runs"
	}
	if len(ds) == 1 {
		return seconds(ds[0])
	}
	return fmt.Sprintf("%s (%.2f–%.2f, n=%d)", seconds(median(ds)), slices.Min(ds).Seconds(), slices.Max(ds).Seconds(), len(ds))
}

func seconds(d time.Duration) string { return fmt.Sprintf("%.2f s", d.Seconds()) }

// megabytes formats a byte count in MB (10^6 bytes, as docker shows sizes).
func megabytes(n int64) string { return fmt.Sprintf("%.1f MB", float64(n)/1e6) }
