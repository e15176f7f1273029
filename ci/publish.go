package main

import (
	"context"
	"fmt"
	"strings"
	"time"

	"dagger/synapse/cli"
	"dagger/synapse/internal/dagger"
)

// Where the signing key is mounted for the publisher: a secret file, never
// in the source tree.
const signKeyFile = "/run/secrets/cosign.key"

// Publish builds the image for every platform and pushes it with the
// project's own publisher (go run . publish), as Build runs the project's
// own builder; returns the publisher's lines, one per tag:
// "REGISTRY/REPOSITORY:TAG → DIGEST (what happened)".
//
// So the module gets the publisher's tag rules (vX.Y.Z, vX.Y, latest,
// sha-REV; pre-releases get no vX.Y or latest), its check of every tag
// before anything is written, --no-overwrite and --dry-run; with several
// platforms it pushes their index. Each platform's SBOM and provenance are
// attached as OCI referrers, and --sign-key signs every pushed manifest, as
// the CLI does.
//
// Publishing changes the registry, which the engine knows nothing of:
// every call runs again, never the cached result of an earlier one.
//
// +cache="never"
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
	// Cosign private key (cosign.key) to sign the image and, with several
	// platforms, the index and each platform's image, e.g. file:./cosign.key.
	// +optional
	signKey *dagger.Secret,
	// Password of the signing key, cosign's COSIGN_PASSWORD (none: the key is
	// not encrypted).
	// +optional
	signPassword *dagger.Secret,
) ([]string, error) {
	// Bad input fails here, before a build.
	if err := cli.CheckSecrets(username != "", password != nil, signKey != nil, signPassword != nil); err != nil {
		return nil, err
	}
	platforms, _, err := m.platforms(ctx)
	if err != nil {
		return nil, err
	}
	builder := m.builder(synapseRecipe, platforms)
	p := cli.Publish{
		From: synapseRecipe.layout(), Registry: registry, Repository: repository, Tags: tags,
		NoLatest: noLatest, PackageTag: packageTag, NoOverwrite: noOverwrite, DryRun: dryRun, Insecure: insecure,
	}
	publisher := builder.
		// The function runs on every call (+cache="never"); the time makes
		// the publisher's exec new too, else the engine would answer it
		// from its cache of an identical exec.
		WithEnvVariable("SYNAPSE_PUBLISH_REQUESTED_AT", time.Now().UTC().Format(time.RFC3339Nano))
	if password != nil {
		// The password goes in the environment, never on the command line.
		p.Username = username
		publisher = publisher.WithSecretVariable("REGISTRY_PASSWORD", password)
	}
	if signKey != nil {
		p.SignKey = signKeyFile
		publisher = publisher.WithMountedSecret(signKeyFile, signKey)
		if signPassword != nil {
			publisher = publisher.WithSecretVariable("COSIGN_PASSWORD", signPassword)
		}
	}
	out, err := publisher.WithExec(p.Args()).Stdout(ctx)
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
