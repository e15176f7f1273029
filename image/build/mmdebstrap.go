package build

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/synapse-image/synapse-image/image/recipe"
)

// RootFS makes a Debian root file system in an empty directory. The builder
// uses Mmdebstrap; tests inject a fake that writes a few files.
type RootFS interface {
	// Make installs in.Debian.Packages plus in.Extra into dir.
	Make(ctx context.Context, in Install, dir string) error
}

// Install is what a root file system is made of.
type Install struct {
	Debian recipe.Debian
	Extra  []string // packages installed besides Debian.Packages
	// Arch is the Debian architecture (amd64, arm64); Epoch is
	// SOURCE_DATE_EPOCH for the installation.
	Arch  string
	Epoch time.Time
	// DeferByteCompile makes Debian's py3compile do nothing while the
	// packages are installed: the builder byte-compiles the same files
	// afterwards, once, in the recipe's invalidation mode and natively for
	// another architecture (under qemu it is most of the installation's
	// time). The real py3compile is back when Make returns.
	DeferByteCompile bool
}

// Mmdebstrap makes root file systems with mmdebstrap (as root, in a directory).
type Mmdebstrap struct {
	// Log receives mmdebstrap's output lines as they come.
	Log io.Writer
	// DebCache, when set, keeps the downloaded .deb files between builds
	// (one directory per suite and architecture below it), so a rebuild
	// after a recipe change downloads only what is new.
	DebCache string
}

// EnsureMmdebstrap installs mmdebstrap with apt when it is missing and we
// are root; otherwise it says what to do.
func EnsureMmdebstrap(ctx context.Context, log io.Writer) error {
	if _, err := exec.LookPath("mmdebstrap"); err == nil {
		if os.Geteuid() != 0 {
			return errors.New("building the root file system needs root (mmdebstrap runs in root mode and chroots): run the build as root, or in a privileged container")
		}
		return nil
	}
	if os.Geteuid() != 0 {
		return errors.New("mmdebstrap is not installed: install it as root with `apt-get install mmdebstrap`, then build as root")
	}
	fmt.Fprintln(log, "[rootfs] mmdebstrap is missing: installing it with apt-get")
	for _, args := range [][]string{{"update", "-qq"}, {"install", "-y", "-qq", "--no-install-recommends", "mmdebstrap"}} {
		cmd := exec.CommandContext(ctx, "apt-get", args...)
		cmd.Env = append(os.Environ(), "DEBIAN_FRONTEND=noninteractive")
		if out, err := cmd.CombinedOutput(); err != nil {
			return fmt.Errorf("apt-get %s: %w\n%s", strings.Join(args, " "), err, lastLines(out, 10))
		}
	}
	return nil
}

// qemuBinfmt names the binfmt_misc entry that runs arch's programs.
var qemuBinfmt = map[string]string{"amd64": "qemu-x86_64", "arm64": "qemu-aarch64"}

// checkForeignArch makes sure programs of another architecture can run, as
// the packages' maintainer scripts run in the new root.
func checkForeignArch(arch string) error {
	if arch == runtime.GOARCH {
		return nil
	}
	entry := filepath.Join("/proc/sys/fs/binfmt_misc", qemuBinfmt[arch])
	if _, err := os.Stat(entry); err != nil {
		return fmt.Errorf("building for linux/%s on linux/%s needs qemu user emulation: apt-get install qemu-user-static binfmt-support arch-test (missing %s)", arch, runtime.GOARCH, entry)
	}
	// mmdebstrap checks with arch-test that the architecture runs.
	if _, err := exec.LookPath("arch-test"); err != nil {
		return fmt.Errorf("building for linux/%s on linux/%s needs arch-test (mmdebstrap checks the emulation with it): apt-get install arch-test", arch, runtime.GOARCH)
	}
	return nil
}

// Make runs mmdebstrap.
func (m Mmdebstrap) Make(ctx context.Context, in Install, dir string) error {
	deb, extra, arch, epoch := in.Debian, in.Extra, in.Arch, in.Epoch
	if err := EnsureMmdebstrap(ctx, m.logWriter()); err != nil {
		return err
	}
	if err := checkForeignArch(arch); err != nil {
		return err
	}
	tmp, err := os.MkdirTemp("", "builder-debconf-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	args, err := mmdebstrapArgs(in, dir, tmp)
	if err != nil {
		return err
	}
	if m.DebCache != "" {
		cache := filepath.Join(m.DebCache, deb.Suite+"-"+arch)
		if err := os.MkdirAll(cache, 0o755); err != nil {
			return fmt.Errorf("package cache: %w", err)
		}
		args = append(debCacheArgs(cache), args...)
	}
	cmd := exec.CommandContext(ctx, "mmdebstrap", args...)
	// On cancel (Ctrl-C), ask mmdebstrap to stop so it unmounts /proc, /sys
	// and /dev/pts of the new root; kill it only if it does not.
	cmd.Cancel = func() error { return cmd.Process.Signal(syscall.SIGTERM) }
	cmd.WaitDelay = time.Minute
	cmd.Env = append(os.Environ(), "SOURCE_DATE_EPOCH="+strconv.FormatInt(epoch.Unix(), 10))
	var tail bytes.Buffer
	out := io.MultiWriter(&tail, m.logWriter())
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Run(); err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		return fmt.Errorf("mmdebstrap %s (debian.packages %s): %w\n%s", deb.Suite,
			strings.Join(append(append([]string{}, deb.Packages...), extra...), ","), err, explainMmdebstrap(tail.Bytes()))
	}
	return nil
}

