package pipeline

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/synapse-image/synapse-image/image/names"
	"github.com/synapse-image/synapse-image/image/platform"
)

// TestBuildTwoPlatforms builds the test recipe for amd64 and arm64 (with
// the fake root file system, so no emulation is needed): the layout holds
// one index of both, each platform has its SBOM and provenance, the
// tarball holds the host's image, and a second build gives the same index.
func TestBuildTwoPlatforms(t *testing.T) {
	root := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(root, "recipe.yaml"), []byte(testRecipe), 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(root, "hello.txt"), []byte("hello\n"), 0o644))
	tarFile := filepath.Join(t.TempDir(), "image.tar")
	fake := &fakeRootFS{}
	opt := BuildOptions{
		Recipe: filepath.Join(root, "recipe.yaml"), Root: root, WheelsDir: filepath.Join(root, "wheels"),
		Platforms: []platform.Platform{platform.ARM64, platform.AMD64}, CacheDir: t.TempDir(), Revision: "0123456789abcdef0123456789abcdef01234567",
		Tarball: tarFile, Progress: "plain", RootFS: fake, Mirror: fakeMirror,
		Getenv: func(k string) string { return map[string]string{"SOURCE_DATE_EPOCH": "1764201600"}[k] },
	}
	run := func(opt BuildOptions) (string, string) {
		var out, log bytes.Buffer
		opt.Stdout, opt.Log = &out, &log
		require.NoError(t, Build(context.Background(), opt), log.String())
		return out.String(), log.String()
	}
	stdout, stderr := run(opt)
	// A root file system per platform, and for the one that is not the
	// host's a native root (python3 and dpkg of the host's architecture).
	require.Equal(t, 3, fake.calls)
	var roots []string
	for _, in := range fake.installs {
		roots = append(roots, in.Platform.Arch()+" "+strings.Join(in.Debian.Packages, ","))
	}
	foreign := map[platform.Platform]platform.Platform{platform.AMD64: platform.ARM64, platform.ARM64: platform.AMD64}[platform.Host()]
	assert.ElementsMatch(t, []string{"amd64 matrix-synapse", "arm64 matrix-synapse", runtime.GOARCH + " python3"}, roots)
	for _, in := range fake.installs {
		if in.Platform == foreign {
			assert.NotEmpty(t, in.NativeRoot, "the foreign platform's root unpacks with the native root's dpkg-deb")
		}
	}
	assert.Contains(t, stderr, "[sbom] SBOM and provenance of linux/amd64")
	assert.Contains(t, stderr, "[sbom] SBOM and provenance of linux/arm64")

	a, err := ReadArtifact(filepath.Join(root, names.LayoutDir("pipeline-test")))
	require.NoError(t, err)
	idx, ok := a.Manifest.(v1.ImageIndex)
	require.True(t, ok, "the layout holds an index")
	d, err := idx.Digest()
	require.NoError(t, err)
	assert.True(t, strings.HasPrefix(stdout, "pipeline-test@"+d.String()+"\n"), "stdout names the index: %s", stdout)
	im, err := idx.IndexManifest()
	require.NoError(t, err)
	require.Len(t, im.Manifests, 2)
	platforms := map[string]v1.Hash{}
	for _, m := range im.Manifests {
		platforms[m.Platform.OS+"/"+m.Platform.Architecture] = m.Digest // arm64 has variant v8
	}
	for _, arch := range []string{"amd64", "arm64"} {
		digest, ok := platforms["linux/"+arch]
		require.True(t, ok, "linux/%s in the index: %v", arch, platforms)
		img, err := idx.Image(digest)
		require.NoError(t, err)
		cf, err := img.ConfigFile()
		require.NoError(t, err)
		assert.Equal(t, arch, cf.Architecture)
		sbomDoc, prov := attachmentData(t, platformOf(t, a, platform.Of(&v1.ConfigFile{Architecture: arch})))
		assert.Contains(t, string(sbomDoc), "/"+digest.String()+`"`, "the %s SBOM describes the %s image", arch, arch)
		assert.Contains(t, string(prov), `"platform": "linux/`+arch+`"`)
		assert.Contains(t, string(prov), digest.Hex)
	}

	// The tarball (like --load) holds the host's platform.
	tag, err := name.NewTag("pipeline-test:latest")
	require.NoError(t, err)
	fromTar, err := tarball.ImageFromPath(tarFile, &tag)
	require.NoError(t, err)
	cf, err := fromTar.ConfigFile()
	require.NoError(t, err)
	assert.Equal(t, runtime.GOARCH, cf.Architecture)

	// Again: every layer cached per platform, the same index.
	opt.Tarball = ""
	sbomOf := func() []byte {
		a, err := ReadArtifact(filepath.Join(root, names.LayoutDir("pipeline-test")))
		require.NoError(t, err)
		sbomDoc, _ := attachmentData(t, platformOf(t, a, platform.ARM64))
		return sbomDoc
	}
	sbomBefore := sbomOf()
	again, stderr := run(opt)
	assert.Equal(t, stdout, again)
	assert.Equal(t, 2, strings.Count(stderr, "image contents cached"), "the SBOM scans come from the cache too")
	sbomAfter := sbomOf()
	assert.Equal(t, string(sbomBefore), string(sbomAfter), "the same SBOM from the cached scan")
	assert.Equal(t, 3, fake.calls, "everything cached")

	// --load/--tarball without the host's platform: refused, nothing written.
	// (riscv64 is no platform of the image: it stands for any but the host's.)
	opt.Platforms = []platform.Platform{foreign, platform.Of(&v1.ConfigFile{Architecture: "riscv64"})}
	opt.Tarball = filepath.Join(t.TempDir(), "x.tar")
	var out, log bytes.Buffer
	opt.Stdout, opt.Log = &out, &log
	err = Build(context.Background(), opt)
	var u UsageError
	require.ErrorAs(t, err, &u)
	assert.ErrorContains(t, err, "take the host's platform")
	assert.NoFileExists(t, opt.Tarball)
}

