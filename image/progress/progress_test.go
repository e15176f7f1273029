package progress

import (
	"bytes"
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestModes(t *testing.T) {
	var out bytes.Buffer
	_, err := New(&out, "fancy")
	assert.EqualError(t, err, `--progress "fancy": expected one of auto, tty, plain, rawjson, quiet`)
	_, err = New(&out, "tty")
	assert.ErrorContains(t, err, "--progress tty", "a buffer is not a terminal")
	d, err := New(&out, "auto")
	require.NoError(t, err)
	d.Start("[x] auto is plain off a terminal").Done(nil)
	require.NoError(t, d.Close())
	assert.Equal(t, "#1 [x] auto is plain off a terminal\n#1 DONE 0.0s\n", out.String())
}

func TestPlain(t *testing.T) {
	var out bytes.Buffer
	d, err := New(&out, "plain")
	require.NoError(t, err)
	s := d.Start("[a] first")
	s.Logf("a line")
	s.Done(nil)
	s.Done(errors.New("ignored: done already"))
	c := d.Start("[b] from the cache")
	c.Cached()
	c.Done(nil)
	d.Start("[c] fails").Done(errors.New("boom"))
	d.Start("[d] left open")
	require.NoError(t, d.Close())
	assert.Regexp(t, `^#1 \[a\] first
#1 \d\.\d{3} a line
#1 DONE \d\.\ds

#2 \[b\] from the cache
#2 CACHED

#3 \[c\] fails
#3 ERROR: boom

#4 \[d\] left open
#4 DONE \d\.\ds
`, out.String())
}

func TestNilDisplayShowsNothing(t *testing.T) {
	var d *Display
	s := d.Start("[x]")
	s.Logf("nothing")
	n, err := s.Write([]byte("tool output"))
	assert.Equal(t, 11, n)
	assert.NoError(t, err)
	s.Cached()
	s.Done(nil)
	assert.Empty(t, s.Name())
	assert.NoError(t, d.Close())
}
