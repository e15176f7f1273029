package main

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/synapse-image/synapse-image/internal/registrytest"
)

const publishTestRev = "0123abcdef0123abcdef0123abcdef0123abcdef"

// publishFixture is an OCI layout as the builder writes it and an in-process
// registry that only lets user:secret in when auth is set.
func publishFixture(t *testing.T, auth bool, revision string) (dir, host string, img v1.Image) {
	t.Helper()
	t.Setenv("DOCKER_CONFIG", t.TempDir()) // no credentials from this machine
	img, err := random.Image(256, 2)
	require.NoError(t, err)
	img, err = mutate.Config(img, v1.Config{Labels: map[string]string{
		"org.opencontainers.image.version":  "1.160.0",
		"dev.synapse-image.package-version": "1.160.0-1",
		"org.opencontainers.image.revision": revision,
		"org.opencontainers.image.title":    "publish-test",
	}})
	require.NoError(t, err)
	dir = filepath.Join(t.TempDir(), "oci")
	p, err := layout.Write(dir, empty.Index)
	require.NoError(t, err)
	require.NoError(t, p.AppendImage(img))

	var opts []registrytest.Option
	if auth {
		opts = append(opts, registrytest.Wrap(func(next http.Handler) http.Handler {
			return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if u, p, ok := r.BasicAuth(); !ok || u != "user" || p != "secret" {
					w.Header().Set("WWW-Authenticate", `Basic realm="test"`)
					w.WriteHeader(http.StatusUnauthorized)
					return
				}
				next.ServeHTTP(w, r)
			})
		}))
	}
	return dir, registrytest.New(t, opts...).Host, img
}

func runPublishTest(t *testing.T, cmd publishCommand, args ...string) (stdout, stderr string, err error) {
	t.Helper()
	if cmd.getenv == nil {
		cmd.getenv = func(string) string { return "" }
	}
	if cmd.stdin == nil {
		cmd.stdin = strings.NewReader("")
	}
	var out, errOut bytes.Buffer
	err = cmd.run(context.Background(), args, &out, &errOut)
	return out.String(), errOut.String(), err
}

func tagDigest(t *testing.T, ref string) string {
	t.Helper()
	r, err := name.NewTag(ref)
	require.NoError(t, err)
	desc, err := remote.Head(r)
	if err != nil {
		return ""
	}
	return desc.Digest.String()
}

func TestPublishCommand(t *testing.T) {
	dir, host, img := publishFixture(t, false, publishTestRev)
	d, err := img.Digest()
	require.NoError(t, err)

	// Dry run first: prints the plan, writes nothing.
	out, _, err := runPublishTest(t, publishCommand{}, "--registry", host, "--from", dir, "--dry-run")
	require.NoError(t, err)
	assert.Equal(t, strings.Join([]string{
		host + "/publish-test:v1.160.0 → " + d.String() + " (would push)",
		host + "/publish-test:v1.160 → " + d.String() + " (would push)",
		host + "/publish-test:latest → " + d.String() + " (would push)",
		host + "/publish-test:sha-0123abc → " + d.String() + " (would push)",
	}, "\n")+"\n", out)
	assert.Empty(t, tagDigest(t, host+"/publish-test:latest"))

	out, errOut, err := runPublishTest(t, publishCommand{}, "--registry", host, "--from", dir, "--no-latest")
	require.NoError(t, err)
	assert.Equal(t, strings.Join([]string{
		host + "/publish-test:v1.160.0 → " + d.String() + " (pushed)",
		host + "/publish-test:v1.160 → " + d.String() + " (pushed)",
		host + "/publish-test:sha-0123abc → " + d.String() + " (pushed)",
	}, "\n")+"\n", out)
	assert.Contains(t, errOut, "publishing "+d.String()+" (Synapse 1.160.0, package 1.160.0-1)")
	assert.Contains(t, errOut, "3 of 3 blobs uploaded")
	assert.Equal(t, d.String(), tagDigest(t, host+"/publish-test:sha-0123abc"))
	assert.Empty(t, tagDigest(t, host+"/publish-test:latest"), "--no-latest")

	assert.NotContains(t, errOut, "uncommitted changes")

	// --tag replaces the computed tags; --repository names another repository.
	out, _, err = runPublishTest(t, publishCommand{}, "--registry", host, "--from", dir, "--repository", "publish-test/other", "--tag", "edge", "--tag", "v1.160.0")
	require.NoError(t, err)
	assert.Equal(t, host+"/publish-test/other:edge → "+d.String()+" (pushed)\n"+
		host+"/publish-test/other:v1.160.0 → "+d.String()+" (pushed)\n", out)

	// Again: nothing changes.
	out, _, err = runPublishTest(t, publishCommand{}, "--registry", host, "--from", dir, "--no-latest", "--no-overwrite")
	require.NoError(t, err)
	assert.Equal(t, 3, strings.Count(out, "(unchanged)"), out)
}

