package main

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestCPUTicks(t *testing.T) {
	stats := "1 (haproxy) S 0 1 1 0 -1 4194560 100 0 0 0 5 7 30 40 20 0 1 0 100 1000 200\n" +
		"8 (haproxy) S 1 1 1 0 -1 4194560 100 0 0 0 11 13 1 1 20 0 1 0 100 1000 200\n"
	n, err := cpuTicks(stats)
	require.NoError(t, err)
	assert.Equal(t, int64(5+7+30+40+11+13), n, "every process's own time, and what PID 1 reaped")
	_, err = cpuTicks("1 (x) S 0")
	assert.Error(t, err)
}

func TestPercentile(t *testing.T) {
	var ds []time.Duration
	for i := 100; i >= 1; i-- {
		ds = append(ds, time.Duration(i)*time.Millisecond)
	}
	assert.Equal(t, 50*time.Millisecond, percentile(ds, 50))
	assert.Equal(t, 99*time.Millisecond, percentile(ds, 99))
	assert.Equal(t, 100*time.Millisecond, percentile(ds, 100))
	assert.Equal(t, time.Duration(0), percentile(nil, 99))
	assert.Equal(t, 100*time.Millisecond, ds[0], "the input stays as it was")
}

func TestInstanceNames(t *testing.T) {
	got, err := instanceNames("synchrotron:2, event_persister")
	require.NoError(t, err)
	assert.Equal(t, []string{"synchrotron-1", "synchrotron-2", "event-persister-1"}, got)
	_, err = instanceNames("synchrotron:x")
	assert.Error(t, err)
}
