// Package sign signs pushed manifests the way `cosign sign --key` does and
// checks such signatures the way `cosign verify --key` does: the payload is
// cosign's "simple signing" JSON naming the repository and the manifest
// digest, signed with the key (sigstore's signature package, which cosign
// uses for keys), and stored as a layer of an image tagged
// sha256-<hex>.sig in the same repository, the signature in the layer's
// dev.cosignproject.cosign/signature annotation. Keys are PEM files: those
// of `cosign generate-key-pair` (encrypted, password in COSIGN_PASSWORD) or
// plain PKCS#8/EC/RSA ones.
//
// It depends on sigstore/sigstore only, not on cosign, whose module brings
// in the transparency log, Fulcio and every KMS client: signing with a key
// needs none of them.
package sign

import (
	"bytes"
	"context"
	"crypto"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/remote/transport"
	"github.com/google/go-containerregistry/pkg/v1/static"
	"github.com/google/go-containerregistry/pkg/v1/types"
	"github.com/sigstore/sigstore/pkg/cryptoutils"
	"github.com/sigstore/sigstore/pkg/signature"
	"github.com/sigstore/sigstore/pkg/signature/payload"
)

// Cosign's names for what it stores.
const (
	MediaTypeSimpleSigning types.MediaType = "application/vnd.dev.cosign.simplesigning.v1+json"
	AnnotationSignature                    = "dev.cosignproject.cosign/signature"
)

// LoadPrivateKey reads a PEM private key; an encrypted cosign key is
// decrypted with password (nil: the key is not encrypted).
func LoadPrivateKey(file string, password []byte) (signature.SignerVerifier, error) {
	data, err := os.ReadFile(file)
	if err != nil {
		return nil, fmt.Errorf("signing key: %w", err)
	}
	priv, err := cryptoutils.UnmarshalPEMToPrivateKey(data, func(bool) ([]byte, error) {
		if password == nil {
			return nil, errors.New("the key is encrypted: set COSIGN_PASSWORD")
		}
		return password, nil
	})
	if err != nil {
		return nil, fmt.Errorf("signing key %s: %w", file, err)
	}
	sv, err := signature.LoadSignerVerifier(priv, crypto.SHA256)
	if err != nil {
		return nil, fmt.Errorf("signing key %s: %w", file, err)
	}
	return sv, nil
}

// LoadPublicKey reads a PEM public key (cosign.pub).
func LoadPublicKey(file string) (signature.Verifier, error) {
	data, err := os.ReadFile(file)
	if err != nil {
		return nil, fmt.Errorf("public key: %w", err)
	}
	pub, err := cryptoutils.UnmarshalPEMToPublicKey(data)
	if err != nil {
		return nil, fmt.Errorf("public key %s: %w", file, err)
	}
	v, err := signature.LoadVerifier(pub, crypto.SHA256)
	if err != nil {
		return nil, fmt.Errorf("public key %s: %w", file, err)
	}
	return v, nil
}

// Tag is where cosign keeps the signatures of digest: sha256-<hex>.sig.
func Tag(repo name.Repository, digest v1.Hash) name.Tag {
	return repo.Tag(digest.Algorithm + "-" + digest.Hex + ".sig")
}

// Payload is the simple-signing payload cosign signs for digest in repo.
func Payload(repo name.Repository, digest v1.Hash) ([]byte, error) {
	return payload.Cosign{Image: repo.Digest(digest.String())}.MarshalJSON()
}

// Signed reports whether digest has a signature that v accepts.
func Signed(ctx context.Context, repo name.Repository, digest v1.Hash, v signature.Verifier, ropts ...remote.Option) (bool, error) {
	layers, err := signatureLayers(ctx, repo, digest, ropts)
	if err != nil {
		return false, err
	}
	for _, l := range layers {
		if verifyLayer(l, digest, v) == nil {
			return true, nil
		}
	}
	return false, nil
}

// Verify checks that digest has a signature v accepts, and says why not.
func Verify(ctx context.Context, repo name.Repository, digest v1.Hash, v signature.Verifier, ropts ...remote.Option) error {
	layers, err := signatureLayers(ctx, repo, digest, ropts)
	if err != nil {
		return err
	}
	if len(layers) == 0 {
		return fmt.Errorf("no signature (%s)", Tag(repo, digest).TagStr())
	}
	var errs []error
	for _, l := range layers {
		err := verifyLayer(l, digest, v)
		if err == nil {
			return nil
		}
		errs = append(errs, err)
	}
	return fmt.Errorf("%d signature(s), none valid for this key: %w", len(layers), errors.Join(errs...))
}

