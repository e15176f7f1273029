package config

import (
	"strings"

	"gopkg.in/yaml.v3"
)

// Masked replaces secret values in `check` output.
const Masked = "<secret>"

// secretWords are words (between underscores) of a key name that mark its
// value as a secret, wherever the key appears: a fixed list of Synapse's
// keys would miss bind_password, turn_password, sentry.dsn, an OIDC
// provider's client_secret or a module's api_token.
var secretWords = map[string]bool{
	"secret": true, "secrets": true,
	"password": true, "passwd": true, "pass": true, "passphrase": true,
	"token": true, "tokens": true,
	"dsn":         true, // sentry.dsn, a database DSN: URLs with credentials
	"pepper":      true, // password_config.pepper
	"private":     true, // recaptcha_private_key
	"credentials": true,
}

// notSecretLast are last words of keys that name something about a secret
// (where it is, how long it lives, whether it is on), not the secret.
var notSecretLast = map[string]bool{
	"path": true, "paths": true, "file": true, "files": true, "dir": true,
	"lifetime": true, "enabled": true, "enable": true, "required": true,
	"length": true, "type": true, "header": true,
}

// IsSecretKey reports whether the value of a config key named name is a
// secret: its name has a word such as secret, password, pass, token, dsn,
// private or pepper, or its last word is key (signing_key, api_key; not
// recaptcha_public_key) — unless its last word says it is a path, a
// duration or a switch (tls_private_key_path, refresh_token_lifetime).
// Case and dashes are ignored.
func IsSecretKey(name string) bool {
	words := strings.FieldsFunc(strings.ToLower(name), func(r rune) bool { return r == '_' || r == '-' || r == '.' })
	if len(words) == 0 {
		return false
	}
	last := words[len(words)-1]
	if notSecretLast[last] {
		return false
	}
	public := false
	for _, w := range words {
		if secretWords[w] {
			return true
		}
		public = public || w == "public"
	}
	return (last == "key" || last == "keys") && !public
}

// Mask replaces, in place, the value of every secret key below n (see
// IsSecretKey): a scalar, or every scalar of a list. Booleans and nulls
// stay (enable_registration_captcha says nothing secret); a mapping under a
// secret-looking key is searched like any other (password_config.enabled
// is not a secret, password_config.pepper is).
func Mask(n *yaml.Node) {
	switch n.Kind {
	case yaml.DocumentNode, yaml.SequenceNode:
		for _, c := range n.Content {
			Mask(c)
		}
	case yaml.MappingNode:
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i], n.Content[i+1]
			if IsSecretKey(k.Value) {
				maskValue(v)
				continue
			}
			Mask(v)
		}
	}
}

func maskValue(v *yaml.Node) {
	switch v.Kind {
	case yaml.ScalarNode:
		if v.ShortTag() == "!!null" || v.ShortTag() == "!!bool" {
			return
		}
		*v = yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: Masked, Style: yaml.DoubleQuotedStyle}
	case yaml.SequenceNode:
		for _, c := range v.Content {
			maskValue(c)
		}
	case yaml.MappingNode:
		Mask(v)
	case yaml.AliasNode:
		// The anchored value stays where it is defined; here it is hidden.
		*v = yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: Masked, Style: yaml.DoubleQuotedStyle}
	}
}
