package contract

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"dagger/synapse/enginefake"
)

// The OCI layout the module's publish reads inside its container (ci/publish.go).
const containerLayout = "/src/.build/synapse/oci"

// The key the module mounts for the publisher (ci/publish.go).
const containerSignKey = "/run/secrets/cosign.key"

// TestPublishPrintsThePublishersLines runs the project's publisher (the CLI,
// go run . publish --dry-run) on an image layout against a registry, then the
// module's publish with the same settings, where the fake engine runs the
// exec the module asks for on this machine with the layout (and the signing
// key) mounted where the module expects them. Both must print the same tag
// lines, and log the same attachments (each platform's SBOM and provenance)
// and signatures.
func TestPublishPrintsThePublishersLines(t *testing.T) {
	labels := map[string]string{
		"org.opencontainers.image.title":    "synapse",
		"org.opencontainers.image.version":  "1.160.0",
		"org.opencontainers.image.revision": "abc1234def5678abc1234def5678abc1234def56",
		"dev.synapse-image.package-version": "1.160.0-1",
	}
	tests := []struct {
		name      string
		archs     []string
		artifacts bool // an SBOM and a provenance statement per platform in the layout
		sign      bool
		// What the CLI must log, so the comparison is about something.
		wantLog []string
	}{
		{name: "one platform", archs: []string{"amd64"},
			wantLog: []string{"note: no SBOM of linux/amd64 in "}},
		{name: "two platforms, attachments, signed", archs: []string{"amd64", "arm64"}, artifacts: true, sign: true,
			wantLog: []string{
				"SBOM linux/amd64", "SBOM linux/arm64", "provenance linux/amd64", "provenance linux/arm64",
				"0 pushed, 4 would push, 0 unchanged",
				"would sign",
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			layout := writeLayout(t, labels, tt.archs, tt.artifacts)
			comparePublish(t, layout, len(tt.archs), tt.sign, tt.wantLog)
		})
	}
}

// comparePublish publishes layout (written for the given number of
// platforms) with the CLI and with the module, and compares what they print.
func comparePublish(t *testing.T, layout string, platforms int, sign bool, wantLog []string) {
	repoRoot, err := filepath.Abs("../..")
	require.NoError(t, err)
	registry := strings.TrimPrefix(emptyRegistry(t).URL, "http://")
	env := append(os.Environ(), "DOCKER_CONFIG="+t.TempDir(), "REGISTRY_USERNAME=", "REGISTRY_PASSWORD=", "COSIGN_PASSWORD=")
	keyFile := ""
	if sign {
		keyFile = writeSignKey(t)
	}

	runPublisher := func(args []string) (string, string, error) {
		cmd := exec.Command(args[0], args[1:]...)
		cmd.Dir = repoRoot
		cmd.Env = env
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		out, err := cmd.Output()
		if err != nil {
			t.Logf("%s: %v\n%s", strings.Join(args, " "), err, stderr.String())
		}
		return string(out), stderr.String(), err
	}

	cliArgs := []string{"go", "run", ".", "publish", "--from", layout,
		"--registry", registry, "--repository", "test/synapse", "--package-tag", "--dry-run"}
	if sign {
		cliArgs = append(cliArgs, "--sign-key", keyFile)
	}
	cliOut, cliLog, err := runPublisher(cliArgs)
	require.NoError(t, err)
	cliLines := strings.Split(strings.TrimSpace(cliOut), "\n")
	require.Len(t, cliLines, 5, "the CLI's lines: %q", cliLines)
	for _, l := range cliLines {
		require.Contains(t, l, "(would push)")
	}
	for _, w := range wantLog {
		require.Contains(t, cliLog, w, "the CLI's log")
	}

	var ran []string
	var moduleLog string
	answer := func(object, field string, args map[string]string) (any, bool) {
		if field == "stdout" {
			if cmd, ok := lastExec(object); ok && isPublisher(cmd) {
				for i := range cmd {
					switch cmd[i] {
					case containerLayout:
						cmd[i] = layout
					case containerSignKey:
						// Only where the module mounted the key.
						if !strings.Contains(object, `withMountedSecret(path: "`+containerSignKey+`"`) {
							return enginefake.Failed("the key is not mounted at " + containerSignKey), true
						}
						cmd[i] = keyFile
					}
				}
				ran = cmd
				out, log, err := runPublisher(cmd)
				moduleLog = log
				if err != nil {
					return enginefake.Failed(err.Error()), true
				}
				return out, true
			}
		}
		return answers(object, field, args)
	}
	ctor, command := sourceOnly, "dagger call publish"
	if platforms > 1 {
		// The layout stands in for what the builder wrote for these.
		ctor, command = twoPlatforms, "dagger call --platforms linux/arm64,linux/amd64 publish"
	}
	c := call{
		name: "publish-dry-run", command: command + " --registry " + registry + " --repository test/synapse --package-tag --dry-run",
		ctorArgs: ctor, function: "Publish",
		args: func(e *enginefake.Engine) []enginefake.Arg {
			args := []enginefake.Arg{
				{Name: "registry", Value: jsonString(registry)},
				{Name: "repository", Value: jsonString("test/synapse")},
				{Name: "packageTag", Value: "true"},
				{Name: "dryRun", Value: "true"},
			}
			if sign {
				args = append(args, enginefake.Arg{Name: "signKey", Value: jsonString(e.Seed(`secret("file:./cosign.key")`))})
			}
			return args
		},
	}
	_, eng := recordWith(t, c, answer)
	require.NotEmpty(t, ran, "the module did not run the publisher")
	returned, ok := eng.Returned()
	require.True(t, ok, "the module returned nothing")
	var moduleLines []string
	require.NoError(t, json.Unmarshal([]byte(returned), &moduleLines))
	require.Equal(t, cliLines, moduleLines, "the module's publish printed other lines than the CLI (it ran %q)", ran)
	require.Equal(t, durations.ReplaceAllString(cliLog, "(time)"), durations.ReplaceAllString(moduleLog, "(time)"),
		"the module's publish attached or signed otherwise than the CLI (it ran %q)", ran)
}