// platformOf is a's image of platform.
func platformOf(t *testing.T, a *Artifact, p platform.Platform) PlatformImage {
	t.Helper()
	i := slices.IndexFunc(a.Images, func(img PlatformImage) bool { return img.Platform == p })
	require.NotEqual(t, -1, i, "no %s image", p)
	return a.Images[i]
}

// TestArtifactImage finds one platform's image in an artifact of one image
// or of an index, and says which platforms there are otherwise.
func TestArtifactImage(t *testing.T) {
	platformImage := func(arch string) v1.Image {
		img, err := random.Image(64, 1)
		require.NoError(t, err)
		img, err = mutate.ConfigFile(img, &v1.ConfigFile{OS: "linux", Architecture: arch})
		require.NoError(t, err)
		return img
	}
	amd64, arm64 := platformImage("amd64"), platformImage("arm64")
	single, err := newArtifact([]PlatformImage{{Image: amd64}})
	require.NoError(t, err)
	both, err := newArtifact([]PlatformImage{{Image: arm64}, {Image: amd64}})
	require.NoError(t, err)
	assert.Equal(t, []platform.Platform{platform.AMD64, platform.ARM64}, []platform.Platform{both.Images[0].Platform, both.Images[1].Platform}, "in the index's order")

	tests := []struct {
		name     string
		a        *Artifact
		platform platform.Platform
		want     v1.Image
		err      string
	}{
		{"one image", single, platform.AMD64, amd64, ""},
		{"one image, another platform", single, platform.ARM64, nil, "no linux/arm64 image (it has [linux/amd64]): build it with `go run . build --platform linux/arm64`"},
		{"index, amd64", both, platform.AMD64, amd64, ""},
		{"index, arm64", both, platform.ARM64, arm64, ""},
		{"index, missing platform", both, platform.Of(&v1.ConfigFile{Architecture: "riscv64"}), nil, "no linux/riscv64 image (it has [linux/amd64 linux/arm64])"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tt.a.Image(tt.platform)
			if tt.err != "" {
				assert.ErrorContains(t, err, tt.err)
				return
			}
			require.NoError(t, err)
			want, err := tt.want.Digest()
			require.NoError(t, err)
			d, err := got.Digest()
			require.NoError(t, err)
			assert.Equal(t, want, d)
		})
	}
}
