package entrypoint

import (
	"context"
	"crypto/rand"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/synapse-image/synapse-image/rootfs/internal/env"
)

// BenchmarkConfigStep measures what /start costs per container start, up
// to the exec of Synapse (which is replaced by a no-op): "restart" is the
// usual case (keys exist, config rewritten), "first-start" also creates
// every secret, the signing key and the TLS pair, and "check" validates and
// prints. Compare with the 2018 image, which ran a second Python Synapse
// process (--generate-keys, about 2.4 s here) on every start; see
// scripts/bench-config-step.sh for both side by side.
func BenchmarkConfigStep(b *testing.B) {
	vars := func(dir string) map[string]string {
		return map[string]string{
			"SYNAPSE_SERVER_NAME": "example.com", "SYNAPSE_REPORT_STATS": "no", "SYNAPSE_DATA_DIR": dir,
			"UID": strconv.Itoa(os.Geteuid()), "GID": strconv.Itoa(os.Getegid()),
		}
	}
	sys := func(m map[string]string) System {
		return System{
			Env: env.Map(m), Stdout: io.Discard, Stderr: io.Discard, Rand: rand.Reader, Now: time.Now,
			Euid: os.Geteuid(), HasIPv6: HasIPv6, Drop: func(int, int) error { return nil },
			Exec:     func(string, []string, []string) error { return nil },
			LookPath: func(string) (string, error) { return "/usr/bin/python3", nil },
			Jemalloc: Jemalloc("amd64"),
		}
	}
	ctx := context.Background()
	for _, mode := range []string{"restart", "check"} {
		b.Run(mode, func(b *testing.B) {
			dir := filepath.Join(b.TempDir(), "data")
			s := sys(vars(dir))
			if code := Main(ctx, s, []string{"run"}); code != ExitOK {
				b.Fatalf("first start: exit %d", code)
			}
			arg := "run"
			if mode == "check" {
				arg = "check"
			}
			b.ResetTimer()
			for b.Loop() {
				if code := Main(ctx, s, []string{arg}); code != ExitOK {
					b.Fatalf("exit %d", code)
				}
			}
		})
	}
	b.Run("first-start", func(b *testing.B) {
		base := b.TempDir()
		i := 0
		for b.Loop() {
			i++
			s := sys(vars(filepath.Join(base, strconv.Itoa(i))))
			if code := Main(ctx, s, []string{"run"}); code != ExitOK {
				b.Fatalf("exit %d", code)
			}
		}
	})
}
