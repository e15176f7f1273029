// Package recipe holds the declarative description of an image (a YAML file
// such as image/synapse.yaml): what goes into its Debian root file system,
// which files and Go programs the project adds, and the image configuration.
// The builder (package image/build) turns a Recipe into an OCI image.
//
// Every field is documented on its Go type; image/README.md shows a complete
// example. Unknown fields are errors, so a typo never silently does nothing.
package recipe

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
)

// Recipe is one image.
type Recipe struct {
	// Name names the build: outputs go to .build/<name>/. Lower case,
	// digits, dashes.
	Name string `yaml:"name"`
	// Repository is the default image repository (e.g. "synapse"), so
	// `build --load` tags <repository>:latest.
	Repository string `yaml:"repository"`
	// Debian describes the root file system made with mmdebstrap.
	Debian Debian `yaml:"debian"`
	// Remove lists globs of paths dropped from the root file system layer
	// (path.Match syntax per path element, plus "**" for any number of
	// elements), e.g. "/usr/lib/python3/dist-packages/**/tests".
	// A matching directory is dropped with everything below it.
	Remove []string `yaml:"remove"`
	// Wheels says whether the Python wheels of the build's wheels directory
	// (--wheels, default wheels/) are installed, in their own layer, with
	// the image's Python. Only images whose software is Python take them.
	Wheels bool `yaml:"wheels"`
	// Python tunes the root file system's Python for start-up time, after
	// the packages are installed (optional).
	Python *Python `yaml:"python"`
	// Users are added to /etc/passwd and /etc/group of the root file system.
	Users []User `yaml:"users"`
	// Dirs are directories created in the project layer, with owner and mode.
	Dirs []Dir `yaml:"dirs"`
	// Files are copied from the repository into the project layer.
	Files []File `yaml:"files"`
	// Programs are Go main packages of this module, built statically for the
	// target platform into the project layer.
	Programs []Program `yaml:"programs"`
	// Symlinks are added to the project layer; their targets must exist in
	// the image.
	Symlinks []Symlink `yaml:"symlinks"`
	// Config is the OCI image configuration.
	Config Config `yaml:"config"`
	// Version says where the version of the image's main software is found.
	Version Version `yaml:"version"`
}

// Debian is the root file system: mmdebstrap <suite> with these packages.
type Debian struct {
	Suite  string `yaml:"suite"`  // e.g. sid, bookworm
	Mirror string `yaml:"mirror"` // e.g. http://deb.debian.org/debian
	// Variant is mmdebstrap's --variant (default "apt"; "essential" has no apt).
	Variant    string   `yaml:"variant"`
	Components []string `yaml:"components"` // default [main]
	// AptOptions are apt configuration lines, e.g. `Acquire::Check-Valid-Until "false"`.
	AptOptions []string `yaml:"apt-options"`
	// DpkgOptions are dpkg configuration lines, e.g. "path-exclude=/usr/share/man/*".
	DpkgOptions []string `yaml:"dpkg-options"`
	Packages    []string `yaml:"packages"`
	// Debconf lines for debconf-set-selections, set before the packages
	// are installed: "<package> <question> <type> <value>".
	Debconf []string `yaml:"debconf"`
	// Customize are shell commands run by mmdebstrap after installation
	// ($1 is the root directory; use `chroot "$1" ...` to run inside).
	Customize []string `yaml:"customize"`
}

// Python is done in the root file system by the image's own python3 after
// installation, in this order: edits, invalidation mode, bundle, checks. Its
// results are part of the root file system layer.
type Python struct {
	// Edits change installed Python files; the edits of one file apply all
	// together or, when one of them does not match, not at all (the build
	// says so and the file stays as installed).
	Edits []Edit `yaml:"edits"`
	// InvalidationMode compiles every .pyc of the image's Python again in
	// this PEP 552 mode: timestamp, checked-hash or unchecked-hash (Debian
	// byte-compiles checked-hash under SOURCE_DATE_EPOCH, so each import
	// also reads and hashes the source). Empty: left as installed.
	InvalidationMode string `yaml:"invalidation-mode"`
	// Bundle puts the bytecode of the modules that importing Modules loads
	// into one file, served at run time by an import hook.
	Bundle *Bundle `yaml:"bundle"`
	// Checks run at build time, after the bundle; each that passes writes
	// its record (see Check), which an edit may read at run time.
	Checks []Check `yaml:"checks"`
}

// Check is Python code run at build time by the image's python3 (-I) in
// the new root. When it exits 0 and prints nothing to standard error, File
// gets a JSON record of the sys.path it ran with and the distributions
// (*.dist-info, *.egg-info) in each of those directories, which tells
// whether what it found there could have changed since; otherwise the
// build says so and writes no record.
type Check struct {
	Code string `yaml:"code"`
	File string `yaml:"file"`
}

