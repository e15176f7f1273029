package publish

import (
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/google/go-containerregistry/pkg/authn"
)

// Credentials are the publish command's user name and where its password
// comes from: a file, standard input or $REGISTRY_PASSWORD, never a flag
// value (it would show in ps and the shell history).
type Credentials struct {
	Username      string
	PasswordFile  string
	PasswordStdin bool
	Stdin         io.Reader
	EnvPassword   string
}

// Authenticator returns the authenticator for Username and a password from
// one source, or nil without a user name: then Publish uses the Docker
// config (authn.DefaultKeychain).
func (c Credentials) Authenticator() (authn.Authenticator, error) {
	username, pwFile, pwStdin, envPassword := c.Username, c.PasswordFile, c.PasswordStdin, c.EnvPassword
	sources := 0
	for _, set := range []bool{pwFile != "", pwStdin} {
		if set {
			sources++
		}
	}
	if sources > 1 {
		return nil, errors.New("give the password with either --password-file or --password-stdin, not both")
	}
	if username == "" {
		if sources > 0 || envPassword != "" {
			return nil, errors.New("a password needs --username (or REGISTRY_USERNAME)")
		}
		return nil, nil
	}
	var password string
	switch {
	case pwFile != "":
		b, err := os.ReadFile(pwFile)
		if err != nil {
			return nil, fmt.Errorf("--password-file: %w", err)
		}
		password = strings.TrimRight(string(b), "\r\n")
		if password == "" {
			return nil, fmt.Errorf("--password-file %s: empty, expected the password", pwFile)
		}
	case pwStdin:
		b, err := io.ReadAll(c.Stdin)
		if err != nil {
			return nil, fmt.Errorf("--password-stdin: %w", err)
		}
		password = strings.TrimRight(string(b), "\r\n")
		if password == "" {
			return nil, errors.New("--password-stdin: empty, expected the password on standard input")
		}
	case envPassword != "":
		password = envPassword
	default:
		return nil, fmt.Errorf("--username %s needs a password: --password-file FILE, --password-stdin or REGISTRY_PASSWORD", username)
	}
	return &authn.Basic{Username: username, Password: password}, nil
}
