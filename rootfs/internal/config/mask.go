package config

import "gopkg.in/yaml.v3"

// Masked replaces secret values in `check` output.
const Masked = "<secret>"

// secretKeys are config keys whose values are secrets, wherever they appear.
var secretKeys = map[string]bool{
	"registration_shared_secret": true,
	"macaroon_secret_key":        true,
	"form_secret":                true,
	"password":                   true,
	"smtp_pass":                  true,
	"turn_shared_secret":         true,
	"recaptcha_private_key":      true,
	"worker_replication_secret":  true,
	"client_secret":              true,
	"secret":                     true,
	"as_token":                   true,
	"hs_token":                   true,
	"signing_key":                true,
	"redis_password":             true,
	"admin_token":                true,
}

// Mask replaces, in place, the value of every secret key below n.
func Mask(n *yaml.Node) {
	switch n.Kind {
	case yaml.DocumentNode, yaml.SequenceNode:
		for _, c := range n.Content {
			Mask(c)
		}
	case yaml.MappingNode:
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i], n.Content[i+1]
			if secretKeys[k.Value] && v.Kind == yaml.ScalarNode && v.Tag != "!!null" {
				*v = yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: Masked, Style: yaml.DoubleQuotedStyle}
				continue
			}
			Mask(v)
		}
	}
}
