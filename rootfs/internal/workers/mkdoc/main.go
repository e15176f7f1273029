// Command mkdoc rewrites the generated table of worker types in
// docs/workers.md from the table of types: go run
// ./rootfs/internal/workers/mkdoc docs/workers.md (or go generate
// ./rootfs/internal/workers).
package main

import (
	"fmt"
	"os"

	"github.com/synapse-image/synapse-image/rootfs/internal/workers"
)

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: mkdoc PATH (e.g. docs/workers.md)")
		os.Exit(2)
	}
	b, err := os.ReadFile(os.Args[1])
	if err != nil {
		fmt.Fprintln(os.Stderr, "mkdoc:", err)
		os.Exit(1)
	}
	out, err := workers.ReplaceTable(string(b))
	if err != nil {
		fmt.Fprintln(os.Stderr, "mkdoc:", err)
		os.Exit(1)
	}
	if err := os.WriteFile(os.Args[1], []byte(out), 0o644); err != nil {
		fmt.Fprintln(os.Stderr, "mkdoc:", err)
		os.Exit(1)
	}
}
