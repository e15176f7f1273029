package tags

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/synapse-image/synapse-image/image/names"
)

func TestParseDebian(t *testing.T) {
	tests := []struct {
		in   string
		want Version
		str  string
	}{
		{"1.160.0-1", Version{1, 160, 0, "", "1.160.0-1"}, "1.160.0"},
		{"1.160.0", Version{1, 160, 0, "", "1.160.0"}, "1.160.0"},
		{"1.161.0~rc1-1", Version{1, 161, 0, "rc1", "1.161.0~rc1-1"}, "1.161.0rc1"},
		{"1.161.0~rc2", Version{1, 161, 0, "rc2", "1.161.0~rc2"}, "1.161.0rc2"},
		{"1:1.160.2-3", Version{1, 160, 2, "", "1:1.160.2-3"}, "1.160.2"},
		{"1.160.0+dfsg-2", Version{1, 160, 0, "", "1.160.0+dfsg-2"}, "1.160.0"},
		{"1.160.0-1+deb13u1", Version{1, 160, 0, "", "1.160.0-1+deb13u1"}, "1.160.0"},
		{"1.160.0-1~bpo12+1", Version{1, 160, 0, "", "1.160.0-1~bpo12+1"}, "1.160.0"},
		{"0.99.5-1", Version{0, 99, 5, "", "0.99.5-1"}, "0.99.5"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := ParseDebian(tt.in)
			require.NoError(t, err)
			assert.Equal(t, tt.want, got)
			assert.Equal(t, tt.str, got.String())
		})
	}
}

func TestParseDebianRejects(t *testing.T) {
	for _, in := range []string{
		"",
		"1.160",
		"1.160.0.1-1",
		"v1.160.0",
		"1.160.x-1",
		"01.160.0-1",
		"1.160.0-",
		"1.160.0rc1-1", // Debian spells pre-releases with "~"
		"1.161.0~-1",
		"x:1.160.0-1",
		"1.160.0-1 ",
		"1.99999999999999999999.0-1",
	} {
		t.Run(in, func(t *testing.T) {
			_, err := ParseDebian(in)
			require.Error(t, err)
			assert.Contains(t, err.Error(), "expected a Debian version")
		})
	}
}

func TestParseUpstream(t *testing.T) {
	tests := []struct {
		in   string
		want Version
		ok   bool
	}{
		{"1.160.0", Version{1, 160, 0, "", "1.160.0"}, true},
		{"1.161.0rc1", Version{1, 161, 0, "rc1", "1.161.0rc1"}, true},
		{"2.0.0b3", Version{2, 0, 0, "b3", "2.0.0b3"}, true},
		{"1.160.0-1", Version{}, false},
		{"1.161.0~rc1", Version{}, false},
		{"1.160", Version{}, false},
		{"1.160.0rc", Version{}, false},
		{"", Version{}, false},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := ParseUpstream(tt.in)
			if !tt.ok {
				require.Error(t, err)
				assert.Contains(t, err.Error(), "expected a Synapse version")
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.want, got)
			assert.Equal(t, tt.in, got.String())
		})
	}
}

const rev = "0123abcdef0123abcdef0123abcdef0123abcdef"

func TestFor(t *testing.T) {
	release := Version{1, 160, 0, "", "1.160.0-1"}
	rc := Version{1, 161, 0, "rc1", "1.161.0~rc1-1"}
	tests := []struct {
		name string
		v    Version
		rev  string
		opt  Options
		want []string
	}{
		{"release", release, rev, Options{}, []string{"v1.160.0", "v1.160", "latest", "sha-0123abc"}},
		{"no latest", release, rev, Options{NoLatest: true}, []string{"v1.160.0", "v1.160", "sha-0123abc"}},
		{"pre-release never moves latest or vX.Y", rc, rev, Options{}, []string{"v1.161.0rc1", "sha-0123abc"}},
		{"pre-release with NoLatest", rc, rev, Options{NoLatest: true}, []string{"v1.161.0rc1", "sha-0123abc"}},
		{"no revision", release, "", Options{}, []string{"v1.160.0", "v1.160", "latest"}},
		{"malformed revision", release, "main", Options{}, []string{"v1.160.0", "v1.160", "latest"}},
		{"short revision", release, "0123abc", Options{}, []string{"v1.160.0", "v1.160", "latest", "sha-0123abc"}},
		{"upper-case revision", release, "0123ABCDEF", Options{}, []string{"v1.160.0", "v1.160", "latest", "sha-0123abc"}},
		{"dirty tree", release, rev + "-dirty", Options{}, []string{"v1.160.0", "v1.160", "latest", "sha-0123abc-dirty"}},
		{"package tag", release, rev, Options{PackageTag: true}, []string{"v1.160.0", "v1.160.0-1", "v1.160", "latest", "sha-0123abc"}},
		{"package tag of a pre-release", rc, rev, Options{PackageTag: true}, []string{"v1.161.0rc1", "v1.161.0rc1-1", "sha-0123abc"}},
		{"package tag sanitized", Version{1, 160, 0, "", "1:1.160.0-1+deb13u1"}, rev, Options{PackageTag: true, NoLatest: true},
			[]string{"v1.160.0", "v1.160.0-1.deb13u1", "v1.160", "sha-0123abc"}},
		{"package tag without Debian revision", Version{1, 160, 0, "", "1.160.0"}, rev, Options{PackageTag: true},
			[]string{"v1.160.0", "v1.160", "latest", "sha-0123abc"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := For(tt.v, tt.rev, tt.opt)
			assert.Equal(t, tt.want, got)
			for _, tag := range got {
				assert.True(t, Valid(tag), "tag %q is not a valid OCI tag", tag)
			}
		})
	}
}

