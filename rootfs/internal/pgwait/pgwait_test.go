package pgwait

import (
	"context"
	"fmt"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestWaitUntilListening(t *testing.T) {
	// Reserve a port, release it, and start listening there a bit later.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := l.Addr().String()
	require.NoError(t, l.Close())
	var mu sync.Mutex
	var logs []string
	logf := func(f string, a ...any) { mu.Lock(); logs = append(logs, fmt.Sprintf(f, a...)); mu.Unlock() }
	go func() {
		time.Sleep(1200 * time.Millisecond)
		l2, err := net.Listen("tcp", addr)
		if err == nil {
			defer l2.Close()
			c, _ := l2.Accept()
			if c != nil {
				c.Close()
			}
		}
	}()
	require.NoError(t, Wait(context.Background(), addr, 10*time.Second, logf))
	mu.Lock()
	defer mu.Unlock()
	joined := strings.Join(logs, "\n")
	assert.Contains(t, joined, "waiting for PostgreSQL at "+addr)
	assert.Contains(t, joined, "accepts connections")
}

func TestWaitTimeout(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := l.Addr().String()
	require.NoError(t, l.Close())
	err = Wait(context.Background(), addr, 700*time.Millisecond, func(string, ...any) {})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "POSTGRES_WAIT_TIMEOUT")
}

func TestNoWait(t *testing.T) {
	assert.NoError(t, Wait(context.Background(), "192.0.2.1:5432", 0, func(string, ...any) { t.Fatal("no log expected") }))
}
