// Package contract runs the module's functions the way a Dagger engine does
// (the compiled module, one process per function call, talking GraphQL to
// the session port) against enginefake, and compares what the module asked
// the engine to do with golden files in testdata/. Run with -update to
// rewrite them after a deliberate change, and review the diff.
package contract

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"flag"
	"fmt"
	"net"
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

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

// moduleBin is the module compiled once for all tests, as the engine's Go
// runtime would compile it.
var moduleBin string

func TestMain(m *testing.M) {
	flag.Parse()
	os.Exit(run(m))
}

func run(m *testing.M) int {
	dir, err := os.MkdirTemp("", "dagger-contract-")
	if err != nil {
		fmt.Fprintln(os.Stderr, "contract: temp dir:", err)
		return 1
	}
	defer os.RemoveAll(dir)
	moduleBin = filepath.Join(dir, "synapse-module")
	build := exec.Command("go", "build", "-o", moduleBin, "dagger/synapse")
	if out, err := build.CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "contract: build the module: %v\n%s", err, out)
		return 1
	}
	return m.Run()
}

// The fake's answers to what only a real engine knows.
const (
	enginePlatform = "linux/amd64"
	goTestOutput   = "=== RUN   TestRemoteHomeserver\n--- PASS: TestRemoteHomeserver\nPASS\n"
)

func answers(object, field string, args map[string]string) (any, bool) {
	switch field {
	case "defaultPlatform":
		return enginePlatform, true
	case "stdout":
		exec, ok := lastExec(object)
		switch {
		case !ok:
		case isPublisher(exec):
			return fakePublisher(exec[4:]), true
		case len(exec) > 1 && exec[0] == "go" && exec[1] == "test":
			return goTestOutput, true
		}
	}
	return nil, false
}

// lastExec is the command line of the last withExec in a one-line chain.
func lastExec(object string) ([]string, bool) {
	found := withExecArgs.FindAllStringSubmatch(object, -1)
	if len(found) == 0 {
		return nil, false
	}
	var args []string
	if err := json.Unmarshal([]byte(found[len(found)-1][1]), &args); err != nil {
		return nil, false
	}
	return args, true
}

var withExecArgs = regexp.MustCompile(`withExec\(args: (\[[^\]]*\])`)

func isPublisher(exec []string) bool {
	return len(exec) >= 4 && strings.Join(exec[:4], " ") == "go run . publish"
}

// fakePublisher answers for `go run . publish ARGS` what the publisher prints
// for the image of the tests (Synapse 1.160.0-1 at revision abc1234) pushed to
// an empty registry, or fails as it does for a registry with a scheme.
// TestPublishPrintsThePublishersLines checks the module against the real one.
func fakePublisher(args []string) any {
	registry, repository, dryRun, noLatest, packageTag := "", "synapse", false, false, false
	var tags []string
	for i := 0; i < len(args); i++ {
		switch args[i] {
		case "--registry":
			i++
			registry = args[i]
		case "--repository":
			i++
			repository = args[i]
		case "--tag":
			i++
			tags = append(tags, args[i])
		case "--dry-run":
			dryRun = true
		case "--no-latest":
			noLatest = true
		case "--package-tag":
			packageTag = true
		}
	}
	if strings.Contains(registry, "://") {
		return enginefake.Failed(`process "go run . publish" did not complete successfully: exit code: 2` +
			"\nStderr:\npublish: registry " + registry + ": expected HOST[:PORT] without a scheme")
	}
	if len(tags) == 0 {
		tags = []string{"v1.160.0"}
		if packageTag {
			tags = append(tags, "v1.160.0-1")
		}
		tags = append(tags, "v1.160")
		if !noLatest {
			tags = append(tags, "latest")
		}
		tags = append(tags, "sha-abc1234")
	}
	action := "pushed"
	if dryRun {
		action = "would push"
	}
	sum := sha256.Sum256([]byte("the image"))
	var out strings.Builder
	for _, t := range tags {
		fmt.Fprintf(&out, "%s/%s:%s → sha256:%s (%s)\n", registry, repository, t, hex.EncodeToString(sum[:]), action)
	}
	return out.String()
}

