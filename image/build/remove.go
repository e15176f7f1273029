package build

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// removeAll removes a work directory, unless something is still mounted
// below it (an interrupted mmdebstrap can leave /proc, /sys and /dev/pts
// of a new root mounted): then it leaves it alone rather than reach into a
// mounted file system, and says so.
func removeAll(dir string) error {
	if mounts := mountsBelow(dir); len(mounts) > 0 {
		return fmt.Errorf("not removing %s: %s still mounted there (umount -R it, then remove it)", dir, strings.Join(mounts, ", "))
	}
	return os.RemoveAll(dir)
}

func mountsBelow(dir string) []string {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil
	}
	f, err := os.Open("/proc/self/mounts")
	if err != nil {
		return nil
	}
	defer f.Close()
	var out []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) > 1 && strings.HasPrefix(fields[1], strings.TrimSuffix(abs, "/")+"/") {
			out = append(out, fields[1])
		}
	}
	return out
}
