package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestBuildFlagErrors(t *testing.T) {
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"unknown flag", []string{"--nope"}, "flag provided but not defined: -nope"},
		{"argument", []string{"image/synapse.yaml"}, `unexpected argument "image/synapse.yaml"`},
		{"bad tag", []string{"--tag", "a:b"}, `--tag "a:b"`},
		{"bad platform", []string{"--platform", "linux/s390x"}, `--platform "linux/s390x": expected linux/amd64 or linux/arm64`},
		{"bad platform os", []string{"--platform", "windows/amd64"}, "expected linux/amd64 or linux/arm64"},
		{"bad platform in a list", []string{"--platform", "linux/amd64,linux/s390x"}, "expected linux/amd64 or linux/arm64"},
		{"platform twice", []string{"--platform", "linux/amd64,linux/amd64"}, "linux/amd64 twice"},
		{"empty platform in a list", []string{"--platform", "linux/amd64,"}, "expected linux/amd64 or linux/arm64"},
		{"bad progress", []string{"--progress", "fancy"}, `--progress "fancy": expected one of auto, tty, plain, rawjson, quiet`},
		{"tty progress without a terminal", []string{"--progress", "tty", "--recipe", "image/synapse.yaml"}, "--progress tty"},
		{"bad repository", []string{"--repository", "Not A Repo", "--recipe", "image/synapse.yaml"}, `--repository "Not A Repo"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			err := runBuild(context.Background(), tt.args, &stdout, &stderr)
			require.Error(t, err)
			var u usageError
			assert.True(t, errors.As(err, &u), "a command-line mistake is a usage error (exit 2): %v", err)
			assert.Contains(t, err.Error(), tt.want)
			assert.Empty(t, stdout.String())
		})
	}
}

func TestBuildHelp(t *testing.T) {
	var stdout, stderr bytes.Buffer
	err := runBuild(context.Background(), []string{"-h"}, &stdout, &stderr)
	assert.ErrorIs(t, err, flag.ErrHelp)
	for _, f := range []string{"-recipe", "-load", "-repository", "-oci", "-tarball", "-wheels", "-platform", "-cache-dir", "-no-cache", "-revision", "-tag", "-progress"} {
		assert.Contains(t, stderr.String(), f)
	}
}

func TestBuildBadRecipe(t *testing.T) {
	var stdout, stderr bytes.Buffer
	err := runBuild(context.Background(), []string{"--recipe", "testdata/nope.yaml"}, &stdout, &stderr)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "nope.yaml")
}

func TestBuildProgressFromEnvironment(t *testing.T) {
	t.Setenv("BUILDKIT_PROGRESS", "fancy")
	var stdout, stderr bytes.Buffer
	err := runBuild(context.Background(), nil, &stdout, &stderr)
	var u usageError
	require.ErrorAs(t, err, &u)
	assert.Contains(t, err.Error(), `--progress "fancy": expected one of auto, tty, plain, rawjson, quiet`, "BUILDKIT_PROGRESS is the default of --progress")
}
