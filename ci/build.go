package main

import (
	"context"
	"fmt"
	"slices"

	"dagger/synapse/cli"
	"dagger/synapse/internal/dagger"
)

// The public image the builder runs in: it needs Go and mmdebstrap, and
// trixie's mmdebstrap can bootstrap sid, where matrix-synapse lives.
const goImage = "golang:1.26-trixie"

// A recipe of the project's, and the name under which the builder writes its
// outputs (the recipe's name: field; .build/<name>/ in the source tree).
type recipe struct{ file, name string }

var (
	synapseRecipe  = recipe{file: "image/synapse.yaml", name: "synapse"}
	postgresRecipe = recipe{file: "image/postgres.yaml", name: "synapse-postgres"}
)

// srcDir is where the builder works in its container.
const srcDir = "/src"

// layout is the OCI image layout the builder always writes: the artifact,
// one image or one index of every platform's image, with each platform's
// SBOM and provenance as its referrers. `go run . publish` reads it.
func (r recipe) layout() string { return srcDir + "/.build/" + r.name + "/oci" }

// Build builds the image with the project's own builder and returns it: the
// engine's platform if --platforms lists it, else the first listed.
//
// The builder (go run . build) runs once for every platform in a golang
// container with mmdebstrap and writes an OCI layout, from which the engine
// imports the image. Go modules, the Go build cache, apt's downloads and the
// builder's layer cache live in cache volumes, so a rebuild with an unchanged
// recipe takes seconds.
func (m *Synapse) Build(ctx context.Context) (*dagger.Container, error) {
	platforms, engine, err := m.platforms(ctx)
	if err != nil {
		return nil, err
	}
	return imported(m.builder(synapseRecipe, platforms), synapseRecipe, imagePlatform(platforms, engine)), nil
}

// Artifacts builds the image for every platform and returns the OCI image
// layout the builder wrote to .build/synapse/oci: the image, or one index
// of every platform's image, with each platform's SBOM and provenance as
// OCI referrers of its manifest.
//
// Exported to .build/synapse/oci, it is what `go run . publish` publishes,
// the SBOMs and provenance with it.
func (m *Synapse) Artifacts(ctx context.Context) (*dagger.Directory, error) {
	platforms, _, err := m.platforms(ctx)
	if err != nil {
		return nil, err
	}
	return m.builder(synapseRecipe, platforms).Directory(synapseRecipe.layout()), nil
}

// imagePlatform is the one platform's image that build returns: the
// engine's if listed (it runs natively), else the first listed.
func imagePlatform(platforms []dagger.Platform, engine dagger.Platform) dagger.Platform {
	if slices.Contains(platforms, engine) {
		return engine
	}
	return platforms[0]
}

// imported is the image for platform from the layout the builder wrote for
// r, loaded into the engine. The engine imports an OCI archive and takes the
// platform's manifest from its index.
func imported(builder *dagger.Container, r recipe, platform dagger.Platform) *dagger.Container {
	archive := "/tmp/" + r.name + ".oci.tar"
	return dag.Container(dagger.ContainerOpts{Platform: platform}).
		Import(builder.WithExec(cli.LayoutArchive(r.layout(), archive)).File(archive))
}

// builder returns the builder container after it has built r for platforms
// into its OCI layout, r.layout().
func (m *Synapse) builder(r recipe, platforms []dagger.Platform) *dagger.Container {
	b := cli.Build{Recipe: r.file, CacheDir: "/cache/builder"}
	for _, p := range platforms {
		b.Platforms = append(b.Platforms, string(p))
	}
	ctr := m.withSource(mmdebstrapContainer()).
		WithMountedCache(b.CacheDir, dag.CacheVolume("synapse-builder"),
			dagger.ContainerWithMountedCacheOpts{Sharing: dagger.CacheSharingModeLocked})
	if m.Wheels != nil && r == synapseRecipe {
		b.WheelsDir = "/wheels"
		ctr = ctr.WithMountedDirectory(b.WheelsDir, m.Wheels)
	}
	// mmdebstrap needs real root: it mounts /proc, /sys and /dev into the new
	// root and runs the packages' maintainer scripts in a chroot. The
	// engine's default sandbox has no CAP_SYS_ADMIN and its seccomp profile
	// blocks the user namespaces that --mode=unshare would need instead, and
	// fakechroot mode breaks maintainer scripts. So this one exec, and only
	// it, runs with root capabilities.
	return ctr.WithExec(b.Args(), dagger.ContainerWithExecOpts{InsecureRootCapabilities: true})
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

// platforms are the requested platforms (default: the engine's), and the
// engine's platform.
func (m *Synapse) platforms(ctx context.Context) ([]dagger.Platform, dagger.Platform, error) {
	engine, err := dag.DefaultPlatform(ctx)
	if err != nil {
		return nil, "", fmt.Errorf("default platform of the engine: %w", err)
	}
	if len(m.Platforms) == 0 {
		return []dagger.Platform{engine}, engine, nil
	}
	return m.Platforms, engine, nil
}
