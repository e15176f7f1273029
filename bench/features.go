package main

import (
	"archive/tar"
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"path"
	"slices"
	"strings"

	v1 "github.com/google/go-containerregistry/pkg/v1"
)

// feature is one of Synapse's optional integrations the recipe
// (image/synapse.yaml) installs, by the Debian packages it asks for.
type feature struct {
	Name  string
	Roots []string
}

// features are the optional integrations of image/synapse.yaml's package
// list; baseRoots the rest of that list (the Essential packages are base too).
var (
	features = []feature{
		{"OpenID Connect/JWT", []string{"python3-authlib"}},
		{"PyJWT", []string{"python3-jwt"}},
		{"SAML", []string{"python3-pysaml2", "xmlsec1"}},
		{"LDAP", []string{"matrix-synapse-ldap3"}},
		{"Sentry", []string{"python3-sentry-sdk"}},
		{"tracing", []string{"python3-opentracing", "python3-jaeger-client"}},
		{"Redis parser", []string{"python3-hiredis"}},
	}
	baseRoots = []string{"matrix-synapse", "ca-certificates", "libjemalloc2"}
)

const (
	dpkgStatus  = "var/lib/dpkg/status"
	dpkgInfoDir = "var/lib/dpkg/info/"
)

// rootFS is what the feature costs need of a root file system layer.
type rootFS struct {
	// Sizes of the regular files, by clean path without a leading "/".
	Sizes map[string]int64
	// Bytecode sizes by the source they were compiled from: "a/b/x.py" sums
	// the a/b/__pycache__/x.cpython-*.pyc files.
	Pyc map[string]int64
	// Symlinks by path, their targets as stored.
	Symlinks map[string]string
	// Status is dpkg's status file; Lists the packages' file lists by the
	// name of the .list file without the suffix ("pkg" or "pkg:arch").
	Status []byte
	Lists  map[string][]byte
}

// cleanTarPath turns a tar entry's or dpkg's path into the key of rootFS.
func cleanTarPath(p string) string {
	return strings.TrimPrefix(path.Clean("/"+p), "/")
}

// readRootFS reads a layer's tar once.
func readRootFS(r io.Reader) (*rootFS, error) {
	fs := &rootFS{Sizes: map[string]int64{}, Pyc: map[string]int64{}, Symlinks: map[string]string{}, Lists: map[string][]byte{}}
	tr := tar.NewReader(r)
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("layer tar: %w", err)
		}
		p := cleanTarPath(h.Name)
		switch h.Typeflag {
		case tar.TypeSymlink:
			fs.Symlinks[p] = h.Linkname
			continue
		case tar.TypeReg:
		default:
			continue
		}
		fs.Sizes[p] = h.Size
		if src, ok := pycSource(p); ok {
			fs.Pyc[src] += h.Size
		}
		switch {
		case p == dpkgStatus:
			if fs.Status, err = io.ReadAll(tr); err != nil {
				return nil, fmt.Errorf("layer tar: %s: %w", p, err)
			}
		case strings.HasPrefix(p, dpkgInfoDir) && strings.HasSuffix(p, ".list"):
			b, err := io.ReadAll(tr)
			if err != nil {
				return nil, fmt.Errorf("layer tar: %s: %w", p, err)
			}
			fs.Lists[strings.TrimSuffix(strings.TrimPrefix(p, dpkgInfoDir), ".list")] = b
		}
	}
	if fs.Status == nil {
		return nil, fmt.Errorf("layer tar: no /%s (not a Debian root file system?)", dpkgStatus)
	}
	return fs, nil
}

// pycSource names the source a/b/x.py of a bytecode file
// a/b/__pycache__/x.cpython-*.pyc.
func pycSource(p string) (string, bool) {
	dir, file := path.Split(p)
	if path.Base(dir) != "__pycache__" || !strings.HasSuffix(file, ".pyc") {
		return "", false
	}
	stem, _, ok := strings.Cut(file, ".cpython-")
	if !ok {
		return "", false
	}
	return path.Join(path.Dir(path.Clean(dir)), stem+".py"), true
}

// resolve follows the symlinks of a path's directories (merged /usr: a
// package may list /lib/x while the layer holds usr/lib/x).
func (fs *rootFS) resolve(p string) string {
	for range 40 { // a bound against symlink loops
		parts := strings.Split(p, "/")
		changed := false
		for i := 1; i < len(parts); i++ {
			dir := strings.Join(parts[:i], "/")
			target, ok := fs.Symlinks[dir]
			if !ok {
				continue
			}
			if !strings.HasPrefix(target, "/") {
				target = path.Join(path.Dir("/"+dir), target)
			}
			p = cleanTarPath(target + "/" + strings.Join(parts[i:], "/"))
			changed = true
			break
		}
		if !changed {
			return p
		}
	}
	return p
}

