package config

import (
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

// Manual is what /start needs to know about a hand-written config.
type Manual struct {
	Path           string
	ServerName     string
	SigningKeyPath string
	// TLS pair named by the config, or "".
	TLSCertPath, TLSKeyPath string
	HealthURL               string
	// DBAddress is host:port of PostgreSQL over TCP, or "".
	DBAddress string
	// Media store and uploads, as the config names them ("" for Synapse's
	// defaults).
	MediaStorePath, UploadsPath string
	// RedisEnabled: redis.enabled is true (as Python tests it), so Synapse
	// needs the txredisapi module.
	RedisEnabled bool
}

type manualFile struct {
	ServerName     string `yaml:"server_name"`
	SigningKeyPath string `yaml:"signing_key_path"`
	SigningKey     any    `yaml:"signing_key"`
	TLSCertPath    string `yaml:"tls_certificate_path"`
	TLSKeyPath     string `yaml:"tls_private_key_path"`
	MediaStorePath string `yaml:"media_store_path"`
	UploadsPath    string `yaml:"uploads_path"`
	Listeners      []struct {
		Port          int      `yaml:"port"`
		Path          string   `yaml:"path"`
		Type          string   `yaml:"type"`
		TLS           bool     `yaml:"tls"`
		BindAddresses []string `yaml:"bind_addresses"`
	} `yaml:"listeners"`
	Database struct {
		Name string         `yaml:"name"`
		Args map[string]any `yaml:"args"`
	} `yaml:"database"`
	Redis struct {
		Enabled yaml.Node `yaml:"enabled"`
	} `yaml:"redis"`
}

// ReadManual reads the parts of a hand-written homeserver.yaml that /start uses.
func ReadManual(path string) (Manual, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return Manual{}, err
	}
	return ParseManual(path, b)
}

// ParseManual is ReadManual of the content b of the file at path.
func ParseManual(path string, b []byte) (Manual, error) {
	var f manualFile
	if err := yaml.Unmarshal(b, &f); err != nil {
		return Manual{}, fmt.Errorf("%s is not valid YAML: %w", path, err)
	}
	m := Manual{Path: path, ServerName: f.ServerName, HealthURL: healthURL(HTTPPort, nil),
		TLSCertPath: f.TLSCertPath, TLSKeyPath: f.TLSKeyPath, MediaStorePath: f.MediaStorePath, UploadsPath: f.UploadsPath}
	if f.SigningKey == nil {
		m.SigningKeyPath = f.SigningKeyPath
		if m.SigningKeyPath == "" {
			if f.ServerName == "" {
				return m, fmt.Errorf("%s: server_name is missing", path)
			}
			// Synapse's default: next to the config.
			m.SigningKeyPath = filepath.Join(filepath.Dir(path), f.ServerName+".signing.key")
		}
	}
	m.RedisEnabled = truthy(&f.Redis.Enabled)
	for _, l := range f.Listeners {
		if (l.Type == "" || l.Type == "http") && !l.TLS && l.Path == "" && l.Port > 0 {
			m.HealthURL = healthURL(l.Port, l.BindAddresses)
			break
		}
	}
	if f.Database.Name == "psycopg2" || f.Database.Name == "psycopg" {
		host, _ := f.Database.Args["host"].(string)
		port := 5432
		switch p := f.Database.Args["port"].(type) {
		case int:
			port = p
		case string:
			if n, err := strconv.Atoi(p); err == nil {
				port = n
			}
		}
		// A host starting with "/" is a Unix socket: nothing to wait for over TCP.
		if host != "" && host[0] != '/' {
			m.DBAddress = net.JoinHostPort(strings.Trim(host, "[]"), strconv.Itoa(port))
		}
	}
	return m, nil
}

// HealthURL is the health endpoint of automated mode.
func HealthURL() string { return healthURL(HTTPPort, nil) }

func healthURL(port int, bind []string) string {
	// The first bind address decides; a wildcard means the loopback.
	host := "127.0.0.1"
	if len(bind) > 0 {
		switch bind[0] {
		case "", "0.0.0.0", "::", "*":
		default:
			host = bind[0]
		}
	}
	return "http://" + net.JoinHostPort(strings.Trim(host, "[]"), strconv.Itoa(port)) + "/health"
}
