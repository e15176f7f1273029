package tests

import (
	"context"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/synapse-image/synapse-image/internal/dockertest"
)

// optionalModules are the Python modules of Synapse's optional features
// that the official image installs with Synapse's extras: the image has
// them from Debian (image/synapse.yaml).
var optionalModules = []string{
	"authlib",            // OIDC login
	"saml2",              // SAML login
	"ldap_auth_provider", // LDAP password provider
	"jwt",                // JWT login
	"sentry_sdk",         // Sentry
	"opentracing",        // tracing
	"jaeger_client",      // tracing to Jaeger
	"hiredis",            // Redis protocol parser
}

// Each optional module imports in the image as the Synapse user, and so do
// the parts of Synapse that use them.
func TestOptionalModulesImport(t *testing.T) {
	t.Parallel()
	img := synapseImage(t)
	script := `
import importlib, sys
failed = []
for name in sys.argv[1:]:
    try:
        importlib.import_module(name)
        print("ok", name)
    except Exception as e:
        failed.append(name)
        print("FAIL", name, type(e).__name__, e)
sys.exit(1 if failed else 0)
`
	mods := append(append([]string{}, optionalModules...),
		// Synapse's own modules that import the optional ones at load time.
		"synapse.handlers.oidc", "synapse.handlers.saml", "synapse.handlers.jwt")
	args := append([]string{"run", "--rm", "--user", "991:991", "--entrypoint", "python3", img, "-c", script}, mods...)
	out, err := dockertest.Combined(context.Background(), args...)
	require.NoError(t, err, out)
	for _, m := range mods {
		assert.Contains(t, strings.Fields(out), m, out)
		assert.Contains(t, out, "ok "+m+"\n")
	}
	// pysaml2 signs and verifies with the xmlsec1 program.
	out, err = dockertest.Combined(context.Background(), "run", "--rm", "--user", "991:991", "--entrypoint", "xmlsec1", img, "--version")
	require.NoError(t, err, out)
	assert.Contains(t, out, "xmlsec1")
}
