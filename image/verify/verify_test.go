package verify

import (
	"bytes"
	"context"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/hex"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/sigstore/sigstore/pkg/cryptoutils"
	"github.com/sigstore/sigstore/pkg/signature"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/synapse-image/synapse-image/image/names"
	"github.com/synapse-image/synapse-image/image/pipeline"
	"github.com/synapse-image/synapse-image/image/provenance"
	"github.com/synapse-image/synapse-image/image/publish"
	"github.com/synapse-image/synapse-image/image/sbom"
	"github.com/synapse-image/synapse-image/image/sign"
	"github.com/synapse-image/synapse-image/internal/dockertest"
	"github.com/synapse-image/synapse-image/internal/registrytest"
)

func platformImage(t *testing.T) v1.Image { return archImage(t, "amd64") }

func archImage(t *testing.T, arch string) v1.Image {
	t.Helper()
	img, err := random.Image(128, 1)
	require.NoError(t, err)
	cf, err := img.ConfigFile()
	require.NoError(t, err)
	cf.OS, cf.Architecture = "linux", arch
	if arch == "arm64" {
		cf.Variant = "v8" // as the builder writes it
	}
	img, err = mutate.ConfigFile(img, cf)
	require.NoError(t, err)
	return img
}

// attestationsOf makes an SBOM and a provenance statement describing img,
// as the build does, to be attached to subject (normally img itself).
func attestationsOf(t *testing.T, img v1.Image, subject v1.Hash) []publish.Attachment {
	t.Helper()
	d, err := img.Digest()
	require.NoError(t, err)
	cf, err := img.ConfigFile()
	require.NoError(t, err)
	arch := cf.Architecture
	created := time.Unix(1764374400, 0)
	var doc bytes.Buffer
	require.NoError(t, sbom.Write(&doc, sbom.Document(&sbom.Contents{Debs: []sbom.Deb{{Name: "libc6", Version: "2.43-7", Architecture: "amd64", Source: "glibc", SourceVersion: "2.43-7"}}},
		sbom.Subject{Repository: "synapse", Digest: d.String(), Arch: arch, Created: created})))
	st, err := provenance.New(provenance.Build{Repository: "synapse", Digest: d.String(), Platform: "linux/" + arch, Source: "https://example.org/x", Epoch: created})
	require.NoError(t, err)
	var prov bytes.Buffer
	require.NoError(t, provenance.Write(&prov, st))
	return []publish.Attachment{
		{Subject: subject, ArtifactType: publish.ArtifactTypeSPDX, Data: doc.Bytes(), Created: created, Name: "SBOM linux/" + arch},
		{Subject: subject, ArtifactType: publish.ArtifactTypeInToto, Data: prov.Bytes(), Created: created, Name: "provenance linux/" + arch},
	}
}

func keyPair(t *testing.T) (signature.SignerVerifier, signature.Verifier) {
	t.Helper()
	privPEM, pubPEM, err := cryptoutils.GeneratePEMEncodedECDSAKeyPair(elliptic.P256(), cryptoutils.SkipPassword)
	require.NoError(t, err)
	dir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, "k"), privPEM, 0o600))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "k.pub"), pubPEM, 0o644))
	sv, err := sign.LoadPrivateKey(filepath.Join(dir, "k"), nil)
	require.NoError(t, err)
	v, err := sign.LoadPublicKey(filepath.Join(dir, "k.pub"))
	require.NoError(t, err)
	return sv, v
}

// lines renders the checks as the command prints them.
func lines(checks []Check) string {
	var b strings.Builder
	for _, c := range checks {
		b.WriteString(c.String() + "\n")
	}
	return b.String()
}

