// Package sbom describes what an image holds as an SPDX 2.3 document: its
// Debian packages (from dpkg's status and each package's copyright file),
// the Python distributions installed from local wheels (below /usr/local)
// and the Go modules of the project's programs (from their build info). It
// reads the image itself, so the SBOM says what was shipped, whatever the
// build cached.
package sbom

import (
	"archive/tar"
	"bufio"
	"bytes"
	"debug/buildinfo"
	"fmt"
	"io"
	"path"
	"runtime/debug"
	"sort"
	"strings"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
)

// Contents is what Scan finds in an image.
type Contents struct {
	// Debs are the installed Debian packages, sorted by name.
	Debs []Deb
	// Wheels are the Python distributions below /usr/local, sorted by name.
	Wheels []Wheel
	// Programs are the Go programs asked for, in the order asked.
	Programs []Program
}

// Deb is one installed Debian package.
type Deb struct {
	Name, Version, Architecture string
	// Source is the source package ("Source:" without its version, else Name);
	// SourceVersion its version (in parentheses in "Source:", else Version).
	Source, SourceVersion string
	Maintainer, Homepage  string
	// Licenses are the distinct License: names of a machine-readable
	// (DEP-5) copyright file, in order of appearance; empty otherwise.
	Licenses []string
}

// Wheel is one Python distribution installed from a wheel.
type Wheel struct {
	Name, Version, License string
}

// Program is a Go program in the image and its build info.
type Program struct {
	Path string
	Info *debug.BuildInfo
}

// dpkgStatus, docDir and wheelDir are where Scan looks.
const (
	dpkgStatus = "var/lib/dpkg/status"
	docDir     = "usr/share/doc/"
	wheelDir   = "usr/local/lib/"
)

// Scan reads the image's file system once and collects its contents;
// programs are absolute paths of Go binaries in the image.
func Scan(img v1.Image, programs []string) (*Contents, error) {
	rc := mutate.Extract(img)
	defer rc.Close()
	var (
		status     []byte
		copyrights = map[string][]byte{}
		metadata   = map[string][]byte{}
		binaries   = map[string][]byte{}
	)
	want := map[string]bool{}
	for _, p := range programs {
		want[strings.TrimPrefix(path.Clean(p), "/")] = true
	}
	tr := tar.NewReader(rc)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("reading the image's file system: %w", err)
		}
		if h.Typeflag != tar.TypeReg {
			continue
		}
		name := strings.TrimPrefix(path.Clean("/"+h.Name), "/")
		var into map[string][]byte
		key := name
		switch {
		case name == dpkgStatus:
			into = map[string][]byte{}
		case strings.HasPrefix(name, docDir) && path.Base(name) == "copyright" && strings.Count(name, "/") == 4:
			into, key = copyrights, path.Base(path.Dir(name))
		case strings.HasPrefix(name, wheelDir) && strings.HasSuffix(path.Dir(name), ".dist-info") && path.Base(name) == "METADATA":
			into = metadata
		case want[name]:
			into = binaries
		default:
			continue
		}
		data, err := io.ReadAll(tr)
		if err != nil {
			return nil, fmt.Errorf("reading /%s from the image: %w", name, err)
		}
		if name == dpkgStatus {
			status = data
			continue
		}
		into[key] = data
	}
	if status == nil {
		return nil, fmt.Errorf("the image has no /%s: not a Debian image", dpkgStatus)
	}
	return collect(status, copyrights, metadata, binaries, programs)
}

func collect(status []byte, copyrights, metadata, binaries map[string][]byte, programs []string) (*Contents, error) {
	c := &Contents{}
	for _, f := range paragraphs(status) {
		if !strings.HasSuffix(f["Status"], " installed") {
			continue
		}
		d := Deb{Name: f["Package"], Version: f["Version"], Architecture: f["Architecture"],
			Source: f["Package"], SourceVersion: f["Version"], Maintainer: f["Maintainer"], Homepage: f["Homepage"]}
		if src := f["Source"]; src != "" {
			name, version, ok := strings.Cut(src, " ")
			d.Source = name
			if ok {
				d.SourceVersion = strings.Trim(strings.TrimSpace(version), "()")
			}
		}
		d.Licenses = dep5Licenses(copyrights[d.Name])
		c.Debs = append(c.Debs, d)
	}
	sort.Slice(c.Debs, func(i, j int) bool { return c.Debs[i].Name < c.Debs[j].Name })

	for _, file := range sortedKeys(metadata) {
		f := firstParagraph(metadata[file])
		if f["Name"] == "" || f["Version"] == "" {
			return nil, fmt.Errorf("/%s: no Name or Version", file)
		}
		lic := f["License-Expression"]
		if lic == "" {
			lic = f["License"]
		}
		c.Wheels = append(c.Wheels, Wheel{Name: f["Name"], Version: f["Version"], License: lic})
	}
	sort.Slice(c.Wheels, func(i, j int) bool { return c.Wheels[i].Name < c.Wheels[j].Name })

	for _, p := range programs {
		data, ok := binaries[strings.TrimPrefix(path.Clean(p), "/")]
		if !ok {
			return nil, fmt.Errorf("program %s: not in the image", p)
		}
		info, err := buildinfo.Read(bytes.NewReader(data))
		if err != nil {
			return nil, fmt.Errorf("program %s: Go build info: %w", p, err)
		}
		c.Programs = append(c.Programs, Program{Path: p, Info: info})
	}
	return c, nil
}

// paragraphs splits a deb822 file (dpkg's status) into its paragraphs;
// continuation lines are dropped, as no field read here has them.
func paragraphs(data []byte) []map[string]string {
	var out []map[string]string
	cur := map[string]string{}
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		switch {
		case strings.TrimSpace(line) == "":
			if len(cur) > 0 {
				out = append(out, cur)
				cur = map[string]string{}
			}
		case line[0] == ' ' || line[0] == '\t' || line[0] == '#':
		default:
			k, v, ok := strings.Cut(line, ":")
			if ok {
				cur[k] = strings.TrimSpace(v)
			}
		}
	}
	if len(cur) > 0 {
		out = append(out, cur)
	}
	return out
}

// firstParagraph is the header of an e-mail-like file (Python's METADATA).
func firstParagraph(data []byte) map[string]string {
	if p := paragraphs(data); len(p) > 0 {
		return p[0]
	}
	return map[string]string{}
}

// dep5Licenses returns the License: names of a machine-readable copyright
// file (https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/),
// each once, in order; nothing for a free-form file.
func dep5Licenses(data []byte) []string {
	ps := paragraphs(data)
	if len(ps) == 0 || !strings.Contains(ps[0]["Format"], "copyright-format") {
		return nil
	}
	var out []string
	seen := map[string]bool{}
	for _, p := range ps {
		l := p["License"]
		if l != "" && !seen[l] {
			seen[l] = true
			out = append(out, l)
		}
	}
	return out
}

func sortedKeys(m map[string][]byte) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
