// Package sigexec executes Synapse with SIGTERM blocked, so that a stop
// requested while Synapse starts is kept pending instead of lost.
//
// Synapse runs as PID 1, and the kernel drops a signal for PID 1 that has
// no handler, unless the signal is blocked: a blocked signal stays pending
// whatever its disposition. A blocked mask survives execve, so Synapse
// starts with SIGTERM pending-not-lost; the image's early hook in Synapse
// (image/synapse.yaml, "SIGTERM") waits for it until Twisted installs its
// own handler (docs/start.md#stopping).
package sigexec

import (
	"bytes"
	"context"
	"os"
	"runtime"
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"
)

// Signal is what docker stop sends (the image's STOPSIGNAL).
const Signal = unix.SIGTERM

// SynapseInit is the first module Synapse runs, where the image's recipe
// puts the hook (image/synapse.yaml), and HookMarker the name it defines.
const (
	SynapseInit = "/usr/lib/python3/dist-packages/synapse/__init__.py"
	HookMarker  = "_synapse_image_early_sigterm"
)

// HookInstalled reports whether the Python file at path has the hook that
// takes the blocked SIGTERM over. Without it (a recipe edit that no longer
// applies to a new Synapse, or this /start in an older image) Signal must
// not be blocked: nothing would unblock it, and Synapse would never see a
// stop.
func HookInstalled(path string) bool {
	b, err := os.ReadFile(path)
	return err == nil && bytes.Contains(b, []byte("def "+HookMarker+"("))
}

// Exec blocks Signal on the calling thread, checks that no stop was
// requested meanwhile (ctx, cancelled by /start's own SIGTERM handler), and
// replaces the process with argv0. It returns only on failure, with Signal
// unblocked again.
func Exec(ctx context.Context, argv0 string, argv, envv []string) error {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	var set, old unix.Sigset_t
	addSignal(&set, Signal)
	if err := unix.PthreadSigmask(unix.SIG_BLOCK, &set, &old); err != nil {
		return err
	}
	defer unix.PthreadSigmask(unix.SIG_SETMASK, &old, nil)
	// A SIGTERM that reached /start's handler on another thread before the
	// block shows here; one after it stays pending for Synapse.
	if err := ctx.Err(); err != nil {
		return err
	}
	return syscall.Exec(argv0, argv, envv)
}

// addSignal is sigaddset(3): bit sig-1 of the set, whose words are 64 or
// 32 bits wide depending on the architecture.
func addSignal(set *unix.Sigset_t, sig unix.Signal) {
	n := uint(sig) - 1
	w := uint(unsafe.Sizeof(set.Val[0])) * 8
	set.Val[n/w] |= 1 << (n % w)
}
