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
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/synapse-image/synapse-image/image/platform"
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
	// Platform is the target platform; Epoch is SOURCE_DATE_EPOCH for the
	// installation.
	Platform platform.Platform
	Epoch    time.Time
	// DeferByteCompile makes Debian's py3compile do nothing while the
	// packages are installed: the builder byte-compiles the same files
	// afterwards, once, in the recipe's invalidation mode and natively for
	// another architecture (under qemu it is most of the installation's
	// time). The real py3compile is back when Make returns.
	DeferByteCompile bool
	// NativeRoot, for another architecture than the build host's, is a root
	// of the host's architecture from the same suite and mirror state: its
	// dpkg-deb unpacks the packages natively while they are installed
	// (under qemu, decompressing them is much of the installation's time).
	NativeRoot string
	// ReadDebCache uses the cached .deb files without replacing the cache
	// with this installation's (a root of a few packages would prune it).
	ReadDebCache bool
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

// CheckForeignArch makes sure programs of another platform can run, as
// the packages' maintainer scripts run in the new root (nil for the host's).
func CheckForeignArch(p platform.Platform) error {
	host := platform.Host()
	if p == host {
		return nil
	}
	entry := filepath.Join("/proc/sys/fs/binfmt_misc", "qemu-"+p.QemuName())
	if _, err := os.Stat(entry); err != nil {
		return fmt.Errorf("building for %s on %s needs qemu user emulation: apt-get install qemu-user-static binfmt-support arch-test (missing %s)", p, host, entry)
	}
	// mmdebstrap checks with arch-test that the architecture runs.
	if _, err := exec.LookPath("arch-test"); err != nil {
		return fmt.Errorf("building for %s on %s needs arch-test (mmdebstrap checks the emulation with it): apt-get install arch-test", p, host)
	}
	return nil
}

