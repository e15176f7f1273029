// Package config turns validated settings into Synapse's homeserver.yaml and
// log config. The config is Go data marshalled with yaml.v3, never text
// templating, so no value can break or inject into the YAML.
package config

import (
	"bytes"
	"fmt"
	"path/filepath"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/synapse-image/synapse-image/rootfs/internal/env"
)

// Fixed ports of the image.
const (
	HTTPPort = 8008
	TLSPort  = 8448
)

// HomeServer is the part of Synapse's homeserver.yaml that /start writes.
// Field order is the order of the file.
type HomeServer struct {
	ServerName    string `yaml:"server_name"`
	PublicBaseURL string `yaml:"public_baseurl,omitempty"`
	ReportStats   bool   `yaml:"report_stats"`
	EnableMetrics bool   `yaml:"enable_metrics,omitempty"`

	Listeners []Listener `yaml:"listeners"`
	Database  Database   `yaml:"database"`
	LogConfig string     `yaml:"log_config"`

	MediaStorePath string `yaml:"media_store_path"`
	UploadsPath    string `yaml:"uploads_path"`
	MaxUploadSize  string `yaml:"max_upload_size,omitempty"`

	SigningKeyPath     string      `yaml:"signing_key_path"`
	TrustedKeyServers  []KeyServer `yaml:"trusted_key_servers"`
	TLSCertificatePath string      `yaml:"tls_certificate_path,omitempty"`
	TLSPrivateKeyPath  string      `yaml:"tls_private_key_path,omitempty"`

	RegistrationSharedSecret string `yaml:"registration_shared_secret"`
	MacaroonSecretKey        string `yaml:"macaroon_secret_key"`
	FormSecret               string `yaml:"form_secret"`

	EnableRegistration                    bool   `yaml:"enable_registration"`
	EnableRegistrationWithoutVerification bool   `yaml:"enable_registration_without_verification,omitempty"`
	EnableRegistrationCaptcha             bool   `yaml:"enable_registration_captcha,omitempty"`
	RecaptchaPublicKey                    string `yaml:"recaptcha_public_key,omitempty"`
	RecaptchaPrivateKey                   string `yaml:"recaptcha_private_key,omitempty"`
	AllowGuestAccess                      bool   `yaml:"allow_guest_access"`

	EventCacheSize string `yaml:"event_cache_size"`
	Caches         Caches `yaml:"caches"`

	TURNURIs         []string `yaml:"turn_uris,omitempty"`
	TURNSharedSecret string   `yaml:"turn_shared_secret,omitempty"`

	Email *Email `yaml:"email,omitempty"`

	AppServiceConfigFiles []string `yaml:"app_service_config_files,omitempty"`

	Redis   *Redis     `yaml:"redis,omitempty"`
	Workers WorkerKeys `yaml:",inline"`
}

// Listener is one entry of `listeners`.
type Listener struct {
	Port          int        `yaml:"port"`
	BindAddresses []string   `yaml:"bind_addresses,flow"`
	Type          string     `yaml:"type"`
	TLS           bool       `yaml:"tls"`
	XForwarded    bool       `yaml:"x_forwarded,omitempty"`
	Resources     []Resource `yaml:"resources,omitempty"`
}

// Resource is one entry of a listener's `resources`.
type Resource struct {
	Names    []string `yaml:"names,flow"`
	Compress bool     `yaml:"compress"`
}

// Database is the `database` section.
type Database struct {
	Name string       `yaml:"name"`
	Args DatabaseArgs `yaml:"args"`
}

// DatabaseArgs holds the arguments of SQLite (Database only) or psycopg2.
type DatabaseArgs struct {
	User     string `yaml:"user,omitempty"`
	Password string `yaml:"password,omitempty"`
	Database string `yaml:"database"`
	Host     string `yaml:"host,omitempty"`
	Port     int    `yaml:"port,omitempty"`
	CPMin    int    `yaml:"cp_min,omitempty"`
	CPMax    int    `yaml:"cp_max,omitempty"`
}

