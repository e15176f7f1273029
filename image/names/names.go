// Package names holds the names that the builder, the publisher and the
// benchmark share: the labels the builder writes into the image config, and
// where a build writes its outputs. Each is defined here and nowhere else.
package names

import "path/filepath"

// Image config labels the builder sets and the publisher reads.
const (
	// LabelTitle comes from the recipe; publish derives the default repository from it.
	LabelTitle = "org.opencontainers.image.title"
	// LabelVersion is Synapse's upstream version ("1.160.0", "1.161.0rc1").
	LabelVersion = "org.opencontainers.image.version"
	// LabelPackageVersion is the full Debian package version ("1.160.0-1").
	LabelPackageVersion = "dev.synapse-image.package-version"
	// LabelRevision is the git revision of the recipe, "-dirty" for uncommitted changes.
	LabelRevision = "org.opencontainers.image.revision"
	// LabelCreated is SOURCE_DATE_EPOCH in RFC 3339.
	LabelCreated = "org.opencontainers.image.created"
)

// DefaultRecipe is the recipe `go run . build` builds without --recipe;
// DefaultRecipeName is the name: it gives (a test keeps the two together).
const (
	DefaultRecipe     = "image/synapse.yaml"
	DefaultRecipeName = "synapse"
)

// OutputDir is where a build of the recipe named name writes its outputs,
// relative to the module root.
func OutputDir(name string) string { return filepath.Join(".build", name) }

// LayoutDir is the OCI image layout a build always writes; publish reads it.
func LayoutDir(name string) string { return filepath.Join(OutputDir(name), "oci") }

// PackagesFile lists the Debian packages in the image, "NAME VERSION" per line.
func PackagesFile(name string) string { return filepath.Join(OutputDir(name), "packages.txt") }

// DefaultLayout is the layout of the default recipe: what publish and the
// benchmark read when not told otherwise.
func DefaultLayout() string { return LayoutDir(DefaultRecipeName) }