// call is one `dagger call`: the constructor's arguments, then a function.
type call struct {
	name     string // golden file: testdata/<name>.golden
	command  string // the dagger command line it stands for, for the reader
	ctorArgs func(e *enginefake.Engine) []enginefake.Arg
	function string
	args     func(e *enginefake.Engine) []enginefake.Arg
	wantErr  bool
}

func sourceOnly(e *enginefake.Engine) []enginefake.Arg {
	return []enginefake.Arg{{Name: "source", Value: jsonString(e.Seed(`hostDirectory(".", defaultPath: "/")`))}}
}

// twoPlatforms lists the engine's platform second, so the tests see that
// build takes it, not the first.
func twoPlatforms(e *enginefake.Engine) []enginefake.Arg {
	return append(sourceOnly(e), enginefake.Arg{Name: "platforms", Value: `["linux/arm64","linux/amd64"]`})
}

func noArgs(*enginefake.Engine) []enginefake.Arg { return nil }

func jsonString(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

func TestFunctions(t *testing.T) {
	calls := []call{
		{
			name: "build", command: "dagger call build",
			ctorArgs: sourceOnly, function: "Build", args: noArgs,
		},
		{
			name: "build-arm64-wheels", command: "dagger call --platforms linux/arm64 --wheels ./wheels build",
			ctorArgs: func(e *enginefake.Engine) []enginefake.Arg {
				return append(sourceOnly(e),
					enginefake.Arg{Name: "wheels", Value: jsonString(e.Seed(`hostDirectory("./wheels")`))},
					enginefake.Arg{Name: "platforms", Value: `["linux/arm64"]`})
			},
			function: "Build", args: noArgs,
		},
		{
			// One run of the builder for both; the engine's platform's image.
			name: "build-two-platforms", command: "dagger call --platforms linux/arm64,linux/amd64 build",
			ctorArgs: twoPlatforms, function: "Build", args: noArgs,
		},
		{
			name: "artifacts-two-platforms", command: "dagger call --platforms linux/arm64,linux/amd64 artifacts export --path .build/synapse/oci",
			ctorArgs: twoPlatforms, function: "Artifacts", args: noArgs,
		},
		{
			name: "test-two-platforms", command: "dagger call --platforms linux/arm64,linux/amd64 test",
			ctorArgs: twoPlatforms, function: "Test", args: noArgs,
		},
		{
			name: "test", command: "dagger call test",
			ctorArgs: sourceOnly, function: "Test", args: noArgs,
		},
		{
			name: "publish", command: "dagger call publish --registry ghcr.io --repository example/synapse --username bot --password env:TOKEN",
			ctorArgs: sourceOnly, function: "Publish",
			args: func(e *enginefake.Engine) []enginefake.Arg {
				return []enginefake.Arg{
					{Name: "registry", Value: jsonString("ghcr.io")},
					{Name: "repository", Value: jsonString("example/synapse")},
					{Name: "username", Value: jsonString("bot")},
					{Name: "password", Value: jsonString(e.Seed(`secret("env:TOKEN")`))},
				}
			},
		},
		{
			name: "publish-tags", command: "dagger call publish --registry 127.0.0.1:5000 --repository test/synapse --tags edge,nightly",
			ctorArgs: sourceOnly, function: "Publish",
			args: func(*enginefake.Engine) []enginefake.Arg {
				return []enginefake.Arg{
					{Name: "registry", Value: jsonString("127.0.0.1:5000")},
					{Name: "repository", Value: jsonString("test/synapse")},
					{Name: "tags", Value: `["edge","nightly"]`},
				}
			},
		},
		{
			name: "publish-flags", command: "dagger call publish --registry registry.example.org --no-latest --package-tag --no-overwrite --dry-run --insecure",
			ctorArgs: sourceOnly, function: "Publish",
			args: func(*enginefake.Engine) []enginefake.Arg {
				return []enginefake.Arg{
					{Name: "registry", Value: jsonString("registry.example.org")},
					{Name: "noLatest", Value: "true"},
					{Name: "packageTag", Value: "true"},
					{Name: "noOverwrite", Value: "true"},
					{Name: "dryRun", Value: "true"},
					{Name: "insecure", Value: "true"},
				}
			},
		},
		{
			name: "publish-two-platforms-signed", command: "dagger call --platforms linux/arm64,linux/amd64 publish --registry ghcr.io --sign-key file:./cosign.key --sign-password env:COSIGN_PASSWORD",
			ctorArgs: twoPlatforms, function: "Publish",
			args: func(e *enginefake.Engine) []enginefake.Arg {
				return []enginefake.Arg{
					{Name: "registry", Value: jsonString("ghcr.io")},
					{Name: "signKey", Value: jsonString(e.Seed(`secret("file:./cosign.key")`))},
					{Name: "signPassword", Value: jsonString(e.Seed(`secret("env:COSIGN_PASSWORD")`))},
				}
			},
		},
		{
			name: "publish-sign-password-without-key", command: "dagger call publish --registry ghcr.io --sign-password env:COSIGN_PASSWORD",
			ctorArgs: sourceOnly, function: "Publish",
			args: func(e *enginefake.Engine) []enginefake.Arg {
				return []enginefake.Arg{
					{Name: "registry", Value: jsonString("ghcr.io")},
					{Name: "signPassword", Value: jsonString(e.Seed(`secret("env:COSIGN_PASSWORD")`))},
				}
			},
			wantErr: true,
		},
		{
			name: "publish-half-credentials", command: "dagger call publish --registry ghcr.io --username bot",
			ctorArgs: sourceOnly, function: "Publish",
			args: func(*enginefake.Engine) []enginefake.Arg {
				return []enginefake.Arg{
					{Name: "registry", Value: jsonString("ghcr.io")},
					{Name: "username", Value: jsonString("bot")},
				}
			},
			wantErr: true,
		},
		{
			name: "publish-bad-registry", command: "dagger call publish --registry https://ghcr.io",
			ctorArgs: sourceOnly, function: "Publish",
			args: func(*enginefake.Engine) []enginefake.Arg {
				return []enginefake.Arg{{Name: "registry", Value: jsonString("https://ghcr.io")}}
			},
			wantErr: true,
		},
		{
			name: "serve", command: "dagger call serve up --ports 8008:8008",
			ctorArgs: sourceOnly, function: "Serve",
			args: func(*enginefake.Engine) []enginefake.Arg {
				// The engine fills in +default values before the call.
				return []enginefake.Arg{{Name: "serverName", Value: jsonString("localhost")}}
			},
		},
		{
			name: "generate", command: "dagger call generate --server-name matrix.example.org --report-stats no export --path homeserver.yaml",
			ctorArgs: sourceOnly, function: "Generate",
			args: func(*enginefake.Engine) []enginefake.Arg {
				return []enginefake.Arg{
					{Name: "serverName", Value: jsonString("matrix.example.org")},
					{Name: "reportStats", Value: jsonString("no")},
				}
			},
		},
	}
	for _, c := range calls {
		t.Run(c.name, func(t *testing.T) {
			checkGolden(t, filepath.Join("testdata", c.name+".golden"), record(t, c),
				"run `go test ./contract/ -update` in ci/ and review the diff")
		})
	}
}

// record runs the constructor and then the function, as `dagger call` does,
// and renders what the module asked for.
func record(t *testing.T, c call) string {
	t.Helper()
	out, _ := recordWith(t, c, answers)
	return out
}

// recordWith is record with other answers; it also returns the engine.
func recordWith(t *testing.T, c call, answer enginefake.Answer) (string, *enginefake.Engine) {
	t.Helper()
	const token = "contract-test-token"
	eng := enginefake.New(token, answer)
	srv := httptest.NewServer(eng)
	t.Cleanup(srv.Close)
	_, port, err := net.SplitHostPort(srv.Listener.Addr().String())
	require.NoError(t, err)

	var out bytes.Buffer
	fmt.Fprintf(&out, "# %s\n", c.command)

	eng.Start(enginefake.Call{ParentName: "Synapse", Args: c.ctorArgs(eng)})
	invoke(t, eng, port, token, false)
	parent, ok := eng.Returned()
	require.True(t, ok, "the constructor returned nothing")
	writeRecording(t, &out, eng, "constructor")

	eng.Start(enginefake.Call{ParentName: "Synapse", Name: c.function, Parent: parent, Args: c.args(eng)})
	invoke(t, eng, port, token, c.wantErr)
	writeRecording(t, &out, eng, c.function)
	return out.String(), eng
}

// invoke runs the module process for the engine's current call.
func invoke(t *testing.T, eng *enginefake.Engine, port, token string, wantErr bool) {
	t.Helper()
	cmd := exec.Command(moduleBin)
	// Only what the module needs: no OTEL_* or TRACEPARENT from the caller.
	cmd.Env = []string{
		"DAGGER_SESSION_PORT=" + port,
		"DAGGER_SESSION_TOKEN=" + token,
		"PATH=" + os.Getenv("PATH"),
		"HOME=" + t.TempDir(),
	}
	out, err := cmd.CombinedOutput()
	require.Empty(t, eng.Failures(), "queries the fake engine could not answer (module output: %s)", out)
	if wantErr {
		require.Error(t, err, "the module should have failed")
		_, ok := eng.ReturnedError()
		require.True(t, ok, "the module failed without returning an error to the engine: %s", out)
		return
	}
	require.NoError(t, err, "module output: %s", out)
}

// The module sets the time of each publish call, so the engine never reuses
// an earlier result; the recordings show a placeholder.
var publishRequestedAt = regexp.MustCompile(`(name: "SYNAPSE_PUBLISH_REQUESTED_AT",\s*value: )"[^"]*"`)

func writeRecording(t *testing.T, out *bytes.Buffer, eng *enginefake.Engine, name string) {
	t.Helper()
	fmt.Fprintf(out, "\n## %s\n", name)
	for i, q := range eng.Recording() {
		q = publishRequestedAt.ReplaceAllString(q, `$1"<time of the call>"`)
		fmt.Fprintf(out, "\n### query %d\n%s\n", i+1, q)
	}
	if raw, ok := eng.Returned(); ok {
		rendered, err := eng.RenderJSON(raw)
		require.NoError(t, err)
		fmt.Fprintf(out, "\n### returned\n%s\n", rendered)
	}
}

// TestTestRequiresThePass: go test exits 0 when -run matches nothing or the
// test skips; the module's test must fail then.
func TestTestRequiresThePass(t *testing.T) {
	for name, output := range map[string]string{
		"no test ran":  "testing: warning: no tests to run\nPASS\nok  \tgithub.com/synapse-image/synapse-image/tests\t0.01s\n",
		"test skipped": "=== RUN   TestRemoteHomeserver\n--- SKIP: TestRemoteHomeserver (0.00s)\nPASS\n",
	} {
		t.Run(name, func(t *testing.T) {
			answer := func(object, field string, args map[string]string) (any, bool) {
				if cmd, ok := lastExec(object); ok && field == "stdout" && len(cmd) > 1 && cmd[1] == "test" {
					return output, true
				}
				return answers(object, field, args)
			}
			c := call{name: "test", command: "dagger call test", ctorArgs: sourceOnly, function: "Test", args: noArgs, wantErr: true}
			_, eng := recordWith(t, c, answer)
			msg, ok := eng.ReturnedError()
			require.True(t, ok)
			require.Contains(t, msg, "TestRemoteHomeserver did not run and pass")
		})
	}
}

// TestImportsWhereTheBuilderWrites: the module imports each image from the
// layout the builder writes for the recipe, .build/<the recipe's name>/oci;
// the module knows the names, the recipes say them.
func TestImportsWhereTheBuilderWrites(t *testing.T) {
	recording := record(t, call{name: "test", command: "dagger call test", ctorArgs: sourceOnly, function: "Test", args: noArgs})
	for _, recipe := range []string{"image/synapse.yaml", "image/postgres.yaml"} {
		data, err := os.ReadFile(filepath.Join("..", "..", recipe))
		require.NoError(t, err)
		m := recipeName.FindSubmatch(data)
		require.NotNil(t, m, "%s has no name: line", recipe)
		require.Contains(t, recording, fmt.Sprintf(`"--recipe", %q`, recipe))
		require.Contains(t, recording, fmt.Sprintf(`"-C", "/src/.build/%s/oci"`, m[1]),
			"the module does not import %s's image from where the builder writes it", recipe)
	}
}

var recipeName = regexp.MustCompile(`(?m)^name:\s*(\S+)\s*$`)
