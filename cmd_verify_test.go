package main

import (
	"bytes"
	"context"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/synapse-image/synapse-image/internal/registrytest"
)

func TestVerifyCommandExitCodes(t *testing.T) {
	host := registrytest.New(t).Host
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
