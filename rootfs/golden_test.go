package rootfs_test

import (
	"flag"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/golden")

// TestGolden compares the full generated config of each case with its
// golden file (go test ./rootfs -run TestGolden -update rewrites them).
func TestGolden(t *testing.T) {
	for _, c := range goldenCases {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			runCase(t, c, dir)
			got, err := os.ReadFile(filepath.Join(dir, c.output()))
			require.NoError(t, err)
			got = asData(got, dir)
			files := map[string][]byte{c.golden(): got}
			if c.name == "sqlite-minimal" {
				logCfg, err := os.ReadFile(filepath.Join(dir, "generated", "log.config"))
				require.NoError(t, err)
				files[filepath.Join("testdata", "golden", "log.config")] = logCfg
			}
			for path, content := range files {
				if *update {
					require.NoError(t, os.MkdirAll(filepath.Dir(path), 0o755))
					require.NoError(t, os.WriteFile(path, content, 0o644))
					continue
				}
				want, err := os.ReadFile(path)
				require.NoError(t, err, "missing golden file; run go test ./rootfs -run TestGolden -update")
				assert.Equal(t, string(want), string(content), "%s differs; if intended, run go test ./rootfs -run TestGolden -update", path)
			}
		})
	}
}
