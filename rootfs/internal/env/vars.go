package env

// Var documents one variable for `/start help` and the README.
type Var struct {
	Name    string
	Default string
	Help    string
	File    bool // also accepted as NAME_FILE
}

// Vars lists every variable /start reads, in the order help shows them.
var Vars = []Var{
	{"SYNAPSE_SERVER_NAME", "(mandatory)", "server_name: host name with optional :port, no scheme; also names the key files", false},
	{"SYNAPSE_REPORT_STATS", "(mandatory)", "yes or no: report anonymous usage statistics (report_stats)", false},
	{"SYNAPSE_NO_TLS", "false", "true: no TLS listener on 8448 and no TLS pair (run behind a TLS reverse proxy)", false},
	{"SYNAPSE_ENABLE_REGISTRATION", "false", "enable_registration (without a captcha also enable_registration_without_verification)", false},
	{"SYNAPSE_ALLOW_GUEST", "false", "allow_guest_access", false},
	{"SYNAPSE_EVENT_CACHE_SIZE", "10K", "event_cache_size: number with optional K/M suffix", false},
	{"SYNAPSE_CACHE_FACTOR", "0.5", "caches.global_factor: number > 0", false},
	{"SYNAPSE_MAX_UPLOAD_SIZE", "(Synapse: 50M)", "max_upload_size: number with optional K/M suffix", false},
	{"SYNAPSE_PUBLIC_BASEURL", "(none; https://HOST/ with SMTP)", "public_baseurl: the URL clients reach the server at", false},
	{"SYNAPSE_RECAPTCHA_PUBLIC_KEY", "(unset)", "reCAPTCHA site key; with the private key enables enable_registration_captcha", false},
	{"SYNAPSE_RECAPTCHA_PRIVATE_KEY", "(unset)", "reCAPTCHA secret key (both keys or neither)", true},
	{"SYNAPSE_TURN_URIS", "(unset)", "comma-separated turn:/turns:/stun: URIs (turn_uris)", false},
	{"SYNAPSE_TURN_SECRET", "(unset)", "turn_shared_secret; required with SYNAPSE_TURN_URIS", true},
	{"SYNAPSE_REGISTRATION_SHARED_SECRET", "(generated)", "registration_shared_secret; else DATA/SERVER.registration.key, created if missing", true},
	{"SYNAPSE_MACAROON_SECRET_KEY", "(generated)", "macaroon_secret_key; else DATA/SERVER.macaroon.key, created if missing", true},
	{"SYNAPSE_FORM_SECRET", "(generated)", "form_secret; else DATA/SERVER.form.key, created if missing", true},
	{"SYNAPSE_ENABLE_METRICS", "false", "enable_metrics and a Prometheus listener on SYNAPSE_METRICS_PORT", false},
	{"SYNAPSE_METRICS_PORT", "19090", "port of the metrics listener", false},
	{"SYNAPSE_LOG_LEVEL", "INFO", "console log level: DEBUG, INFO, WARNING, ERROR or CRITICAL", false},
	{"POSTGRES_PASSWORD", "(unset: SQLite)", "when set, PostgreSQL (psycopg2) is used instead of SQLite", true},
	{"POSTGRES_HOST", "db", "PostgreSQL host", false},
	{"POSTGRES_PORT", "5432", "PostgreSQL port", false},
	{"POSTGRES_USER", "matrix", "PostgreSQL user", false},
	{"POSTGRES_DB", "synapse", "PostgreSQL database", false},
	{"POSTGRES_CP_MIN", "5", "minimum connections in the pool", false},
	{"POSTGRES_CP_MAX", "10", "maximum connections in the pool", false},
	{"POSTGRES_WAIT_TIMEOUT", "60", "seconds (or a duration like 2m) to wait for PostgreSQL to accept TCP connections; 0: no wait", false},
	{"SYNAPSE_SMTP_HOST", "(unset)", "when set, an email section (and public_baseurl, which Synapse requires with it)", false},
	{"SYNAPSE_SMTP_PORT", "25", "SMTP port", false},
	{"SYNAPSE_SMTP_USER", "(unset)", "SMTP user", false},
	{"SYNAPSE_SMTP_PASSWORD", "(unset)", "SMTP password", true},
	{"SYNAPSE_SMTP_FROM", "Matrix <noreply@HOST>", "notif_from: sender of e-mails", false},
	{"SYNAPSE_CONFIG_PATH", "(unset: automated mode)", "manual mode: run Synapse with this config (must exist); generate: where to write (default /data/homeserver.yaml)", false},
	{"SYNAPSE_DATA_DIR", "/data", "the data directory", false},
	{"UID", "991", "user Synapse runs as when /start is started as root", false},
	{"GID", "991", "group Synapse runs as when /start is started as root", false},
}
