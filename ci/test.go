package main

import (
	"context"
	"fmt"
	"strings"

	"dagger/synapse/internal/dagger"
)

// The end-to-end test's fixed settings. The secrets are test-only values.
const (
	testServer   = "synapse.test"
	testDatabase = "synapse"
	testDBUser   = "synapse"
)

// Test runs the end-to-end suite against the built image, backed by PostgreSQL.
//
// PostgreSQL (the project's own image/postgres.yaml, built like the Synapse
// image, as the local suite uses it) and Synapse run as services (host names
// db and synapse); the suite's TestRemoteHomeserver drives Synapse over HTTP
// with a Matrix client: registration with the shared secret, login, rooms,
// messages, sync, media. Returns the output of go test, and fails unless
// it shows that TestRemoteHomeserver passed.
func (m *Synapse) Test(ctx context.Context) (string, error) {
	platforms, engine, err := m.platforms(ctx)
	if err != nil {
		return "", err
	}
	// The image build returns, and PostgreSQL for its platform only.
	platform := imagePlatform(platforms, engine)
	image := imported(m.builder(synapseRecipe, platforms), synapseRecipe, platform)
	db := imported(m.builder(postgresRecipe, []dagger.Platform{platform}), postgresRecipe, platform)
	dbPassword := dag.SetSecret("synapse-test-postgres-password", "synapse-test-postgres")
	sharedSecret := dag.SetSecret("synapse-test-registration-shared-secret", "synapse-test-registration")

	homeserver := withServerSettings(image, testServer, "no").
		WithServiceBinding("db", postgres(db, dbPassword)).
		WithEnvVariable("SYNAPSE_NO_TLS", "1").
		WithSecretVariable("SYNAPSE_REGISTRATION_SHARED_SECRET", sharedSecret).
		WithEnvVariable("POSTGRES_HOST", "db").
		WithEnvVariable("POSTGRES_DB", testDatabase).
		WithEnvVariable("POSTGRES_USER", testDBUser).
		WithSecretVariable("POSTGRES_PASSWORD", dbPassword).
		WithExposedPort(8008).
		AsService(dagger.ContainerAsServiceOpts{UseEntrypoint: true})

	out, err := m.withSource(goContainer()).
		WithServiceBinding("synapse", homeserver).
		// A skip would hide a broken setup: the suite fails instead.
		WithEnvVariable("E2E_REQUIRED", "1").
		WithEnvVariable("E2E_HOMESERVER_URL", "http://synapse:8008").
		WithEnvVariable("E2E_SERVER_NAME", testServer).
		WithSecretVariable("E2E_REGISTRATION_SHARED_SECRET", sharedSecret).
		WithExec([]string{"go", "test", "-count=1", "-v", "-run", "^TestRemoteHomeserver$", "./tests/"}).
		Stdout(ctx)
	if err != nil {
		return "", err
	}
	// go test passes when -run matches nothing, or when the test skips: make
	// sure it ran and passed.
	if !strings.Contains(out, "--- PASS: TestRemoteHomeserver") {
		return out, fmt.Errorf("TestRemoteHomeserver did not run and pass (no \"--- PASS: TestRemoteHomeserver\" in the output of go test):\n%s", out)
	}
	return out, nil
}

// postgres is a PostgreSQL service set up the way Synapse requires: UTF8
// with C collation and ctype.
func postgres(image *dagger.Container, password *dagger.Secret) *dagger.Service {
	return image.
		WithEnvVariable("POSTGRES_USER", testDBUser).
		WithSecretVariable("POSTGRES_PASSWORD", password).
		WithEnvVariable("POSTGRES_DB", testDatabase).
		WithEnvVariable("POSTGRES_INITDB_ARGS", "--encoding=UTF8 --lc-collate=C --lc-ctype=C").
		WithExposedPort(5432).
		AsService(dagger.ContainerAsServiceOpts{UseEntrypoint: true})
}
