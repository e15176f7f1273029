package entrypoint

import (
	"os"
	"strings"
)

// IfInet6 lists the IPv6 addresses of the container; it is empty (or
// missing) when IPv6 is disabled, as in Docker's default networks.
const IfInet6 = "/proc/net/if_inet6"

// HasIPv6 reports whether the container has IPv6, so Synapse may bind '::'.
func HasIPv6() bool { return hasIPv6(IfInet6) }

func hasIPv6(path string) bool {
	b, err := os.ReadFile(path)
	return err == nil && strings.TrimSpace(string(b)) != ""
}

// multiarch maps GOARCH to Debian's multiarch triplet.
var multiarch = map[string]string{
	"amd64":   "x86_64-linux-gnu",
	"arm64":   "aarch64-linux-gnu",
	"arm":     "arm-linux-gnueabihf",
	"386":     "i386-linux-gnu",
	"ppc64le": "powerpc64le-linux-gnu",
	"s390x":   "s390x-linux-gnu",
	"riscv64": "riscv64-linux-gnu",
}

// Jemalloc returns the path of libjemalloc.so.2 when the image has it.
func Jemalloc(goarch string) string {
	return jemallocIn("/usr/lib", goarch)
}

func jemallocIn(libDir, goarch string) string {
	triplet, ok := multiarch[goarch]
	if !ok {
		return ""
	}
	p := libDir + "/" + triplet + "/libjemalloc.so.2"
	if _, err := os.Stat(p); err != nil {
		return ""
	}
	return p
}
