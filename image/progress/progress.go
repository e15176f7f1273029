// Package progress shows the steps of a build with BuildKit's progress
// display (the one `docker buildx build` uses): in a terminal the steps
// redraw in place, else (CI) each step is printed with its log lines, its
// duration and CACHED for a cache hit; rawjson gives the events as JSON.
//
// A nil *Display and a nil *Step accept every call and show nothing, so
// code that reports progress needs no checks.
package progress

import (
	"context"
	"fmt"
	"io"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/moby/buildkit/client"
	"github.com/moby/buildkit/util/progress/progressui"
	digest "github.com/opencontainers/go-digest"
)

// Modes are the values of --progress.
var Modes = []string{"auto", "tty", "plain", "rawjson", "quiet"}

// Display sends steps to BuildKit's display, which runs until Close.
type Display struct {
	ch   chan *client.SolveStatus
	done chan struct{}
	err  error
	now  func() time.Time

	mu    sync.Mutex
	steps int
	open  []*Step
}

// New starts a display on out in mode (one of Modes; "auto" is tty when out
// is a terminal, else plain). tty needs out to be a terminal.
func New(out io.Writer, mode string) (*Display, error) {
	if !slices.Contains(Modes, mode) {
		return nil, fmt.Errorf("--progress %q: expected one of %s", mode, strings.Join(Modes, ", "))
	}
	d, err := progressui.NewDisplay(out, progressui.DisplayMode(mode))
	if err != nil {
		return nil, fmt.Errorf("--progress %s: %w", mode, err)
	}
	p := &Display{ch: make(chan *client.SolveStatus, 64), done: make(chan struct{}), now: time.Now}
	go func() {
		defer close(p.done)
		// Not the build's context: an interrupted build still shows which
		// step failed; Close ends the display.
		_, p.err = d.UpdateFrom(context.Background(), p.ch)
	}()
	return p, nil
}

// Close ends the display (a step still open is shown as done) and waits
// until it has printed everything.
func (d *Display) Close() error {
	if d == nil {
		return nil
	}
	d.mu.Lock()
	open := d.open
	d.open = nil
	d.mu.Unlock()
	for _, s := range open {
		s.Done(nil)
	}
	close(d.ch)
	<-d.done
	return d.err
}

// Start begins a step named like BuildKit's vertices, "[rootfs] mmdebstrap …".
func (d *Display) Start(name string) *Step {
	if d == nil {
		return nil
	}
	now := d.now()
	d.mu.Lock()
	d.steps++
	s := &Step{d: d, v: client.Vertex{
		Digest:  digest.FromString(fmt.Sprintf("synapse-image step %d: %s", d.steps, name)),
		Name:    name,
		Started: &now,
	}}
	d.open = append(d.open, s)
	d.mu.Unlock()
	d.send(&client.SolveStatus{Vertexes: []*client.Vertex{s.vertex()}})
	return s
}

func (d *Display) send(s *client.SolveStatus) { d.ch <- s }

// Step is one step of the display.
type Step struct {
	d *Display

	mu   sync.Mutex
	v    client.Vertex
	done bool
}

// Name is the step's name as given to Start.
func (s *Step) Name() string {
	if s == nil {
		return ""
	}
	return s.v.Name
}

func (s *Step) vertex() *client.Vertex {
	v := s.v
	return &v
}

// Logf adds a line to the step's log.
func (s *Step) Logf(format string, args ...any) {
	line := fmt.Sprintf(format, args...)
	if !strings.HasSuffix(line, "\n") {
		line += "\n"
	}
	_, _ = s.Write([]byte(line))
}

// Write adds output (of a tool the step runs) to the step's log.
func (s *Step) Write(p []byte) (int, error) {
	if s == nil || len(p) == 0 {
		return len(p), nil
	}
	s.d.send(&client.SolveStatus{Logs: []*client.VertexLog{{
		Vertex: s.v.Digest, Stream: 1, Data: slices.Clone(p), Timestamp: s.d.now(),
	}}})
	return len(p), nil
}

// Cached marks the step as a cache hit: the display says CACHED.
func (s *Step) Cached() {
	if s == nil {
		return
	}
	s.mu.Lock()
	s.v.Cached = true
	s.mu.Unlock()
}

// Done completes the step, failed when err is not nil. Later calls do nothing.
func (s *Step) Done(err error) {
	if s == nil {
		return
	}
	s.mu.Lock()
	if s.done {
		s.mu.Unlock()
		return
	}
	s.done = true
	now := s.d.now()
	s.v.Completed = &now
	if err != nil {
		s.v.Error = err.Error()
	}
	v := s.vertex()
	s.mu.Unlock()
	s.d.mu.Lock()
	s.d.open = slices.DeleteFunc(s.d.open, func(o *Step) bool { return o == s })
	s.d.mu.Unlock()
	s.d.send(&client.SolveStatus{Vertexes: []*client.Vertex{v}})
}
