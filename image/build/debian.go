package build

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/synapse-image/synapse-image/image/recipe"
)

// readDpkgStatus returns the installed packages and their versions.
func readDpkgStatus(file string) (map[string]string, error) {
	f, err := os.Open(file)
	if err != nil {
		return nil, fmt.Errorf("dpkg status: %w", err)
	}
	defer f.Close()
	pkgs := map[string]string{}
	var name, version, status string
	flush := func() {
		if name != "" && strings.HasSuffix(status, " installed") {
			pkgs[name] = version
		}
		name, version, status = "", "", ""
	}
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		switch {
		case line == "":
			flush()
		case strings.HasPrefix(line, "Package: "):
			name = strings.TrimPrefix(line, "Package: ")
		case strings.HasPrefix(line, "Version: "):
			version = strings.TrimPrefix(line, "Version: ")
		case strings.HasPrefix(line, "Status: "):
			status = strings.TrimPrefix(line, "Status: ")
		}
	}
	flush()
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("dpkg status %s: %w", file, err)
	}
	return pkgs, nil
}

// upstreamVersion strips the epoch and the Debian revision:
// "1:1.160.0~rc1-2" → "1.160.0~rc1".
func upstreamVersion(v string) string {
	if i := strings.IndexByte(v, ':'); i >= 0 {
		v = v[i+1:]
	}
	if i := strings.LastIndexByte(v, '-'); i >= 0 {
		v = v[:i]
	}
	return v
}

// addUsers appends users (and groups of the same name) to the root file
// system's account files, unless they are there already. The files are
// written directly rather than with useradd, so no tool has to be installed
// and nothing depends on the clock.
func addUsers(root string, users []recipe.User) error {
	for _, u := range users {
		files := []struct {
			name, line string
		}{
			{"etc/group", fmt.Sprintf("%s:x:%d:", u.Name, u.GID)},
			{"etc/gshadow", fmt.Sprintf("%s:!::", u.Name)},
			{"etc/passwd", fmt.Sprintf("%s:x:%d:%d::%s:%s", u.Name, u.UID, u.GID, u.Home, u.Shell)},
			{"etc/shadow", fmt.Sprintf("%s:!:::::::", u.Name)},
		}
		for _, f := range files {
			if err := appendEntry(filepath.Join(root, f.name), u.Name, f.line); err != nil {
				return err
			}
		}
	}
	return nil
}

func appendEntry(file, name, line string) error {
	data, err := os.ReadFile(file)
	if os.IsNotExist(err) && strings.Contains(file, "shadow") {
		return nil // no shadow files in this root file system
	}
	if err != nil {
		return err
	}
	for _, l := range strings.Split(string(data), "\n") {
		if strings.HasPrefix(l, name+":") {
			return fmt.Errorf("%s: %s exists already", file, name)
		}
	}
	if len(data) > 0 && data[len(data)-1] != '\n' {
		data = append(data, '\n')
	}
	info, err := os.Stat(file)
	if err != nil {
		return err
	}
	return os.WriteFile(file, append(data, line+"\n"...), info.Mode().Perm())
}
