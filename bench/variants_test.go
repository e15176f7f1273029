package main

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestProcCPUTime(t *testing.T) {
	// utime 123, stime 45 ticks; a command name with a space and a ')'.
	stat := "1 (python3 x) y) S 0 1 1 0 -1 4194560 28000 0 12 0 123 45 0 0 20 0 3 0 100 300000000 35000 18446744073709551615"
	got, err := procCPUTime(stat)
	require.NoError(t, err)
	assert.Equal(t, 1680*time.Millisecond, got)

	_, err = procCPUTime("1 python3 S 0")
	assert.Error(t, err)
	_, err = procCPUTime("1 (python3) S 0 1")
	assert.Error(t, err)
}

func TestStartupVariants(t *testing.T) {
	vs := startupVariants("sha256:new", "sha256:base")
	require.Len(t, vs, 7)
	assert.Equal(t, "base", vs[0].key, "the current recipe first, the ratios' denominator")
	assert.Equal(t, "sha256:base", vs[0].image)
	assert.True(t, vs[1].targets, "the targets apply to the image as built")
	for _, v := range vs[2:] {
		assert.NotEmpty(t, v.env, "%s: every other variant turns a mechanism off", v.key)
	}
	assert.Len(t, startupVariants("sha256:new", ""), 6, "no baseline: only the variables' variants")
}
