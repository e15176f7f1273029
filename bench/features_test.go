package main

import (
	"archive/tar"
	"bytes"
	"context"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/synapse-image/synapse-image/image/recipe"
	"github.com/synapse-image/synapse-image/internal/dockertest"
)

// tarEntry is a file (Size bytes, or Body) or, with Link, a symlink.
type tarEntry struct {
	Name, Body, Link string
	Size             int
}

func buildTar(t *testing.T, entries []tarEntry) []byte {
	t.Helper()
	var b bytes.Buffer
	tw := tar.NewWriter(&b)
	for _, e := range entries {
		if e.Link != "" {
			require.NoError(t, tw.WriteHeader(&tar.Header{Name: e.Name, Typeflag: tar.TypeSymlink, Linkname: e.Link, Mode: 0o777}))
			continue
		}
		body := []byte(e.Body)
		if e.Body == "" {
			body = bytes.Repeat([]byte{'x'}, e.Size)
		}
		require.NoError(t, tw.WriteHeader(&tar.Header{Name: e.Name, Typeflag: tar.TypeReg, Size: int64(len(body)), Mode: 0o644}))
		_, err := tw.Write(body)
		require.NoError(t, err)
	}
	require.NoError(t, tw.Close())
	return b.Bytes()
}

// TestFeaturesMatchRecipe keeps the features' and the base's roots the
// package list of image/synapse.yaml: a package added to the recipe must be
// given to a feature (or the base) here.
func TestFeaturesMatchRecipe(t *testing.T) {
	r, err := recipe.Load(filepath.Join("..", "image", "synapse.yaml"))
	require.NoError(t, err)
	roots := slices.Clone(baseRoots)
	for _, f := range features {
		roots = append(roots, f.Roots...)
	}
	assert.ElementsMatch(t, r.Debian.Packages, roots)
}

func TestParseRelations(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want [][]string
	}{
		{"", nil},
		{"a", [][]string{{"a"}}},
		{"a (>= 1.0), b:any (<< 2) | c, d [amd64]", [][]string{{"a"}, {"b", "c"}, {"d"}}},
		{"python3 (<< 3.14),\n python3:any", [][]string{{"python3"}, {"python3"}}},
		{"foo(>=1)", [][]string{{"foo"}}},
	} {
		assert.Equal(t, tc.want, parseRelations(tc.in), tc.in)
	}
}

const testStatus = `Package: base-files
Status: install ok installed
Essential: yes
Architecture: amd64
Depends: libc6

Package: libc6
Status: install ok installed
Architecture: amd64

Package: app
Status: install ok installed
Architecture: all
Depends: libc6 (>= 2.36), missing-pkg | lib-x,
 py-shared
Pre-Depends: virtual-y

Package: lib-x
Status: install ok installed
Architecture: amd64
Multi-Arch: same

Package: provider-y
Status: install ok installed
Architecture: all
Provides: virtual-y (= 1.0)

Package: py-shared
Status: install ok installed
Architecture: all

Package: old
Status: deinstall ok config-files
Architecture: all
`

func TestParseStatus(t *testing.T) {
	pkgs, err := parseStatus([]byte(testStatus))
	require.NoError(t, err)
	names := make([]string, 0, len(pkgs))
	for n := range pkgs {
		names = append(names, n)
	}
	slices.Sort(names)
	assert.Equal(t, []string{"app", "base-files", "lib-x", "libc6", "provider-y", "py-shared"}, names, "config-files only is not installed")
	assert.True(t, pkgs["base-files"].Essential)
	assert.False(t, pkgs["app"].Essential)
	assert.Equal(t, [][]string{{"virtual-y"}, {"libc6"}, {"missing-pkg", "lib-x"}, {"py-shared"}}, pkgs["app"].Depends)
	assert.Equal(t, []string{"virtual-y"}, pkgs["provider-y"].Provides)

	_, err = parseStatus([]byte("Status: install ok installed\n"))
	assert.ErrorContains(t, err, "no Package field")
	_, err = parseStatus([]byte("Package: a\nnot a field\n"))
	assert.ErrorContains(t, err, "is not a field")
}

func TestClosure(t *testing.T) {
	pkgs, err := parseStatus([]byte(testStatus))
	require.NoError(t, err)
	for _, tc := range []struct {
		roots []string
		want  []string
	}{
		{[]string{"libc6"}, []string{"libc6"}},
		// missing-pkg is not installed: the next alternative; virtual-y by its provider.
		{[]string{"app"}, []string{"app", "lib-x", "libc6", "provider-y", "py-shared"}},
		{[]string{"virtual-y"}, []string{"provider-y"}},
		{[]string{"not-there"}, nil},
	} {
		got := closure(pkgs, tc.roots)
		var names []string
		for n := range got {
			names = append(names, n)
		}
		slices.Sort(names)
		assert.Equal(t, tc.want, names, tc.roots)
	}
}

