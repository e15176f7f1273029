package source

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestDateEpoch(t *testing.T) {
	noGit := t.TempDir()
	tests := []struct {
		name      string
		env       string
		want      time.Time
		wantFound bool
		wantErr   string
	}{
		{"from the environment", "1764201600", time.Date(2025, 11, 27, 0, 0, 0, 0, time.UTC), true, ""},
		{"not a number", "yesterday", time.Time{}, false, `SOURCE_DATE_EPOCH="yesterday": expected seconds since 1970`},
		{"negative", "-1", time.Time{}, false, "expected seconds since 1970"},
		{"no git, no variable", "", time.Unix(0, 0).UTC(), false, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, found, err := DateEpoch(context.Background(), noGit, func(k string) string {
				if k == "SOURCE_DATE_EPOCH" {
					return tt.env
				}
				return ""
			})
			if tt.wantErr != "" {
				assert.ErrorContains(t, err, tt.wantErr)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.want, got)
			assert.Equal(t, tt.wantFound, found)
		})
	}
}

func TestRoot(t *testing.T) {
	root := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(root, "go.mod"), []byte("module x\n"), 0o644))
	sub := filepath.Join(root, "a", "b")
	require.NoError(t, os.MkdirAll(sub, 0o755))
	got, err := Root(sub)
	require.NoError(t, err)
	assert.Equal(t, root, got)
	assert.Empty(t, Revision(context.Background(), root), "not a git checkout")
}
