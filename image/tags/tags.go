// Package tags computes the image tags for a build of Synapse from the Debian
// package version inside the image and the git revision of this repository.
// The rules (also in docs/publish.md, section "Tags"):
//
//	Debian package        revision  tags
//	1.160.0-1             0123abc…  v1.160.0  v1.160  latest  sha-0123abc
//	1.160.0-1 (NoLatest)  0123abc…  v1.160.0  v1.160          sha-0123abc
//	1.161.0~rc1-1         0123abc…  v1.161.0rc1               sha-0123abc
//	1.160.0-1             (none)    v1.160.0  v1.160  latest
//
// Why:
//
//   - A pre-release (Debian "~rc1", upstream "rc1") is tagged with its upstream
//     spelling only (v1.161.0rc1, as Synapse's own git tags): it never moves
//     latest or vX.Y, so nobody tracking those gets a release candidate.
//   - The Debian revision ("-1") is not part of the default tags: a new Debian
//     revision of the same upstream version is the same Synapse, so it moves
//     vX.Y.Z. It is kept in the image label dev.synapse-image.package-version,
//     and Options.PackageTag adds an exact tag for it (v1.160.0-1).
//   - A rebuild of the same version is told apart by sha-<7 hex digits of the
//     repository revision>, the one tag that names one recipe. There is no date
//     or build-number tag: builds are reproducible (same inputs, same digest),
//     and a date would give the same image different names.
package tags

import (
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/synapse-image/synapse-image/image/names"
)

// Version is a Synapse version as packaged by Debian.
type Version struct {
	Major, Minor, Patch int
	// Pre is the pre-release part without Debian's "~" ("rc1"), empty for a release.
	Pre string
	// Package is the full Debian package version ("1.160.0-1") as given.
	Package string
}

// upstreamRE matches the upstream part of a Debian version of Synapse:
// X.Y.Z, an optional "~pre" and an optional repack suffix ("+dfsg", "+ds1").
var upstreamRE = regexp.MustCompile(`^(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)(?:~([a-z]+[0-9]*))?(?:\+[a-z0-9.]+)?$`)

// debianRevisionRE is what Debian allows after the last "-".
var debianRevisionRE = regexp.MustCompile(`^[0-9A-Za-z.+~]+$`)

// ParseDebian parses a Debian version of matrix-synapse, "[epoch:]X.Y.Z[~pre][+repack][-revision]":
// "1.160.0-1" gives {1, 160, 0, "", "1.160.0-1"}, "1.161.0~rc1-1" gives Pre "rc1".
// A bare upstream version ("1.160.0") is accepted too.
func ParseDebian(v string) (Version, error) {
	bad := func(why string) (Version, error) {
		return Version{}, fmt.Errorf("package version %q: %s (expected a Debian version like 1.160.0-1 or 1.161.0~rc1-1)", v, why)
	}
	if v == "" {
		return bad("empty")
	}
	upstream := v
	if i := strings.IndexByte(upstream, ':'); i >= 0 {
		if _, err := strconv.Atoi(upstream[:i]); err != nil {
			return bad("epoch is not a number")
		}
		upstream = upstream[i+1:]
	}
	if i := strings.LastIndexByte(upstream, '-'); i >= 0 {
		if !debianRevisionRE.MatchString(upstream[i+1:]) {
			return bad("bad Debian revision")
		}
		upstream = upstream[:i]
	}
	m := upstreamRE.FindStringSubmatch(upstream)
	if m == nil {
		return bad("upstream part is not X.Y.Z[~pre]")
	}
	var out Version
	for i, p := range []*int{&out.Major, &out.Minor, &out.Patch} {
		n, err := strconv.Atoi(m[i+1])
		if err != nil {
			return bad("number out of range")
		}
		*p = n
	}
	out.Pre = m[4]
	out.Package = v
	return out, nil
}

// pep440RE matches Synapse's own spelling of a version: X.Y.Z with an optional
// pre-release suffix ("1.161.0rc1"), as in the org.opencontainers.image.version label.
var pep440RE = regexp.MustCompile(`^(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)((?:a|b|rc)[0-9]+)?$`)

// ParseUpstream parses a version as Synapse spells it ("1.160.0", "1.161.0rc1"),
// for images that carry no Debian package version. Package is set to v.
func ParseUpstream(v string) (Version, error) {
	m := pep440RE.FindStringSubmatch(v)
	if m == nil {
		return Version{}, fmt.Errorf("version %q: expected a Synapse version like 1.160.0 or 1.161.0rc1", v)
	}
	var out Version
	for i, p := range []*int{&out.Major, &out.Minor, &out.Patch} {
		n, err := strconv.Atoi(m[i+1])
		if err != nil {
			return Version{}, fmt.Errorf("version %q: number out of range", v)
		}
		*p = n
	}
	out.Pre = m[4]
	out.Package = v
	return out, nil
}