func TestPublishCommandRevisionNotes(t *testing.T) {
	tests := []struct {
		revision, wantTag, wantNote string
	}{
		{publishTestRev + "-dirty", ":sha-0123abc-dirty ", "warning: the image was built from a tree with uncommitted changes"},
		{"", ":latest ", "note: no sha tag: image label org.opencontainers.image.revision"},
		{"unknown", ":latest ", `note: no sha tag: image label org.opencontainers.image.revision: revision "unknown"`},
	}
	for _, tt := range tests {
		t.Run(tt.revision, func(t *testing.T) {
			dir, host, _ := publishFixture(t, false, tt.revision)
			out, errOut, err := runPublishTest(t, publishCommand{}, "--registry", host, "--from", dir, "--dry-run")
			require.NoError(t, err)
			assert.Contains(t, out, tt.wantTag)
			assert.Contains(t, errOut, tt.wantNote)
			if tt.revision == "" || tt.revision == "unknown" {
				assert.NotContains(t, out, ":sha-")
			}
		})
	}
}

func TestPublishCommandCredentials(t *testing.T) {
	dir, host, _ := publishFixture(t, true, publishTestRev)
	pwFile := filepath.Join(t.TempDir(), "password")
	require.NoError(t, os.WriteFile(pwFile, []byte("secret\n"), 0o600))
	env := func(vars map[string]string) func(string) string {
		return func(k string) string { return vars[k] }
	}
	tests := []struct {
		name    string
		cmd     publishCommand
		args    []string
		wantErr string
	}{
		{"docker config without credentials", publishCommand{}, nil, "refused the credentials for publish-test (401 Unauthorized)"},
		{"password file", publishCommand{}, []string{"--username", "user", "--password-file", pwFile}, ""},
		{"password stdin", publishCommand{stdin: strings.NewReader("secret\n")}, []string{"--username", "user", "--password-stdin"}, ""},
		{"environment", publishCommand{getenv: env(map[string]string{"REGISTRY_USERNAME": "user", "REGISTRY_PASSWORD": "secret"})}, nil, ""},
		{"wrong password", publishCommand{stdin: strings.NewReader("hunter2")}, []string{"--username", "user", "--password-stdin"}, "refused the credentials"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			args := append([]string{"--registry", host, "--from", dir}, tt.args...)
			_, errOut, err := runPublishTest(t, tt.cmd, args...)
			if tt.wantErr == "" {
				require.NoError(t, err)
				return
			}
			require.Error(t, err)
			assert.Contains(t, err.Error(), tt.wantErr)
			assert.NotContains(t, err.Error()+errOut, "hunter2")
		})
	}
}

func TestPublishCommandRejects(t *testing.T) {
	dir, host, _ := publishFixture(t, false, publishTestRev)
	pwFile := filepath.Join(t.TempDir(), "empty")
	require.NoError(t, os.WriteFile(pwFile, []byte("\n"), 0o600))
	tests := []struct {
		name    string
		getenv  func(string) string
		args    []string
		usage   bool
		wantErr string
	}{
		{"no registry", nil, []string{"--from", dir}, true, "--registry is required"},
		{"unknown flag", nil, []string{"--registry", host, "--bogus"}, true, "flag provided but not defined: -bogus"},
		{"password flag", nil, []string{"--registry", host, "--password=hunter2"}, true, "a password is never taken as a flag value"},
		{"password flag, separate value", nil, []string{"--registry", host, "-password", "hunter2"}, true, "a password is never taken as a flag value"},
		{"argument", nil, []string{"--registry", host, "extra"}, true, `unexpected argument "extra"`},
		{"tag with no-latest", nil, []string{"--registry", host, "--tag", "x", "--no-latest"}, true, "with --tag, list exactly the tags you want"},
		{"password without user", nil, []string{"--registry", host, "--password-stdin"}, true, "a password needs --username"},
		{"env password without user", func(k string) string {
			if k == "REGISTRY_PASSWORD" {
				return "hunter2"
			}
			return ""
		}, []string{"--registry", host}, true, "a password needs --username"},
		{"user without password", nil, []string{"--registry", host, "--username", "user"}, true, "--username user needs a password"},
		{"two password sources", nil, []string{"--registry", host, "--username", "u", "--password-stdin", "--password-file", pwFile}, true, "either --password-file or --password-stdin"},
		{"empty password file", nil, []string{"--registry", host, "--username", "u", "--password-file", pwFile}, true, "empty, expected the password"},
		{"bad repository", nil, []string{"--registry", host, "--from", dir, "--repository", "Bad Name"}, true, `repository "Bad Name"`},
		{"bad tag", nil, []string{"--registry", host, "--from", dir, "--tag", "-x"}, true, `tag "-x"`},
		{"registry with scheme", nil, []string{"--registry", "http://" + host, "--from", dir}, true, "without a scheme"},
		{"no layout", nil, []string{"--registry", host, "--from", filepath.Join(t.TempDir(), "none")}, false, "run `go run . build` first"},
		{"missing signing key", nil, []string{"--registry", host, "--sign-key", filepath.Join(t.TempDir(), "cosign.key")}, true, "--sign-key: signing key"},
		{"signing key that is not a key", nil, []string{"--registry", host, "--sign-key", pwFile}, true, "--sign-key: signing key"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, errOut, err := runPublishTest(t, publishCommand{getenv: tt.getenv}, tt.args...)
			require.Error(t, err)
			assert.Contains(t, err.Error(), tt.wantErr)
			var u usageError
			assert.Equal(t, tt.usage, errors.As(err, &u), "usage error")
			assert.NotContains(t, err.Error()+errOut, "hunter2", "never print a password")
		})
	}
}
