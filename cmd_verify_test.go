package main

import (
	"bytes"
	"context"
	"io"
	"log"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/registry"
	"github.com/stretchr/testify/assert"
)

func TestVerifyCommandExitCodes(t *testing.T) {
	srv := httptest.NewServer(registry.New(registry.Logger(log.New(io.Discard, "", 0))))
	defer srv.Close()
	host := strings.TrimPrefix(srv.URL, "http://")
	tests := []struct {
		args   []string
		code   int
		stdout string
		stderr string
	}{
		{[]string{"verify"}, 2, "", "expected one image reference"},
		{[]string{"verify", "a", "b"}, 2, "", "expected one image reference"},
		{[]string{"verify", "--key", "/nonexistent.pub", host + "/x:latest"}, 2, "", "--key: public key"},
		{[]string{"verify", "Not A Ref"}, 2, "", `"Not A Ref"`},
		{[]string{"verify", host + "/nothing/here:latest"}, 1, "FAIL " + host + "/nothing/here:latest resolves", "verification failed"},
	}
	for _, tt := range tests {
		var stdout, stderr bytes.Buffer
		code := run(context.Background(), tt.args, &stdout, &stderr)
		assert.Equal(t, tt.code, code, "%v: %s", tt.args, stderr.String())
		assert.Contains(t, stdout.String(), tt.stdout, "%v", tt.args)
		assert.Contains(t, stderr.String(), tt.stderr, "%v", tt.args)
	}
}
