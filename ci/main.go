// The Dagger module of synapse-image: build, test, publish and run the
// Synapse container image on any Dagger engine.
//
// The module orchestrates; it does not know how the image is made. build runs
// the project's own builder (go run . build) in a container and imports the
// image it writes, so a Dagger build and a local build run the same code from
// the same recipe.
package main

import (
	"dagger/synapse/internal/dagger"
)

// Synapse builds, tests and publishes the Synapse container image.
type Synapse struct {
	// +private
	Source *dagger.Directory
	// +private
	Wheels *dagger.Directory
	// +private
	Platforms []dagger.Platform
}

// New takes what every function builds from: the source, the wheels and the
// platforms.
func New(
	// The project's source tree: the builder, the recipes and the tests. It
	// includes .git, from which the builder takes the revision (label, sha-
	// tag) and SOURCE_DATE_EPOCH. Only untracked paths are left out, so the
	// builder does not see the checkout as modified ("-dirty").
	// +defaultPath="/"
	// +ignore=[".build", "out", "synapse-image", "*.test", "*.prof"]
	source *dagger.Directory,
	// Python wheels to install into the image (default: the source's wheels/ folder).
	// +optional
	wheels *dagger.Directory,
	// Platforms of the image: linux/amd64, linux/arm64 or both, built by one
	// run of the builder into one OCI index (default: the engine's platform).
	// build, test, serve and generate use the engine's platform if listed,
	// else the first; artifacts and publish have every platform.
	// +optional
	platforms []dagger.Platform,
) *Synapse {
	return &Synapse{Source: source, Wheels: wheels, Platforms: platforms}
}
