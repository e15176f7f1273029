package sbom

import (
	"regexp"
	"strings"
)

// dep5ToSPDX maps the short names Debian's copyright files use
// (copyright-format 1.0, "License Specification") to SPDX identifiers,
// lower-cased; a trailing "+" means "or any later version".
var dep5ToSPDX = map[string]string{
	"apache-2.0": "Apache-2.0", "artistic": "Artistic-1.0-Perl", "artistic-2.0": "Artistic-2.0",
	"bsd-2-clause": "BSD-2-Clause", "bsd-3-clause": "BSD-3-Clause", "bsd-4-clause": "BSD-4-Clause",
	"cc0-1.0": "CC0-1.0", "cc-by-3.0": "CC-BY-3.0", "cc-by-4.0": "CC-BY-4.0", "cc-by-sa-3.0": "CC-BY-SA-3.0", "cc-by-sa-4.0": "CC-BY-SA-4.0",
	"expat": "MIT", "mit": "MIT", "isc": "ISC", "zlib": "Zlib", "x11": "X11", "openssl": "OpenSSL",
	"psf-2": "PSF-2.0", "psf-2.0": "PSF-2.0", "python": "Python-2.0", "python-2.0": "Python-2.0", "curl": "curl",
	"mpl-1.1": "MPL-1.1", "mpl-2.0": "MPL-2.0", "unicode-dfs-2016": "Unicode-DFS-2016", "0bsd": "0BSD",
	"bsl-1.0": "BSL-1.0", "wtfpl": "WTFPL", "ofl-1.1": "OFL-1.1", "unlicense": "Unlicense",
	"gpl-1": "GPL-1.0-only", "gpl-2": "GPL-2.0-only", "gpl-3": "GPL-3.0-only",
	"lgpl-2": "LGPL-2.0-only", "lgpl-2.1": "LGPL-2.1-only", "lgpl-3": "LGPL-3.0-only",
	"agpl-3": "AGPL-3.0-only", "gfdl-1.2": "GFDL-1.2-only", "gfdl-1.3": "GFDL-1.3-only",
	"gpl-1+": "GPL-1.0-or-later", "gpl-2+": "GPL-2.0-or-later", "gpl-3+": "GPL-3.0-or-later",
	"lgpl-2+": "LGPL-2.0-or-later", "lgpl-2.1+": "LGPL-2.1-or-later", "lgpl-3+": "LGPL-3.0-or-later",
	"agpl-3+": "AGPL-3.0-or-later", "gfdl-1.2+": "GFDL-1.2-or-later", "gfdl-1.3+": "GFDL-1.3-or-later",
	// Already SPDX (PEP 639 License-Expression, newer copyright files).
	"gpl-2.0-only": "GPL-2.0-only", "gpl-2.0-or-later": "GPL-2.0-or-later", "gpl-3.0-only": "GPL-3.0-only",
	"gpl-3.0-or-later": "GPL-3.0-or-later", "lgpl-2.1-or-later": "LGPL-2.1-or-later", "lgpl-3.0-or-later": "LGPL-3.0-or-later",
	"agpl-3.0-only": "AGPL-3.0-only", "agpl-3.0-or-later": "AGPL-3.0-or-later",
}

var refUnsafe = regexp.MustCompile(`[^A-Za-z0-9.-]+`)

// licenseExpression turns License: values into one SPDX expression, the
// values joined with AND. Within a value, "or"/"and" (any case, with or
// without a comma) are operators and every other run of words is one
// licence; one without an SPDX identifier becomes LicenseRef-<name>, and
// is added to refs (the document lists each).
func licenseExpression(values []string, refs map[string]bool) string {
	// Terms of a conjunction are listed once each: copyright files name the
	// same licence in many paragraphs.
	var terms []string
	seen := map[string]bool{}
	for _, v := range values {
		e := valueExpression(v, refs)
		parts := []string{e}
		if !strings.Contains(e, " OR ") {
			parts = strings.Split(e, " AND ")
		} else if len(values) > 1 {
			parts = []string{"(" + e + ")"}
		}
		for _, p := range parts {
			if p != "" && !seen[p] {
				seen[p] = true
				terms = append(terms, p)
			}
		}
	}
	if len(terms) == 0 {
		return noAssertion
	}
	return strings.Join(terms, " AND ")
}

func valueExpression(v string, refs map[string]bool) string {
	var out, words []string
	flush := func() {
		if len(words) > 0 {
			out = append(out, licenseID(strings.Join(words, " "), refs))
			words = nil
		}
	}
	for _, w := range strings.Fields(strings.ReplaceAll(v, ",", " ")) {
		switch strings.ToLower(w) {
		case "or", "and":
			flush()
			if len(out) > 0 {
				out = append(out, strings.ToUpper(w))
			}
		default:
			words = append(words, strings.Trim(w, "()"))
		}
	}
	flush()
	// Drop a dangling operator ("GPL-2+ or").
	for len(out) > 0 && (out[len(out)-1] == "OR" || out[len(out)-1] == "AND") {
		out = out[:len(out)-1]
	}
	return strings.Join(out, " ")
}

func licenseID(name string, refs map[string]bool) string {
	if id, ok := dep5ToSPDX[strings.ToLower(name)]; ok {
		return id
	}
	ref := "LicenseRef-" + strings.Trim(refUnsafe.ReplaceAllString(strings.ReplaceAll(name, "+", "-or-later"), "-"), "-")
	refs[ref] = true
	return ref
}
