package sbom

import (
	"archive/tar"
	"bytes"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	spdxjson "github.com/spdx/tools-golang/json"
	spdx "github.com/spdx/tools-golang/spdx/v2/v2_3"
	"github.com/spdx/tools-golang/spdxlib"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const testStatus = `Package: libc6
Status: install ok installed
Architecture: amd64
Multi-Arch: same
Source: glibc (2.41-12)
Version: 2.41-12
Maintainer: GNU Libc Maintainers <debian-glibc@lists.debian.org>
Description: GNU C Library
 a continuation line: Package: not-a-package

Package: matrix-synapse
Status: install ok installed
Architecture: all
Version: 1.160.0-1
Homepage: https://element-hq.github.io/synapse

Package: libgcc-s1
Status: install ok installed
Architecture: amd64
Source: gcc-15 (15.2.0-4)
Version: 1:15.2.0-4

Package: removed-one
Status: deinstall ok config-files
Architecture: amd64
Version: 1.0-1

Package: libstdc++6
Status: install ok installed
Architecture: amd64
Source: gcc-15
Version: 15.2.0-4
`

const dep5 = `Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/
Upstream-Name: synapse

Files: *
Copyright: The Matrix.org Foundation C.I.C.
License: AGPL-3+

Files: debian/*
License: GPL-2+ or Artistic

Files: synapse/vendored/*
License: Expat

License: AGPL-3+
 The full text.
`

func tarLayer(t *testing.T, files map[string][]byte) v1.Layer {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for name, data := range files {
		require.NoError(t, tw.WriteHeader(&tar.Header{Name: name, Mode: 0o644, Size: int64(len(data)), Typeflag: tar.TypeReg}))
		_, err := tw.Write(data)
		require.NoError(t, err)
	}
	require.NoError(t, tw.Close())
	l, err := tarball.LayerFromOpener(func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(buf.Bytes())), nil })
	require.NoError(t, err)
	return l
}

var (
	startOnce sync.Once
	startBin  string
	startErr  error
)

func TestMain(m *testing.M) {
	code := m.Run()
	if startBin != "" {
		os.RemoveAll(filepath.Dir(startBin))
	}
	os.Exit(code)
}

