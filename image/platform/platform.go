// Package platform is a target platform of the build, linux/amd64 or
// linux/arm64: parsed once from what the user wrote, then handed around as
// a value that gives each tool its own name for it (OCI, Debian and Go,
// qemu), as apko's types.Architecture does.
package platform

import (
	"fmt"
	"runtime"
	"slices"
	"strings"

	v1 "github.com/google/go-containerregistry/pkg/v1"
)

// Platform is linux/<arch>; the zero value is no platform.
type Platform struct{ arch string }

// The platforms the image is built for.
var (
	AMD64 = Platform{"amd64"}
	ARM64 = Platform{"arm64"}
)

// qemuNames are the machine names qemu (and uname -m) give each architecture.
var qemuNames = map[Platform]string{AMD64: "x86_64", ARM64: "aarch64"}

// Parse reads "linux/amd64" or "linux/arm64" ("linux/arm64/v8" too: the
// only arm64 variant the image has).
func Parse(s string) (Platform, error) {
	switch strings.TrimSpace(s) {
	case "linux/amd64":
		return AMD64, nil
	case "linux/arm64", "linux/arm64/v8":
		return ARM64, nil
	}
	return Platform{}, fmt.Errorf("%q: expected linux/amd64 or linux/arm64", s)
}

// ParseList reads a comma-separated list of platforms, each once.
func ParseList(s string) ([]Platform, error) {
	var out []Platform
	for _, part := range strings.Split(s, ",") {
		p, err := Parse(part)
		if err != nil {
			return nil, err
		}
		if slices.Contains(out, p) {
			return nil, fmt.Errorf("%s twice", p)
		}
		out = append(out, p)
	}
	return out, nil
}

// Host is the platform of this machine (of the Go toolchain's target).
func Host() Platform { return Platform{runtime.GOARCH} }

// String is "linux/amd64".
func (p Platform) String() string { return "linux/" + p.arch }

// Arch is the architecture as Go and Debian name it: amd64, arm64.
func (p Platform) Arch() string { return p.arch }

// OCI is the platform of an image config and of an index entry; arm64
// images are ARMv8 (variant v8, as Docker and the OCI spec name it).
func (p Platform) OCI() v1.Platform {
	oci := v1.Platform{OS: "linux", Architecture: p.arch}
	if p == ARM64 {
		oci.Variant = "v8"
	}
	return oci
}

// QemuName is the machine name qemu gives the architecture (x86_64,
// aarch64): its binfmt_misc entry is qemu-<QemuName>.
func (p Platform) QemuName() string { return qemuNames[p] }

// Of is the platform an image config names.
func Of(cf *v1.ConfigFile) Platform { return Platform{cf.Architecture} }