// Make runs mmdebstrap.
func (m Mmdebstrap) Make(ctx context.Context, in Install, dir string) error {
	deb, extra, arch, epoch := in.Debian, in.Extra, in.Platform.Arch(), in.Epoch
	if err := EnsureMmdebstrap(ctx, m.logWriter()); err != nil {
		return err
	}
	if err := CheckForeignArch(in.Platform); err != nil {
		return err
	}
	tmp, err := os.MkdirTemp("", "builder-debconf-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	native := ""
	if in.NativeRoot != "" && in.Platform != platform.Host() {
		native = filepath.Join(tmp, "native")
		if err := nativeDpkgDeb(ctx, in.NativeRoot, native); err != nil {
			return err
		}
	}
	args, err := mmdebstrapArgs(in, dir, tmp, native)
	if err != nil {
		return err
	}
	if m.DebCache != "" {
		cache := filepath.Join(m.DebCache, deb.Suite+"-"+arch)
		if err := os.MkdirAll(cache, 0o755); err != nil {
			return fmt.Errorf("package cache: %w", err)
		}
		args = append(debCacheArgs(cache, !in.ReadDebCache), args...)
	}
	cmd := exec.CommandContext(ctx, "mmdebstrap", args...)
	// On cancel (Ctrl-C), ask mmdebstrap to stop so it unmounts /proc, /sys
	// and /dev/pts of the new root; kill it only if it does not.
	cmd.Cancel = func() error { return cmd.Process.Signal(syscall.SIGTERM) }
	cmd.WaitDelay = time.Minute
	cmd.Env = append(os.Environ(), installEnv(epoch)...)
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

// installEnv is the environment that makes an installation reproducible,
// besides mmdebstrap's own care: SOURCE_DATE_EPOCH for the tools that date
// what they write, and a fixed Perl hash order, as maintainer scripts in
// Perl write files in hash order (xml-core's update-xmlcatalog:
// /etc/xml/catalog came out in another order on each build).
func installEnv(epoch time.Time) []string {
	return []string{
		"SOURCE_DATE_EPOCH=" + strconv.FormatInt(epoch.Unix(), 10),
		"PERL_HASH_SEED=0",
		"PERL_PERTURB_KEYS=0",
	}
}

func (m Mmdebstrap) logWriter() io.Writer {
	if m.Log == nil {
		return io.Discard
	}
	return m.Log
}

// mmdebstrapArgs is the command line for an installation; debconfDir holds
// the preseed file it refers to; native, when set, is the directory of a
// native dpkg-deb (nativeDpkgDeb) that stands in for the root's own.
func mmdebstrapArgs(in Install, dir, debconfDir, native string) ([]string, error) {
	deb, extra, arch := in.Debian, in.Extra, in.Platform.Arch()
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
	if native != "" {
		// Set before the Essential packages are installed (dpkg --install
		// in the root, which runs dpkg-deb for every package); the root's
		// own dpkg-deb is back before the recipe's hooks run.
		args = append(args,
			`--extract-hook=cp -a `+shellQuote(native)+` "$1`+nativeKit+`" && chroot "$1" dpkg-divert --quiet --local --rename --divert `+dpkgDebAside+` --add /usr/bin/dpkg-deb && cp "$1`+nativeKit+`/dpkg-deb.sh" "$1/usr/bin/dpkg-deb" && chmod 0755 "$1/usr/bin/dpkg-deb"`,
			`--customize-hook=rm -f "$1/usr/bin/dpkg-deb" && chroot "$1" dpkg-divert --quiet --local --rename --remove /usr/bin/dpkg-deb && rm -rf "$1`+nativeKit+`"`)
	}
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

// py3compileAside and dpkgDebAside are where the root's own py3compile and
// dpkg-deb wait during installation; nativeKit is where the native
// dpkg-deb is in the root meanwhile (/tmp never goes into a layer).
const (
	py3compileAside = "/usr/bin/py3compile.synapse-image"
	dpkgDebAside    = "/usr/bin/dpkg-deb.synapse-image"
	nativeKit       = "/tmp/synapse-image-native"
)

// nativeDpkgDeb copies the dpkg-deb of the root native (the build host's
// architecture), its libraries and its dynamic loader into dir, with
// dpkg-deb.sh, the script that runs it from nativeKit in another root.
func nativeDpkgDeb(ctx context.Context, native, dir string) error {
	out, err := exec.CommandContext(ctx, "chroot", native, "ldd", "/usr/bin/dpkg-deb").Output()
	if err != nil {
		return fmt.Errorf("native dpkg-deb: ldd: %w", err)
	}
	files, loader, err := parseLdd(string(out))
	if err != nil {
		return fmt.Errorf("native dpkg-deb: %w", err)
	}
	files["dpkg-deb"] = "/usr/bin/dpkg-deb"
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	for name, p := range files {
		// Resolved inside the native root: its links are absolute there.
		real, err := exec.CommandContext(ctx, "chroot", native, "readlink", "-f", p).Output()
		if err != nil {
			return fmt.Errorf("native dpkg-deb: readlink %s: %w", p, err)
		}
		data, err := os.ReadFile(filepath.Join(native, strings.TrimSpace(string(real))))
		if err != nil {
			return fmt.Errorf("native dpkg-deb: %w", err)
		}
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o755); err != nil {
			return err
		}
	}
	script := "#!/bin/sh\n# synapse-image: dpkg-deb of the build host's architecture while the packages are installed\n" +
		"exec " + nativeKit + "/" + loader + " --library-path " + nativeKit + " " + nativeKit + "/dpkg-deb \"$@\"\n"
	return os.WriteFile(filepath.Join(dir, "dpkg-deb.sh"), []byte(script), 0o755)
}

// parseLdd reads ldd's output: the libraries by name (soname → path) and
// the dynamic loader's name (it is among the files too).
func parseLdd(out string) (files map[string]string, loader string, err error) {
	files = map[string]string{}
	for _, l := range strings.Split(out, "\n") {
		f := strings.Fields(l)
		switch {
		case len(f) >= 3 && f[1] == "=>" && strings.HasPrefix(f[2], "/"):
			files[f[0]] = f[2]
		case len(f) >= 1 && strings.HasPrefix(f[0], "/"):
			loader = filepath.Base(f[0])
			files[loader] = f[0]
		case len(f) >= 3 && f[1] == "=>":
			return nil, "", fmt.Errorf("ldd: %s not found", f[0])
		}
	}
	if loader == "" {
		return nil, "", fmt.Errorf("ldd names no dynamic loader:\n%s", out)
	}
	return files, loader, nil
}

// debCacheArgs copy the cached .deb files into the new root before apt
// downloads (apt then skips what it has) and, with update, replace the cache
// with the ones this build used afterwards (before mmdebstrap empties the
// apt cache).
func debCacheArgs(cache string, update bool) []string {
	c := shellQuote(cache)
	args := []string{
		"--skip=download/empty",
		"--skip=essential/unlink",
		`--setup-hook=mkdir -p "$1/var/cache/apt/archives" && find ` + c + ` -maxdepth 1 -name '*.deb' -exec cp -t "$1/var/cache/apt/archives/" {} +`,
	}
	if update {
		args = append(args, `--customize-hook=t=$(mktemp -d `+c+`.XXXXXX) && find "$1/var/cache/apt/archives" -maxdepth 1 -name '*.deb' -exec cp -t "$t" {} + && rm -rf `+c+` && mv "$t" `+c)
	}
	return args
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
