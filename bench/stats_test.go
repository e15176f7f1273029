package main

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
)

func TestMedian(t *testing.T) {
	tests := []struct {
		name string
		in   []float64
		want float64
	}{
		{"empty", nil, 0},
		{"one", []float64{3}, 3},
		{"odd, unsorted", []float64{5, 1, 3}, 3},
		{"even: mean of the middle two", []float64{4, 1, 3, 2}, 2.5},
		{"outlier does not move it", []float64{1, 2, 1000}, 2},
		{"duplicates", []float64{2, 2, 2, 9}, 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := append([]float64(nil), tt.in...)
			assert.Equal(t, tt.want, median(tt.in))
			assert.Equal(t, in, tt.in, "median must not reorder its input")
		})
	}
}

func TestMedianDurations(t *testing.T) {
	assert.Equal(t, 1500*time.Millisecond, median([]time.Duration{time.Second, 3 * time.Second, 2 * time.Second, time.Second}))
}

func TestSpread(t *testing.T) {
	tests := []struct {
		name string
		in   []time.Duration
		want string
	}{
		{"none", nil, "no runs"},
		{"one: no range", []time.Duration{2410 * time.Millisecond}, "2.41 s"},
		{"several", []time.Duration{2900 * time.Millisecond, 2300 * time.Millisecond, 2410 * time.Millisecond}, "2.41 s (2.30–2.90, n=3)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, spread(tt.in))
		})
	}
}

func TestMegabytes(t *testing.T) {
	assert.Equal(t, "295.5 MB", megabytes(295_460_000))
	assert.Equal(t, "0.0 MB", megabytes(0))
}