// testVerify publishes a signed image with its attestations to the
// registry at host, verifies it, then tampers with it in two ways and
// checks that verify fails each time.
func testVerify(t *testing.T, host string) {
	ctx := context.Background()
	repoName := randomRepo("verify-test")
	repo, err := name.NewRepository(host+"/"+repoName, name.Insecure)
	require.NoError(t, err)
	ref := repo.Tag("latest")
	sv, pub := keyPair(t)
	publishOpts := func(tags ...string) publish.Options {
		return publish.Options{Refs: refs(t, host, repoName, tags...), Keychain: authn.NewMultiKeychain()}
	}

	img := platformImage(t)
	d, err := img.Digest()
	require.NoError(t, err)
	o := publishOpts("latest")
	o.Attachments = attestationsOf(t, img, d)
	o.Signer = sv
	_, err = publish.NewRegistry(o).Publish(ctx, img)
	require.NoError(t, err)

	checks := Verify(ctx, ref, Options{Key: pub, Platforms: []string{"linux/amd64"}})
	out := lines(checks)
	t.Logf("verify %s:\n%s", ref, out)
	require.False(t, Failed(checks), out)
	assert.Contains(t, out, "ok   linux/amd64 "+d.String()+" has an SBOM (1)\n")
	assert.Contains(t, out, "ok   linux/amd64 "+d.String()+" has a provenance statement (1)\n")
	assert.Contains(t, out, "ok   linux/amd64 "+d.String()+" signed by the key\n")
	assert.Contains(t, out, "describes "+d.String()+"\n")

	// Another key: only the signature check fails.
	_, otherPub := keyPair(t)
	checks = Verify(ctx, ref, Options{Key: otherPub})
	require.True(t, Failed(checks))
	for _, c := range checks {
		assert.Equal(t, !strings.Contains(c.What, "signed by the key"), c.OK, c.String())
	}
	// A platform the tag lacks.
	assert.True(t, Failed(Verify(ctx, ref, Options{Platforms: []string{"linux/arm64"}})))

	// Tampering 1: an SBOM of another image attached to this one.
	other := platformImage(t)
	forged := publishOpts("latest")
	forged.Attachments = attestationsOf(t, other, d)[:1]
	_, err = publish.NewRegistry(forged).Publish(ctx, img)
	require.NoError(t, err)
	checks = Verify(ctx, ref, Options{Key: pub})
	out = lines(checks)
	require.True(t, Failed(checks), out)
	otherDigest, err := other.Digest()
	require.NoError(t, err)
	assert.Contains(t, out, "FAIL linux/amd64 SBOM ")
	assert.Contains(t, out, "describes "+otherDigest.String()+"\n")

	// Tampering 2: the tag re-pointed at another image (no attestations, unsigned).
	_, err = publish.NewRegistry(publishOpts("latest")).Publish(ctx, other)
	require.NoError(t, err)
	checks = Verify(ctx, ref, Options{Key: pub})
	out = lines(checks)
	require.True(t, Failed(checks), out)
	assert.Contains(t, out, "FAIL linux/amd64 "+otherDigest.String()+" has an SBOM (0)\n")
	assert.Contains(t, out, "FAIL linux/amd64 "+otherDigest.String()+" has a provenance statement (0)\n")
	assert.Contains(t, out, "FAIL linux/amd64 "+otherDigest.String()+" signed by the key: no signature")

	// A tag that does not exist: one failed line.
	checks = Verify(ctx, repo.Tag("missing"), Options{})
	require.Len(t, checks, 1)
	assert.False(t, checks[0].OK)
}

// testVerifyIndex publishes a signed two-platform index with attestations
// for each platform, verifies it, then re-points the tag at an index whose
// arm64 manifest is another image: verify fails for that platform only.
func testVerifyIndex(t *testing.T, host string) {
	ctx := context.Background()
	repoName := randomRepo("verify-index")
	repo, err := name.NewRepository(host+"/"+repoName, name.Insecure)
	require.NoError(t, err)
	ref := repo.Tag("latest")
	sv, pub := keyPair(t)
	amd, arm := archImage(t, "amd64"), archImage(t, "arm64")
	idx, err := publish.NewIndex(amd, arm)
	require.NoError(t, err)
	var atts []publish.Attachment
	for _, img := range []v1.Image{amd, arm} {
		d, err := img.Digest()
		require.NoError(t, err)
		atts = append(atts, attestationsOf(t, img, d)...)
	}
	o := publish.Options{Refs: refs(t, host, repoName, "latest"), Keychain: authn.NewMultiKeychain(), Attachments: atts, Signer: sv}
	_, err = publish.NewRegistry(o).Publish(ctx, idx)
	require.NoError(t, err)
	idxDigest, err := idx.Digest()
	require.NoError(t, err)

	checks := Verify(ctx, ref, Options{Key: pub, Platforms: []string{"linux/amd64", "linux/arm64"}})
	out := lines(checks)
	t.Logf("verify %s:\n%s", ref, out)
	require.False(t, Failed(checks), out)
	assert.Contains(t, out, "lists platforms: linux/amd64, linux/arm64/v8\n")
	assert.Contains(t, out, "ok   index "+idxDigest.String()+" signed by the key\n")
	for _, p := range [][2]string{{"linux/amd64", "linux/amd64"}, {"linux/arm64/v8", "linux/arm64"}} {
		assert.Contains(t, out, "ok   "+p[0]+" provenance ")
		assert.Contains(t, out, ", platform "+p[1]+"\n", "the provenance names os/architecture")
	}

	// Tampering: the arm64 entry re-pointed at another image.
	other := archImage(t, "arm64")
	forged, err := publish.NewIndex(amd, other)
	require.NoError(t, err)
	_, err = publish.NewRegistry(publish.Options{Refs: refs(t, host, repoName, "latest"), Keychain: authn.NewMultiKeychain()}).Publish(ctx, forged)
	require.NoError(t, err)
	checks = Verify(ctx, ref, Options{Key: pub})
	out = lines(checks)
	require.True(t, Failed(checks), out)
	otherDigest, err := other.Digest()
	require.NoError(t, err)
	amdDigest, err := amd.Digest()
	require.NoError(t, err)
	assert.Contains(t, out, "FAIL linux/arm64/v8 "+otherDigest.String()+" has an SBOM (0)\n")
	assert.Contains(t, out, "FAIL index ")
	assert.Contains(t, out, "ok   linux/amd64 "+amdDigest.String()+" has an SBOM (1)\n", "the untouched platform still verifies")
}

