package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"syscall"
	"time"
)

// runScript runs one of the repository's benchmark scripts in dir with
// extra environment, its stderr (progress) passed through, and returns its
// stdout. On cancellation the script's whole process group gets SIGTERM,
// so its own clean-up traps run.
func runScript(ctx context.Context, dir, script string, env []string, progress io.Writer, args ...string) (string, error) {
	if _, err := os.Stat(dir + "/" + script); err != nil {
		return "", fmt.Errorf("%s: %w", script, err)
	}
	var stdout bytes.Buffer
	cmd := exec.CommandContext(ctx, "bash", append([]string{script}, args...)...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), env...)
	cmd.Stdout = io.MultiWriter(&stdout, progress)
	cmd.Stderr = progress
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGTERM) }
	cmd.WaitDelay = 30 * time.Second
	if err := cmd.Run(); err != nil {
		return stdout.String(), fmt.Errorf("%s: %w", script, err)
	}
	return stdout.String(), nil
}