// Sign adds a signature of digest by sv to its signature image, unless one
// sv can verify is there already (an ECDSA signature differs every time:
// signing again would write on every publish). It returns whether it wrote.
func Sign(ctx context.Context, repo name.Repository, digest v1.Hash, sv signature.SignerVerifier, ropts ...remote.Option) (bool, error) {
	if ok, err := Signed(ctx, repo, digest, sv, ropts...); err != nil || ok {
		return false, err
	}
	body, err := Payload(repo, digest)
	if err != nil {
		return false, err
	}
	sig, err := sv.SignMessage(bytes.NewReader(body))
	if err != nil {
		return false, fmt.Errorf("signing %s: %w", digest, err)
	}
	base, err := signatureImage(ctx, repo, digest, ropts)
	if err != nil {
		return false, err
	}
	img, err := mutate.Append(base, mutate.Addendum{
		Layer:       static.NewLayer(body, MediaTypeSimpleSigning),
		Annotations: map[string]string{AnnotationSignature: base64.StdEncoding.EncodeToString(sig)},
	})
	if err != nil {
		return false, err
	}
	if err := remote.Write(Tag(repo, digest), img, ropts...); err != nil {
		return false, fmt.Errorf("pushing the signature of %s: %w", digest, err)
	}
	return true, nil
}

// signatureImage is the current signature image of digest, or an empty
// one shaped like cosign's (OCI manifest and config).
func signatureImage(ctx context.Context, repo name.Repository, digest v1.Hash, ropts []remote.Option) (v1.Image, error) {
	img, err := remote.Image(Tag(repo, digest), append(ropts, remote.WithContext(ctx))...)
	if isNotFound(err) {
		return mutate.ConfigMediaType(mutate.MediaType(empty.Image, types.OCIManifestSchema1), types.OCIConfigJSON), nil
	}
	if err != nil {
		return nil, fmt.Errorf("reading the signatures of %s: %w", digest, err)
	}
	return img, nil
}

type sigLayer struct {
	payload   []byte
	signature string
}

func signatureLayers(ctx context.Context, repo name.Repository, digest v1.Hash, ropts []remote.Option) ([]sigLayer, error) {
	img, err := remote.Image(Tag(repo, digest), append(ropts, remote.WithContext(ctx))...)
	if isNotFound(err) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("reading the signatures of %s: %w", digest, err)
	}
	m, err := img.Manifest()
	if err != nil {
		return nil, err
	}
	var out []sigLayer
	for _, d := range m.Layers {
		if d.MediaType != MediaTypeSimpleSigning {
			continue
		}
		l, err := img.LayerByDigest(d.Digest)
		if err != nil {
			return nil, err
		}
		rc, err := l.Compressed()
		if err != nil {
			return nil, err
		}
		body, err := io.ReadAll(io.LimitReader(rc, 1<<20))
		rc.Close()
		if err != nil {
			return nil, err
		}
		out = append(out, sigLayer{payload: body, signature: d.Annotations[AnnotationSignature]})
	}
	return out, nil
}

// verifyLayer checks one signature as cosign does with a key: the
// signature over the payload, then the payload's claim (its type and that
// it names digest).
func verifyLayer(l sigLayer, digest v1.Hash, v signature.Verifier) error {
	sig, err := base64.StdEncoding.DecodeString(l.signature)
	if err != nil {
		return fmt.Errorf("signature annotation: %w", err)
	}
	if err := v.VerifySignature(bytes.NewReader(sig), bytes.NewReader(l.payload)); err != nil {
		return fmt.Errorf("signature: %w", err)
	}
	var p payload.SimpleContainerImage
	if err := json.Unmarshal(l.payload, &p); err != nil {
		return fmt.Errorf("payload: %w", err)
	}
	if p.Critical.Type != payload.CosignSignatureType {
		return fmt.Errorf("payload type %q", p.Critical.Type)
	}
	if p.Critical.Image.DockerManifestDigest != digest.String() {
		return fmt.Errorf("the signed payload names %s", p.Critical.Image.DockerManifestDigest)
	}
	return nil
}

func isNotFound(err error) bool {
	var terr *transport.Error
	return errors.As(err, &terr) && terr.StatusCode == http.StatusNotFound
}
