package main

import (
	"context"
	"fmt"

	"dagger/synapse/internal/dagger"
	"dagger/synapse/refs"
)

// Publish builds the image and pushes it to a registry under every tag;
// returns the published references, each with its digest.
//
// The tags are the builder's: the ones it gave the image (vX.Y.Z, vX.Y,
// latest, sha-REV; pre-releases get no vX.Y or latest), read from the image
// tarball it wrote, so the module never re-implements the tag rules.
func (m *Synapse) Publish(
	ctx context.Context,
	// Registry to push to: HOST[:PORT][/PATH], e.g. ghcr.io/example.
	registry string,
	// Repository in the registry (default: the builder's, synapse).
	// +optional
	repository string,
	// Tags to push instead of the builder's.
	// +optional
	tags []string,
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
	if err := refs.CheckRegistry(registry); err != nil {
		return nil, err
	}
	builder, platform, err := m.builder(ctx, synapseRecipe)
	if err != nil {
		return nil, err
	}
	manifest, err := builder.WithExec([]string{"tar", "-xOf", tarball, "manifest.json"}).Stdout(ctx)
	if err != nil {
		return nil, fmt.Errorf("read the image tarball's manifest.json: %w", err)
	}
	named, err := refs.FromManifest([]byte(manifest))
	if err != nil {
		return nil, err
	}
	if repository == "" {
		repository = named.Repository
	}
	if len(tags) == 0 {
		tags = named.Tags
	}
	addresses, err := refs.References(registry, repository, tags)
	if err != nil {
		return nil, err
	}

	image := imported(builder, platform)
	if password != nil {
		image = image.WithRegistryAuth(refs.Host(registry), username, password)
	}
	published := make([]string, 0, len(addresses))
	for _, address := range addresses {
		ref, err := image.Publish(ctx, address)
		if err != nil {
			return nil, fmt.Errorf("publish %s (published before it: %v): %w", address, published, err)
		}
		published = append(published, ref)
	}
	return published, nil
}
