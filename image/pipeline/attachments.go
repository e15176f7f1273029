package pipeline

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	spdxjson "github.com/spdx/tools-golang/json"

	"github.com/synapse-image/synapse-image/image/names"
	"github.com/synapse-image/synapse-image/image/provenance"
	"github.com/synapse-image/synapse-image/image/publish"
)

// attachments reads the SBOM and the provenance the build wrote beside the
// layout dir (names.SBOMFile, names.ProvenanceFile: the layout's parent)
// for img's platform. Both must describe img: a file of another build is
// an error, not something to publish. Missing files give no attachment and
// a note (a layout written elsewhere with --oci has none beside it).
func attachments(layoutDir string, img v1.Image, note func(string, ...any)) ([]publish.Attachment, error) {
	digest, err := img.Digest()
	if err != nil {
		return nil, err
	}
	cf, err := img.ConfigFile()
	if err != nil {
		return nil, err
	}
	dir := filepath.Dir(filepath.Clean(layoutDir))
	platform := cf.OS + "/" + cf.Architecture
	// The file names are names.SBOMFile's and names.ProvenanceFile's, whatever the recipe's name.
	files := []struct {
		kind, file, artifactType string
		subject                  func([]byte) (string, error)
	}{
		{"SBOM", filepath.Base(names.SBOMFile("", cf.Architecture)), publish.ArtifactTypeSPDX, sbomSubject},
		{"provenance", filepath.Base(names.ProvenanceFile("", cf.Architecture)), publish.ArtifactTypeInToto, provenanceSubject},
	}
	var out []publish.Attachment
	for _, f := range files {
		path := filepath.Join(dir, f.file)
		data, err := os.ReadFile(path)
		if errors.Is(err, fs.ErrNotExist) {
			note("no %s at %s: none attached", f.kind, path)
			continue
		}
		if err != nil {
			return nil, err
		}
		subject, err := f.subject(data)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		if subject != digest.String() {
			return nil, fmt.Errorf("%s describes %s, not the image in %s (%s): build again", path, subject, layoutDir, digest)
		}
		out = append(out, publish.Attachment{
			Subject: digest, ArtifactType: f.artifactType, Data: data, Created: cf.Created.Time,
			Name: f.kind + " " + platform,
		})
	}
	return out, nil
}

// sbomSubject is the image digest an SBOM describes: the end of its
// document namespace (image/sbom).
func sbomSubject(data []byte) (string, error) {
	doc, err := spdxjson.Read(bytes.NewReader(data))
	if err != nil {
		return "", fmt.Errorf("SBOM: %w", err)
	}
	i := strings.LastIndex(doc.DocumentNamespace, "/sha256:")
	if i < 0 {
		return "", fmt.Errorf("SBOM: document namespace %q names no image digest", doc.DocumentNamespace)
	}
	return doc.DocumentNamespace[i+1:], nil
}

func provenanceSubject(data []byte) (string, error) {
	st, err := provenance.Read(bytes.NewReader(data))
	if err != nil {
		return "", err
	}
	return st.SubjectDigest(), nil
}