func TestPycSource(t *testing.T) {
	for _, tc := range []struct {
		in, want string
		ok       bool
	}{
		{"usr/lib/python3/dist-packages/m/__pycache__/x.cpython-313.pyc", "usr/lib/python3/dist-packages/m/x.py", true},
		{"usr/lib/python3/dist-packages/m/__pycache__/x.cpython-313.opt-1.pyc", "usr/lib/python3/dist-packages/m/x.py", true},
		{"usr/lib/python3/dist-packages/m/x.pyc", "", false},
		{"usr/lib/python3/dist-packages/m/__pycache__/x.pyc", "", false},
	} {
		got, ok := pycSource(tc.in)
		assert.Equal(t, tc.ok, ok, tc.in)
		assert.Equal(t, tc.want, got, tc.in)
	}
}

// testRootFS is a small root file system: the base (base-files, libc6),
// two features sharing py-shared, one feature's library found through the
// merged-/usr symlink lib -> usr/lib.
func testRootFS(t *testing.T) []byte {
	return buildTar(t, []tarEntry{
		{Name: "./lib", Link: "usr/lib"},
		{Name: "./var/lib/dpkg/status", Body: testStatus + "\nPackage: feat-b\nStatus: install ok installed\nArchitecture: all\nDepends: py-shared\n"},
		{Name: "./var/lib/dpkg/info/base-files.list", Body: "/etc\n/etc/os-release\n"},
		{Name: "./var/lib/dpkg/info/libc6:amd64.list", Body: "/usr/lib/libc.so\n"},
		{Name: "./var/lib/dpkg/info/app.list", Body: "/usr/bin\n/usr/bin/app\n/usr/share/doc/app/changelog.gz\n"},
		{Name: "./var/lib/dpkg/info/lib-x:amd64.list", Body: "/lib/libx.so\n"},
		{Name: "./var/lib/dpkg/info/provider-y.list", Body: "/usr/bin/y\n"},
		{Name: "./var/lib/dpkg/info/py-shared.list", Body: "/usr/lib/python3/dist-packages/s\n/usr/lib/python3/dist-packages/s/m.py\n"},
		{Name: "./var/lib/dpkg/info/feat-b.list", Body: "/usr/lib/python3/dist-packages/b.py\n"},
		{Name: "./etc/os-release", Size: 7},
		{Name: "./usr/lib/libc.so", Size: 1000},
		{Name: "./usr/bin/app", Size: 100},
		{Name: "./usr/lib/libx.so", Size: 20},
		{Name: "./usr/bin/y", Size: 3},
		{Name: "./usr/lib/python3/dist-packages/s/m.py", Size: 50},
		{Name: "./usr/lib/python3/dist-packages/s/__pycache__/m.cpython-313.pyc", Size: 40},
		{Name: "./usr/lib/python3/dist-packages/s/__pycache__/m.cpython-314.pyc", Size: 1},
		{Name: "./usr/lib/python3/dist-packages/b.py", Size: 5},
		{Name: "./usr/lib/python3/dist-packages/__pycache__/b.cpython-313.pyc", Size: 4},
		{Name: "./usr/lib/python3/dist-packages/__pycache__/other.cpython-313.pyc", Size: 999},
	})
}

func TestReadRootFS(t *testing.T) {
	fs, err := readRootFS(bytes.NewReader(testRootFS(t)))
	require.NoError(t, err)
	assert.Equal(t, int64(1000), fs.Sizes["usr/lib/libc.so"])
	assert.Equal(t, "usr/lib", fs.Symlinks["lib"])
	assert.Equal(t, int64(41), fs.Pyc["usr/lib/python3/dist-packages/s/m.py"])
	assert.Contains(t, fs.Lists, "libc6:amd64")
	assert.Contains(t, string(fs.Status), "Package: feat-b")
	assert.Equal(t, "usr/lib/libx.so", fs.resolve("lib/libx.so"))

	_, err = readRootFS(bytes.NewReader(buildTar(t, []tarEntry{{Name: "etc/hostname", Size: 3}})))
	assert.ErrorContains(t, err, "no /var/lib/dpkg/status")
}

