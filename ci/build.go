package main

import (
	"context"
	"fmt"

	"dagger/synapse/internal/dagger"
)

// The public image the builder runs in: it needs Go and mmdebstrap, and
// trixie's mmdebstrap can bootstrap sid, where matrix-synapse lives.
const goImage = "golang:1.26-trixie"

// The project's image recipes, and where the builder works in its container.
const (
	synapseRecipe  = "image/synapse.yaml"
	postgresRecipe = "image/postgres.yaml"
	srcDir         = "/src"
	tarball        = "/out/image.tar"
)

// Build builds the image with the project's own builder and returns it.
//
// The builder (go run . build) runs in a golang container with mmdebstrap,
// writes a docker-load tarball, and the engine imports it. Go modules, the Go
// build cache, apt's downloads and the builder's layer cache live in cache
// volumes, so a rebuild with an unchanged recipe takes seconds.
func (m *Synapse) Build(ctx context.Context) (*dagger.Container, error) {
	return m.image(ctx, synapseRecipe)
}

// image builds a recipe and returns the image, loaded into the engine.
func (m *Synapse) image(ctx context.Context, recipe string) (*dagger.Container, error) {
	builder, platform, err := m.builder(ctx, recipe)
	if err != nil {
		return nil, err
	}
	return imported(builder, platform), nil
}

// imported is the image the builder wrote, loaded into the engine.
func imported(builder *dagger.Container, platform dagger.Platform) *dagger.Container {
	return dag.Container(dagger.ContainerOpts{Platform: platform}).
		Import(builder.File(tarball))
}

// builder returns the builder container after it has built recipe into the
// docker-load tarball /out/image.tar, and the platform it built for.
func (m *Synapse) builder(ctx context.Context, recipe string) (*dagger.Container, dagger.Platform, error) {
	platform, err := m.platform(ctx)
	if err != nil {
		return nil, "", err
	}
	args := []string{"go", "run", ".", "build",
		"--recipe", recipe,
		"--tarball", tarball,
		"--platform", string(platform),
		"--cache-dir", "/cache/builder",
	}
	ctr := m.withSource(mmdebstrapContainer()).
		WithMountedCache("/cache/builder", dag.CacheVolume("synapse-builder"),
			dagger.ContainerWithMountedCacheOpts{Sharing: dagger.CacheSharingModeLocked})
	if m.Wheels != nil && recipe == synapseRecipe {
		ctr = ctr.WithMountedDirectory("/wheels", m.Wheels)
		args = append(args, "--wheels", "/wheels")
	}
	// mmdebstrap needs real root: it mounts /proc, /sys and /dev into the new
	// root and runs the packages' maintainer scripts in a chroot. The
	// engine's default sandbox has no CAP_SYS_ADMIN and its seccomp profile
	// blocks the user namespaces that --mode=unshare would need instead, and
	// fakechroot mode breaks maintainer scripts. So this one exec, and only
	// it, runs with root capabilities.
	ctr = ctr.WithExec(args, dagger.ContainerWithExecOpts{InsecureRootCapabilities: true})
	return ctr, platform, nil
}

// goContainer is a golang container with the Go caches mounted.
func goContainer() *dagger.Container {
	return dag.Container().
		From(goImage).
		WithMountedCache("/go/pkg/mod", dag.CacheVolume("synapse-go-mod")).
		WithMountedCache("/root/.cache/go-build", dag.CacheVolume("synapse-go-build"))
}

// mmdebstrapContainer is goContainer with mmdebstrap installed: what the
// builder needs. It does not depend on the source, so the engine keeps it
// cached across source changes.
func mmdebstrapContainer() *dagger.Container {
	return goContainer().
		WithMountedCache("/var/cache/apt", dag.CacheVolume("synapse-apt-archives"),
			dagger.ContainerWithMountedCacheOpts{Sharing: dagger.CacheSharingModeLocked}).
		WithMountedCache("/var/lib/apt/lists", dag.CacheVolume("synapse-apt-lists"),
			dagger.ContainerWithMountedCacheOpts{Sharing: dagger.CacheSharingModeLocked}).
		// The image's docker-clean hook would empty the apt cache volume after every install.
		WithExec([]string{"sh", "-c", "rm -f /etc/apt/apt.conf.d/docker-clean && apt-get update -qq && " +
			"DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends mmdebstrap"})
}

// withSource mounts the source at /src and works there.
func (m *Synapse) withSource(ctr *dagger.Container) *dagger.Container {
	return ctr.
		// The checkout may belong to another uid than root; git would then
		// refuse it ("dubious ownership") and the builder could not read the revision.
		WithEnvVariable("GIT_CONFIG_COUNT", "1").
		WithEnvVariable("GIT_CONFIG_KEY_0", "safe.directory").
		WithEnvVariable("GIT_CONFIG_VALUE_0", "*").
		WithMountedDirectory(srcDir, m.Source).
		WithWorkdir(srcDir)
}

// platform is the requested platform, or the engine's own.
func (m *Synapse) platform(ctx context.Context) (dagger.Platform, error) {
	if m.Platform != "" {
		return m.Platform, nil
	}
	p, err := dag.DefaultPlatform(ctx)
	if err != nil {
		return "", fmt.Errorf("default platform of the engine: %w", err)
	}
	return p, nil
}