// startBinary builds the project's /start (a Go program with module
// dependencies; a test binary has none in its build info) once.
func startBinary(t *testing.T) string {
	t.Helper()
	startOnce.Do(func() {
		dir, err := os.MkdirTemp("", "sbom-test-")
		if err != nil {
			startErr = err
			return
		}
		startBin = filepath.Join(dir, "start")
		cmd := exec.Command("go", "build", "-trimpath", "-o", startBin, "github.com/synapse-image/synapse-image/rootfs/start")
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
		if out, err := cmd.CombinedOutput(); err != nil {
			startErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	require.NoError(t, startErr)
	return startBin
}

// goVersionDeps is what `go version -m` says of a binary: its Go version
// and "path@version" of each dependency (replacements applied).
func goVersionDeps(t *testing.T, bin string) (string, []string) {
	t.Helper()
	out, err := exec.Command("go", "version", "-m", bin).Output()
	require.NoError(t, err)
	var goVersion string
	var deps []string
	for i, line := range strings.Split(string(out), "\n") {
		f := strings.Fields(line)
		switch {
		case i == 0 && len(f) == 2:
			goVersion = f[1]
		case len(f) >= 3 && f[0] == "dep":
			deps = append(deps, f[1]+"@"+f[2])
		case len(f) >= 3 && f[0] == "=>":
			deps[len(deps)-1] = f[1] + "@" + f[2]
		}
	}
	return goVersion, deps
}

// testImage is a two-layer image like the builder's: a Debian root file
// system with a wheel below /usr/local, then a layer with /start.
func testImage(t *testing.T) v1.Image {
	t.Helper()
	self, err := os.ReadFile(startBinary(t))
	require.NoError(t, err)
	rootfs := tarLayer(t, map[string][]byte{
		"var/lib/dpkg/status":                                                     []byte(testStatus),
		"usr/share/doc/matrix-synapse/copyright":                                  []byte(dep5),
		"usr/share/doc/libc6/copyright":                                           []byte("This is the Debian prepackaged version of the GNU C Library.\nLicense: LGPL-2.1+\n"),
		"usr/share/doc/libgcc-s1/copyright":                                       []byte("Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/\n\nFiles: *\nLicense: GPL-3+ with GCC-exception-3.1\n"),
		"usr/lib/python3/dist-packages/twisted-25.5.0.dist-info/METADATA":         []byte("Name: Twisted\nVersion: 25.5.0\n"),
		"usr/local/lib/python3.14/dist-packages/Foo_Bar-2.0.1.dist-info/METADATA": []byte("Metadata-Version: 2.4\nName: Foo_Bar\nVersion: 2.0.1\nLicense-Expression: Apache-2.0\n\nThe description.\nName: not this\n"),
	})
	project := tarLayer(t, map[string][]byte{"start": self})
	img, err := mutate.AppendLayers(empty.Image, rootfs, project)
	require.NoError(t, err)
	return img
}

func TestSBOMParsesBackWithEveryPackage(t *testing.T) {
	img := testImage(t)
	c, err := Scan(img, []string{"/start"})
	require.NoError(t, err)
	digest, err := img.Digest()
	require.NoError(t, err)
	var buf bytes.Buffer
	require.NoError(t, Write(&buf, Document(c, Subject{
		Repository: "synapse", Digest: digest.String(), Arch: "amd64", Distro: "debian-sid",
		Created: time.Unix(1764374400, 0),
	})))

	doc, err := spdxjson.Read(bytes.NewReader(buf.Bytes()))
	require.NoError(t, err, buf.String())
	require.NoError(t, spdxlib.ValidateDocument(doc), "unique identifiers, every relationship's ends exist")
	described, err := spdxlib.GetDescribedPackageIDs(doc)
	require.NoError(t, err)
	assert.Equal(t, "image", string(described[0]))
	assert.Equal(t, spdx.Version, doc.SPDXVersion)
	assert.Equal(t, "2025-11-29T00:00:00Z", doc.CreationInfo.Created)
	assert.Contains(t, doc.DocumentNamespace, digest.Hex)

	byPurl := map[string]*spdx.Package{}
	types := map[string]int{}
	ids := map[string]bool{}
	for _, p := range doc.Packages {
		require.Len(t, p.PackageExternalReferences, 1, p.PackageName)
		purl := p.PackageExternalReferences[0].Locator
		byPurl[purl] = p
		types[strings.SplitN(strings.TrimPrefix(purl, "pkg:"), "/", 2)[0]]++
		assert.False(t, ids[string(p.PackageSPDXIdentifier)], "duplicate SPDXID %s", p.PackageSPDXIdentifier)
		ids[string(p.PackageSPDXIdentifier)] = true
	}
	// Every installed package of the dpkg status, and nothing else.
	assert.Equal(t, 4, types["deb"], "installed packages in the dpkg status")
	assert.Equal(t, 1, types["pypi"], "wheels below /usr/local (Debian's dist-info belong to their deb)")
	assert.Equal(t, 1, types["oci"])

	tests := []struct {
		purl, name, version, license string
	}{
		{"pkg:deb/debian/libc6@2.41-12?arch=amd64&distro=debian-sid&upstream=glibc%402.41-12", "libc6", "2.41-12", "NOASSERTION"},
		{"pkg:deb/debian/matrix-synapse@1.160.0-1?arch=all&distro=debian-sid", "matrix-synapse", "1.160.0-1",
			"AGPL-3.0-or-later AND (GPL-2.0-or-later OR Artistic-1.0-Perl) AND MIT"},
		{"pkg:deb/debian/libgcc-s1@1:15.2.0-4?arch=amd64&distro=debian-sid&upstream=gcc-15%4015.2.0-4", "libgcc-s1", "1:15.2.0-4",
			"LicenseRef-GPL-3-or-later-with-GCC-exception-3.1"},
		{"pkg:deb/debian/libstdc++6@15.2.0-4?arch=amd64&distro=debian-sid&upstream=gcc-15%4015.2.0-4", "libstdc++6", "15.2.0-4", "NOASSERTION"},
		{"pkg:pypi/foo-bar@2.0.1", "Foo_Bar", "2.0.1", "Apache-2.0"},
	}
	for _, tt := range tests {
		p, ok := byPurl[tt.purl]
		if !assert.True(t, ok, "no package with purl %s; have %v", tt.purl, keys(byPurl)) {
			continue
		}
		assert.Equal(t, tt.name, p.PackageName)
		assert.Equal(t, tt.version, p.PackageVersion)
		assert.Equal(t, tt.license, p.PackageLicenseDeclared, tt.purl)
	}
	assert.Equal(t, "built from Debian source package glibc 2.41-12", byPurl["pkg:deb/debian/libc6@2.41-12?arch=amd64&distro=debian-sid&upstream=glibc%402.41-12"].PackageSourceInfo)
	require.Len(t, doc.OtherLicenses, 1, "every LicenseRef used is declared")
	assert.Equal(t, "LicenseRef-GPL-3-or-later-with-GCC-exception-3.1", doc.OtherLicenses[0].LicenseIdentifier)

	// /start's modules, as `go version -m` lists them.
	goVersion, deps := goVersionDeps(t, startBinary(t))
	require.NotEmpty(t, deps)
	assert.Contains(t, byPurl, "pkg:golang/stdlib@"+strings.TrimPrefix(goVersion, "go"))
	assert.Contains(t, byPurl, "pkg:golang/github.com/synapse-image/synapse-image", "the main module")
	for _, d := range deps {
		assert.Contains(t, byPurl, "pkg:golang/"+d)
	}
	assert.Equal(t, len(deps)+2, types["golang"], "the main module, the standard library and every dependency")

	// Every package hangs off the image, which the document describes.
	contains := 0
	for _, r := range doc.Relationships {
		switch r.Relationship {
		case "CONTAINS":
			contains++
			assert.Equal(t, "image", string(r.RefA.ElementRefID))
		case "DESCRIBES":
			assert.Equal(t, "image", string(r.RefB.ElementRefID))
		}
	}
	assert.Equal(t, len(doc.Packages)-1, contains)
}

func TestSBOMIsReproducible(t *testing.T) {
	img := testImage(t)
	write := func() string {
		c, err := Scan(img, []string{"/start"})
		require.NoError(t, err)
		var buf bytes.Buffer
		require.NoError(t, Write(&buf, Document(c, Subject{Repository: "synapse", Digest: "sha256:00", Arch: "amd64", Created: time.Unix(0, 0)})))
		return buf.String()
	}
	assert.Equal(t, write(), write())
}

func TestScanErrors(t *testing.T) {
	_, err := Scan(empty.Image, nil)
	assert.ErrorContains(t, err, "no /var/lib/dpkg/status")
	_, err = Scan(testImage(t), []string{"/usr/bin/missing"})
	assert.ErrorContains(t, err, "program /usr/bin/missing: not in the image")
}

func TestLicenseExpression(t *testing.T) {
	tests := []struct {
		in   []string
		want string
		refs []string
	}{
		{[]string{"GPL-2+"}, "GPL-2.0-or-later", nil},
		{[]string{"Expat", "expat"}, "MIT", nil},
		{[]string{"GPL-2+ or Artistic"}, "GPL-2.0-or-later OR Artistic-1.0-Perl", nil},
		{[]string{"BSD-3-clause", "GPL-2+ or Artistic"}, "BSD-3-Clause AND (GPL-2.0-or-later OR Artistic-1.0-Perl)", nil},
		{[]string{"LGPL-2.1+, and GPL-2+"}, "LGPL-2.1-or-later AND GPL-2.0-or-later", nil},
		{[]string{"public-domain"}, "LicenseRef-public-domain", []string{"LicenseRef-public-domain"}},
		{[]string{"GPL-2+ or"}, "GPL-2.0-or-later", nil},
		{[]string{""}, "NOASSERTION", nil},
	}
	for _, tt := range tests {
		refs := map[string]bool{}
		assert.Equal(t, tt.want, licenseExpression(tt.in, refs), "%q", tt.in)
		assert.Equal(t, len(tt.refs), len(refs), "%q", tt.in)
		for _, r := range tt.refs {
			assert.True(t, refs[r], r)
		}
	}
}

func keys(m map[string]*spdx.Package) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}

func TestLicenseExpressionListsEachTermOnce(t *testing.T) {
	refs := map[string]bool{}
	assert.Equal(t, "Apache-2.0 AND AGPL-3.0-or-later AND MIT",
		licenseExpression([]string{"Apache-2.0 and AGPL-3+", "AGPL-3+", "Expat and Apache-2.0"}, refs))
}