func (m Mmdebstrap) logWriter() io.Writer {
	if m.Log == nil {
		return io.Discard
	}
	return m.Log
}

// mmdebstrapArgs is the command line for an installation; debconfDir holds
// the preseed file it refers to.
func mmdebstrapArgs(in Install, dir, debconfDir string) ([]string, error) {
	deb, extra, arch := in.Debian, in.Extra, in.Arch
	args := []string{
		"--mode=root",
		"--format=directory",
		"--variant=" + deb.Variant,
		"--architectures=" + arch,
		"--components=" + strings.Join(deb.Components, ","),
	}
	if pkgs := append(append([]string{}, deb.Packages...), extra...); len(pkgs) > 0 {
		args = append(args, "--include="+strings.Join(pkgs, ","))
	}
	for _, o := range deb.AptOptions {
		args = append(args, "--aptopt="+o)
	}
	for _, o := range deb.DpkgOptions {
		args = append(args, "--dpkgopt="+o)
	}
	if len(deb.Debconf) > 0 {
		// debconf itself is usually not installed yet when the packages that
		// ask are, so the answers go straight into its database.
		file := filepath.Join(debconfDir, "config.dat")
		if err := os.WriteFile(file, []byte(debconfDB(deb.Debconf)), 0o644); err != nil {
			return nil, err
		}
		args = append(args, `--essential-hook=mkdir -p "$1/var/cache/debconf" && cat `+shellQuote(file)+` >> "$1/var/cache/debconf/config.dat"`)
	}
	// dpkg without fsync during the build (a lost build root is simply
	// made again); the setting does not stay in the image.
	args = append(args,
		`--setup-hook=mkdir -p "$1/etc/dpkg/dpkg.cfg.d" && echo force-unsafe-io > "$1/etc/dpkg/dpkg.cfg.d/`+unsafeIOFile+`"`)
	if in.DeferByteCompile {
		// The packages' postinst scripts run py3compile (dh-python's
		// interface; the stdlib's are compiled by python3.X's own postinst).
		// A diversion set before python3 is unpacked puts the real one
		// aside; it is back before the recipe's own hooks run.
		args = append(args,
			`--essential-hook=chroot "$1" dpkg-divert --quiet --local --rename --divert `+py3compileAside+` --add /usr/bin/py3compile && printf '#!/bin/sh\n# synapse-image: byte-compiled by the builder after installation\nexit 0\n' > "$1/usr/bin/py3compile" && chmod 0755 "$1/usr/bin/py3compile"`,
			`--customize-hook=rm -f "$1/usr/bin/py3compile" && chroot "$1" dpkg-divert --quiet --local --rename --remove /usr/bin/py3compile`)
	}
	for _, c := range deb.Customize {
		args = append(args, "--customize-hook="+c)
	}
	args = append(args, `--customize-hook=rm -f "$1/etc/dpkg/dpkg.cfg.d/`+unsafeIOFile+`"`)
	return append(args, deb.Suite, dir, deb.Mirror), nil
}

const unsafeIOFile = "00synapse-image-unsafe-io"

// py3compileAside is where the real py3compile waits during installation.
const py3compileAside = "/usr/bin/py3compile.synapse-image"

// debCacheArgs copy the cached .deb files into the new root before apt
// downloads (apt then skips what it has) and replace the cache with the ones
// this build used afterwards (before mmdebstrap empties the apt cache).
func debCacheArgs(cache string) []string {
	c := shellQuote(cache)
	return []string{
		"--skip=download/empty",
		"--skip=essential/unlink",
		`--setup-hook=mkdir -p "$1/var/cache/apt/archives" && find ` + c + ` -maxdepth 1 -name '*.deb' -exec cp -t "$1/var/cache/apt/archives/" {} +`,
		`--customize-hook=t=$(mktemp -d ` + c + `.XXXXXX) && find "$1/var/cache/apt/archives" -maxdepth 1 -name '*.deb' -exec cp -t "$t" {} + && rm -rf ` + c + ` && mv "$t" ` + c,
	}
}

// debconfDB turns debconf-set-selections lines into debconf's config.dat
// format, answered and marked as seen.
func debconfDB(lines []string) string {
	var b strings.Builder
	for _, l := range lines {
		f := strings.Fields(l)
		pkg, question := f[0], f[1]
		value := ""
		if len(f) > 3 {
			value = strings.Join(f[3:], " ")
		}
		fmt.Fprintf(&b, "Name: %s\nTemplate: %s\nValue: %s\nOwners: %s\nFlags: seen\n\n", question, question, value, pkg)
	}
	return b.String()
}

// explainMmdebstrap keeps the lines of mmdebstrap's output that say what
// went wrong (apt's "E:" lines), or else its last lines.
func explainMmdebstrap(out []byte) string {
	var errs []string
	for _, l := range strings.Split(string(out), "\n") {
		// Keep apt's own reasons, not mmdebstrap's "setup failed" summary.
		if strings.HasPrefix(l, "E: ") && !strings.HasPrefix(l, "E: setup failed") && !strings.HasPrefix(l, "E: mmdebstrap failed") {
			errs = append(errs, l)
		}
	}
	if len(errs) > 0 {
		if len(errs) > 8 {
			errs = errs[:8]
		}
		return strings.Join(errs, "\n")
	}
	return lastLines(out, 15)
}

func lastLines(out []byte, n int) string {
	lines := strings.Split(strings.TrimRight(string(out), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

func shellQuote(s string) string {
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