// packageFiles lists the regular files of a package present in the layer
// and their bytes, the bytecode of its Python sources included.
func (fs *rootFS) packageFiles(pkg dpkgPackage) (map[string]int64, error) {
	list, ok := fs.Lists[pkg.Name]
	if !ok {
		list, ok = fs.Lists[pkg.Name+":"+pkg.Arch]
	}
	if !ok {
		return nil, fmt.Errorf("package %s: no /%s%s.list nor %s:%s.list", pkg.Name, dpkgInfoDir, pkg.Name, pkg.Name, pkg.Arch)
	}
	files := map[string]int64{}
	sc := bufio.NewScanner(bytes.NewReader(list))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" {
			continue
		}
		p := cleanTarPath(line)
		if _, ok := fs.Sizes[p]; !ok {
			p = fs.resolve(p)
		}
		if n, ok := fs.Sizes[p]; ok {
			files[p] = n
		}
		if strings.HasSuffix(p, ".py") {
			if n, ok := fs.Pyc[p]; ok {
				files[p+"#bytecode"] = n
			}
		}
	}
	return files, sc.Err()
}

// dpkgPackage is an installed package of dpkg's status file.
type dpkgPackage struct {
	Name, Arch string
	Essential  bool
	// Depends and Pre-Depends: each entry is a list of alternatives.
	Depends  [][]string
	Provides []string
}

// parseStatus reads dpkg's status file: the installed packages by name.
func parseStatus(status []byte) (map[string]dpkgPackage, error) {
	pkgs := map[string]dpkgPackage{}
	for i, stanza := range strings.Split(strings.ReplaceAll(string(status), "\r\n", "\n"), "\n\n") {
		fields := map[string]string{}
		var last string
		for _, line := range strings.Split(stanza, "\n") {
			switch {
			case line == "":
			case line[0] == ' ' || line[0] == '\t':
				if last != "" {
					fields[last] += "\n" + line
				}
			default:
				k, v, ok := strings.Cut(line, ":")
				if !ok {
					return nil, fmt.Errorf("dpkg status, stanza %d: line %q is not a field", i+1, line)
				}
				last = strings.ToLower(k)
				fields[last] = strings.TrimSpace(v)
			}
		}
		if len(fields) == 0 {
			continue
		}
		name := fields["package"]
		if name == "" {
			return nil, fmt.Errorf("dpkg status, stanza %d: no Package field", i+1)
		}
		// "install ok installed": config-files and half-installed do not count.
		if st := strings.Fields(fields["status"]); len(st) != 3 || st[2] != "installed" {
			continue
		}
		p := dpkgPackage{Name: name, Arch: fields["architecture"], Essential: fields["essential"] == "yes"}
		for _, f := range []string{"pre-depends", "depends"} {
			p.Depends = append(p.Depends, parseRelations(fields[f])...)
		}
		for _, alt := range parseRelations(fields["provides"]) {
			p.Provides = append(p.Provides, alt...)
		}
		pkgs[name] = p
	}
	return pkgs, nil
}

// parseRelations reads a Depends-like field "a (>= 1), b:any | c": each
// relation's alternatives, by name, without versions or architectures.
func parseRelations(field string) [][]string {
	var out [][]string
	for _, rel := range strings.Split(field, ",") {
		var alts []string
		for _, alt := range strings.Split(rel, "|") {
			name, _, _ := strings.Cut(strings.TrimSpace(alt), " ")
			name, _, _ = strings.Cut(name, "(")
			name, _, _ = strings.Cut(name, "[")
			name, _, _ = strings.Cut(name, ":")
			if name = strings.TrimSpace(name); name != "" {
				alts = append(alts, name)
			}
		}
		if len(alts) > 0 {
			out = append(out, alts)
		}
	}
	return out
}

// installedAs names the installed packages that satisfy a dependency on
// name: the package itself, else the installed packages that provide it.
func installedAs(pkgs map[string]dpkgPackage, name string) []string {
	if _, ok := pkgs[name]; ok {
		return []string{name}
	}
	var by []string
	for _, p := range pkgs {
		if slices.Contains(p.Provides, name) {
			by = append(by, p.Name)
		}
	}
	slices.Sort(by)
	return by
}

// closure is the set of installed packages reachable from roots by
// dependencies, taking of each relation the first alternative installed.
// Dependencies on packages that are not installed (the recipe purges some
// with --force-depends) are left out.
func closure(pkgs map[string]dpkgPackage, roots []string) map[string]bool {
	seen := map[string]bool{}
	var todo []string
	for _, r := range roots {
		todo = append(todo, installedAs(pkgs, r)...)
	}
	for len(todo) > 0 {
		n := todo[len(todo)-1]
		todo = todo[:len(todo)-1]
		if seen[n] {
			continue
		}
		seen[n] = true
		for _, rel := range pkgs[n].Depends {
			for _, alt := range rel {
				if by := installedAs(pkgs, alt); len(by) > 0 {
					todo = append(todo, by...)
					break
				}
			}
		}
	}
	return seen
}

