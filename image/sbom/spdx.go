package sbom

import (
	"fmt"
	"io"
	"net/url"
	"regexp"
	"sort"
	"strings"
	"time"

	spdxjson "github.com/spdx/tools-golang/json"
	"github.com/spdx/tools-golang/spdx/v2/common"
	spdx "github.com/spdx/tools-golang/spdx/v2/v2_3"
)

// Subject is the image an SBOM describes.
type Subject struct {
	// Repository names the image ("synapse"); Digest is its manifest digest
	// ("sha256:…"); Arch its platform's architecture (amd64).
	Repository, Digest, Arch string
	// Distro qualifies the Debian purls, like "debian-sid".
	Distro string
	// Created is the document's creation time: SOURCE_DATE_EPOCH, so the
	// same image gives the same SBOM.
	Created time.Time
}

// namespaceBase prefixes every document namespace; the image digest makes
// it unique, as SPDX asks.
const namespaceBase = "https://github.com/synapse-image/synapse-image/spdx/"

const noAssertion = "NOASSERTION"

// Document is the SPDX 2.3 document of the contents: one package for the
// image, which CONTAINS one package per Debian package, Python wheel and Go
// module (and Go's standard library) of each program.
func Document(c *Contents, s Subject) *spdx.Document {
	imageID := common.ElementID("image")
	doc := &spdx.Document{
		SPDXVersion:       spdx.Version,
		DataLicense:       spdx.DataLicense,
		SPDXIdentifier:    "DOCUMENT",
		DocumentName:      fmt.Sprintf("%s-linux-%s", s.Repository, s.Arch),
		DocumentNamespace: namespaceBase + url.PathEscape(s.Repository) + "/" + s.Digest,
		CreationInfo: &spdx.CreationInfo{
			Creators: []common.Creator{{CreatorType: "Tool", Creator: "synapse-image"}},
			Created:  s.Created.UTC().Format(time.RFC3339),
		},
	}
	hex := strings.TrimPrefix(s.Digest, "sha256:")
	doc.Packages = append(doc.Packages, &spdx.Package{
		PackageName:             s.Repository,
		PackageSPDXIdentifier:   imageID,
		PackageVersion:          s.Digest,
		PackageDownloadLocation: noAssertion,
		PackageChecksums:        []common.Checksum{{Algorithm: common.SHA256, Value: hex}},
		PackageLicenseConcluded: noAssertion,
		PackageLicenseDeclared:  noAssertion,
		PackageCopyrightText:    noAssertion,
		PrimaryPackagePurpose:   "CONTAINER",
		PackageExternalReferences: []*spdx.PackageExternalReference{
			purlRef(fmt.Sprintf("pkg:oci/%s@%s?arch=%s", url.PathEscape(lastPathElement(s.Repository)), url.PathEscape(s.Digest), s.Arch)),
		},
	})
	doc.Relationships = append(doc.Relationships, &spdx.Relationship{
		RefA: common.MakeDocElementID("", "DOCUMENT"), RefB: common.MakeDocElementID("", string(imageID)), Relationship: "DESCRIBES",
	})
	used := map[common.ElementID]bool{imageID: true}
	contains := func(p *spdx.Package) {
		// Names that differ only in characters an identifier cannot hold
		// (libstdc++6) must still get identifiers of their own.
		id := p.PackageSPDXIdentifier
		for n := 2; used[p.PackageSPDXIdentifier]; n++ {
			p.PackageSPDXIdentifier = common.ElementID(fmt.Sprintf("%s-%d", id, n))
		}
		used[p.PackageSPDXIdentifier] = true
		doc.Packages = append(doc.Packages, p)
		doc.Relationships = append(doc.Relationships, &spdx.Relationship{
			RefA: common.MakeDocElementID("", string(imageID)), RefB: common.MakeDocElementID("", string(p.PackageSPDXIdentifier)), Relationship: "CONTAINS",
		})
	}
	refs := map[string]bool{}

	for _, d := range c.Debs {
		q := url.Values{"arch": {d.Architecture}}
		if s.Distro != "" {
			q.Set("distro", s.Distro)
		}
		if d.Source != d.Name || d.SourceVersion != d.Version {
			q.Set("upstream", d.Source+"@"+d.SourceVersion)
		}
		lic := noAssertion
		if len(d.Licenses) > 0 {
			lic = licenseExpression(d.Licenses, refs)
		}
		p := &spdx.Package{
			PackageName:             d.Name,
			PackageSPDXIdentifier:   elementID("deb", d.Name, d.Architecture),
			PackageVersion:          d.Version,
			PackageDownloadLocation: noAssertion,
			PackageSourceInfo:       fmt.Sprintf("built from Debian source package %s %s", d.Source, d.SourceVersion),
			PackageLicenseConcluded: noAssertion,
			PackageLicenseDeclared:  lic,
			PackageCopyrightText:    noAssertion,
			PackageHomePage:         d.Homepage,
			PrimaryPackagePurpose:   "LIBRARY",
			PackageExternalReferences: []*spdx.PackageExternalReference{
				purlRef(fmt.Sprintf("pkg:deb/debian/%s@%s?%s", url.PathEscape(d.Name), url.PathEscape(d.Version), q.Encode())),
			},
		}
		if d.Maintainer != "" {
			p.PackageSupplier = &common.Supplier{Supplier: d.Maintainer, SupplierType: "Person"}
		}
		if len(d.Licenses) > 0 {
			p.PackageLicenseComments = fmt.Sprintf("License: fields of /usr/share/doc/%s/copyright: %s", d.Name, strings.Join(d.Licenses, "; "))
		}
		contains(p)
	}

	for _, w := range c.Wheels {
		lic := noAssertion
		if w.License != "" {
			lic = licenseExpression([]string{w.License}, refs)
		}
		name := pypiName(w.Name)
		contains(&spdx.Package{
			PackageName:             w.Name,
			PackageSPDXIdentifier:   elementID("pypi", name, w.Version),
			PackageVersion:          w.Version,
			PackageDownloadLocation: noAssertion,
			PackageLicenseConcluded: noAssertion,
			PackageLicenseDeclared:  lic,
			PackageCopyrightText:    noAssertion,
			PrimaryPackagePurpose:   "LIBRARY",
			PackageExternalReferences: []*spdx.PackageExternalReference{
				purlRef(fmt.Sprintf("pkg:pypi/%s@%s", name, url.PathEscape(w.Version))),
			},
		})
	}

	for _, prog := range c.Programs {
		info := prog.Info
		goPkg := func(path, version, comment string) *spdx.Package {
			purl := "pkg:golang/" + path
			if version != "" && version != "(devel)" {
				purl += "@" + url.PathEscape(version)
			}
			return &spdx.Package{
				PackageName:               path,
				PackageSPDXIdentifier:     elementID("go", prog.Path, path),
				PackageVersion:            version,
				PackageDownloadLocation:   noAssertion,
				PackageLicenseConcluded:   noAssertion,
				PackageLicenseDeclared:    noAssertion,
				PackageCopyrightText:      noAssertion,
				PackageComment:            comment,
				PrimaryPackagePurpose:     "LIBRARY",
				PackageExternalReferences: []*spdx.PackageExternalReference{purlRef(purl)},
			}
		}
		main := goPkg(info.Main.Path, info.Main.Version, "the main module of "+prog.Path)
		main.PrimaryPackagePurpose = "APPLICATION"
		contains(main)
		std := goPkg("stdlib", strings.TrimPrefix(info.GoVersion, "go"), "Go's standard library in "+prog.Path)
		contains(std)
		for _, m := range info.Deps {
			if m.Replace != nil {
				m = m.Replace
			}
			contains(goPkg(m.Path, m.Version, "a Go module in "+prog.Path))
		}
	}

	ids := make([]string, 0, len(refs))
	for id := range refs {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	for _, id := range ids {
		doc.OtherLicenses = append(doc.OtherLicenses, &spdx.OtherLicense{
			LicenseIdentifier: id,
			LicenseName:       strings.TrimPrefix(id, "LicenseRef-"),
			ExtractedText:     "A licence named " + strings.TrimPrefix(id, "LicenseRef-") + " in the package's copyright or metadata file, which has no SPDX identifier; the text is in that file in the image.",
		})
	}
	return doc
}

// Write writes the document as indented JSON.
func Write(w io.Writer, doc *spdx.Document) error {
	return spdxjson.Write(doc, w, spdxjson.Indent("  "), spdxjson.EscapeHTML(false))
}

func purlRef(purl string) *spdx.PackageExternalReference {
	return &spdx.PackageExternalReference{Category: "PACKAGE-MANAGER", RefType: "purl", Locator: purl}
}

var idUnsafe = regexp.MustCompile(`[^A-Za-z0-9.-]+`)

// elementID makes an SPDX identifier (letters, digits, '.', '-') of parts.
func elementID(parts ...string) common.ElementID {
	for i, p := range parts {
		parts[i] = strings.Trim(idUnsafe.ReplaceAllString(p, "-"), "-")
	}
	return common.ElementID(strings.Join(parts, "-"))
}

// pypiName is the normalized project name (PEP 503), as purls spell it.
func pypiName(n string) string {
	return strings.ToLower(regexp.MustCompile(`[-_.]+`).ReplaceAllString(n, "-"))
}

func lastPathElement(repo string) string {
	return repo[strings.LastIndex(repo, "/")+1:]
}
