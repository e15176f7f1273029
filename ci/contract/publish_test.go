package contract

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"dagger/synapse/enginefake"
)

// The OCI layout the module's publish reads inside its container (ci/publish.go).
const containerLayout = "/src/.build/synapse/oci"

// TestPublishPrintsThePublishersLines runs the project's publisher (the CLI,
// go run . publish --dry-run) on an image layout against a registry, then the
// module's publish with the same settings, where the fake engine runs the
// exec the module asks for on this machine with the layout mounted where the
// module expects it. Both must print the same tag lines.
func TestPublishPrintsThePublishersLines(t *testing.T) {
	repoRoot, err := filepath.Abs("../..")
	require.NoError(t, err)
	layout := writeLayout(t, map[string]string{
		"org.opencontainers.image.title":    "synapse",
		"org.opencontainers.image.version":  "1.160.0",
		"org.opencontainers.image.revision": "abc1234def5678abc1234def5678abc1234def56",
		"dev.synapse-image.package-version": "1.160.0-1",
	})
	registry := strings.TrimPrefix(emptyRegistry(t).URL, "http://")
	env := append(os.Environ(), "DOCKER_CONFIG="+t.TempDir(), "REGISTRY_USERNAME=", "REGISTRY_PASSWORD=")

	runPublisher := func(args []string) (string, error) {
		cmd := exec.Command(args[0], args[1:]...)
		cmd.Dir = repoRoot
		cmd.Env = env
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		out, err := cmd.Output()
		if err != nil {
			t.Logf("%s: %v\n%s", strings.Join(args, " "), err, stderr.String())
		}
		return string(out), err
	}

	cliOut, err := runPublisher([]string{"go", "run", ".", "publish", "--from", layout,
		"--registry", registry, "--repository", "test/synapse", "--package-tag", "--dry-run"})
	require.NoError(t, err)
	cliLines := strings.Split(strings.TrimSpace(cliOut), "\n")
	require.Len(t, cliLines, 5, "the CLI's lines: %q", cliLines)
	for _, l := range cliLines {
		require.Contains(t, l, "(would push)")
	}

	var ran []string
	answer := func(object, field string, args map[string]string) (any, bool) {
		if field == "stdout" {
			if cmd, ok := lastExec(object); ok && isPublisher(cmd) {
				for i := range cmd {
					if cmd[i] == containerLayout {
						cmd[i] = layout
					}
				}
				ran = cmd
				out, err := runPublisher(cmd)
				if err != nil {
					return enginefake.Failed(err.Error()), true
				}
				return out, true
			}
		}
		return answers(object, field, args)
	}
	c := call{
		name: "publish-dry-run", command: "dagger call publish --registry " + registry + " --repository test/synapse --package-tag --dry-run",
		ctorArgs: sourceOnly, function: "Publish",
		args: func(*enginefake.Engine) []enginefake.Arg {
			return []enginefake.Arg{
				{Name: "registry", Value: jsonString(registry)},
				{Name: "repository", Value: jsonString("test/synapse")},
				{Name: "packageTag", Value: "true"},
				{Name: "dryRun", Value: "true"},
			}
		},
	}
	_, eng := recordWith(t, c, answer)
	require.NotEmpty(t, ran, "the module did not run the publisher")
	returned, ok := eng.Returned()
	require.True(t, ok, "the module returned nothing")
	var moduleLines []string
	require.NoError(t, json.Unmarshal([]byte(returned), &moduleLines))
	require.Equal(t, cliLines, moduleLines, "the module's publish printed other lines than the CLI (it ran %q)", ran)
}

// writeLayout writes an OCI image layout holding one small image with the
// given config labels, as the builder writes it, and returns its directory.
func writeLayout(t *testing.T, labels map[string]string) string {
	t.Helper()
	dir := t.TempDir()
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
	configDesc := blob(marshal(map[string]any{
		"architecture": "amd64",
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
	require.NoError(t, os.WriteFile(filepath.Join(dir, "index.json"), marshal(map[string]any{
		"schemaVersion": 2,
		"mediaType":     "application/vnd.oci.image.index.v1+json",
		"manifests":     []any{manifestDesc},
	}), 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "oci-layout"), []byte(`{"imageLayoutVersion":"1.0.0"}`), 0o644))
	return dir
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
