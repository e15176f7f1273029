package main

import (
	"fmt"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/synapse-image/synapse-image/image/platform"
)

func TestParseFlags(t *testing.T) {
	tests := []struct {
		name     string
		args     []string
		sections []string
		wantErr  string
	}{
		{"default: all but the build", nil, []string{"start", "config", "size", "memory"}, ""},
		{"-build adds it", []string{"-build"}, []string{"start", "config", "size", "memory", "build"}, ""},
		{"chosen, duplicates dropped", []string{"-sections", "size, config,size"}, []string{"size", "config"}, ""},
		{"only the build", []string{"-sections", "build"}, []string{"build"}, ""},
		{"unknown section", []string{"-sections", "start,speed"}, nil, `unknown section "speed"`},
		{"none", []string{"-sections", ","}, nil, "no section"},
		{"runs below 1", []string{"-runs", "0"}, nil, "-runs: 0"},
		{"zero poll", []string{"-poll", "0s"}, nil, "-poll"},
		{"stray argument", []string{"size"}, nil, `unexpected argument "size"`},
		{"unknown build platform", []string{"-build", "-build-platforms", "linux/amd64,linux/s390x"}, nil, `-build-platforms: unknown platform "linux/s390x"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o, err := parseFlags(tt.args, io.Discard)
			if tt.wantErr != "" {
				assert.ErrorContains(t, err, tt.wantErr)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.sections, o.sections)
			assert.Equal(t, 5, o.runs)
			assert.Equal(t, 20*time.Millisecond, o.poll)
			assert.Equal(t, 18600, o.portFrom)
			assert.Equal(t, 18699, o.portTo)
			assert.Equal(t, []platform.Platform{platform.AMD64, platform.ARM64}, o.buildPlatforms, "both platforms by default")
		})
	}
}

func TestLogWriter(t *testing.T) {
	var lines []string
	w := newLogWriter(func(format string, args ...any) {
		lines = append(lines, fmt.Sprintf(format, args...))
	}, "p: ")
	for _, chunk := range []string{"one\ntw", "o\r\n\n  \nthree", "\n"} {
		n, err := w.Write([]byte(chunk))
		require.NoError(t, err)
		assert.Equal(t, len(chunk), n)
	}
	assert.Equal(t, []string{"p: one", "p: two", "p: three"}, lines, "whole lines, blank ones dropped")
}

func TestBadFlagsExitTwo(t *testing.T) {
	var stderr strings.Builder
	code := run(t.Context(), []string{"-sections", "nope"}, io.Discard, &stderr)
	assert.Equal(t, 2, code)
	assert.Contains(t, stderr.String(), `bench: -sections: unknown section "nope"`)
}
