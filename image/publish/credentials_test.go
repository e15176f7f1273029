package publish

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestCredentials(t *testing.T) {
	dir := t.TempDir()
	pwFile := filepath.Join(dir, "password")
	require.NoError(t, os.WriteFile(pwFile, []byte("secret\r\n"), 0o600))
	empty := filepath.Join(dir, "empty")
	require.NoError(t, os.WriteFile(empty, []byte("\n"), 0o600))
	tests := []struct {
		name    string
		c       Credentials
		want    authn.Authenticator
		wantErr string
	}{
		{"none: the Docker config", Credentials{}, nil, ""},
		{"file", Credentials{Username: "u", PasswordFile: pwFile}, &authn.Basic{Username: "u", Password: "secret"}, ""},
		{"stdin", Credentials{Username: "u", PasswordStdin: true, Stdin: strings.NewReader("secret\n")}, &authn.Basic{Username: "u", Password: "secret"}, ""},
		{"environment", Credentials{Username: "u", EnvPassword: "secret"}, &authn.Basic{Username: "u", Password: "secret"}, ""},
		{"file before environment", Credentials{Username: "u", PasswordFile: pwFile, EnvPassword: "other"}, &authn.Basic{Username: "u", Password: "secret"}, ""},
		{"two sources", Credentials{Username: "u", PasswordFile: pwFile, PasswordStdin: true}, nil, "either --password-file or --password-stdin"},
		{"password without user", Credentials{EnvPassword: "x"}, nil, "a password needs --username"},
		{"user without password", Credentials{Username: "u"}, nil, "--username u needs a password"},
		{"empty file", Credentials{Username: "u", PasswordFile: empty}, nil, "empty, expected the password"},
		{"empty stdin", Credentials{Username: "u", PasswordStdin: true, Stdin: strings.NewReader("")}, nil, "--password-stdin: empty"},
		{"missing file", Credentials{Username: "u", PasswordFile: filepath.Join(dir, "nope")}, nil, "--password-file"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tt.c.Authenticator()
			if tt.wantErr != "" {
				assert.ErrorContains(t, err, tt.wantErr)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.want, got)
		})
	}
}
