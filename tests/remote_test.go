package tests

import (
	"context"
	"os"
	"testing"

	"github.com/synapse-image/synapse-image/tests/internal/matrixflow"
)

// TestRemoteHomeserver runs the client flow against a homeserver that is
// already running (URL mode, used by the Dagger module's test):
// E2E_HOMESERVER_URL, E2E_SERVER_NAME and E2E_REGISTRATION_SHARED_SECRET.
func TestRemoteHomeserver(t *testing.T) {
	url := os.Getenv("E2E_HOMESERVER_URL")
	if url == "" {
		t.Skip("URL mode: set E2E_HOMESERVER_URL (with E2E_SERVER_NAME and E2E_REGISTRATION_SHARED_SECRET) to test a running homeserver")
	}
	hs := matrixflow.Homeserver{
		URL:          url,
		ServerName:   os.Getenv("E2E_SERVER_NAME"),
		SharedSecret: os.Getenv("E2E_REGISTRATION_SHARED_SECRET"),
	}
	if hs.ServerName == "" || hs.SharedSecret == "" {
		t.Fatal("URL mode needs E2E_SERVER_NAME and E2E_REGISTRATION_SHARED_SECRET besides E2E_HOMESERVER_URL")
	}
	t.Logf("client flow against %s", hs)
	hs.Run(context.Background(), t)
}
