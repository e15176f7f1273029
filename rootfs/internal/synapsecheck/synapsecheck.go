// Package synapsecheck has the image's Synapse parse a config without
// starting it (`/start check --synapse`), to report Synapse's own error.
package synapsecheck

import (
	"bytes"
	"context"
	_ "embed"
	"errors"
	"fmt"
	"os/exec"
	"strings"
	"syscall"
)

//go:embed validate.py
var script string

// environ is the whole environment of the check's Python.
func environ() []string {
	return []string{"PATH=/usr/local/bin:/usr/bin:/bin", "HOME=/nonexistent", "PYTHONNOUSERSITE=1", "LANG=C.UTF-8"}
}

// Invalid is Synapse's own verdict on a config: bad input.
type Invalid struct{ Msg string }

func (e *Invalid) Error() string { return e.Msg }

// Check runs python (the image's python3) on config. As root it runs the
// child as uid:gid, so that files the config names are read as Synapse
// reads them, never as root. configDir and dataDir are the directories
// Synapse resolves relative paths against. It returns *Invalid when
// Synapse refuses the config.
//
// The child is isolated from what the Synapse user controls, since root
// may run this from a terminal (docker exec -it … /start check --synapse):
// python3 -I (no user site directory, whose .pth files would run: the
// user's home was /data once; no PYTHON* variables; no working directory
// on the path), HOME outside the data directory, and a session of its own
// without a controlling terminal (no TIOCSTI into root's shell).
func Check(ctx context.Context, python string, config []byte, configDir, dataDir string, asRoot bool, uid, gid int) error {
	cmd := exec.CommandContext(ctx, python, "-I", "-c", script, configDir, dataDir)
	cmd.Stdin = bytes.NewReader(config)
	cmd.Dir = "/"
	cmd.Env = environ()
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	if asRoot {
		cmd.SysProcAttr.Credential = &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid), Groups: []uint32{}}
	}
	var out bytes.Buffer
	cmd.Stdout = &out
	cmd.Stderr = &out // Synapse's warnings; the verdict is the last "synapse:" line
	err := cmd.Run()
	verdict := lastVerdict(out.String())
	var exit *exec.ExitError
	switch {
	case err == nil && verdict != "":
		return nil
	case errors.As(err, &exit) && exit.ExitCode() == 2 && verdict != "":
		return &Invalid{Msg: verdict}
	case err == nil:
		return fmt.Errorf("synapse check printed no verdict: %s", lastLine(out.String()))
	}
	return fmt.Errorf("run Synapse's config check: %w: %s", err, lastLine(out.String()))
}

func lastVerdict(out string) string {
	lines := strings.Split(strings.TrimSpace(out), "\n")
	for i := len(lines) - 1; i >= 0; i-- {
		if strings.HasPrefix(lines[i], "synapse: ") {
			return lines[i]
		}
	}
	return ""
}

func lastLine(out string) string {
	lines := strings.Split(strings.TrimSpace(out), "\n")
	return lines[len(lines)-1]
}
