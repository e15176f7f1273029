package build

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/synapse-image/synapse-image/image/platform"
	"github.com/synapse-image/synapse-image/image/recipe"
)

func TestMmdebstrapArgs(t *testing.T) {
	deb := recipe.Debian{
		Suite: "sid", Mirror: "http://deb.debian.org/debian", Variant: "essential", Components: []string{"main", "contrib"},
		AptOptions:  []string{`Acquire::Check-Valid-Until "false"`},
		DpkgOptions: []string{"path-exclude=/usr/share/man/*"},
		Packages:    []string{"matrix-synapse", "libjemalloc2"},
		Debconf:     []string{"matrix-synapse matrix-synapse/server-name string localhost"},
		Customize:   []string{`chroot "$1" true`},
	}
	tmp := t.TempDir()
	args, err := mmdebstrapArgs(Install{Debian: deb, Extra: []string{"python3-pip"}, Platform: platform.ARM64}, "/tmp/x/root", tmp, "")
	require.NoError(t, err)
	assert.Equal(t, []string{"sid", "/tmp/x/root", "http://deb.debian.org/debian"}, args[len(args)-3:], "suite, target, mirror come last")
	for _, want := range []string{
		"--mode=root", "--format=directory", "--variant=essential", "--architectures=arm64", "--components=main,contrib",
		"--include=matrix-synapse,libjemalloc2,python3-pip",
		`--aptopt=Acquire::Check-Valid-Until "false"`,
		"--dpkgopt=path-exclude=/usr/share/man/*",
		`--customize-hook=chroot "$1" true`,
	} {
		assert.Contains(t, args, want)
	}
	joined := strings.Join(args, "\n")
	assert.Contains(t, joined, "--essential-hook=", "debconf answers go in before the packages")
	assert.Contains(t, joined, filepath.Join(tmp, "config.dat"))
	assert.Contains(t, joined, "force-unsafe-io")
	assert.Equal(t, `--customize-hook=rm -f "$1/etc/dpkg/dpkg.cfg.d/`+unsafeIOFile+`"`, args[len(args)-4], "the unsafe-io setting is removed last")

	db, err := os.ReadFile(filepath.Join(tmp, "config.dat"))
	require.NoError(t, err)
	assert.Equal(t, "Name: matrix-synapse/server-name\nTemplate: matrix-synapse/server-name\nValue: localhost\nOwners: matrix-synapse\nFlags: seen\n\n", string(db))
}

// TestMmdebstrapDeferByteCompile: with DeferByteCompile, py3compile is
// diverted before the packages are installed and back before the recipe's
// own hooks run (which may purge packages, whose prerm scripts use py3clean).
func TestMmdebstrapDeferByteCompile(t *testing.T) {
	deb := recipe.Debian{Suite: "sid", Mirror: "http://deb.debian.org/debian", Variant: "essential", Customize: []string{`chroot "$1" dpkg --purge x`}}
	index := func(args []string, prefix, contains string) int {
		for i, a := range args {
			if strings.HasPrefix(a, prefix) && strings.Contains(a, contains) {
				return i
			}
		}
		return -1
	}
	for _, deferred := range []bool{false, true} {
		args, err := mmdebstrapArgs(Install{Debian: deb, Platform: platform.AMD64, DeferByteCompile: deferred}, "/tmp/x/root", t.TempDir(), "")
		require.NoError(t, err)
		divert := index(args, "--essential-hook=", "dpkg-divert --quiet --local --rename --divert "+py3compileAside+" --add /usr/bin/py3compile")
		restore := index(args, "--customize-hook=", "dpkg-divert --quiet --local --rename --remove /usr/bin/py3compile")
		recipeHook := index(args, "--customize-hook=", "dpkg --purge x")
		if !deferred {
			assert.Equal(t, -1, divert, "no diversion unless asked")
			assert.Equal(t, -1, restore)
			assert.NotContains(t, strings.Join(args, "\n"), "py3compile")
			continue
		}
		require.NotEqual(t, -1, divert, "py3compile diverted: %q", args)
		require.NotEqual(t, -1, restore, "py3compile restored: %q", args)
		assert.Contains(t, args[divert], `printf '#!/bin/sh\n`, "a stub that does nothing stands in")
		assert.Contains(t, args[divert], `exit 0`)
		assert.Less(t, restore, recipeHook, "the real py3compile is back before the recipe's hooks")
	}
}

