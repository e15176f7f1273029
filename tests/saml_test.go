package tests

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"fmt"
	"math/big"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"maunium.net/go/mautrix"

	"github.com/synapse-image/synapse-image/internal/dockertest"
)

// idpMetadata is the SAML metadata of an identity provider with entityID and
// its single sign-on service at ssoURL (HTTP-Redirect binding), signing
// with a fresh self-signed certificate.
func idpMetadata(t *testing.T, entityID, ssoURL string) string {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: "idp.e2e.test"},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(24 * time.Hour),
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	require.NoError(t, err)
	return fmt.Sprintf(`<?xml version="1.0" encoding="UTF-8"?>
<md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" xmlns:ds="http://www.w3.org/2000/09/xmldsig#" entityID="%s">
  <md:IDPSSODescriptor WantAuthnRequestsSigned="false" protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol">
    <md:KeyDescriptor use="signing">
      <ds:KeyInfo><ds:X509Data><ds:X509Certificate>%s</ds:X509Certificate></ds:X509Data></ds:KeyInfo>
    </md:KeyDescriptor>
    <md:NameIDFormat>urn:oasis:names:tc:SAML:2.0:nameid-format:transient</md:NameIDFormat>
    <md:SingleSignOnService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect" Location="%s"/>
  </md:IDPSSODescriptor>
</md:EntityDescriptor>
`, entityID, base64.StdEncoding.EncodeToString(der), ssoURL)
}

// SAML: Synapse starts with a saml2_config (a conf.d fragment) that reads
// IdP metadata the test wrote, lists the provider, and sends the browser
// to the IdP with a SAML authentication request.
func TestSAMLProvider(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	const (
		server = "saml.e2e.test"
		idpSSO = "https://idp.e2e.test/sso/redirect"
		idpID  = "https://idp.e2e.test/metadata"
		// public_baseurl's host, reached through the published port: Synapse
		// redirects requests for any other host to it first.
		publicHost = "saml.e2e.test:8008"
		baseURL    = "http://" + publicHost + "/"
	)
	img := synapseImage(t)
	data := dockertest.HostDir(t, img)
	require.NoError(t, os.MkdirAll(filepath.Join(data, "saml"), 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(data, "saml", "idp.xml"), []byte(idpMetadata(t, idpID, idpSSO)), 0o644))
	writeFragment(t, data, "50-saml.yaml", `saml2_config:
  sp_config:
    metadata:
      local: [/data/saml/idp.xml]
  user_mapping_provider:
    config:
      mxid_source_attribute: uid
`)
	env := baseEnv(server)
	env["SYNAPSE_PUBLIC_BASEURL"] = baseURL
	s := runSynapse(t, server, data, dockertest.Options{Image: img, Env: env})
	hs := s.homeserver(t)

	sso, ok := loginFlows(t, hs)[string(mautrix.AuthTypeSSO)]
	require.True(t, ok, "GET /login lists m.login.sso")
	require.Len(t, sso.IdentityProviders, 1)
	assert.Equal(t, "saml", sso.IdentityProviders[0].ID)

	synapseAddr, err := s.HostAddr(ctx, "8008")
	require.NoError(t, err)
	c := browser(t, publicHost, synapseAddr, nil)
	req, err := http.NewRequestWithContext(ctx, http.MethodGet,
		baseURL+"_matrix/client/v3/login/sso/redirect/saml?redirectUrl="+url.QueryEscape("https://client.e2e.test/"), nil)
	require.NoError(t, err)
	resp, err := c.Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusFound, resp.StatusCode, "Synapse sends the browser to the IdP")
	loc, err := resp.Location()
	require.NoError(t, err)
	assert.True(t, strings.HasPrefix(loc.String(), idpSSO+"?"), "to the IdP's single sign-on service from the metadata: %s", loc)
	assert.NotEmpty(t, loc.Query().Get("SAMLRequest"), "with a SAML authentication request")
}
