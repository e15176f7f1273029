// Package verify checks a published image from the registry alone: the
// tag resolves to an image or an index of platform images, each platform
// has an SBOM and a provenance statement attached (OCI referrers) that
// describe exactly that manifest, and, given a public key, every manifest
// and the index carry a cosign signature by it.
package verify

import (
	"bytes"
	"context"
	"fmt"
	"strings"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/sigstore/sigstore/pkg/signature"
	spdxjson "github.com/spdx/tools-golang/json"

	"github.com/synapse-image/synapse-image/image/provenance"
	"github.com/synapse-image/synapse-image/image/publish"
	"github.com/synapse-image/synapse-image/image/sign"
)

// Check is one verified fact, or one that failed.
type Check struct {
	OK   bool
	What string
}

func (c Check) String() string {
	if c.OK {
		return "ok   " + c.What
	}
	return "FAIL " + c.What
}

// Options are how to read the registry and what else to check.
type Options struct {
	// Remote are go-containerregistry's options (auth, transport).
	Remote []remote.Option
	// Key checks signatures when set.
	Key signature.Verifier
	// Platforms, when set, must all be present ("linux/amd64").
	Platforms []string
}

// Failed reports whether any check failed.
func Failed(checks []Check) bool {
	for _, c := range checks {
		if !c.OK {
			return true
		}
	}
	return false
}

type verifier struct {
	ctx    context.Context
	repo   name.Repository
	opt    Options
	checks []Check
}

func (v *verifier) check(ok bool, format string, args ...any) bool {
	v.checks = append(v.checks, Check{OK: ok, What: fmt.Sprintf(format, args...)})
	return ok
}

// Verify runs every check on ref and returns them in order; it stops early
// only when ref cannot be read at all.
func Verify(ctx context.Context, ref name.Reference, opt Options) []Check {
	v := &verifier{ctx: ctx, repo: ref.Context(), opt: opt}
	opt.Remote = append(opt.Remote, remote.WithContext(ctx))
	v.opt = opt
	desc, err := remote.Get(ref, opt.Remote...)
	if !v.check(err == nil, "%s resolves%s", ref, resolved(desc, err)) {
		return v.checks
	}

	// The manifests to check: the image, or each platform of the index.
	type platformManifest struct {
		platform string // os/architecture[/variant]
		osArch   string // os/architecture: what the provenance records
		desc     v1.Descriptor
	}
	var manifests []platformManifest
	switch {
	case desc.MediaType.IsIndex():
		idx, err := desc.ImageIndex()
		var im *v1.IndexManifest
		if err == nil {
			im, err = idx.IndexManifest()
		}
		if !v.check(err == nil, "index %s: readable%s", desc.Digest, errSuffix(err)) {
			return v.checks
		}
		var names []string
		for _, m := range im.Manifests {
			if m.Platform == nil || m.Platform.OS == "unknown" {
				continue // attestation manifests some builders put in the index
			}
			manifests = append(manifests, platformManifest{m.Platform.String(), m.Platform.OS + "/" + m.Platform.Architecture, m})
			names = append(names, m.Platform.String())
		}
		v.check(len(manifests) > 0, "index %s lists platforms: %s", desc.Digest, strings.Join(names, ", "))
	case desc.MediaType.IsImage():
		img, err := desc.Image()
		var cf *v1.ConfigFile
		if err == nil {
			cf, err = img.ConfigFile()
		}
		if !v.check(err == nil, "image %s: config readable%s", desc.Digest, errSuffix(err)) {
			return v.checks
		}
		manifests = append(manifests, platformManifest{cf.OS + "/" + cf.Architecture, cf.OS + "/" + cf.Architecture, desc.Descriptor})
	default:
		v.check(false, "%s is a %s, expected an image or an index", desc.Digest, desc.MediaType)
		return v.checks
	}
	have := map[string]bool{}
	for _, m := range manifests {
		have[m.platform], have[m.osArch] = true, true
	}
	for _, p := range opt.Platforms {
		v.check(have[p], "platform %s present", p)
	}

	for _, m := range manifests {
		v.attestations(m.platform, m.osArch, m.desc.Digest)
	}
	if opt.Key != nil {
		if desc.MediaType.IsIndex() {
			v.signature("index", desc.Digest)
		}
		for _, m := range manifests {
			v.signature(m.platform, m.desc.Digest)
		}
	}
	return v.checks
}

// attestations checks that digest has at least one SBOM and one provenance
// statement among its referrers, and that every one describes digest.
func (v *verifier) attestations(platform, osArch string, digest v1.Hash) {
	idx, err := remote.Referrers(v.repo.Digest(digest.String()), v.opt.Remote...)
	var im *v1.IndexManifest
	if err == nil {
		im, err = idx.IndexManifest()
	}
	if !v.check(err == nil, "%s %s: referrers readable%s", platform, digest, errSuffix(err)) {
		return
	}
	count := map[string]int{}
	for _, d := range im.Manifests {
		img, err := remote.Image(v.repo.Digest(d.Digest.String()), v.opt.Remote...)
		var att publish.Attachment
		if err == nil {
			att, err = publish.ReadAttachment(img)
		}
		if err != nil {
			v.check(false, "%s: referrer %s: %v", platform, d.Digest, err)
			continue
		}
		if att.Subject != digest {
			v.check(false, "%s: referrer %s names subject %s, not %s", platform, d.Digest, att.Subject, digest)
			continue
		}
		kind, data := att.ArtifactType, att.Data
		switch kind {
		case publish.ArtifactTypeSPDX:
			count[kind]++
			doc, err := spdxjson.Read(bytes.NewReader(data))
			if err != nil {
				v.check(false, "%s SBOM %s: not SPDX JSON: %v", platform, d.Digest, err)
				continue
			}
			describes := doc.DocumentNamespace[strings.LastIndex(doc.DocumentNamespace, "/")+1:]
			v.check(describes == digest.String(), "%s SBOM %s (%s, %d packages) describes %s", platform, d.Digest, doc.SPDXVersion, len(doc.Packages), describes)
		case publish.ArtifactTypeInToto:
			count[kind]++
			st, err := provenance.Read(bytes.NewReader(data))
			if err != nil {
				v.check(false, "%s provenance %s: %v", platform, d.Digest, err)
				continue
			}
			got := st.SubjectDigest()
			p, _ := st.Predicate.BuildDefinition.ExternalParameters.(map[string]any)["platform"].(string)
			v.check(got == digest.String() && p == osArch, "%s provenance %s (SLSA v1) has subject %s, platform %s", platform, d.Digest, got, p)
		}
	}
	v.check(count[publish.ArtifactTypeSPDX] > 0, "%s %s has an SBOM (%d)", platform, digest, count[publish.ArtifactTypeSPDX])
	v.check(count[publish.ArtifactTypeInToto] > 0, "%s %s has a provenance statement (%d)", platform, digest, count[publish.ArtifactTypeInToto])
}

func (v *verifier) signature(what string, digest v1.Hash) {
	err := sign.Verify(v.ctx, v.repo, digest, v.opt.Key, v.opt.Remote...)
	v.check(err == nil, "%s %s signed by the key%s", what, digest, errSuffix(err))
}

func resolved(d *remote.Descriptor, err error) string {
	if err != nil {
		return ": " + err.Error()
	}
	return fmt.Sprintf(" to %s (%s)", d.Digest, d.MediaType)
}

func errSuffix(err error) string {
	if err != nil {
		return ": " + err.Error()
	}
	return ""
}
