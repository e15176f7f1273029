// Command mkdoc writes the variables reference of /start, generated from
// its variable table: go run ./rootfs/internal/env/mkdoc docs/variables.md
// (or go generate ./rootfs/internal/env).
package main

import (
	"fmt"
	"os"

	"github.com/synapse-image/synapse-image/rootfs/internal/env"
)

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: mkdoc PATH (e.g. docs/variables.md)")
		os.Exit(2)
	}
	if err := os.WriteFile(os.Args[1], env.Vars.Markdown(), 0o644); err != nil {
		fmt.Fprintln(os.Stderr, "mkdoc:", err)
		os.Exit(1)
	}
}
