package main

import (
	"context"
	"fmt"
	"strings"
	"time"

	"dagger/synapse/internal/dagger"
)

// The OCI layout the builder always writes for image/synapse.yaml, inside
// its container: what `go run . publish` reads by default.
const builtLayout = srcDir + "/.build/synapse/oci"

// Publish builds the image and pushes it with the project's own publisher
// (go run . publish), as Build runs the project's own builder; returns the
// publisher's lines, one per tag: "REGISTRY/REPOSITORY:TAG → DIGEST (what happened)".
//
// So the module gets the publisher's tag rules (vX.Y.Z, vX.Y, latest,
// sha-REV; pre-releases get no vX.Y or latest), its check of every tag
// before anything is written, --no-overwrite and --dry-run.
func (m *Synapse) Publish(
	ctx context.Context,
	// Registry to push to: HOST[:PORT], e.g. ghcr.io.
	registry string,
	// Repository in the registry (default: the image's title label, synapse).
	// +optional
	repository string,
	// Tags to push instead of the computed ones.
	// +optional
	tags []string,
	// Leave the latest tag alone (e.g. a fix for an older series).
	// +optional
	noLatest bool,
	// Also tag the exact Debian package version (v1.160.0-1).
	// +optional
	packageTag bool,
	// Fail, pushing nothing, if any tag points at another image.
	// +optional
	noOverwrite bool,
	// Check the registry and report what would be pushed; write nothing.
	// +optional
	dryRun bool,
	// Allow plain HTTP to a registry that is not on loopback.
	// +optional
	insecure bool,
	// User name for the registry.
	// +optional
	username string,
	// Password or token for the registry.
	// +optional
	password *dagger.Secret,
) ([]string, error) {
	// Bad input fails here, before a build.
	if (username == "") != (password == nil) {
		return nil, fmt.Errorf("registry credentials: give both username and password, or neither")
	}
	builder, _, err := m.builder(ctx, synapseRecipe)
	if err != nil {
		return nil, err
	}
	args := []string{"go", "run", ".", "publish", "--from", builtLayout, "--registry", registry}
	if repository != "" {
		args = append(args, "--repository", repository)
	}
	for _, t := range tags {
		args = append(args, "--tag", t)
	}
	args = appendFlags(args, []boolFlag{
		{"--no-latest", noLatest}, {"--package-tag", packageTag},
		{"--no-overwrite", noOverwrite}, {"--dry-run", dryRun}, {"--insecure", insecure},
	})
	publisher := builder.
		// The registry is state outside the engine: publish every time it
		// is asked, never the cached result of an earlier call.
		WithEnvVariable("SYNAPSE_PUBLISH_REQUESTED_AT", time.Now().UTC().Format(time.RFC3339Nano))
	if password != nil {
		// The password goes in the environment, never on the command line.
		args = append(args, "--username", username)
		publisher = publisher.WithSecretVariable("REGISTRY_PASSWORD", password)
	}
	out, err := publisher.WithExec(args).Stdout(ctx)
	if err != nil {
		return nil, fmt.Errorf("publish: %w", err)
	}
	var lines []string
	for _, l := range strings.Split(out, "\n") {
		if l != "" {
			lines = append(lines, l)
		}
	}
	return lines, nil
}

type boolFlag struct {
	name string
	set  bool
}

func appendFlags(args []string, flags []boolFlag) []string {
	for _, f := range flags {
		if f.set {
			args = append(args, f.name)
		}
	}
	return args
}