// Edit replaces the one line of File that reads Line (compared without its
// indentation) with Replace, whose lines get the indentation of Line.
type Edit struct {
	File    string `yaml:"file"`
	Line    string `yaml:"line"`
	Replace string `yaml:"replace"`
}

// Bundle is a bytecode bundle: _bytecode_bundle.dat, its hook module
// _bytecode_bundle.py and _bytecode_bundle.pth (which installs the hook at
// interpreter start) in Dir. Only modules found at the path they were
// bundled from, unchanged, come from it; everything else imports normally.
type Bundle struct {
	// Modules are imported at build time; every module with bytecode that
	// this loads goes into the bundle.
	Modules []string `yaml:"modules"`
	// Dir is a site directory of the image's Python, where .pth files run.
	Dir string `yaml:"dir"`
	// Env names the variable that turns the hook off (0, off, false, no).
	Env string `yaml:"env"`
	// DropPyc removes the bundled modules' own .pyc files: the bundle is
	// their bytecode, and keeping both costs its size twice. With the hook
	// turned off those modules are then compiled from source at each start.
	DropPyc bool `yaml:"drop-pyc"`
	// Finder names the variable that turns off the bundle's meta path
	// finder, which finds bundled modules from the bundle's index without
	// looking their files up; empty: no finder (the path hook only).
	Finder string `yaml:"finder"`
}

// User is a system user (and its primary group of the same name).
type User struct {
	Name  string `yaml:"name"`
	UID   int    `yaml:"uid"`
	GID   int    `yaml:"gid"`
	Home  string `yaml:"home"`  // default /nonexistent
	Shell string `yaml:"shell"` // default /usr/sbin/nologin
}

// Dir is a directory in the project layer.
type Dir struct {
	Path string `yaml:"path"`
	Mode Mode   `yaml:"mode"` // default 0755
	UID  int    `yaml:"uid"`
	GID  int    `yaml:"gid"`
}

// File copies Src (relative to the recipe's repository root) to Dst.
type File struct {
	Src  string `yaml:"src"`
	Dst  string `yaml:"dst"`
	Mode Mode   `yaml:"mode"` // default 0644
}

// Program builds the Go main package Package (e.g. ./rootfs/start) with
// CGO_ENABLED=0 -trimpath -ldflags='-s -w' and installs it at Dst (mode 0755).
type Program struct {
	Package string `yaml:"package"`
	Dst     string `yaml:"dst"`
}

// Symlink makes Path point to Target.
type Symlink struct {
	Path   string `yaml:"path"`
	Target string `yaml:"target"`
}

// Config is the image configuration (see the OCI image spec).
type Config struct {
	Entrypoint []string          `yaml:"entrypoint"`
	Cmd        []string          `yaml:"cmd"`
	Env        map[string]string `yaml:"env"`
	User       string            `yaml:"user"` // empty: root
	WorkingDir string            `yaml:"working-dir"`
	Ports      []string          `yaml:"ports"` // "8008/tcp"; "8008" means tcp
	Volumes    []string          `yaml:"volumes"`
	StopSignal string            `yaml:"stop-signal"`
	Labels     map[string]string `yaml:"labels"`
	// Healthcheck is optional.
	Healthcheck *Healthcheck `yaml:"healthcheck"`
}

// Healthcheck is Docker's HEALTHCHECK. StartInterval is honoured by Docker
// 25 and later (checks during StartPeriod run that often); older engines
// use Interval from the start.
type Healthcheck struct {
	Test          []string `yaml:"test"` // ["CMD", ...] or ["CMD-SHELL", "..."]
	Interval      Duration `yaml:"interval"`
	Timeout       Duration `yaml:"timeout"`
	StartPeriod   Duration `yaml:"start-period"`
	StartInterval Duration `yaml:"start-interval"`
	Retries       int      `yaml:"retries"`
}

// Version says which installed Debian package gives the image its version:
// its upstream version goes into the label org.opencontainers.image.version
// and the tags, the full Debian version into dev.synapse-image.package-version.
type Version struct {
	Package string `yaml:"package"`
}

// Mode is a file mode written in octal in YAML (0755 or "0755").
type Mode uint32

// UnmarshalYAML reads octal numbers, with or without quotes.
func (m *Mode) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind != yaml.ScalarNode {
		return fmt.Errorf("line %d: mode must be an octal number like 0755", n.Line)
	}
	v, err := strconv.ParseUint(strings.TrimPrefix(n.Value, "0o"), 8, 32)
	if err != nil || v > 0o7777 {
		return fmt.Errorf("line %d: mode %q must be an octal number like 0755", n.Line, n.Value)
	}
	*m = Mode(v)
	return nil
}