// KeyServer is one entry of `trusted_key_servers`.
type KeyServer struct {
	ServerName string `yaml:"server_name"`
}

// Caches is the `caches` section.
type Caches struct {
	GlobalFactor Factor `yaml:"global_factor"`
}

// Factor is a float that YAML keeps a float (2 is written 2.0).
type Factor float64

// MarshalYAML writes the shortest exact form, with ".0" when integral.
func (f Factor) MarshalYAML() (any, error) {
	v := strconv.FormatFloat(float64(f), 'f', -1, 64)
	if !strings.ContainsAny(v, ".eEn") {
		v += ".0"
	}
	return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!float", Value: v}, nil
}

// Email is the `email` section.
type Email struct {
	SMTPHost  string `yaml:"smtp_host"`
	SMTPPort  int    `yaml:"smtp_port"`
	SMTPUser  string `yaml:"smtp_user,omitempty"`
	SMTPPass  string `yaml:"smtp_pass,omitempty"`
	NotifFrom string `yaml:"notif_from"`
}

// Secrets are the secret values the config holds inline.
type Secrets struct {
	RegistrationSharedSecret string
	MacaroonSecretKey        string
	FormSecret               string
	WorkerReplicationSecret  string // only with workers
}

// Files are the per-server key and secret files in the data directory.
type Files struct {
	SigningKey, Registration, Macaroon, Form, TLSCert, TLSKey string
}

// FilesFor names the key files of server in dataDir.
func FilesFor(dataDir, server string) Files {
	p := func(ext string) string { return filepath.Join(dataDir, server+ext) }
	return Files{
		SigningKey:   p(".signing.key"),
		Registration: p(".registration.key"),
		Macaroon:     p(".macaroon.key"),
		Form:         p(".form.key"),
		TLSCert:      p(".tls.crt"),
		TLSKey:       p(".tls.key"),
	}
}

// GeneratedDir is where automated mode writes its config, below the data dir.
func GeneratedDir(dataDir string) string { return filepath.Join(dataDir, "generated") }

// Input is everything Build needs.
type Input struct {
	Settings    env.Settings
	Secrets     Secrets
	LogConfig   string   // path of the log config
	IPv6        bool     // the container has IPv6: also bind '::'
	AppServices []string // absolute paths, sorted
}

// BindAddresses are the wildcard addresses to listen on.
func BindAddresses(ipv6 bool) []string {
	if ipv6 {
		return []string{"::", "0.0.0.0"}
	}
	return []string{"0.0.0.0"}
}

