// Package secrets creates and reads the keys and secrets kept in /data:
// random hex secrets, Synapse's ed25519 signing key and a self-signed TLS
// pair. Callers write them with atomicfile.WriteNew and Mode, so an existing
// file is never replaced, not even by a concurrent start.
package secrets

import (
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net"
	"os"
	"strings"
	"time"
)

// Mode is the mode of every secret file.
const Mode os.FileMode = 0o600

// Read reads an existing secret file, trailing white space stripped. exists
// is false when the file does not exist; an empty file is an error.
func Read(path string) (value string, exists bool, err error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return "", false, nil
	}
	if err != nil {
		return "", true, fmt.Errorf("read secret: %w", err)
	}
	v, err := Parse(path, b)
	return v, true, err
}

// Parse is the secret in b, the content of the file at path: trailing
// white space stripped; empty is an error.
func Parse(path string, b []byte) (string, error) {
	v := strings.TrimRight(string(b), " \t\r\n")
	if v == "" {
		return "", fmt.Errorf("%s is empty: delete it to have a new secret generated, or put the secret in it", path)
	}
	return v, nil
}

// Exists reports whether path exists (any error other than "not exist"
// counts as existing, so that a file is never replaced by mistake).
func Exists(path string) bool {
	_, err := os.Lstat(path)
	return !errors.Is(err, os.ErrNotExist)
}

// NewHex is 32 random bytes, hex encoded (64 characters).
func NewHex(rand io.Reader) (string, error) {
	b := make([]byte, 32)
	if _, err := io.ReadFull(rand, b); err != nil {
		return "", fmt.Errorf("random secret: %w", err)
	}
	return hex.EncodeToString(b), nil
}

const keyIDLetters = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"

// NewSigningKey is a Synapse signing key file: "ed25519 a_XXXX <seed>\n",
// the key id "a_" plus 4 random letters and the 32-byte seed in unpadded
// standard base64, as Synapse's own --generate-keys writes it.
func NewSigningKey(rand io.Reader) ([]byte, error) {
	b := make([]byte, 4+ed25519.SeedSize)
	if _, err := io.ReadFull(rand, b); err != nil {
		return nil, fmt.Errorf("random signing key: %w", err)
	}
	id := make([]byte, 4)
	for i := range id {
		id[i] = keyIDLetters[int(b[i])%len(keyIDLetters)]
	}
	seed := b[4:]
	return []byte(fmt.Sprintf("ed25519 a_%s %s\n", id, base64.RawStdEncoding.EncodeToString(seed))), nil
}

// NewTLSPair is a self-signed ECDSA P-256 certificate for host, valid ten
// years from now, and its PKCS#8 key, both PEM.
func NewTLSPair(host string, rand io.Reader, now time.Time) (certPEM, keyPEM []byte, err error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand)
	if err != nil {
		return nil, nil, fmt.Errorf("TLS key: %w", err)
	}
	serial, err := randSerial(rand)
	if err != nil {
		return nil, nil, err
	}
	host = strings.Trim(host, "[]")
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{CommonName: host},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.AddDate(10, 0, 0),
		KeyUsage:              x509.KeyUsageDigitalSignature,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
	}
	if ip := net.ParseIP(host); ip != nil {
		tmpl.IPAddresses = []net.IP{ip}
	} else {
		tmpl.DNSNames = []string{host}
	}
	der, err := x509.CreateCertificate(rand, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, nil, fmt.Errorf("TLS certificate: %w", err)
	}
	pk, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, nil, fmt.Errorf("TLS key: %w", err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
		pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: pk}), nil
}

func randSerial(rand io.Reader) (*big.Int, error) {
	b := make([]byte, 16)
	if _, err := io.ReadFull(rand, b); err != nil {
		return nil, fmt.Errorf("certificate serial: %w", err)
	}
	b[0] &= 0x7f
	return new(big.Int).SetBytes(b), nil
}
