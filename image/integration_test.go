// The integration test checks the real image that `go run . build --load`
// (scripts/test.sh) loaded into the local Docker engine: its configuration
// as Docker sees it, and that its programs run.
package image_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/synapse-image/synapse-image/image/pipeline"
	"github.com/synapse-image/synapse-image/image/platform"
	"github.com/synapse-image/synapse-image/internal/dockertest"
)

func synapseImage(t *testing.T) string { return dockertest.SynapseImage(t) }

type inspected struct {
	ID     string `json:"Id"`
	Os     string
	Config struct {
		Entrypoint   []string
		Cmd          []string
		Env          []string
		User         string
		WorkingDir   string
		ExposedPorts map[string]struct{}
		Volumes      map[string]struct{}
		Labels       map[string]string
		StopSignal   string
		Healthcheck  *struct {
			Test          []string
			Interval      time.Duration
			StartPeriod   time.Duration
			StartInterval time.Duration
		}
	}
}

func TestImageAsDockerSeesIt(t *testing.T) {
	img := synapseImage(t)
	out := dockertest.Must(t, t.Context(), "image", "inspect", img)
	var got []inspected
	require.NoError(t, json.Unmarshal([]byte(out), &got))
	require.Len(t, got, 1)
	c := got[0].Config

	assert.Equal(t, "linux", got[0].Os)
	assert.Equal(t, []string{"/start"}, c.Entrypoint)
	assert.Equal(t, "/data", c.WorkingDir)
	assert.Empty(t, c.User, "/start starts as root and drops to UID:GID itself")
	assert.Equal(t, map[string]struct{}{"/data": {}}, c.Volumes)
	assert.Equal(t, map[string]struct{}{"8008/tcp": {}, "8448/tcp": {}}, c.ExposedPorts)
	assert.Contains(t, c.Env, "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin")
	require.NotNil(t, c.Healthcheck, "HEALTHCHECK")
	assert.Equal(t, []string{"CMD", "/start", "health"}, c.Healthcheck.Test)
	assert.LessOrEqual(t, c.Healthcheck.Interval, 10*time.Second, "a fresh container turns healthy within seconds, also on engines without start-interval")

	l := c.Labels
	assert.Regexp(t, `^\d+\.\d+\.\d+(rc\d+|~rc\d+)?$`, l["org.opencontainers.image.version"])
	assert.True(t, strings.HasPrefix(l["dev.synapse-image.package-version"], l["org.opencontainers.image.version"]),
		"package version %q starts with the upstream version %q", l["dev.synapse-image.package-version"], l["org.opencontainers.image.version"])
	assert.Regexp(t, `^[0-9a-f]{40}(-dirty)?$`, l["org.opencontainers.image.revision"])
	for _, k := range []string{"title", "source", "created", "licenses"} {
		assert.NotEmpty(t, l["org.opencontainers.image."+k], "label org.opencontainers.image.%s", k)
	}
	_, err := time.Parse(time.RFC3339, l["org.opencontainers.image.created"])
	assert.NoError(t, err, "created label")
}

// TestImageStartInterval reads the healthcheck's start interval from the
// OCI layout the build wrote, when it is the image under test: Docker
// before 25 does not show StartInterval in `docker image inspect`.
func TestImageStartInterval(t *testing.T) {
	img := synapseImage(t)
	id := dockertest.Must(t, t.Context(), "image", "inspect", "--format", "{{.Id}}", img)
	dir := filepath.Join("..", ".build", "synapse", "oci")
	if _, err := os.Stat(filepath.Join(dir, "index.json")); err != nil {
		dockertest.Unavailable(t, "no OCI layout at %s (`go run . build` writes it): %v", dir, err)
	}
	// The layout holds one image or, from a multi-platform build, an index;
	// the image under test is the host's platform.
	artifact, err := pipeline.ReadArtifact(dir)
	require.NoError(t, err)
	oci, err := artifact.Image(platform.Host())
	require.NoError(t, err)
	name, err := oci.ConfigName()
	require.NoError(t, err)
	if name.String() != id {
		dockertest.Unavailable(t, "%s holds another image (%s) than %s (%s): build and load the image under test with `go run . build --load`", dir, name, img, id)
	}
	raw, err := oci.RawConfigFile()
	require.NoError(t, err)
	var cfg struct {
		Config struct {
			Healthcheck struct{ StartInterval, StartPeriod time.Duration }
		} `json:"config"`
	}
	require.NoError(t, json.Unmarshal(raw, &cfg))
	assert.Positive(t, cfg.Config.Healthcheck.StartInterval)
	assert.LessOrEqual(t, cfg.Config.Healthcheck.StartInterval, 2*time.Second)
	assert.Positive(t, cfg.Config.Healthcheck.StartPeriod)
}

func TestImageRuns(t *testing.T) {
	img := synapseImage(t)
	version := dockertest.Must(t, t.Context(), "image", "inspect", "--format", `{{index .Config.Labels "org.opencontainers.image.version"}}`, img)

	tests := []struct {
		name string
		args []string
		want *regexp.Regexp
	}{
		{"start help", []string{img, "help"}, regexp.MustCompile(`SYNAPSE_`)},
		{"register_new_matrix_user on PATH", []string{"--entrypoint", "register_new_matrix_user", img, "--help"}, regexp.MustCompile(`(?i)usage: register_new_matrix_user`)},
		{"synapse imports, at the labelled version", []string{"--entrypoint", "python3", img, "-c", "import synapse; print(synapse.__version__)"}, regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(version) + `$`)},
		{"user synapse is 991:991", []string{"--entrypoint", "id", img, "synapse"}, regexp.MustCompile(`uid=991\(synapse\) gid=991\(synapse\)`)},
		{"/data belongs to synapse", []string{"--entrypoint", "stat", img, "-c", "%u:%g %a", "/data"}, regexp.MustCompile(`^991:991 755`)},
		{"jemalloc is there", []string{"--entrypoint", "sh", img, "-c", "ls /usr/lib/*/libjemalloc.so.2"}, regexp.MustCompile(`libjemalloc\.so\.2`)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out := dockertest.Must(t, t.Context(), append([]string{"run", "--rm", "--network", "none"}, tt.args...)...)
			assert.Regexp(t, tt.want, out)
		})
	}
}
