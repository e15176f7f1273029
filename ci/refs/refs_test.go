package refs

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestFromManifest(t *testing.T) {
	tests := []struct {
		name     string
		manifest string
		want     Named
		wantErr  string
	}{
		{
			name:     "every tag of one image, sorted",
			manifest: `[{"Config":"c","RepoTags":["synapse:v1.160.0","synapse:v1.160","synapse:latest","synapse:sha-abc1234"],"Layers":[]}]`,
			want:     Named{Repository: "synapse", Tags: []string{"latest", "sha-abc1234", "v1.160", "v1.160.0"}},
		},
		{
			name:     "repository with a registry port and a path",
			manifest: `[{"RepoTags":["127.0.0.1:5000/org/synapse:v1.161.0-rc1"]}]`,
			want:     Named{Repository: "127.0.0.1:5000/org/synapse", Tags: []string{"v1.161.0-rc1"}},
		},
		{name: "not JSON", manifest: `nope`, wantErr: "manifest.json of the image tarball"},
		{name: "two images", manifest: `[{"RepoTags":["a:1"]},{"RepoTags":["b:1"]}]`, wantErr: "2 images, expected exactly one"},
		{name: "no tags", manifest: `[{"RepoTags":[]}]`, wantErr: "the image has no tags"},
		{name: "untagged entry", manifest: `[{"RepoTags":["synapse"]}]`, wantErr: `"synapse" is not REPOSITORY:TAG`},
		{name: "port but no tag", manifest: `[{"RepoTags":["localhost:5000/synapse"]}]`, wantErr: "is not REPOSITORY:TAG"},
		{name: "empty tag", manifest: `[{"RepoTags":["synapse:"]}]`, wantErr: "is not REPOSITORY:TAG"},
		{name: "two repositories", manifest: `[{"RepoTags":["synapse:latest","other:latest"]}]`, wantErr: "two repositories"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := FromManifest([]byte(tt.manifest))
			if tt.wantErr != "" {
				require.ErrorContains(t, err, tt.wantErr)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.want, got)
		})
	}
}

func TestReferences(t *testing.T) {
	tests := []struct {
		name       string
		registry   string
		repository string
		tags       []string
		want       []string
		wantErr    string
	}{
		{
			name: "host and path", registry: "ghcr.io/example", repository: "synapse", tags: []string{"v1.160.0", "latest"},
			want: []string{"ghcr.io/example/synapse:v1.160.0", "ghcr.io/example/synapse:latest"},
		},
		{
			name: "host with port, trailing slash", registry: "127.0.0.1:5000/", repository: "test/synapse", tags: []string{"edge"},
			want: []string{"127.0.0.1:5000/test/synapse:edge"},
		},
		{name: "empty registry", registry: "", repository: "synapse", tags: []string{"x"}, wantErr: "registry"},
		{name: "scheme", registry: "https://ghcr.io", repository: "synapse", tags: []string{"x"}, wantErr: "without a scheme"},
		{name: "leading slash", registry: "/ghcr.io", repository: "synapse", tags: []string{"x"}, wantErr: "without a scheme"},
		{name: "digest in registry", registry: "ghcr.io@sha256", repository: "synapse", tags: []string{"x"}, wantErr: "without a scheme"},
		{name: "no repository", registry: "ghcr.io", repository: "", tags: []string{"x"}, wantErr: "repository"},
		{name: "repository with a tag", registry: "ghcr.io", repository: "synapse:latest", tags: []string{"x"}, wantErr: "repository"},
		{name: "no tags", registry: "ghcr.io", repository: "synapse", wantErr: "no tags"},
		{name: "empty tag", registry: "ghcr.io", repository: "synapse", tags: []string{""}, wantErr: `tag ""`},
		{name: "tag with a colon", registry: "ghcr.io", repository: "synapse", tags: []string{"a:b"}, wantErr: `tag "a:b"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := References(tt.registry, tt.repository, tt.tags)
			if tt.wantErr != "" {
				require.ErrorContains(t, err, tt.wantErr)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.want, got)
		})
	}
}

func TestHost(t *testing.T) {
	for registry, want := range map[string]string{
		"ghcr.io/example":      "ghcr.io",
		"127.0.0.1:5000":       "127.0.0.1:5000",
		"registry.example.org": "registry.example.org",
	} {
		assert.Equal(t, want, Host(registry), registry)
	}
}