// durations are the times the publisher logs, e.g. "(4ms)", which differ
// from run to run.
var durations = regexp.MustCompile(`\(\d[\d.hmnsµ]*\)`)

// writeSignKey writes an unencrypted ECDSA P-256 private key, which the
// publisher's --sign-key takes as it takes cosign's encrypted ones.
func writeSignKey(t *testing.T) string {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	der, err := x509.MarshalPKCS8PrivateKey(key)
	require.NoError(t, err)
	file := filepath.Join(t.TempDir(), "cosign.key")
	require.NoError(t, os.WriteFile(file, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), 0o600))
	return file
}

// writeLayout writes an OCI image layout as the builder writes it, to
// DIR/oci, and returns that: one small image with the given config labels
// for one architecture, or an index of one per architecture. With
// artifacts, it also writes each image's SBOM and provenance statement into
// the layout as the builder does, OCI 1.1 referrers of the image listed in
// index.json (just what the publisher reads of them: the artifact type,
// the subject and the file).
func writeLayout(t *testing.T, labels map[string]string, archs []string, artifacts bool) string {
	t.Helper()
	out := t.TempDir()
	dir := filepath.Join(out, "oci")
	require.NoError(t, os.MkdirAll(filepath.Join(dir, "blobs", "sha256"), 0o755))
	blob := func(b []byte) map[string]any {
		sum := sha256.Sum256(b)
		require.NoError(t, os.WriteFile(filepath.Join(dir, "blobs", "sha256", hex.EncodeToString(sum[:])), b, 0o644))
		return map[string]any{"digest": "sha256:" + hex.EncodeToString(sum[:]), "size": len(b)}
	}
	marshal := func(v any) []byte {
		b, err := json.Marshal(v)
		require.NoError(t, err)
		return b
	}

	var layer bytes.Buffer
	tw := tar.NewWriter(&layer)
	content := []byte("hello\n")
	require.NoError(t, tw.WriteHeader(&tar.Header{Name: "hello", Mode: 0o644, Size: int64(len(content))}))
	_, err := tw.Write(content)
	require.NoError(t, err)
	require.NoError(t, tw.Close())
	diffID := sha256.Sum256(layer.Bytes())
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	_, err = zw.Write(layer.Bytes())
	require.NoError(t, err)
	require.NoError(t, zw.Close())
	layerDesc := blob(gz.Bytes())
	layerDesc["mediaType"] = "application/vnd.oci.image.layer.v1.tar+gzip"

	var manifests, referrers []any
	for _, arch := range archs {
		configDesc := blob(marshal(map[string]any{
			"architecture": arch,
			"os":           "linux",
			"config":       map[string]any{"Labels": labels},
			"rootfs":       map[string]any{"type": "layers", "diff_ids": []string{"sha256:" + hex.EncodeToString(diffID[:])}},
		}))
		configDesc["mediaType"] = "application/vnd.oci.image.config.v1+json"
		manifestDesc := blob(marshal(map[string]any{
			"schemaVersion": 2,
			"mediaType":     "application/vnd.oci.image.manifest.v1+json",
			"config":        configDesc,
			"layers":        []any{layerDesc},
		}))
		manifestDesc["mediaType"] = "application/vnd.oci.image.manifest.v1+json"
		if artifacts {
			referrers = append(referrers, referrersOf(t, blob, arch, manifestDesc)...)
		}
		if len(archs) > 1 {
			manifestDesc["platform"] = map[string]any{"os": "linux", "architecture": arch}
		}
		manifests = append(manifests, manifestDesc)
	}
	if len(archs) > 1 {
		indexDesc := blob(marshal(map[string]any{
			"schemaVersion": 2,
			"mediaType":     "application/vnd.oci.image.index.v1+json",
			"manifests":     manifests,
		}))
		indexDesc["mediaType"] = "application/vnd.oci.image.index.v1+json"
		manifests = []any{indexDesc}
	}
	require.NoError(t, os.WriteFile(filepath.Join(dir, "index.json"), marshal(map[string]any{
		"schemaVersion": 2,
		"mediaType":     "application/vnd.oci.image.index.v1+json",
		"manifests":     append(manifests, referrers...),
	}), 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "oci-layout"), []byte(`{"imageLayoutVersion":"1.0.0"}`), 0o644))
	return dir
}