// String is the upstream version as Synapse spells it: "1.160.0", "1.161.0rc1".
func (v Version) String() string {
	return fmt.Sprintf("%d.%d.%d%s", v.Major, v.Minor, v.Patch, v.Pre)
}

// Prerelease reports whether v is a release candidate, alpha or beta.
func (v Version) Prerelease() bool { return v.Pre != "" }

// Options changes which tags For computes.
type Options struct {
	// NoLatest leaves "latest" alone, e.g. when publishing a fix for an older series.
	NoLatest bool
	// PackageTag adds the exact Debian package tag, e.g. "v1.160.0-1".
	PackageTag bool
}

// For returns the tags of an image holding Synapse v built from the given git
// revision, most specific version first: ["v1.160.0", "v1.160", "latest",
// "sha-0123abc"]. Pre-releases get neither vX.Y nor latest. An empty or
// malformed revision gives no sha tag; use ShortRevision to reject it first.
func For(v Version, revision string, opt Options) []string {
	out := []string{"v" + v.String()}
	if opt.PackageTag {
		if t, ok := packageTag(v); ok {
			out = append(out, t)
		}
	}
	if !v.Prerelease() {
		out = append(out, fmt.Sprintf("v%d.%d", v.Major, v.Minor))
		if !opt.NoLatest {
			out = append(out, "latest")
		}
	}
	if short, err := ShortRevision(revision); err == nil {
		out = append(out, "sha-"+short)
	}
	return out
}

// packageTag is "v" + the upstream version + "-" + the Debian revision, with
// the characters a tag cannot hold ("+", "~") turned into ".".
func packageTag(v Version) (string, bool) {
	i := strings.LastIndexByte(v.Package, '-')
	if i < 0 {
		return "", false
	}
	rev := strings.NewReplacer("+", ".", "~", ".").Replace(v.Package[i+1:])
	t := "v" + v.String() + "-" + rev
	return t, Valid(t)
}

var revisionRE = regexp.MustCompile(`^([0-9a-f]{7,64})(-dirty)?$`)

// ShortRevision shortens a git revision to the 7 hex digits of a sha tag,
// keeping a "-dirty" suffix (a build from a tree with uncommitted changes
// must not look like the commit): "0123abcdef…" → "0123abc".
func ShortRevision(revision string) (string, error) {
	m := revisionRE.FindStringSubmatch(strings.ToLower(revision))
	if m == nil {
		return "", fmt.Errorf("revision %q: expected a git commit hash (7 to 64 hex digits, optionally with -dirty)", revision)
	}
	return m[1][:7] + m[2], nil
}

// tagRE is the OCI distribution spec's rule for a tag.
var tagRE = regexp.MustCompile(`^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$`)

// Valid reports whether t may be used as a tag in an OCI registry.
func Valid(t string) bool { return tagRE.MatchString(t) }

// ForBuild are the tags `go run . build` gives an image whose package
// version is packageVersion: the tags of For when it is a Synapse version;
// else (another recipe, like the PostgreSQL image) latest and the sha tag;
// then extra, without duplicates.
func ForBuild(packageVersion, revision string, extra []string) []string {
	var out []string
	if v, err := ParseDebian(packageVersion); err == nil {
		out = For(v, revision, Options{})
	} else {
		out = []string{"latest"}
		if short, err := ShortRevision(revision); err == nil {
			out = append(out, "sha-"+short)
		}
	}
	for _, t := range extra {
		if !slices.Contains(out, t) {
			out = append(out, t)
		}
	}
	return out
}

// Labeled is what the tags of a built image come from: the version and
// revision labels the builder set on it (package names).
type Labeled struct {
	// Version is from the Debian package version label or, without it,
	// the OCI version label.
	Version Version
	// Revision is the git revision of the recipe (may be empty).
	Revision string
}

// FromLabels reads an image config's labels.
func FromLabels(labels map[string]string) (Labeled, error) {
	l := Labeled{Revision: labels[names.LabelRevision]}
	var err error
	switch {
	case labels[names.LabelPackageVersion] != "":
		l.Version, err = ParseDebian(labels[names.LabelPackageVersion])
	case labels[names.LabelVersion] != "":
		l.Version, err = ParseUpstream(labels[names.LabelVersion])
	default:
		err = fmt.Errorf("neither label %s nor %s: give the tags with --tag", names.LabelPackageVersion, names.LabelVersion)
	}
	return l, err
}

// Tags are the image's tags by the rules above.
func (l Labeled) Tags(opt Options) []string { return For(l.Version, l.Revision, opt) }
