package pipeline

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/synapse-image/synapse-image/image/build"
	"github.com/synapse-image/synapse-image/image/names"
	"github.com/synapse-image/synapse-image/image/platform"
	"github.com/synapse-image/synapse-image/image/publish"
)

// fakeRootFS writes the few files a root file system needs to be built on.
type fakeRootFS struct {
	calls    int
	installs []build.Install
}

func (f *fakeRootFS) Make(_ context.Context, in build.Install, dir string) error {
	f.calls++
	f.installs = append(f.installs, in)
	for file, content := range map[string]string{
		"etc/passwd":          "root:x:0:0:root:/root:/bin/bash\n",
		"etc/group":           "root:x:0:\n",
		"var/lib/dpkg/status": "Package: matrix-synapse\nStatus: install ok installed\nVersion: 1.160.0-1\n",
	} {
		p := filepath.Join(dir, file)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			return err
		}
	}
	return nil
}

func fakeMirror(context.Context, string, string) (build.MirrorState, error) {
	return build.MirrorState{InReleaseSHA256: strings.Repeat("ab", 32), Date: time.Date(2026, 10, 30, 8, 0, 0, 0, time.UTC)}, nil
}

const testRecipe = `
name: pipeline-test
repository: pipeline-test
debian:
  suite: sid
  mirror: http://deb.debian.org/debian
  packages: [matrix-synapse]
wheels: true
files:
  - {src: hello.txt, dst: /hello.txt}
config:
  cmd: [/bin/true]
  labels:
    org.opencontainers.image.title: Pipeline test
version:
  package: matrix-synapse
`

// step is one step of BuildKit's plain display.
type step struct{ key, status string }

// plainSteps lists the steps of a plain display in order: "#N [key] …"
// opens one, "#N DONE 1.2s", "#N CACHED" or "#N ERROR: …" ends it.
func plainSteps(out string) []step {
	var steps []step
	index := map[string]int{}
	done := regexp.MustCompile(`^DONE \d+\.\ds$`)
	for _, line := range strings.Split(out, "\n") {
		id, rest, ok := strings.Cut(line, " ")
		if !ok || !strings.HasPrefix(id, "#") {
			continue
		}
		i, seen := index[id]
		switch {
		case !seen:
			key, _, _ := strings.Cut(rest, " ")
			index[id] = len(steps)
			steps = append(steps, step{key: key})
		case rest == "CACHED", strings.HasPrefix(rest, "ERROR"):
			steps[i].status = rest
		case done.MatchString(rest):
			steps[i].status = "DONE"
		}
	}
	return steps
}

