package sign

import (
	"context"
	"crypto/elliptic"
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/sigstore/sigstore/pkg/cryptoutils"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/synapse-image/synapse-image/internal/registrytest"
)

// keyPair writes a key pair as `cosign generate-key-pair` does (the private
// key encrypted with password) and returns the two files.
func keyPair(t *testing.T, password string) (priv, pub string) {
	t.Helper()
	privPEM, pubPEM, err := cryptoutils.GeneratePEMEncodedECDSAKeyPair(elliptic.P256(), cryptoutils.StaticPasswordFunc([]byte(password)))
	require.NoError(t, err)
	dir := t.TempDir()
	priv, pub = filepath.Join(dir, "cosign.key"), filepath.Join(dir, "cosign.pub")
	require.NoError(t, os.WriteFile(priv, privPEM, 0o600))
	require.NoError(t, os.WriteFile(pub, pubPEM, 0o644))
	return priv, pub
}

func pushRandom(t *testing.T, repo name.Repository) v1.Hash {
	t.Helper()
	img, err := random.Image(64, 1)
	require.NoError(t, err)
	d, err := img.Digest()
	require.NoError(t, err)
	require.NoError(t, remote.Write(repo.Digest(d.String()), img))
	return d
}

func TestSignAndVerify(t *testing.T) {
	repo, err := name.NewRepository(registrytest.New(t).Host + "/sign/synapse")
	require.NoError(t, err)
	ctx := context.Background()
	signed, unsigned := pushRandom(t, repo), pushRandom(t, repo)

	privFile, pubFile := keyPair(t, "secret")
	_, err = LoadPrivateKey(privFile, nil)
	assert.ErrorContains(t, err, "COSIGN_PASSWORD")
	_, err = LoadPrivateKey(privFile, []byte("wrong"))
	assert.Error(t, err)
	sv, err := LoadPrivateKey(privFile, []byte("secret"))
	require.NoError(t, err)
	pub, err := LoadPublicKey(pubFile)
	require.NoError(t, err)

	wrote, err := Sign(ctx, repo, signed, sv)
	require.NoError(t, err)
	assert.True(t, wrote)
	require.NoError(t, Verify(ctx, repo, signed, pub))

	// Cosign's layout: the .sig tag, a simple-signing layer naming the digest.
	img, err := remote.Image(Tag(repo, signed))
	require.NoError(t, err)
	m, err := img.Manifest()
	require.NoError(t, err)
	require.Len(t, m.Layers, 1)
	assert.Equal(t, MediaTypeSimpleSigning, m.Layers[0].MediaType)
	assert.NotEmpty(t, m.Layers[0].Annotations[AnnotationSignature])
	assert.Equal(t, "sha256-"+signed.Hex+".sig", Tag(repo, signed).TagStr())
	body, err := Payload(repo, signed)
	require.NoError(t, err)
	assert.JSONEq(t, `{"critical":{"identity":{"docker-reference":"`+repo.Name()+`"},"image":{"docker-manifest-digest":"`+signed.String()+`"},"type":"cosign container image signature"},"optional":null}`, string(body))

	// Signing again writes nothing: the signature is there.
	wrote, err = Sign(ctx, repo, signed, sv)
	require.NoError(t, err)
	assert.False(t, wrote)

	// Another key, an unsigned digest, a signature moved to another digest: refused.
	_, otherPub := keyPair(t, "x")
	other, err := LoadPublicKey(otherPub)
	require.NoError(t, err)
	assert.ErrorContains(t, Verify(ctx, repo, signed, other), "none valid for this key")
	assert.ErrorContains(t, Verify(ctx, repo, unsigned, pub), "no signature")
	require.NoError(t, remote.Write(Tag(repo, unsigned), img))
	assert.ErrorContains(t, Verify(ctx, repo, unsigned, pub), "the signed payload names "+signed.String())
}