func TestFeatureCosts(t *testing.T) {
	fs, err := readRootFS(bytes.NewReader(testRootFS(t)))
	require.NoError(t, err)
	pkgs, err := parseStatus(fs.Status)
	require.NoError(t, err)

	for _, tc := range []struct {
		name  string
		feats []feature
		base  []string
		want  []featureCost
		err   string
	}{{
		name:  "shared dependency counted only together",
		feats: []feature{{"A", []string{"app"}}, {"B", []string{"feat-b"}}},
		want: []featureCost{
			// app 100 (its changelog is not in the layer), lib-x 20 through
			// lib -> usr/lib, provider-y 3; libc6 is the Essential base's.
			{Name: "A", Bytes: 123, Packages: []string{"app", "lib-x", "provider-y"}},
			{Name: "B", Bytes: 9, Packages: []string{"feat-b"}},
			{Name: "features together", Bytes: 123 + 9 + 91, Packages: []string{"app", "feat-b", "lib-x", "provider-y", "py-shared"}},
		},
	}, {
		name:  "what the base reaches is not a feature's",
		feats: []feature{{"A", []string{"app"}}},
		base:  []string{"py-shared", "virtual-y"},
		want: []featureCost{
			{Name: "A", Bytes: 120, Packages: []string{"app", "lib-x"}},
			{Name: "features together", Bytes: 120, Packages: []string{"app", "lib-x"}},
		},
	}, {
		name:  "a feature root that is not installed",
		feats: []feature{{"C", []string{"old"}}},
		err:   "feature C: package old is not installed",
	}} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := featureCosts(fs, pkgs, tc.feats, tc.base)
			if tc.err != "" {
				assert.ErrorContains(t, err, tc.err)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tc.want, got)
		})
	}

	// A package without a file list is an error, not a zero.
	delete(fs.Lists, "feat-b")
	_, err = featureCosts(fs, pkgs, []feature{{"B", []string{"feat-b"}}}, nil)
	assert.ErrorContains(t, err, "package feat-b: no /var/lib/dpkg/info/feat-b.list")
}

func TestFeatureRows(t *testing.T) {
	for _, tc := range []struct {
		name  string
		costs []featureCost
		want  []string
	}{{
		name: "nothing shared",
		costs: []featureCost{
			{Name: "SAML", Bytes: 15_840_000, Packages: []string{"python3-pysaml2", "xmlsec1"}},
			{Name: "PyJWT", Bytes: 300_000, Packages: []string{"python3-jwt"}},
			{Name: "features together", Bytes: 16_140_000, Packages: []string{"python3-jwt", "python3-pysaml2", "xmlsec1"}},
		},
		want: []string{
			"feature cost: SAML | 15.8 MB, 2 packages: python3-pysaml2 xmlsec1",
			"feature cost: PyJWT | 0.3 MB, 1 package: python3-jwt",
			"features together | 16.1 MB, 3 packages, those of the rows above",
		},
	}, {
		name: "a shared dependency is named in the last row",
		costs: []featureCost{
			{Name: "A", Bytes: 1e6, Packages: []string{"a"}},
			{Name: "B", Bytes: 2e6, Packages: []string{"b"}},
			{Name: "features together", Bytes: 4e6, Packages: []string{"a", "b", "six"}},
		},
		want: []string{
			"feature cost: A | 1.0 MB, 1 package: a",
			"feature cost: B | 2.0 MB, 1 package: b",
			"features together | 4.0 MB, 3 packages, those of the rows above and, shared: six",
		},
	}} {
		t.Run(tc.name, func(t *testing.T) {
			var got []string
			for _, r := range featureRows("size", tc.costs) {
				assert.Equal(t, "size", r.Section)
				assert.Equal(t, noTarget, r.Verdict)
				got = append(got, r.What+" | "+r.Result)
			}
			assert.Equal(t, tc.want, got)
		})
	}
}

// TestFeatureCostsOfBuiltImage checks the numbers on the image the builder
// wrote to .build/synapse/oci.
func TestFeatureCostsOfBuiltImage(t *testing.T) {
	dir := filepath.Join("..", ".build", "synapse", "oci")
	if _, err := os.Stat(filepath.Join(dir, "index.json")); err != nil {
		dockertest.Unavailable(t, "no OCI layout in %s (build it with: go run . build): %v", dir, err)
	}
	img, err := imageFromLayout(dir)
	require.NoError(t, err)
	costs, err := imageFeatureCosts(context.Background(), img)
	require.NoError(t, err)
	require.Len(t, costs, len(features)+1)
	together := costs[len(costs)-1]
	assert.Equal(t, "features together", together.Name)
	assert.GreaterOrEqual(t, together.Bytes, int64(20e6), "features together")
	assert.LessOrEqual(t, together.Bytes, int64(60e6), "features together")
	var saml featureCost
	for _, c := range costs {
		t.Logf("%s: %s, %v", c.Name, megabytes(c.Bytes), c.Packages)
		if c.Name == "SAML" {
			saml = c
		}
		assert.Positive(t, c.Bytes, c.Name)
	}
	assert.Contains(t, saml.Packages, "xmlsec1")
}
