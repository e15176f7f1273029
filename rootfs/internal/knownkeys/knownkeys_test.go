package knownkeys

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestSynapseList(t *testing.T) {
	s := Synapse()
	assert.Equal(t, "1.160.0", s.Version)
	for _, k := range []string{"server_name", "listeners", "url_preview_enabled", "rc_message", "rc_login", "retention",
		"presence", "modules", "oidc_providers", "federation_domain_whitelist", "email", "caches", "experimental_features"} {
		assert.True(t, s.Known(k), k)
	}
	for _, k := range []string{"synapse", "url_previews_enabled", "x_forwarded", ""} {
		assert.False(t, s.Known(k), k)
	}
}

func TestClosest(t *testing.T) {
	s := Synapse()
	for _, c := range []struct{ key, want string }{
		{"url_previews_enabled", "url_preview_enabled"},
		{"url_preview_enable", "url_preview_enabled"},
		{"presense", "presence"},
		{"enable_registation", "enable_registration"},
		{"rc_mesage", "rc_message"},
		{"federation_domain_whitlist", "federation_domain_whitelist"},
		{"max_uplaod_size", "max_upload_size"}, // a swap is one edit
		{"sevrer_name", "server_name"},
		{"something_else_entirely", ""},
		{"xyz", ""},
	} {
		assert.Equal(t, c.want, s.Closest(c.key), c.key)
	}
}

func TestDistance(t *testing.T) {
	for _, c := range []struct {
		a, b string
		want int
	}{
		{"", "", 0}, {"a", "", 1}, {"", "abc", 3}, {"abc", "abc", 0},
		{"abc", "abd", 1}, {"abc", "acb", 1}, {"kitten", "sitting", 3},
	} {
		assert.Equal(t, c.want, distance(c.a, c.b), "%q %q", c.a, c.b)
		assert.Equal(t, c.want, distance(c.b, c.a), "%q %q", c.b, c.a)
	}
}
