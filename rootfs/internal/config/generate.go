package config

import (
	"strings"

	"gopkg.in/yaml.v3"
)

// GenerateHeader starts the file written by `/start generate`.
const GenerateHeader = `# Synapse configuration, written once by "/start generate" for editing by hand.
# /start never changes this file. Use it with SYNAPSE_CONFIG_PATH pointing here;
# the SYNAPSE_* variables of automated mode are then ignored (except UID, GID,
# SYNAPSE_DATA_DIR and POSTGRES_WAIT_TIMEOUT).
# Every option: https://element-hq.github.io/synapse/latest/usage/configuration/config_documentation.html
`

// comments explain the keys of the generated config.
var comments = map[string]string{
	"server_name":                "The public name of this server: the part after the colon in @user:server_name.\nIt cannot be changed later without losing the database.",
	"public_baseurl":             "The URL clients use to reach this server (needed for e-mail links).",
	"report_stats":               "Report anonymous usage statistics to matrix.org.",
	"enable_metrics":             "Expose Prometheus metrics on the metrics listener below.",
	"listeners":                  "Port 8008: plain HTTP for clients and federation, to put behind a TLS reverse\nproxy (x_forwarded: trust X-Forwarded-For from it). Port 8448, when present:\nTLS with the certificate below.",
	"database":                   "SQLite is fine for small servers; use PostgreSQL (name: psycopg2, with user,\npassword, database, host, port) for anything bigger.",
	"log_config":                 "Python logging configuration; the default logs to the console (docker logs).",
	"media_store_path":           "Uploaded media and thumbnails; may be its own volume (e.g. on a large disk).",
	"uploads_path":               "Temporary files of uploads in progress.",
	"max_upload_size":            "Largest upload accepted, with K or M suffix.",
	"signing_key_path":           "The key this server signs events with. Keep it (and back it up): other\nservers remember it.",
	"trusted_key_servers":        "Servers trusted to vouch for the signing keys of other servers.",
	"tls_certificate_path":       "Certificate and key of the TLS listener on 8448 (a self-signed pair was\ngenerated; replace it with a real one for federation on 8448).",
	"registration_shared_secret": "Lets register_new_matrix_user create accounts, e.g.\n  register_new_matrix_user -c /data/homeserver.yaml http://localhost:8008\nKeep every secret below private.",
	"macaroon_secret_key":        "Signs access tokens: changing it logs out every user.",
	"form_secret":                "Signs consent and other forms.",
	"enable_registration":        "Let anyone create an account from a client.",
	"enable_registration_without_verification": "Allow open registration without captcha, e-mail or token verification\n(Synapse refuses open registration without this or a verification method).",
	"enable_registration_captcha":              "Ask a reCAPTCHA on registration, with the keys below.",
	"allow_guest_access":                       "Let guests (without accounts) read and join public rooms.",
	"event_cache_size":                         "Number of events kept in memory, with K or M suffix.",
	"caches":                                   "global_factor scales every cache; raise it on servers with more memory.",
	"turn_uris":                                "TURN/STUN servers for VoIP calls, and the shared secret of the TURN server.",
	"email":                                    "Outgoing e-mail (notifications, password resets).",
	"app_service_config_files":                 "Application service (bridge, bot) registration files.",
}

// Commented is hs as a YAML document with a comment above each top-level key.
func Commented(hs HomeServer) (*yaml.Node, error) {
	doc, err := Node(hs)
	if err != nil {
		return nil, err
	}
	m := doc // Encode into a Node yields the mapping itself
	for i := 0; i+1 < len(m.Content); i += 2 {
		k := m.Content[i]
		if c, ok := comments[k.Value]; ok {
			k.HeadComment = prefixLines(c)
			if i > 0 {
				k.HeadComment = "\n" + k.HeadComment
			}
		}
	}
	if !has(m, "app_service_config_files") {
		m.FootComment = prefixLines("To add application services (bridges, bots), list their registration files:\napp_service_config_files:\n  - /data/appservices/bridge.yaml")
	}
	return doc, nil
}

func has(m *yaml.Node, key string) bool {
	for i := 0; i < len(m.Content); i += 2 {
		if m.Content[i].Value == key {
			return true
		}
	}
	return false
}

func prefixLines(s string) string {
	lines := strings.Split(s, "\n")
	for i, l := range lines {
		lines[i] = "# " + l
	}
	return strings.Join(lines, "\n")
}