func TestReleaseDate(t *testing.T) {
	d, err := releaseDate("Origin: Debian\nSuite: unstable\nDate: Thu, 30 Oct 2026 08:12:34 UTC\nValid-Until: Thu, 06 Nov 2026 08:12:34 UTC\n")
	require.NoError(t, err)
	assert.Equal(t, "2026-10-30T08:12:34Z", d.Format("2006-01-02T15:04:05Z07:00"))
	_, err = releaseDate("Origin: Debian\n")
	assert.ErrorContains(t, err, "no Date")
	_, err = releaseDate("Date: yesterday\n")
	assert.ErrorContains(t, err, "yesterday")
}

func TestUpstreamVersion(t *testing.T) {
	for in, want := range map[string]string{
		"1.160.0-1": "1.160.0", "1:1.161.0~rc1-2": "1.161.0~rc1", "15+248": "15+248", "15.14-0+deb12u1": "15.14",
	} {
		assert.Equal(t, want, upstreamVersion(in), in)
	}
}

func TestFetchMirrorState(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/debian/dists/sid/InRelease" {
			http.NotFound(w, r)
			return
		}
		fmt.Fprint(w, "Suite: unstable\nDate: Thu, 30 Oct 2026 08:12:34 UTC\n")
	}))
	defer srv.Close()
	st, err := FetchMirrorState(context.Background(), srv.Client(), srv.URL+"/debian", "sid")
	require.NoError(t, err)
	assert.Len(t, st.InReleaseSHA256, 64)
	assert.Equal(t, 2026, st.Date.Year())

	_, err = FetchMirrorState(context.Background(), srv.Client(), srv.URL+"/debian", "nosuchsuite")
	assert.ErrorContains(t, err, "404")
	assert.ErrorContains(t, err, "debian.suite")

	srv.Close()
	_, err = FetchMirrorState(context.Background(), srv.Client(), srv.URL+"/debian", "sid")
	assert.ErrorContains(t, err, "cannot reach the Debian mirror")
}

func TestExplainMmdebstrap(t *testing.T) {
	out := "I: running apt-get update...\nE: Unable to locate package nope\nE: setup failed: E: apt-get ... failed\nE: mmdebstrap failed to run\n"
	assert.Equal(t, "E: Unable to locate package nope", explainMmdebstrap([]byte(out)))
	assert.Equal(t, "b\nc", explainMmdebstrap([]byte("a\nb\nc\n"))[len("a\n"):])
}

func TestRememberMirror(t *testing.T) {
	dir := t.TempDir()
	online := true
	fetch := RememberMirror(dir, func(ctx context.Context, m, s string) (MirrorState, error) {
		if !online {
			return MirrorState{}, fmt.Errorf("cannot reach the Debian mirror")
		}
		return fakeMirror(ctx, m, s)
	})
	ctx := context.Background()
	_, err := fetch(ctx, "http://other", "sid")
	require.NoError(t, err)

	online = false
	_, err = fetch(ctx, "http://deb.debian.org/debian", "sid")
	assert.ErrorContains(t, err, "cannot reach", "nothing remembered for this mirror yet")

	online = true
	st, err := fetch(ctx, "http://deb.debian.org/debian", "sid")
	require.NoError(t, err)
	assert.False(t, st.Remembered)

	online = false
	old, err := fetch(ctx, "http://deb.debian.org/debian", "sid")
	require.NoError(t, err)
	assert.True(t, old.Remembered)
	assert.Equal(t, st.InReleaseSHA256, old.InReleaseSHA256)
	assert.True(t, st.Date.Equal(old.Date))
}

