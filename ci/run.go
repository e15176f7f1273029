package main

import (
	"context"

	"dagger/synapse/internal/dagger"
)

// Serve runs the built image as a service on port 8008, with SQLite and
// without TLS: try it with `dagger call serve up --ports 8008:8008`.
func (m *Synapse) Serve(
	ctx context.Context,
	// The homeserver's server_name.
	// +optional
	// +default="localhost"
	serverName string,
	// The registration shared secret, for register_new_matrix_user
	// (default: generated inside the service).
	// +optional
	registrationSharedSecret *dagger.Secret,
) (*dagger.Service, error) {
	image, err := m.Build(ctx)
	if err != nil {
		return nil, err
	}
	ctr := withServerSettings(image, serverName, "no").
		WithEnvVariable("SYNAPSE_NO_TLS", "1")
	if registrationSharedSecret != nil {
		ctr = ctr.WithSecretVariable("SYNAPSE_REGISTRATION_SHARED_SECRET", registrationSharedSecret)
	}
	return ctr.
		WithExposedPort(8008).
		AsService(dagger.ContainerAsServiceOpts{UseEntrypoint: true}), nil
}

// Generate returns the homeserver.yaml that `/start generate` writes: a
// complete, commented config to edit by hand and mount with
// SYNAPSE_CONFIG_PATH. It holds fresh secrets (registration shared secret,
// macaroon key): keep it private.
func (m *Synapse) Generate(
	ctx context.Context,
	// The homeserver's server_name, e.g. matrix.example.org.
	serverName string,
	// Whether to report anonymous usage statistics: yes or no.
	reportStats string,
) (*dagger.File, error) {
	image, err := m.Build(ctx)
	if err != nil {
		return nil, err
	}
	const path = "/data/homeserver.yaml"
	return withServerSettings(image, serverName, reportStats).
		WithEnvVariable("SYNAPSE_CONFIG_PATH", path).
		WithExec([]string{"generate"}, dagger.ContainerWithExecOpts{UseEntrypoint: true}).
		File(path), nil
}

// withServerSettings sets the two variables /start always needs.
func withServerSettings(image *dagger.Container, serverName, reportStats string) *dagger.Container {
	return image.
		WithEnvVariable("SYNAPSE_SERVER_NAME", serverName).
		WithEnvVariable("SYNAPSE_REPORT_STATS", reportStats)
}
