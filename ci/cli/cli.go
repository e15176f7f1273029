// Package cli builds the command lines the module runs in its containers:
// the project's builder and publisher (go run . build, go run . publish)
// and the archive of the OCI layout the engine imports. Plain functions of
// plain values, so ordinary unit tests cover them; the module (package
// main, which needs an engine session) only wires them into containers.
package cli

import (
	"errors"
	"strings"
)

// Build is one run of the project's builder.
type Build struct {
	// Recipe is the recipe file, relative to the source root.
	Recipe string
	// Platforms are what --platform lists ("linux/amd64"), built into one
	// OCI layout (one index for several).
	Platforms []string
	// CacheDir is the builder's layer cache.
	CacheDir string
	// WheelsDir, when set, holds the wheels to install.
	WheelsDir string
}

// Args is the builder's command line.
func (b Build) Args() []string {
	args := []string{"go", "run", ".", "build",
		"--recipe", b.Recipe,
		"--platform", strings.Join(b.Platforms, ","),
		"--cache-dir", b.CacheDir,
	}
	if b.WheelsDir != "" {
		args = append(args, "--wheels", b.WheelsDir)
	}
	return args
}

// Publish is one run of the project's publisher; the booleans are its
// flags of the same names.
type Publish struct {
	// From is the OCI layout to publish.
	From, Registry, Repository string
	Tags                       []string
	NoLatest, PackageTag       bool
	NoOverwrite, DryRun        bool
	Insecure                   bool
	// Username goes with a password in REGISTRY_PASSWORD (never on the
	// command line); empty: none.
	Username string
	// SignKey is the signing key's path in the container; empty: no signing.
	SignKey string
}

// Args is the publisher's command line.
func (p Publish) Args() []string {
	args := []string{"go", "run", ".", "publish", "--from", p.From, "--registry", p.Registry}
	if p.Repository != "" {
		args = append(args, "--repository", p.Repository)
	}
	for _, t := range p.Tags {
		args = append(args, "--tag", t)
	}
	for _, f := range []struct {
		name string
		set  bool
	}{
		{"--no-latest", p.NoLatest}, {"--package-tag", p.PackageTag},
		{"--no-overwrite", p.NoOverwrite}, {"--dry-run", p.DryRun}, {"--insecure", p.Insecure},
	} {
		if f.set {
			args = append(args, f.name)
		}
	}
	if p.Username != "" {
		args = append(args, "--username", p.Username)
	}
	if p.SignKey != "" {
		args = append(args, "--sign-key", p.SignKey)
	}
	return args
}

// CheckSecrets says what is wrong with the secrets publish was given
// (which of them there are), before anything is built.
func CheckSecrets(username, password, signKey, signPassword bool) error {
	if username != password {
		return errors.New("registry credentials: give both username and password, or neither")
	}
	if signPassword && !signKey {
		return errors.New("sign-password: give it with sign-key, the key it decrypts")
	}
	return nil
}

// LayoutArchive is the command that archives the OCI layout in dir to
// archive, the same bytes for the same layout (so the engine's cache of
// the import holds).
func LayoutArchive(dir, archive string) []string {
	return []string{"tar", "--sort=name", "--mtime=@0", "--owner=0", "--group=0", "--numeric-owner",
		"-cf", archive, "-C", dir, "oci-layout", "index.json", "blobs"}
}