// Duration is a time.Duration written like "5s" in YAML.
type Duration time.Duration

// UnmarshalYAML reads Go duration strings.
func (d *Duration) UnmarshalYAML(n *yaml.Node) error {
	v, err := time.ParseDuration(n.Value)
	if err != nil || v < 0 {
		return fmt.Errorf("line %d: duration %q must look like 500ms, 5s or 1m", n.Line, n.Value)
	}
	*d = Duration(v)
	return nil
}

// Load reads and validates the recipe file.
func Load(file string) (*Recipe, error) {
	data, err := os.ReadFile(file)
	if err != nil {
		return nil, fmt.Errorf("recipe: %w", err)
	}
	r, err := Parse(data)
	if err != nil {
		return nil, fmt.Errorf("recipe %s: %w", file, err)
	}
	return r, nil
}

// Parse decodes a recipe, fills in defaults and validates it.
func Parse(data []byte) (*Recipe, error) {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	var r Recipe
	if err := dec.Decode(&r); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, errors.New("empty recipe")
		}
		return nil, cleanYAMLError(err)
	}
	r.setDefaults()
	if err := r.Validate(); err != nil {
		return nil, err
	}
	return &r, nil
}

func cleanYAMLError(err error) error {
	var te *yaml.TypeError
	if errors.As(err, &te) {
		return errors.New(strings.Join(te.Errors, "; "))
	}
	return err
}

func (r *Recipe) setDefaults() {
	if r.Repository == "" {
		r.Repository = r.Name
	}
	if r.Debian.Variant == "" {
		r.Debian.Variant = "apt"
	}
	if len(r.Debian.Components) == 0 {
		r.Debian.Components = []string{"main"}
	}
	for i := range r.Users {
		if r.Users[i].Home == "" {
			r.Users[i].Home = "/nonexistent"
		}
		if r.Users[i].Shell == "" {
			r.Users[i].Shell = "/usr/sbin/nologin"
		}
	}
	for i := range r.Dirs {
		if r.Dirs[i].Mode == 0 {
			r.Dirs[i].Mode = 0o755
		}
	}
	for i := range r.Files {
		if r.Files[i].Mode == 0 {
			r.Files[i].Mode = 0o644
		}
	}
	for i, p := range r.Config.Ports {
		if !strings.Contains(p, "/") {
			r.Config.Ports[i] = p + "/tcp"
		}
	}
}

var (
	nameRE    = regexp.MustCompile(`^[a-z0-9]+(?:[._-][a-z0-9]+)*$`)
	repoRE    = regexp.MustCompile(`^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?:/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*$`)
	suiteRE   = regexp.MustCompile(`^[a-z][a-z0-9-]*$`)
	packageRE = regexp.MustCompile(`^[a-z0-9][a-z0-9+.-]+(?:[:=][A-Za-z0-9.+~:-]+)?$`)
	userRE    = regexp.MustCompile(`^[a-z_][a-z0-9_-]*$`)
	envRE     = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)
	portRE    = regexp.MustCompile(`^([0-9]{1,5})/(tcp|udp|sctp)$`)
	variants  = []string{"extract", "custom", "essential", "apt", "required", "minbase", "buildd", "important", "debootstrap", "standard"}
)

// report records a problem with the field it names.
type report func(field, format string, args ...any)

// Validate checks every field and reports all problems at once, each naming
// its field.
func (r *Recipe) Validate() error {
	var errs []error
	bad := func(field, format string, args ...any) {
		errs = append(errs, fmt.Errorf("%s: %s", field, fmt.Sprintf(format, args...)))
	}
	if !nameRE.MatchString(r.Name) {
		bad("name", "%q must be lower case letters, digits and dashes (e.g. synapse)", r.Name)
	}
	if !repoRE.MatchString(r.Repository) {
		bad("repository", "%q is not a valid image repository name", r.Repository)
	}
	r.Debian.validate(bad)
	validateRemove(r.Remove, bad)
	if py := r.Python; py != nil {
		r.validatePython(py, bad)
	}
	validateUsers(r.Users, bad)
	r.validatePaths(bad)
	r.Config.validate(bad)
	if r.Version.Package != "" && !packageRE.MatchString(r.Version.Package) {
		bad("version.package", "%q is not a Debian package name", r.Version.Package)
	}
	return errors.Join(errs...)
}

