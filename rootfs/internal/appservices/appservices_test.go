package appservices

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func write(t *testing.T, dir, name, content string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	require.NoError(t, os.WriteFile(p, []byte(content), 0o644))
	return p
}

func TestFindSorted(t *testing.T) {
	dir := t.TempDir()
	write(t, dir, "zeta.yml", "id: z\nurl: http://z\nas_token: a\nhs_token: h\nsender_localpart: z\nnamespaces: {}\n")
	write(t, dir, "alpha.yaml", "id: a\nurl: null\nas_token: a\nhs_token: h\nsender_localpart: a\nnamespaces: {}\n")
	write(t, dir, "Mid.yaml", "id: m\nurl: null\nas_token: a\nhs_token: h\nsender_localpart: m\nnamespaces: {}\n")
	write(t, dir, "notes.txt", "ignored")
	write(t, dir, ".hidden.yaml", "ignored: [")
	require.NoError(t, os.Mkdir(filepath.Join(dir, "dir.yaml"), 0o755))
	files, err := Find(dir)
	require.NoError(t, err)
	assert.Equal(t, []string{filepath.Join(dir, "Mid.yaml"), filepath.Join(dir, "alpha.yaml"), filepath.Join(dir, "zeta.yml")}, files)
}

func TestFindMissingDir(t *testing.T) {
	files, err := Find(filepath.Join(t.TempDir(), "none"))
	require.NoError(t, err)
	assert.Empty(t, files)
}

func TestBroken(t *testing.T) {
	for _, tc := range []struct{ name, content, want string }{
		{"bad yaml", "id: [\n", "not valid YAML"},
		{"empty", "", "is empty"},
		{"list", "- a\n", "not valid YAML"},
		{"no id", "url: null\nas_token: a\nhs_token: h\nsender_localpart: b\nnamespaces: {}\n", `"id"`},
		{"no as_token", "id: x\nurl: null\nhs_token: h\nsender_localpart: b\nnamespaces: {}\n", `"as_token"`},
		{"no hs_token", "id: x\nurl: null\nas_token: a\nsender_localpart: b\nnamespaces: {}\n", `"hs_token"`},
		{"no sender", "id: x\nurl: null\nas_token: a\nhs_token: h\nnamespaces: {}\n", `"sender_localpart"`},
		{"no url", "id: x\nas_token: a\nhs_token: h\nsender_localpart: b\nnamespaces: {}\n", `"url"`},
		{"url number", "id: x\nurl: 5\nas_token: a\nhs_token: h\nsender_localpart: b\nnamespaces: {}\n", `"url"`},
		{"no namespaces", "id: x\nurl: null\nas_token: a\nhs_token: h\nsender_localpart: b\n", `"namespaces"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			write(t, dir, "a.yaml", "id: ok\nurl: null\nas_token: a\nhs_token: h\nsender_localpart: a\nnamespaces: {}\n")
			p := write(t, dir, "b.yaml", tc.content)
			_, err := Find(dir)
			require.Error(t, err)
			assert.Contains(t, err.Error(), p, "the error names the file")
			assert.Contains(t, err.Error(), tc.want)
		})
	}
}

func TestDuplicateID(t *testing.T) {
	dir := t.TempDir()
	c := "id: same\nurl: null\nas_token: a\nhs_token: h\nsender_localpart: a\nnamespaces: {}\n"
	write(t, dir, "a.yaml", c)
	p := write(t, dir, "b.yaml", c)
	_, err := Find(dir)
	require.ErrorContains(t, err, p)
	assert.ErrorContains(t, err, "already used")
}

func TestUnreadable(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "link.yaml")
	require.NoError(t, os.Symlink(filepath.Join(dir, "gone"), p))
	_, err := Find(dir)
	require.ErrorContains(t, err, p)
	assert.ErrorContains(t, err, "cannot read")
}
