package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/synapse-image/synapse-image/image/build"
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
	for _, f := range []string{"-recipe", "-load", "-repository", "-oci", "-tarball", "-wheels", "-platform", "-cache-dir", "-no-cache", "-revision", "-tag"} {
		assert.Contains(t, stderr.String(), f)
	}
}

func TestBuildBadRecipe(t *testing.T) {
	var stdout, stderr bytes.Buffer
	err := runBuild(context.Background(), []string{"--recipe", "testdata/nope.yaml"}, &stdout, &stderr)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "nope.yaml")
}

func TestImageTags(t *testing.T) {
	rev := "0123456789abcdef0123456789abcdef01234567"
	tests := []struct {
		name  string
		pkg   string
		rev   string
		extra []string
		want  []string
	}{
		{"synapse release", "1.160.0-1", rev, nil, []string{"v1.160.0", "v1.160", "latest", "sha-0123456"}},
		{"synapse rc", "1.161.0~rc1-1", rev, nil, []string{"v1.161.0rc1", "sha-0123456"}},
		{"not a synapse version", "15.14-0+deb12u1", rev, nil, []string{"latest", "sha-0123456"}},
		{"no version, no revision", "", "", nil, []string{"latest"}},
		{"extra tags, no duplicates", "1.160.0-1", rev + "-dirty", []string{"edge", "latest"}, []string{"v1.160.0", "v1.160", "latest", "sha-0123456-dirty", "edge"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, imageTags(&build.Result{PackageVersion: tt.pkg}, tt.rev, tt.extra))
		})
	}
}