// Build makes the homeserver config of automated mode.
func Build(in Input) HomeServer {
	s := in.Settings
	files := FilesFor(s.DataDir, s.ServerName)
	bind := BindAddresses(in.IPv6)
	resources := []Resource{{Names: []string{"client", "federation"}, Compress: false}}

	hs := HomeServer{
		ServerName:    s.ServerName,
		PublicBaseURL: s.PublicBaseURL,
		ReportStats:   s.ReportStats,
		EnableMetrics: s.EnableMetrics,
		Listeners: []Listener{{
			Port: HTTPPort, BindAddresses: bind, Type: "http", TLS: false, XForwarded: true, Resources: resources,
		}},
		LogConfig:                s.DataDir + "/generated/log.config",
		MediaStorePath:           filepath.Join(s.DataDir, "media"),
		UploadsPath:              filepath.Join(s.DataDir, "uploads"),
		MaxUploadSize:            s.MaxUploadSize,
		SigningKeyPath:           files.SigningKey,
		TrustedKeyServers:        []KeyServer{{ServerName: "matrix.org"}},
		RegistrationSharedSecret: in.Secrets.RegistrationSharedSecret,
		MacaroonSecretKey:        in.Secrets.MacaroonSecretKey,
		FormSecret:               in.Secrets.FormSecret,
		EnableRegistration:       s.EnableRegistration,
		AllowGuestAccess:         s.AllowGuest,
		EventCacheSize:           s.EventCacheSize,
		Caches:                   Caches{GlobalFactor: Factor(s.CacheFactor)},
		TURNURIs:                 s.TURNURIs,
		TURNSharedSecret:         s.TURNSecret,
		AppServiceConfigFiles:    in.AppServices,
	}
	if in.LogConfig != "" {
		hs.LogConfig = in.LogConfig
	}
	if !s.NoTLS {
		hs.Listeners = append(hs.Listeners, Listener{
			Port: TLSPort, BindAddresses: bind, Type: "http", TLS: true, XForwarded: false, Resources: resources,
		})
		hs.TLSCertificatePath = files.TLSCert
		hs.TLSPrivateKeyPath = files.TLSKey
	}
	if s.EnableMetrics {
		hs.Listeners = append(hs.Listeners, Listener{Port: s.MetricsPort, BindAddresses: bind, Type: "metrics"})
	}
	if pg := s.Postgres; pg != nil {
		hs.Database = Database{Name: "psycopg2", Args: DatabaseArgs{
			User: pg.User, Password: pg.Password, Database: pg.Database,
			Host: pg.Host, Port: pg.Port, CPMin: pg.CPMin, CPMax: pg.CPMax,
		}}
	} else {
		hs.Database = Database{Name: "sqlite3", Args: DatabaseArgs{Database: filepath.Join(s.DataDir, "homeserver.db")}}
	}
	if s.RecaptchaPublicKey != "" {
		hs.EnableRegistrationCaptcha = true
		hs.RecaptchaPublicKey = s.RecaptchaPublicKey
		hs.RecaptchaPrivateKey = s.RecaptchaPrivateKey
	} else if s.EnableRegistration {
		// Synapse ≥ 1.53 refuses open registration without any verification.
		hs.EnableRegistrationWithoutVerification = true
	}
	if m := s.SMTP; m != nil {
		hs.Email = &Email{SMTPHost: m.Host, SMTPPort: m.Port, SMTPUser: m.User, SMTPPass: m.Password, NotifFrom: m.From}
	}
	applyRedis(&hs, s.Redis)
	applyWorkers(&hs, in)
	return hs
}

// Header starts every file written by automated mode.
const Header = `# Generated by /start from environment variables, afresh on every start.
# Do not edit: changes are lost at the next start. To configure Synapse by
# hand, run "/start generate" and set SYNAPSE_CONFIG_PATH (see /start help).
`

// Node turns v into a YAML document node.
func Node(v any) (*yaml.Node, error) {
	var doc yaml.Node
	if err := doc.Encode(v); err != nil {
		return nil, fmt.Errorf("encode config: %w", err)
	}
	return &doc, nil
}

// Marshal writes v (a value, or a *yaml.Node, which it normalises in
// place) as YAML with two-space indents, after header, for PyYAML (YAML
// 1.1), the reader of Synapse: every string double-quoted, numbers,
// booleans and nulls in the spelling YAML 1.1 and 1.2 agree on.
func Marshal(header string, v any) ([]byte, error) {
	n, ok := v.(*yaml.Node)
	if !ok {
		var err error
		if n, err = Node(v); err != nil {
			return nil, err
		}
	}
	if err := forPyYAML(n); err != nil {
		return nil, fmt.Errorf("marshal config: %w", err)
	}
	var buf bytes.Buffer
	buf.WriteString(header)
	if header != "" {
		buf.WriteString("\n")
	}
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	if err := enc.Encode(n); err != nil {
		return nil, fmt.Errorf("marshal config: %w", err)
	}
	if err := enc.Close(); err != nil {
		return nil, fmt.Errorf("marshal config: %w", err)
	}
	return buf.Bytes(), nil
}
