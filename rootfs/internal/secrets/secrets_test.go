package secrets

import (
	"crypto/ed25519"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"os"
	"path/filepath"
	"regexp"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestNewHex(t *testing.T) {
	a, err := NewHex(rand.Reader)
	require.NoError(t, err)
	b, err := NewHex(rand.Reader)
	require.NoError(t, err)
	assert.Regexp(t, `^[0-9a-f]{64}$`, a)
	assert.NotEqual(t, a, b)
}

// TestSigningKeyFormat: "ed25519 a_XXXX <unpadded base64 of a 32-byte seed>".
func TestSigningKeyFormat(t *testing.T) {
	key, err := NewSigningKey(rand.Reader)
	require.NoError(t, err)
	m := regexp.MustCompile(`^ed25519 (a_[A-Za-z]{4}) ([A-Za-z0-9+/]{43})\n$`).FindStringSubmatch(string(key))
	require.NotNil(t, m, "got %q", key)
	seed, err := base64.RawStdEncoding.DecodeString(m[2])
	require.NoError(t, err)
	require.Len(t, seed, ed25519.SeedSize)
	_ = ed25519.NewKeyFromSeed(seed)
}

func TestTLSPair(t *testing.T) {
	for _, host := range []string{"example.com", "[2001:db8::1]", "192.0.2.1"} {
		crt, key, err := NewTLSPair(host, rand.Reader, time.Now())
		require.NoError(t, err)
		pair, err := tls.X509KeyPair(crt, key)
		require.NoError(t, err, host)
		block, _ := pem.Decode(crt)
		c, err := x509.ParseCertificate(block.Bytes)
		require.NoError(t, err)
		require.NoError(t, c.VerifyHostname(trimBrackets(host)))
		assert.True(t, c.NotAfter.After(time.Now().AddDate(9, 0, 0)))
		assert.NotNil(t, pair.PrivateKey)
	}
}

func trimBrackets(h string) string {
	if len(h) > 1 && h[0] == '[' {
		return h[1 : len(h)-1]
	}
	return h
}

func TestRead(t *testing.T) {
	dir := t.TempDir()
	_, exists, err := Read(filepath.Join(dir, "missing"))
	assert.NoError(t, err)
	assert.False(t, exists)

	p := filepath.Join(dir, "s")
	require.NoError(t, os.WriteFile(p, []byte("abc\n"), 0o600))
	v, exists, err := Read(p)
	require.NoError(t, err)
	assert.True(t, exists)
	assert.Equal(t, "abc", v)

	require.NoError(t, os.WriteFile(p, []byte("\n"), 0o600))
	_, exists, err = Read(p)
	assert.True(t, exists)
	assert.ErrorContains(t, err, "is empty")
}