// validate checks the debian: section.
func (d Debian) validate(bad report) {
	if !suiteRE.MatchString(d.Suite) {
		bad("debian.suite", "%q must be a Debian suite such as sid or bookworm", d.Suite)
	}
	if !strings.HasPrefix(d.Mirror, "http://") && !strings.HasPrefix(d.Mirror, "https://") {
		bad("debian.mirror", "%q must be an http:// or https:// URL", d.Mirror)
	}
	if !slices.Contains(variants, d.Variant) {
		bad("debian.variant", "%q must be one of %s", d.Variant, strings.Join(variants, ", "))
	}
	for i, c := range d.Components {
		if !suiteRE.MatchString(c) {
			bad(fmt.Sprintf("debian.components[%d]", i), "%q is not a component name", c)
		}
	}
	if len(d.Packages) == 0 && d.Variant != "essential" {
		bad("debian.packages", "list at least one package")
	}
	for i, p := range d.Packages {
		if !packageRE.MatchString(p) {
			bad(fmt.Sprintf("debian.packages[%d]", i), "%q is not a Debian package name", p)
		}
	}
	for i, o := range d.AptOptions {
		if strings.TrimSpace(o) == "" || strings.ContainsAny(o, "\n") {
			bad(fmt.Sprintf("debian.apt-options[%d]", i), "must be one non-empty apt configuration line")
		}
	}
	for i, o := range d.DpkgOptions {
		if strings.TrimSpace(o) == "" || strings.ContainsAny(o, "\n") {
			bad(fmt.Sprintf("debian.dpkg-options[%d]", i), "must be one non-empty dpkg configuration line")
		}
	}
	for i, l := range d.Debconf {
		if len(strings.Fields(l)) < 3 || strings.Contains(l, "\n") {
			bad(fmt.Sprintf("debian.debconf[%d]", i), "%q must be one line: <package> <question> <type> [value]", l)
		}
	}
	for i, c := range d.Customize {
		if strings.TrimSpace(c) == "" {
			bad(fmt.Sprintf("debian.customize[%d]", i), "is empty")
		}
	}
}

// validateRemove checks the remove: globs.
func validateRemove(globs []string, bad report) {
	for i, g := range globs {
		f := fmt.Sprintf("remove[%d]", i)
		if !path.IsAbs(g) || g == "/" {
			bad(f, "%q must be an absolute path glob below /", g)
		} else if _, err := path.Match(strings.ReplaceAll(g, "**", "*"), ""); err != nil {
			bad(f, "%q is not a valid glob: %v", g, err)
		}
	}
}

// validateUsers checks the users: list.
func validateUsers(users []User, bad report) {
	seenUser := map[string]bool{}
	for i, u := range users {
		f := fmt.Sprintf("users[%d]", i)
		if !userRE.MatchString(u.Name) {
			bad(f+".name", "%q is not a valid user name", u.Name)
		}
		if seenUser[u.Name] {
			bad(f+".name", "user %q is listed twice", u.Name)
		}
		seenUser[u.Name] = true
		if u.UID <= 0 || u.UID > 65534 {
			bad(f+".uid", "%d must be between 1 and 65534", u.UID)
		}
		if u.GID <= 0 || u.GID > 65534 {
			bad(f+".gid", "%d must be between 1 and 65534", u.GID)
		}
		if !path.IsAbs(u.Home) {
			bad(f+".home", "%q must be an absolute path", u.Home)
		}
		if !path.IsAbs(u.Shell) {
			bad(f+".shell", "%q must be an absolute path", u.Shell)
		}
	}
}

// validatePaths checks that dirs, files, programs and symlinks each have
// a path of their own in the project layer.
func (r *Recipe) validatePaths(bad report) {
	dsts := map[string]string{}
	claim := func(field, p string) {
		if !isCleanAbs(p) {
			bad(field, "%q must be a clean absolute path", p)
			return
		}
		if prev, ok := dsts[p]; ok {
			bad(field, "%s is also the path of %s", p, prev)
			return
		}
		dsts[p] = field
	}
	for i, dir := range r.Dirs {
		f := fmt.Sprintf("dirs[%d]", i)
		claim(f+".path", dir.Path)
		if dir.UID < 0 || dir.GID < 0 {
			bad(f, "uid and gid must not be negative")
		}
	}
	for i, fl := range r.Files {
		f := fmt.Sprintf("files[%d]", i)
		if fl.Src == "" || path.IsAbs(fl.Src) || strings.HasPrefix(path.Clean(fl.Src), "..") {
			bad(f+".src", "%q must be a path inside the repository, relative to its root", fl.Src)
		}
		claim(f+".dst", fl.Dst)
	}
	for i, p := range r.Programs {
		f := fmt.Sprintf("programs[%d]", i)
		if !strings.HasPrefix(p.Package, "./") || strings.Contains(p.Package, "..") {
			bad(f+".package", "%q must be a package path inside this module, like ./rootfs/start", p.Package)
		}
		claim(f+".dst", p.Dst)
	}
	for i, s := range r.Symlinks {
		f := fmt.Sprintf("symlinks[%d]", i)
		claim(f+".path", s.Path)
		if s.Target == "" {
			bad(f+".target", "must not be empty")
		}
	}
}