func TestVerify(t *testing.T) {
	t.Run("in-process registry without the referrers API", func(t *testing.T) {
		host := registrytest.New(t).Host
		testVerify(t, host)
		testVerifyIndex(t, host)
	})
	t.Run("in-process registry with the referrers API", func(t *testing.T) {
		testVerify(t, registrytest.New(t, registrytest.WithReferrers(true)).Host)
	})
	t.Run("docker-registry", func(t *testing.T) {
		reg := os.Getenv("TEST_REGISTRY")
		if reg == "" {
			dockertest.Unavailable(t, "TEST_REGISTRY is not set: run scripts/test.sh, or start Debian's docker-registry and set TEST_REGISTRY=127.0.0.1:PORT")
		}
		testVerify(t, reg)
		testVerifyIndex(t, reg)
	})
}

// TestPublishAndVerifyTheBuiltImage publishes the image `go run . build`
// wrote, signed, to the real registry (TEST_REGISTRY) as the publish
// command does, then verifies it from the registry alone.
func TestPublishAndVerifyTheBuiltImage(t *testing.T) {
	reg := os.Getenv("TEST_REGISTRY")
	if reg == "" {
		dockertest.Unavailable(t, "TEST_REGISTRY is not set: run scripts/test.sh, or start Debian's docker-registry and set TEST_REGISTRY=127.0.0.1:PORT")
	}
	root, err := os.Getwd()
	require.NoError(t, err)
	for ; ; root = filepath.Dir(root) {
		if _, err := os.Stat(filepath.Join(root, "go.mod")); err == nil {
			break
		}
		require.NotEqual(t, "/", root)
	}
	layout := filepath.Join(root, names.DefaultLayout())
	if _, err := os.Stat(filepath.Join(layout, "index.json")); err != nil {
		dockertest.Unavailable(t, "no OCI layout at %s: run `go run . build` first", layout)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	sv, pub := keyPair(t)
	repoName := randomRepo("verify-e2e")
	var stdout, log bytes.Buffer
	err = pipeline.Publish(ctx, pipeline.PublishOptions{
		From: layout, Registry: reg, Repository: repoName, Tags: []string{"verify-e2e"}, Auth: authn.Anonymous, Signer: sv,
		Stdout: &stdout, Log: &log,
	})
	require.NoError(t, err, log.String())
	t.Logf("publish:\n%s%s", log.String(), stdout.String())
	ref, err := name.ParseReference(reg+"/"+repoName+":verify-e2e", name.Insecure)
	require.NoError(t, err)
	checks := Verify(ctx, ref, Options{Key: pub, Remote: []remote.Option{remote.WithAuthFromKeychain(authn.NewMultiKeychain())}})
	out := lines(checks)
	t.Logf("verify:\n%s", out)
	require.False(t, Failed(checks), out)
	assert.Contains(t, out, " has an SBOM (1)")
	assert.Contains(t, out, " has a provenance statement (1)")
	assert.Contains(t, out, " signed by the key")
}

// randomRepo is a repository name of its own under prefix, so runs against
// the same registry never see each other's tags.
func randomRepo(prefix string) string {
	suffix := make([]byte, 4)
	_, _ = rand.Read(suffix)
	return prefix + "/synapse-" + hex.EncodeToString(suffix)
}

// refs are the tags of repository in registry, as publish takes them.
func refs(t *testing.T, registry, repository string, tags ...string) []name.Tag {
	t.Helper()
	r, err := publish.References(registry, repository, tags, false)
	require.NoError(t, err)
	return r
}