// featureCost is what one feature adds to the image.
type featureCost struct {
	Name     string
	Bytes    int64
	Packages []string // sorted
}

// featureCosts computes each feature's own packages (reachable from its
// roots, not from the base nor from another feature's roots, so that shared
// dependencies are not counted twice) and their bytes, then one last
// "features together": everything reachable from a feature but not the base.
func featureCosts(fs *rootFS, pkgs map[string]dpkgPackage, feats []feature, base []string) ([]featureCost, error) {
	for _, p := range pkgs {
		if p.Essential {
			base = append(slices.Clip(base), p.Name)
		}
	}
	for _, f := range feats {
		for _, r := range f.Roots {
			if len(installedAs(pkgs, r)) == 0 {
				return nil, fmt.Errorf("feature %s: package %s is not installed", f.Name, r)
			}
		}
	}
	baseSet := closure(pkgs, base)
	reach := make([]map[string]bool, len(feats))
	for i, f := range feats {
		reach[i] = closure(pkgs, f.Roots)
	}
	sizeOf := func(names []string) (int64, error) {
		files := map[string]int64{}
		for _, n := range names {
			fl, err := fs.packageFiles(pkgs[n])
			if err != nil {
				return 0, err
			}
			for p, b := range fl {
				files[p] = b
			}
		}
		var sum int64
		for _, b := range files {
			sum += b
		}
		return sum, nil
	}
	var out []featureCost
	together := map[string]bool{}
	for i, f := range feats {
		var own []string
		for n := range reach[i] {
			if baseSet[n] {
				continue
			}
			together[n] = true
			shared := false
			for j := range feats {
				if j != i && reach[j][n] {
					shared = true
				}
			}
			if !shared {
				own = append(own, n)
			}
		}
		slices.Sort(own)
		b, err := sizeOf(own)
		if err != nil {
			return nil, fmt.Errorf("feature %s: %w", f.Name, err)
		}
		out = append(out, featureCost{Name: f.Name, Bytes: b, Packages: own})
	}
	all := make([]string, 0, len(together))
	for n := range together {
		all = append(all, n)
	}
	slices.Sort(all)
	b, err := sizeOf(all)
	if err != nil {
		return nil, err
	}
	return append(out, featureCost{Name: "features together", Bytes: b, Packages: all}), nil
}

// rootFSLayer picks the root file system layer of an image (by its
// history comment, the builder's; else the first layer).
func rootFSLayer(img v1.Image) (v1.Layer, error) {
	layers, err := img.Layers()
	if err != nil {
		return nil, fmt.Errorf("layers: %w", err)
	}
	if len(layers) == 0 {
		return nil, errors.New("the image has no layer")
	}
	cf, err := img.ConfigFile()
	if err != nil {
		return nil, fmt.Errorf("image config: %w", err)
	}
	i := 0
	for _, h := range cf.History {
		if h.EmptyLayer {
			continue
		}
		if h.Comment == "root file system" && i < len(layers) {
			return layers[i], nil
		}
		i++
	}
	return layers[0], nil
}

// imageFeatureCosts reads the root file system layer of img once and
// computes the features' costs.
func imageFeatureCosts(ctx context.Context, img v1.Image) ([]featureCost, error) {
	l, err := rootFSLayer(img)
	if err != nil {
		return nil, err
	}
	rc, err := l.Uncompressed()
	if err != nil {
		return nil, fmt.Errorf("root file system layer: %w", err)
	}
	defer rc.Close()
	fs, err := readRootFS(ctxReader{ctx, rc})
	if err != nil {
		return nil, fmt.Errorf("root file system layer: %w", err)
	}
	pkgs, err := parseStatus(fs.Status)
	if err != nil {
		return nil, err
	}
	return featureCosts(fs, pkgs, features, baseRoots)
}

// featureRows are the size section's "feature cost" rows; the last row
// ("features together") names only the packages that no row above does
// (dependencies that two features share).
func featureRows(section string, costs []featureCost) []row {
	var rows []row
	named := map[string]bool{}
	for i, c := range costs {
		what, names := "feature cost: "+c.Name, c.Packages
		if i == len(costs)-1 && c.Name == "features together" {
			what, names = c.Name, nil
			for _, p := range c.Packages {
				if !named[p] {
					names = append(names, p)
				}
			}
		}
		for _, p := range c.Packages {
			named[p] = true
		}
		result := megabytes(c.Bytes) + ", " + plural(len(c.Packages), "package")
		switch {
		case what == c.Name && len(names) == 0:
			result += ", those of the rows above"
		case what == c.Name:
			result += ", those of the rows above and, shared: " + strings.Join(names, " ")
		default:
			result += ": " + strings.Join(names, " ")
		}
		rows = append(rows, measured(section, what, result, 0, nil))
	}
	return rows
}

func plural(n int, word string) string {
	if n == 1 {
		return "1 " + word
	}
	return fmt.Sprintf("%d %ss", n, word)
}