func TestShortRevision(t *testing.T) {
	tests := []struct {
		in, want string
		ok       bool
	}{
		{rev, "0123abc", true},
		{"0123abc", "0123abc", true},
		{"0123ABC", "0123abc", true},
		{rev + "-dirty", "0123abc-dirty", true},
		{"", "", false},
		{"0123ab", "", false}, // too short to name a commit safely
		{"main", "", false},
		{"0123abg", "", false},
		{rev + rev, "", false}, // 80 digits: no git hash is that long
		{"0123abc-modified", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := ShortRevision(tt.in)
			if !tt.ok {
				require.Error(t, err)
				assert.Contains(t, err.Error(), "expected a git commit hash")
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.want, got)
		})
	}
}

func TestValid(t *testing.T) {
	tests := []struct {
		tag string
		ok  bool
	}{
		{"latest", true},
		{"v1.160.0", true},
		{"sha-0123abc", true},
		{"_x", true},
		{"", false},
		{"-x", false},
		{".x", false},
		{"a:b", false},
		{"a/b", false},
		{"v1.160.0+1", false},
		{string(make([]byte, 129)), false},
	}
	for _, tt := range tests {
		assert.Equal(t, tt.ok, Valid(tt.tag), "Valid(%q)", tt.tag)
	}
	long := "a"
	for len(long) < 128 {
		long += "b"
	}
	assert.True(t, Valid(long), "128 characters is the limit, not beyond it")
	assert.False(t, Valid(long+"c"))
}

func TestForBuild(t *testing.T) {
	rev := "0123456789abcdef0123456789abcdef01234567"
	tests := []struct {
		name  string
		pkg   string
		rev   string
		extra []string
		want  []string
	}{
		{"synapse release", "1.160.0-1", rev, nil, []string{"v1.160.0", "v1.160", "latest", "sha-0123456"}},
		{"synapse rc", "1.161.0~rc1-1", rev, nil, []string{"v1.161.0rc1", "sha-0123456"}},
		{"not a synapse version", "15.14-0+deb12u1", rev, nil, []string{"latest", "sha-0123456"}},
		{"no version, no revision", "", "", nil, []string{"latest"}},
		{"extra tags, no duplicates", "1.160.0-1", rev + "-dirty", []string{"edge", "latest"}, []string{"v1.160.0", "v1.160", "latest", "sha-0123456-dirty", "edge"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, ForBuild(tt.pkg, tt.rev, tt.extra))
		})
	}
}

func TestFromLabels(t *testing.T) {
	const rev = "0123abcdef0123abcdef0123abcdef0123abcdef"
	tests := []struct {
		name    string
		labels  map[string]string
		want    []string
		wantErr string
	}{
		{"release", map[string]string{names.LabelVersion: "1.160.0", names.LabelPackageVersion: "1.160.0-1", names.LabelRevision: rev, names.LabelTitle: "synapse"},
			[]string{"v1.160.0", "v1.160", "latest", "sha-0123abc"}, ""},
		{"pre-release", map[string]string{names.LabelVersion: "1.161.0rc1", names.LabelPackageVersion: "1.161.0~rc1-1", names.LabelRevision: rev},
			[]string{"v1.161.0rc1", "sha-0123abc"}, ""},
		{"no package label", map[string]string{names.LabelVersion: "1.161.0rc1", names.LabelRevision: rev},
			[]string{"v1.161.0rc1", "sha-0123abc"}, ""},
		{"no revision", map[string]string{names.LabelPackageVersion: "1.160.0-1"},
			[]string{"v1.160.0", "v1.160", "latest"}, ""},
		{"no version", map[string]string{names.LabelRevision: rev}, nil,
			"neither label dev.synapse-image.package-version nor org.opencontainers.image.version: give the tags with --tag"},
		{"bad package version", map[string]string{names.LabelPackageVersion: "latest"}, nil, `package version "latest"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l, err := FromLabels(tt.labels)
			if tt.wantErr != "" {
				assert.ErrorContains(t, err, tt.wantErr)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.labels[names.LabelRevision], l.Revision)
			assert.Equal(t, tt.want, l.Tags(Options{}))
		})
	}
}
