package sbom

import (
	"archive/tar"
	"bytes"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	spdxjson "github.com/spdx/tools-golang/json"
	"github.com/spdx/tools-golang/spdxlib"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/synapse-image/synapse-image/image/names"
	"github.com/synapse-image/synapse-image/image/publish"
	"github.com/synapse-image/synapse-image/internal/dockertest"
)

// TestSBOMOfTheBuiltImage reads the SBOM that `go run . build` wrote into
// the OCI layout and checks it against the image it is attached to: it names
// the image's digest and lists exactly the packages dpkg's status file in
// the image says are installed.
func TestSBOMOfTheBuiltImage(t *testing.T) {
	root := dockertest.RepoRoot(t)
	layout := filepath.Join(root, names.DefaultLayout())
	if _, err := os.Stat(filepath.Join(layout, "index.json")); err != nil {
		dockertest.Unavailable(t, "no OCI layout at %s: run `go run . build` first", layout)
	}
	// One image, or an index of every platform built (scripts/test.sh
	// builds linux/amd64 and linux/arm64): each has its own SBOM.
	a, atts, err := publish.ReadLayout(layout)
	require.NoError(t, err)
	imgs, err := publish.Images(a)
	require.NoError(t, err)
	for _, img := range imgs {
		cf, err := img.ConfigFile()
		require.NoError(t, err)
		t.Run(cf.OS+"/"+cf.Architecture, func(t *testing.T) { checkBuiltSBOM(t, img, atts) })
	}
}

// checkBuiltSBOM compares the SBOM the build attached to img in the layout
// with the Debian packages installed in img.
func checkBuiltSBOM(t *testing.T, img v1.Image, atts []publish.Attachment) {
	digest, err := img.Digest()
	require.NoError(t, err)
	var sboms [][]byte
	for _, a := range atts {
		if a.Subject == digest && a.ArtifactType == publish.ArtifactTypeSPDX {
			sboms = append(sboms, a.Data)
		}
	}
	require.Len(t, sboms, 1, "the build puts one SBOM per image in the layout, a referrer of the image")
	doc, err := spdxjson.Read(bytes.NewReader(sboms[0]))
	require.NoError(t, err)
	require.NoError(t, spdxlib.ValidateDocument(doc))
	assert.True(t, strings.HasSuffix(doc.DocumentNamespace, "/"+digest.String()), "the SBOM describes %s, not this image (%s)", doc.DocumentNamespace, digest)

	// The installed packages, counted straight from the image's dpkg status.
	var status []byte
	tr := tar.NewReader(mutate.Extract(img))
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		require.NoError(t, err)
		if strings.TrimPrefix(h.Name, "/") == "var/lib/dpkg/status" {
			status, err = io.ReadAll(tr)
			require.NoError(t, err)
		}
	}
	installed := map[string]bool{}
	for _, para := range bytes.Split(status, []byte("\n\n")) {
		var pkg, arch string
		ok := false
		for _, line := range strings.Split(string(para), "\n") {
			switch {
			case strings.HasPrefix(line, "Package: "):
				pkg = strings.TrimPrefix(line, "Package: ")
			case strings.HasPrefix(line, "Architecture: "):
				arch = strings.TrimPrefix(line, "Architecture: ")
			case line == "Status: install ok installed":
				ok = true
			}
		}
		if ok {
			installed[pkg+":"+arch] = true
		}
	}
	require.NotEmpty(t, installed)

	listed := map[string]bool{}
	for _, p := range doc.Packages {
		for _, r := range p.PackageExternalReferences {
			if strings.HasPrefix(r.Locator, "pkg:deb/debian/") {
				arch := r.Locator[strings.Index(r.Locator, "arch=")+len("arch="):]
				arch, _, _ = strings.Cut(arch, "&")
				listed[p.PackageName+":"+arch] = true
			}
		}
	}
	assert.Equal(t, len(installed), len(listed), "Debian packages in the SBOM vs installed in the image")
	assert.Equal(t, installed, listed)
	t.Logf("%s: %d Debian packages, %d SPDX packages in all", digest, len(listed), len(doc.Packages))
}