// referrersOf writes the SBOM and the provenance statement of the
// linux/arch image whose descriptor is subject as artifact manifests with
// that subject, through blob (which stores a blob in the layout), and
// returns their descriptors for index.json.
func referrersOf(t *testing.T, blob func([]byte) map[string]any, arch string, subject map[string]any) []any {
	t.Helper()
	digest := subject["digest"].(string)
	sbom := map[string]any{
		"spdxVersion":       "SPDX-2.3",
		"dataLicense":       "CC0-1.0",
		"SPDXID":            "SPDXRef-DOCUMENT",
		"name":              "synapse linux/" + arch,
		"documentNamespace": "https://synapse-image.invalid/spdx/test/synapse/" + digest,
		"creationInfo":      map[string]any{"created": "2026-01-01T00:00:00Z", "creators": []string{"Tool: contract-test"}},
	}
	statement := map[string]any{
		"_type":         "https://in-toto.io/Statement/v1",
		"subject":       []any{map[string]any{"name": "synapse", "digest": map[string]string{"sha256": strings.TrimPrefix(digest, "sha256:")}}},
		"predicateType": "https://slsa.dev/provenance/v1",
		"predicate":     map[string]any{},
	}
	var out []any
	for _, f := range []struct {
		artifactType string
		v            any
	}{{"application/spdx+json", sbom}, {"application/vnd.in-toto+json", statement}} {
		data, err := json.Marshal(f.v)
		require.NoError(t, err)
		config := blob([]byte("{}"))
		config["mediaType"] = "application/vnd.oci.empty.v1+json"
		layer := blob(data)
		layer["mediaType"] = f.artifactType
		manifest, err := json.Marshal(map[string]any{
			"schemaVersion": 2,
			"mediaType":     "application/vnd.oci.image.manifest.v1+json",
			"artifactType":  f.artifactType,
			"config":        config,
			"layers":        []any{layer},
			"subject":       map[string]any{"mediaType": subject["mediaType"], "digest": digest, "size": subject["size"]},
			"annotations":   map[string]string{"org.opencontainers.image.created": "2026-01-01T00:00:00Z"},
		})
		require.NoError(t, err)
		desc := blob(manifest)
		desc["mediaType"] = "application/vnd.oci.image.manifest.v1+json"
		desc["artifactType"] = f.artifactType
		out = append(out, desc)
	}
	return out
}

// emptyRegistry is a registry on loopback that has no images: every
// manifest is unknown, which is all a dry run asks about.
func emptyRegistry(t *testing.T) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Docker-Distribution-API-Version", "registry/2.0")
		if r.URL.Path == "/v2/" {
			w.WriteHeader(http.StatusOK)
			return
		}
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			t.Errorf("the registry got a write during a dry run: %s %s", r.Method, r.URL.Path)
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusNotFound)
		if r.Method == http.MethodGet {
			_, _ = w.Write([]byte(`{"errors":[{"code":"MANIFEST_UNKNOWN","message":"manifest unknown"}]}`))
		}
	}))
	t.Cleanup(srv.Close)
	return srv
}