func TestBuild(t *testing.T) {
	root := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(root, "recipe.yaml"), []byte(testRecipe), 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(root, "hello.txt"), []byte("hello\n"), 0o644))
	tarFile := filepath.Join(t.TempDir(), "image.tar")
	fake := &fakeRootFS{}
	opt := BuildOptions{
		Recipe:    filepath.Join(root, "recipe.yaml"),
		Root:      root,
		WheelsDir: filepath.Join(root, "wheels"),
		Platforms: []platform.Platform{platform.AMD64},
		CacheDir:  t.TempDir(),
		Revision:  "0123456789abcdef0123456789abcdef01234567",
		Tarball:   tarFile,
		Progress:  "plain",
		RootFS:    fake,
		Mirror:    fakeMirror,
		Getenv:    func(k string) string { return map[string]string{"SOURCE_DATE_EPOCH": "1764201600"}[k] },
	}
	run := func(opt BuildOptions) (stdout, stderr string) {
		var out, log bytes.Buffer
		opt.Stdout, opt.Log = &out, &log
		require.NoError(t, Build(context.Background(), opt), log.String())
		return out.String(), log.String()
	}

	stdout, stderr := run(opt)
	assert.Equal(t, 1, fake.calls)
	// Stdout is what scripts (and the Dagger module) read: the digest, then the tags.
	assert.Regexp(t, `^pipeline-test@sha256:[0-9a-f]{64}
pipeline-test:v1\.160\.0
pipeline-test:v1\.160
pipeline-test:latest
pipeline-test:sha-0123456
$`, stdout)
	assert.Equal(t, []step{
		{"[source]", "DONE"}, {"[mirror]", "DONE"}, {"[rootfs]", "DONE"}, {"[wheels]", "DONE"}, {"[project]", "DONE"},
		{"[sbom]", "DONE"}, {"[output]", "DONE"}, {"[output]", "DONE"}, {"[output]", "DONE"}, {"[cache]", "DONE"},
	}, plainSteps(stderr), stderr)
	assert.Contains(t, stderr, "#8 [output] docker-load tarball "+tarFile+"\n")
	assert.Regexp(t, `(?m)^\[build\] done in \d+\.\ds: 2 layers`, stderr)

	// Every output holds the image stdout names.
	digest := strings.TrimPrefix(strings.SplitN(stdout, "\n", 2)[0], "pipeline-test@")
	artifact, err := ReadArtifact(filepath.Join(root, names.LayoutDir("pipeline-test")))
	require.NoError(t, err)
	require.Len(t, artifact.Images, 1)
	img := artifact.Images[0].Image
	assert.Equal(t, img, artifact.Manifest, "one platform: the layout holds the image itself")
	d, err := img.Digest()
	require.NoError(t, err)
	assert.Equal(t, digest, d.String())
	tag, err := name.NewTag("pipeline-test:sha-0123456")
	require.NoError(t, err)
	fromTar, err := tarball.ImageFromPath(tarFile, &tag)
	require.NoError(t, err)
	id, err := fromTar.ConfigName() // docker load's image ID: a tarball has no manifest digest
	require.NoError(t, err)
	wantID, err := img.ConfigName()
	require.NoError(t, err)
	assert.Equal(t, wantID, id)
	pkgs, err := os.ReadFile(filepath.Join(root, names.PackagesFile("pipeline-test")))
	require.NoError(t, err)
	assert.Equal(t, "matrix-synapse 1.160.0-1\n", string(pkgs))
	// The SBOM and the provenance are in the layout, referrers of this
	// image (their content: image/sbom, image/provenance).
	sbomDoc, prov := attachmentData(t, artifact.Images[0])
	assert.Contains(t, string(sbomDoc), `"documentNamespace": "https://github.com/synapse-image/synapse-image/spdx/pipeline-test/`+digest+`"`)
	assert.Contains(t, string(sbomDoc), "pkg:deb/debian/matrix-synapse@1.160.0-1")
	assert.Contains(t, string(prov), strings.TrimPrefix(digest, "sha256:"))
	assert.Contains(t, string(prov), `"path": "recipe.yaml"`)

	// Again, without the tarball: the layers come from the cache, and the
	// steps are those of the example in docs/build.md.
	opt.Tarball = ""
	again, stderr := run(opt)
	assert.Equal(t, stdout, again, "same inputs, same digest")
	assert.Equal(t, 1, fake.calls)
	steps := plainSteps(stderr)
	assert.Equal(t, []step{
		{"[source]", "DONE"}, {"[mirror]", "DONE"}, {"[rootfs]", "CACHED"}, {"[wheels]", "DONE"}, {"[project]", "CACHED"},
		{"[sbom]", "DONE"}, {"[output]", "DONE"}, {"[output]", "DONE"}, {"[cache]", "DONE"},
	}, steps, stderr)

	doc, err := os.ReadFile(filepath.Join("..", "..", "docs", "build.md"))
	require.NoError(t, err)
	example := regexp.MustCompile("(?s)`go run \\. build --progress plain`.*?```text\n(.*?)```").FindSubmatch(doc)
	require.NotNil(t, example, "docs/build.md shows the output of go run . build --progress plain")
	docSteps := plainSteps(string(example[1]))
	require.Len(t, docSteps, len(steps), "docs/build.md's example has the steps a build shows:\n%s", example[1])
	for i := range steps {
		assert.Equal(t, steps[i].key, docSteps[i].key, "docs/build.md example, step %d", i+1)
	}
	assert.Regexp(t, `(?m)^synapse@sha256:[0-9a-f]{64}\nsynapse:v\d+\.\d+\.\d+\n`, string(example[1]), "then the digest and the tags")
}

// attachmentData is the SBOM and the provenance statement attached to p:
// exactly one of each, both with p's image as their subject.
func attachmentData(t *testing.T, p PlatformImage) (sbomDoc, prov []byte) {
	t.Helper()
	d, err := p.Image.Digest()
	require.NoError(t, err)
	require.Len(t, p.Attachments, 2, "%s: an SBOM and a provenance statement", p.Platform)
	for _, a := range p.Attachments {
		assert.Equal(t, d, a.Subject)
		switch a.ArtifactType {
		case publish.ArtifactTypeSPDX:
			sbomDoc = a.Data
		case publish.ArtifactTypeInToto:
			prov = a.Data
		}
	}
	require.NotEmpty(t, sbomDoc, "%s: no SBOM", p.Platform)
	require.NotEmpty(t, prov, "%s: no provenance", p.Platform)
	return sbomDoc, prov
}