func TestParseLdd(t *testing.T) {
	const out = "\tlinux-vdso.so.1 (0x00007ffd6b1f2000)\n" +
		"\tlibmd.so.0 => /lib/x86_64-linux-gnu/libmd.so.0 (0x00007f2b3c0d4000)\n" +
		"\tliblzma.so.5 => /lib/x86_64-linux-gnu/liblzma.so.5 (0x00007f2b3c0a0000)\n" +
		"\tlibc.so.6 => /lib/x86_64-linux-gnu/libc.so.6 (0x00007f2b3bebf000)\n" +
		"\t/lib64/ld-linux-x86-64.so.2 (0x00007f2b3c0f5000)\n"
	tests := []struct {
		name, out, loader, err string
		files                  map[string]string
	}{
		{"dpkg-deb", out, "ld-linux-x86-64.so.2", "", map[string]string{
			"libmd.so.0": "/lib/x86_64-linux-gnu/libmd.so.0", "liblzma.so.5": "/lib/x86_64-linux-gnu/liblzma.so.5",
			"libc.so.6": "/lib/x86_64-linux-gnu/libc.so.6", "ld-linux-x86-64.so.2": "/lib64/ld-linux-x86-64.so.2",
		}},
		{"a library missing", out + "\tlibzstd.so.1 => not found\n", "", "libzstd.so.1 not found", nil},
		{"static", "\tnot a dynamic executable\n", "", "names no dynamic loader", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			files, loader, err := parseLdd(tt.out)
			if tt.err != "" {
				assert.ErrorContains(t, err, tt.err)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.loader, loader)
			assert.Equal(t, tt.files, files)
		})
	}
}

// TestMmdebstrapNativeDpkgDeb: with a native dpkg-deb, the root's own is
// diverted before the Essential packages are installed (the extract hook)
// and back before the recipe's hooks.
func TestMmdebstrapNativeDpkgDeb(t *testing.T) {
	deb := recipe.Debian{Suite: "sid", Mirror: "http://deb.debian.org/debian", Variant: "essential", Customize: []string{`chroot "$1" dpkg --purge x`}}
	for _, native := range []string{"", "/tmp/kit"} {
		args, err := mmdebstrapArgs(Install{Debian: deb, Platform: platform.ARM64}, "/tmp/x/root", t.TempDir(), native)
		require.NoError(t, err)
		joined := strings.Join(args, "\n")
		if native == "" {
			assert.NotContains(t, joined, "dpkg-deb")
			continue
		}
		var extract, restore, recipeHook int = -1, -1, -1
		for i, a := range args {
			switch {
			case strings.HasPrefix(a, "--extract-hook=") && strings.Contains(a, "--divert "+dpkgDebAside+" --add /usr/bin/dpkg-deb"):
				extract = i
			case strings.HasPrefix(a, "--customize-hook=") && strings.Contains(a, "--remove /usr/bin/dpkg-deb"):
				restore = i
			case strings.Contains(a, "dpkg --purge x"):
				recipeHook = i
			}
		}
		require.NotEqual(t, -1, extract, "%q", args)
		assert.Contains(t, args[extract], `cp -a '/tmp/kit' "$1`+nativeKit+`"`)
		require.NotEqual(t, -1, restore)
		assert.Contains(t, args[restore], `rm -rf "$1`+nativeKit+`"`, "the native files go again")
		assert.Less(t, restore, recipeHook)
	}
}

func TestDebCacheArgs(t *testing.T) {
	update := strings.Join(debCacheArgs("/c/sid-amd64", true), "\n")
	read := strings.Join(debCacheArgs("/c/sid-amd64", false), "\n")
	assert.Contains(t, update, "--setup-hook=")
	assert.Contains(t, read, "--setup-hook=", "both use the cached files")
	assert.Contains(t, update, "rm -rf '/c/sid-amd64'", "an update replaces the cache")
	assert.NotContains(t, read, "rm -rf", "a read leaves the cache as it is")
}

// TestInstallEnv: Perl's hash order is fixed while packages install (their
// Perl maintainer scripts write files in hash order) and the epoch is set.
func TestInstallEnv(t *testing.T) {
	env := installEnv(time.Unix(1764201600, 0))
	assert.Contains(t, env, "SOURCE_DATE_EPOCH=1764201600")
	assert.Contains(t, env, "PERL_HASH_SEED=0")
	assert.Contains(t, env, "PERL_PERTURB_KEYS=0")
}
