// Package provenance writes the build provenance of an image: an in-toto
// Statement (v1) whose predicate is SLSA provenance v1, naming the builder,
// the recipe and its digest, the source revision, the state of the Debian
// mirror the packages came from, SOURCE_DATE_EPOCH and the platform —
// everything needed to rebuild the image bit for bit.
package provenance

import (
	"encoding/json"
	"fmt"
	"io"
	"regexp"
	"sort"
	"strings"
	"time"

	"github.com/in-toto/in-toto-golang/in_toto/slsa_provenance/common"
	slsa "github.com/in-toto/in-toto-golang/in_toto/slsa_provenance/v1"
)

const (
	// StatementType is the in-toto Statement v1 type.
	StatementType = "https://in-toto.io/Statement/v1"
	// BuildType says how to read the predicate's parameters (docs/build.md).
	BuildType = "https://github.com/synapse-image/synapse-image/blob/main/docs/build.md#provenance"
	// BuilderID is the builder: this project's image/build, run by `go run . build`.
	BuilderID = "https://github.com/synapse-image/synapse-image/tree/main/image/build"
)

// Statement is an in-toto v1 Statement with a SLSA provenance v1 predicate.
// It is a plain struct rather than in-toto's protobuf type, whose JSON
// encoding is deliberately unstable: the same build must write the same
// bytes. Tests check it against the protobuf type's validation.
type Statement struct {
	Type          string                   `json:"_type"`
	Subject       []Subject                `json:"subject"`
	PredicateType string                   `json:"predicateType"`
	Predicate     slsa.ProvenancePredicate `json:"predicate"`
}

// Subject is an artifact the statement is about.
type Subject struct {
	Name   string           `json:"name"`
	Digest common.DigestSet `json:"digest"`
}

// Build is what a build knows about itself.
type Build struct {
	// Repository names the image; Digest is its manifest digest ("sha256:…").
	Repository, Digest string
	// Platform is "linux/amd64".
	Platform string
	// RecipePath is relative to the source root; RecipeSHA256 the recipe file's hash.
	RecipePath, RecipeSHA256 string
	// Source is the repository's URL (the image's source label) and
	// Revision the git commit ("-dirty" when the tree had changes).
	Source, Revision string
	// Mirror, Suite, InReleaseSHA256 and MirrorDate are the Debian mirror's
	// state: the InRelease file the packages were resolved from.
	Mirror, Suite, InReleaseSHA256 string
	MirrorDate                     time.Time
	// Epoch is SOURCE_DATE_EPOCH.
	Epoch time.Time
	// Wheels maps each local wheel's file name to its SHA-256.
	Wheels map[string]string
	// GoVersion built the programs in the image.
	GoVersion string
}

var commitHex = regexp.MustCompile(`^[0-9a-f]{40}([0-9a-f]{24})?$`)

// New makes the statement for a build.
func New(b Build) (*Statement, error) {
	algo, hex, ok := strings.Cut(b.Digest, ":")
	if !ok || algo != "sha256" || hex == "" {
		return nil, fmt.Errorf("image digest %q: expected sha256:<hex>", b.Digest)
	}
	source := map[string]any{"uri": "git+" + b.Source, "revision": b.Revision}
	deps := []slsa.ResourceDescriptor{}
	if commitHex.MatchString(b.Revision) {
		deps = append(deps, slsa.ResourceDescriptor{URI: "git+" + b.Source + "@" + b.Revision, Digest: common.DigestSet{"gitCommit": b.Revision}})
	}
	deps = append(deps, slsa.ResourceDescriptor{
		URI:         strings.TrimSuffix(b.Mirror, "/") + "/dists/" + b.Suite + "/InRelease",
		Digest:      common.DigestSet{"sha256": b.InReleaseSHA256},
		Annotations: map[string]any{"date": b.MirrorDate.UTC().Format(time.RFC3339)},
	})
	names := make([]string, 0, len(b.Wheels))
	for n := range b.Wheels {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		deps = append(deps, slsa.ResourceDescriptor{Name: n, Digest: common.DigestSet{"sha256": b.Wheels[n]}})
	}
	return &Statement{
		Type:          StatementType,
		Subject:       []Subject{{Name: b.Repository, Digest: common.DigestSet{"sha256": hex}}},
		PredicateType: slsa.PredicateSLSAProvenance,
		Predicate: slsa.ProvenancePredicate{
			BuildDefinition: slsa.ProvenanceBuildDefinition{
				BuildType: BuildType,
				ExternalParameters: map[string]any{
					"recipe":          map[string]any{"path": b.RecipePath, "digest": map[string]string{"sha256": b.RecipeSHA256}},
					"source":          source,
					"platform":        b.Platform,
					"sourceDateEpoch": b.Epoch.Unix(),
				},
				InternalParameters: map[string]any{
					"debian": map[string]any{"mirror": b.Mirror, "suite": b.Suite},
				},
				ResolvedDependencies: deps,
			},
			RunDetails: slsa.ProvenanceRunDetails{
				Builder: slsa.Builder{ID: BuilderID, Version: map[string]string{"go": b.GoVersion}},
			},
		},
	}, nil
}

// Write writes the statement as indented JSON.
func Write(w io.Writer, s *Statement) error {
	e := json.NewEncoder(w)
	e.SetIndent("", "  ")
	e.SetEscapeHTML(false)
	return e.Encode(s)
}

// Read reads a statement and checks its type, predicate type and subject.
func Read(r io.Reader) (*Statement, error) {
	var s Statement
	if err := json.NewDecoder(r).Decode(&s); err != nil {
		return nil, fmt.Errorf("provenance: %w", err)
	}
	if s.Type != StatementType || s.PredicateType != slsa.PredicateSLSAProvenance {
		return nil, fmt.Errorf("provenance: _type %q, predicateType %q: expected an in-toto v1 statement of SLSA provenance v1", s.Type, s.PredicateType)
	}
	if len(s.Subject) == 0 || s.Subject[0].Digest["sha256"] == "" {
		return nil, fmt.Errorf("provenance: no subject with a sha256 digest")
	}
	return &s, nil
}

// SubjectDigest is the first subject's digest, "sha256:…".
func (s *Statement) SubjectDigest() string {
	return "sha256:" + s.Subject[0].Digest["sha256"]
}