// validate checks the config: section.
func (c Config) validate(bad report) {
	if len(c.Entrypoint) == 0 && len(c.Cmd) == 0 {
		bad("config", "set entrypoint or cmd, or the image cannot run anything")
	}
	for k := range c.Env {
		if !envRE.MatchString(k) {
			bad("config.env", "%q is not a valid variable name", k)
		}
	}
	if c.WorkingDir != "" && !path.IsAbs(c.WorkingDir) {
		bad("config.working-dir", "%q must be an absolute path", c.WorkingDir)
	}
	for i, p := range c.Ports {
		m := portRE.FindStringSubmatch(p)
		if m == nil {
			bad(fmt.Sprintf("config.ports[%d]", i), "%q must look like 8008/tcp", p)
			continue
		}
		if n, _ := strconv.Atoi(m[1]); n < 1 || n > 65535 {
			bad(fmt.Sprintf("config.ports[%d]", i), "port %s is out of range", m[1])
		}
	}
	for i, v := range c.Volumes {
		if !isCleanAbs(v) {
			bad(fmt.Sprintf("config.volumes[%d]", i), "%q must be a clean absolute path", v)
		}
	}
	for k := range c.Labels {
		if strings.TrimSpace(k) == "" {
			bad("config.labels", "a label has an empty name")
		}
	}
	if h := c.Healthcheck; h != nil {
		if len(h.Test) < 2 || (h.Test[0] != "CMD" && h.Test[0] != "CMD-SHELL") {
			bad("config.healthcheck.test", "must be [CMD, program, args...] or [CMD-SHELL, command]")
		}
		if h.Interval == 0 {
			bad("config.healthcheck.interval", "must be set, e.g. 5s")
		}
		if h.Retries < 0 {
			bad("config.healthcheck.retries", "must not be negative")
		}
	}
}

var (
	invalidationModes = []string{"", "timestamp", "checked-hash", "unchecked-hash"}
	moduleRE          = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*$`)
)

func (r *Recipe) validatePython(py *Python, bad report) {
	if !slices.Contains(invalidationModes, py.InvalidationMode) {
		bad("python.invalidation-mode", "%q must be timestamp, checked-hash or unchecked-hash", py.InvalidationMode)
	}
	for i, e := range py.Edits {
		f := fmt.Sprintf("python.edits[%d]", i)
		if !isCleanAbs(e.File) {
			bad(f+".file", "%q must be a clean absolute path", e.File)
		}
		if strings.TrimSpace(e.Line) == "" || strings.Contains(e.Line, "\n") {
			bad(f+".line", "must be one non-empty line")
		}
		if e.Replace == "" {
			bad(f+".replace", "must not be empty (the replacement lines)")
		}
	}
	for i, c := range py.Checks {
		f := fmt.Sprintf("python.checks[%d]", i)
		if strings.TrimSpace(c.Code) == "" {
			bad(f+".code", "must not be empty (the Python code to run)")
		}
		if !isCleanAbs(c.File) {
			bad(f+".file", "%q must be a clean absolute path (where the record goes)", c.File)
		}
	}
	if b := py.Bundle; b != nil {
		if len(b.Modules) == 0 {
			bad("python.bundle.modules", "list at least one module to import")
		}
		for i, m := range b.Modules {
			if !moduleRE.MatchString(m) {
				bad(fmt.Sprintf("python.bundle.modules[%d]", i), "%q is not a module name like synapse.app.homeserver", m)
			}
		}
		if !isCleanAbs(b.Dir) {
			bad("python.bundle.dir", "%q must be a clean absolute path (a site directory)", b.Dir)
		}
		if !envRE.MatchString(b.Env) {
			bad("python.bundle.env", "%q must be a variable name (it turns the bundle off)", b.Env)
		}
		if b.Finder != "" && !envRE.MatchString(b.Finder) {
			bad("python.bundle.finder", "%q must be a variable name (it turns the finder off)", b.Finder)
		}
	}
}

func isCleanAbs(p string) bool {
	return path.IsAbs(p) && path.Clean(p) == p && p != "/"
}
