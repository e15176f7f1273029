// Package pymodule tells whether a Python module is installed in the
// image by looking at the directories of Python's path, without starting
// Python (which takes about a second in a container).
package pymodule

import (
	"os"
	"path/filepath"
	"strings"
)

// siteGlobs are the directories of the image's Python path that hold
// installed packages: the wheel layer's (pip installs there, ahead of
// Debian's), Debian's, and the standard library's own.
var siteGlobs = []string{
	"/usr/local/lib/python3*/dist-packages",
	"/usr/lib/python3/dist-packages",
	"/usr/lib/python3.*/site-packages",
}

// Path returns the directories Python searches for third-party modules
// under root ("/" in the image): PYTHONPATH's entries first, as Python
// does, then the site directories that exist.
func Path(root, pythonpath string) []string {
	var dirs []string
	for _, d := range filepath.SplitList(pythonpath) {
		if d != "" {
			dirs = append(dirs, d)
		}
	}
	for _, g := range siteGlobs {
		matches, _ := filepath.Glob(filepath.Join(root, g))
		dirs = append(dirs, matches...)
	}
	return dirs
}

// Installed reports whether the top-level module name can be imported
// from one of dirs: a package folder, a single-file module (txredisapi is
// one), or an extension module. Only file names are checked (os.Stat and
// one directory listing per folder), nothing is opened or executed.
func Installed(name string, dirs []string) bool {
	if name == "" || strings.ContainsAny(name, `/\.`) {
		return false // not a top-level module name
	}
	for _, d := range dirs {
		if isDir(filepath.Join(d, name)) || isFile(filepath.Join(d, name+".py")) {
			return true
		}
		if matches, _ := filepath.Glob(filepath.Join(d, name+".*.so")); len(matches) > 0 {
			return true
		}
	}
	return false
}

func isDir(p string) bool {
	fi, err := os.Stat(p)
	return err == nil && fi.IsDir()
}

func isFile(p string) bool {
	fi, err := os.Stat(p)
	return err == nil && fi.Mode().IsRegular()
}
