package cli

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestBuildArgs(t *testing.T) {
	tests := []struct {
		name string
		b    Build
		want []string
	}{
		{"one platform", Build{Recipe: "image/synapse.yaml", Platforms: []string{"linux/amd64"}, CacheDir: "/cache"},
			[]string{"go", "run", ".", "build", "--recipe", "image/synapse.yaml", "--platform", "linux/amd64", "--cache-dir", "/cache"}},
		{"two platforms, in the order given", Build{Recipe: "image/synapse.yaml", Platforms: []string{"linux/arm64", "linux/amd64"}, CacheDir: "/cache"},
			[]string{"go", "run", ".", "build", "--recipe", "image/synapse.yaml", "--platform", "linux/arm64,linux/amd64", "--cache-dir", "/cache"}},
		{"wheels", Build{Recipe: "image/synapse.yaml", Platforms: []string{"linux/amd64"}, CacheDir: "/cache", WheelsDir: "/wheels"},
			[]string{"go", "run", ".", "build", "--recipe", "image/synapse.yaml", "--platform", "linux/amd64", "--cache-dir", "/cache", "--wheels", "/wheels"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { assert.Equal(t, tt.want, tt.b.Args()) })
	}
}

func TestPublishArgs(t *testing.T) {
	base := []string{"go", "run", ".", "publish", "--from", "/src/.build/synapse/oci", "--registry", "ghcr.io"}
	with := func(extra ...string) []string { return append(append([]string{}, base...), extra...) }
	tests := []struct {
		name string
		p    Publish
		want []string
	}{
		{"registry only", Publish{}, base},
		{"repository and tags", Publish{Repository: "org/synapse", Tags: []string{"a", "b"}},
			with("--repository", "org/synapse", "--tag", "a", "--tag", "b")},
		{"every flag", Publish{NoLatest: true, PackageTag: true, NoOverwrite: true, DryRun: true, Insecure: true},
			with("--no-latest", "--package-tag", "--no-overwrite", "--dry-run", "--insecure")},
		{"one flag", Publish{DryRun: true}, with("--dry-run")},
		{"credentials and key", Publish{Username: "bot", SignKey: "/run/secrets/cosign.key"},
			with("--username", "bot", "--sign-key", "/run/secrets/cosign.key")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.p.From, tt.p.Registry = "/src/.build/synapse/oci", "ghcr.io"
			assert.Equal(t, tt.want, tt.p.Args())
		})
	}
}

func TestCheckSecrets(t *testing.T) {
	tests := []struct {
		name                                      string
		username, password, signKey, signPassword bool
		err                                       string
	}{
		{"none", false, false, false, false, ""},
		{"credentials", true, true, false, false, ""},
		{"key and its password", false, false, true, true, ""},
		{"key without password", false, false, true, false, ""},
		{"username alone", true, false, false, false, "give both username and password, or neither"},
		{"password alone", false, true, false, false, "give both username and password, or neither"},
		{"key password alone", false, false, false, true, "sign-password: give it with sign-key"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := CheckSecrets(tt.username, tt.password, tt.signKey, tt.signPassword)
			if tt.err == "" {
				assert.NoError(t, err)
				return
			}
			assert.ErrorContains(t, err, tt.err)
		})
	}
}

func TestLayoutArchive(t *testing.T) {
	assert.Equal(t, []string{"tar", "--sort=name", "--mtime=@0", "--owner=0", "--group=0", "--numeric-owner",
		"-cf", "/tmp/synapse.oci.tar", "-C", "/src/.build/synapse/oci", "oci-layout", "index.json", "blobs"},
		LayoutArchive("/src/.build/synapse/oci", "/tmp/synapse.oci.tar"))
}
