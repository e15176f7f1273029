// Package pgwait waits, bounded and logged, until PostgreSQL accepts TCP
// connections, so that `docker compose up` needs no restart loop.
package pgwait

import (
	"context"
	"fmt"
	"net"
	"time"
)

// Wait dials addr until it accepts a connection or timeout passes. It logs
// the first failure and then every few seconds.
func Wait(ctx context.Context, addr string, timeout time.Duration, logf func(string, ...any)) error {
	if timeout <= 0 {
		return nil
	}
	start := time.Now()
	stop := ctx
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	var d net.Dialer
	lastLog := time.Time{}
	for attempt := 1; ; attempt++ {
		dctx, dcancel := context.WithTimeout(ctx, 2*time.Second)
		conn, err := d.DialContext(dctx, "tcp", addr)
		dcancel()
		if err == nil {
			conn.Close()
			if attempt > 1 {
				logf("PostgreSQL at %s accepts connections (after %s)", addr, time.Since(start).Round(time.Millisecond))
			}
			return nil
		}
		if time.Since(lastLog) >= 5*time.Second {
			logf("waiting for PostgreSQL at %s (%s of %s): %v", addr, time.Since(start).Round(time.Second), timeout, err)
			lastLog = time.Now()
		}
		select {
		case <-ctx.Done():
			if stop.Err() != nil {
				// Stopped (SIGTERM), not timed out.
				return fmt.Errorf("stopped while waiting for PostgreSQL at %s: %w", addr, stop.Err())
			}
			return fmt.Errorf("PostgreSQL at %s did not accept connections within %s (POSTGRES_WAIT_TIMEOUT): %v", addr, timeout, err)
		case <-time.After(500 * time.Millisecond):
		}
	}
}
