package env

//go:generate go run ./mkdoc ../../../docs/variables.md

// Var is one variable of /start. The table of them (Vars) is the one place
// that says how a variable is parsed, its default, whether it is a secret,
// and how help and docs/variables.md describe it.
type Var struct {
	Name    string
	Section Section
	// Default is the value used when the variable is unset or empty; the
	// parser reads it as if it were given. "" means none.
	Default string
	// Shown replaces Default in help and docs when the default is not a
	// literal value (computed from other variables, generated, Synapse's own).
	Shown string
	// Required is the hint of the error when the variable is unset or empty;
	// "" means optional.
	Required string
	// Secret variables may be given as NAME_FILE, never appear in a log line
	// and are removed from Synapse's environment.
	Secret bool
	// Requires names a variable (earlier in the table) without which this
	// one is not read: e.g. POSTGRES_PORT without POSTGRES_PASSWORD.
	Requires string
	// Ignored, when not empty, is the reason given in a warning when the
	// variable is set but Requires is not (else it is ignored silently).
	Ignored string
	// Keys are the homeserver.yaml keys the variable sets, top-level or
	// dotted ("email.smtp_pass"); empty for variables that only steer /start
	// or change fixed parts.
	Keys  []string
	Parse Parser
	Help  string
}

// Section groups the variables in help and docs, and names the part of
// Load that turns them into Settings.
type Section string

// The sections of /start's variables.
const (
	Server         Section = "Server"
	Registration   Section = "Registration"
	Caches         Section = "Caches and media"
	TURN           Section = "TURN (VoIP)"
	SecretKeys     Section = "Secrets"
	Metrics        Section = "Metrics"
	Database       Section = "Database (PostgreSQL)"
	Email          Section = "E-mail (SMTP)"
	RedisSection   Section = "Redis"
	WorkersSection Section = "Workers"
	Runtime        Section = "Data directory and user"
)

// Table is a list of variables; Vars is the table of /start.
type Table []Var

// Vars lists every variable /start reads. Adding one here adds it to
// parsing (Values), help, the secret stripping before Synapse starts and
// docs/variables.md (go generate ./rootfs/internal/env).
var Vars = Table{
	{Name: "SYNAPSE_SERVER_NAME", Section: Server, Required: "set it to the public host name of the server, e.g. matrix.example.com",
		Keys: []string{"server_name"}, Parse: serverName,
		Help: "server_name: host name with optional :port, no scheme; also names the key files"},
	{Name: "SYNAPSE_REPORT_STATS", Section: Server, Required: "set it to yes or no (report anonymous usage statistics to matrix.org)",
		Keys: []string{"report_stats"}, Parse: boolean,
		Help: "yes or no: report anonymous usage statistics (report_stats)"},
	{Name: "SYNAPSE_NO_TLS", Section: Server, Default: "false",
		Keys: []string{"listeners", "tls_certificate_path", "tls_private_key_path"}, Parse: boolean,
		Help: "true: no TLS listener on 8448 and no TLS pair (run behind a TLS reverse proxy)"},
	{Name: "SYNAPSE_PUBLIC_BASEURL", Section: Server, Shown: "(none; https://HOST/ with SMTP)",
		Keys: []string{"public_baseurl"}, Parse: baseURL,
		Help: "public_baseurl: the URL clients reach the server at"},
	{Name: "SYNAPSE_LOG_LEVEL", Section: Server, Default: "INFO", Parse: logLevel,
		Help: "console log level: DEBUG, INFO, WARNING, ERROR or CRITICAL"},
	{Name: "SYNAPSE_LOG_FORMAT", Section: Server, Default: "text", Parse: logFormat,
		Help: "console log format: text, or json (one JSON object a line, Synapse's TerseJsonFormatter, for log shippers)"},

	{Name: "SYNAPSE_ENABLE_REGISTRATION", Section: Registration, Default: "false",
		Keys: []string{"enable_registration", "enable_registration_without_verification"}, Parse: boolean,
		Help: "enable_registration (without a captcha also enable_registration_without_verification)"},
	{Name: "SYNAPSE_ALLOW_GUEST", Section: Registration, Default: "false",
		Keys: []string{"allow_guest_access"}, Parse: boolean,
		Help: "allow_guest_access"},
	{Name: "SYNAPSE_RECAPTCHA_PUBLIC_KEY", Section: Registration,
		Keys: []string{"recaptcha_public_key", "enable_registration_captcha"}, Parse: text,
		Help: "reCAPTCHA site key; with the private key enables enable_registration_captcha"},
	{Name: "SYNAPSE_RECAPTCHA_PRIVATE_KEY", Section: Registration, Secret: true,
		Keys: []string{"recaptcha_private_key"}, Parse: verbatim,
		Help: "reCAPTCHA secret key (both keys or neither)"},

	{Name: "SYNAPSE_EVENT_CACHE_SIZE", Section: Caches, Default: "10K",
		Keys: []string{"event_cache_size"}, Parse: size,
		Help: "event_cache_size: number with optional K/M suffix"},
	{Name: "SYNAPSE_CACHE_FACTOR", Section: Caches, Default: "0.5",
		Keys: []string{"caches.global_factor"}, Parse: positiveFloat,
		Help: "caches.global_factor: number > 0"},
	{Name: "SYNAPSE_MAX_UPLOAD_SIZE", Section: Caches, Shown: "(Synapse: 50M)",
		Keys: []string{"max_upload_size"}, Parse: size,
		Help: "max_upload_size: number with optional K/M suffix"},

	{Name: "SYNAPSE_TURN_URIS", Section: TURN,
		Keys: []string{"turn_uris"}, Parse: turnURIs,
		Help: "comma-separated turn:/turns:/stun: URIs (turn_uris)"},
	{Name: "SYNAPSE_TURN_SECRET", Section: TURN, Secret: true,
		Keys: []string{"turn_shared_secret"}, Parse: verbatim,
		Help: "turn_shared_secret; required with SYNAPSE_TURN_URIS"},

	{Name: "SYNAPSE_REGISTRATION_SHARED_SECRET", Section: SecretKeys, Shown: "(generated)", Secret: true,
		Keys: []string{"registration_shared_secret"}, Parse: verbatim,
		Help: "registration_shared_secret; else DATA/SERVER.registration.key, created if missing"},
	{Name: "SYNAPSE_MACAROON_SECRET_KEY", Section: SecretKeys, Shown: "(generated)", Secret: true,
		Keys: []string{"macaroon_secret_key"}, Parse: verbatim,
		Help: "macaroon_secret_key; else DATA/SERVER.macaroon.key, created if missing"},
	{Name: "SYNAPSE_FORM_SECRET", Section: SecretKeys, Shown: "(generated)", Secret: true,
		Keys: []string{"form_secret"}, Parse: verbatim,
		Help: "form_secret; else DATA/SERVER.form.key, created if missing"},

	{Name: "SYNAPSE_ENABLE_METRICS", Section: Metrics, Default: "false",
		Keys: []string{"enable_metrics", "listeners"}, Parse: boolean,
		Help: "enable_metrics and a Prometheus listener on SYNAPSE_METRICS_PORT"},
	{Name: "SYNAPSE_METRICS_PORT", Section: Metrics, Default: "19090",
		Keys: []string{"listeners"}, Parse: port,
		Help: "port of the metrics listener"},

	{Name: "POSTGRES_PASSWORD", Section: Database, Shown: "(unset: SQLite)", Secret: true,
		Keys: []string{"database.name", "database.args.password"}, Parse: verbatim,
		Help: "when set, PostgreSQL (psycopg2) is used instead of SQLite"},
	{Name: "POSTGRES_HOST", Section: Database, Default: "db", Requires: "POSTGRES_PASSWORD",
		Keys: []string{"database.args.host"}, Parse: text,
		Help: "PostgreSQL host"},
	{Name: "POSTGRES_PORT", Section: Database, Default: "5432", Requires: "POSTGRES_PASSWORD",
		Keys: []string{"database.args.port"}, Parse: port,
		Help: "PostgreSQL port"},
	{Name: "POSTGRES_USER", Section: Database, Default: "matrix", Requires: "POSTGRES_PASSWORD",
		Keys: []string{"database.args.user"}, Parse: text,
		Help: "PostgreSQL user"},
	{Name: "POSTGRES_DB", Section: Database, Default: "synapse", Requires: "POSTGRES_PASSWORD",
		Keys: []string{"database.args.database"}, Parse: text,
		Help: "PostgreSQL database"},
	{Name: "POSTGRES_CP_MIN", Section: Database, Default: "5", Requires: "POSTGRES_PASSWORD",
		Keys: []string{"database.args.cp_min"}, Parse: integer(1, 1000),
		Help: "minimum connections in the pool"},
	{Name: "POSTGRES_CP_MAX", Section: Database, Default: "10", Requires: "POSTGRES_PASSWORD",
		Keys: []string{"database.args.cp_max"}, Parse: integer(1, 1000),
		Help: "maximum connections in the pool"},
	{Name: "POSTGRES_WAIT_TIMEOUT", Section: Database, Default: "60", Requires: "POSTGRES_PASSWORD", Parse: waitTimeout,
		Help: "seconds (or a duration like 2m) to wait for PostgreSQL to accept TCP connections; 0: no wait (manual mode too, for the database of its config)"},

	{Name: "SYNAPSE_SMTP_HOST", Section: Email,
		Keys: []string{"email.smtp_host"}, Parse: text,
		Help: "when set, an email section (and public_baseurl, which Synapse requires with it)"},
	{Name: "SYNAPSE_SMTP_PORT", Section: Email, Default: "25", Requires: "SYNAPSE_SMTP_HOST", Ignored: "e-mail is not configured",
		Keys: []string{"email.smtp_port"}, Parse: port,
		Help: "SMTP port"},
	{Name: "SYNAPSE_SMTP_USER", Section: Email, Requires: "SYNAPSE_SMTP_HOST", Ignored: "e-mail is not configured",
		Keys: []string{"email.smtp_user"}, Parse: verbatim,
		Help: "SMTP user"},
	{Name: "SYNAPSE_SMTP_PASSWORD", Section: Email, Secret: true, Requires: "SYNAPSE_SMTP_HOST", Ignored: "e-mail is not configured",
		Keys: []string{"email.smtp_pass"}, Parse: verbatim,
		Help: "SMTP password"},
	{Name: "SYNAPSE_SMTP_FROM", Section: Email, Shown: "Matrix <noreply@HOST>", Requires: "SYNAPSE_SMTP_HOST", Ignored: "e-mail is not configured",
		Keys: []string{"email.notif_from"}, Parse: emailAddress,
		Help: "notif_from: sender of e-mails"},

	{Name: "SYNAPSE_REDIS_HOST", Section: RedisSection, Shown: "(unset: no Redis)",
		Keys: []string{"redis.enabled", "redis.host"}, Parse: text,
		Help: "when set, Redis (redis.enabled), the replication channel of workers; the image needs the txredisapi wheel (wheels/README.md)"},
	{Name: "SYNAPSE_REDIS_PORT", Section: RedisSection, Default: "6379", Requires: "SYNAPSE_REDIS_HOST", Ignored: "Redis is not configured",
		Keys: []string{"redis.port"}, Parse: port,
		Help: "Redis port"},
	{Name: "SYNAPSE_REDIS_PASSWORD", Section: RedisSection, Secret: true, Requires: "SYNAPSE_REDIS_HOST", Ignored: "Redis is not configured",
		Keys: []string{"redis.password"}, Parse: verbatim,
		Help: "Redis password (none when unset)"},
	{Name: "SYNAPSE_REDIS_DB", Section: RedisSection, Default: "0", Requires: "SYNAPSE_REDIS_HOST", Ignored: "Redis is not configured",
		Keys: []string{"redis.dbid"}, Parse: integer(0, 65535),
		Help: "Redis database number"},

	{Name: "SYNAPSE_WORKERS", Section: WorkersSection, Shown: "(unset: one process)",
		Keys: []string{"instance_map", "stream_writers", "federation_sender_instances", "pusher_instances",
			"notify_appservices_from_worker", "update_user_directory_from_worker", "run_background_tasks_on",
			"media_instance_running_background_jobs", "enable_media_repo", "send_federation", "start_pushers", "listeners"},
		Parse: topology,
		Help:  "the worker topology, the same in every container of a deployment: TYPE or TYPE:COUNT, comma-separated (docs/workers.md); needs PostgreSQL and Redis"},
	{Name: "SYNAPSE_WORKER_NAME", Section: WorkersSection, Shown: "(unset: the main process)",
		Keys: []string{"worker_app", "worker_name", "worker_listeners", "worker_log_config"}, Parse: text,
		Help: "which instance of SYNAPSE_WORKERS this container runs, TYPE-N (e.g. synchrotron-2), or a scalable type (synchrotron) for a replica named after HOSTNAME"},
	{Name: "HOSTNAME", Section: WorkersSection, Shown: "(set by Docker: the container's ID)", Parse: text,
		Keys: []string{"worker_name"},
		Help: "names a replica: with SYNAPSE_WORKER_NAME set to a scalable type (e.g. synchrotron), the instance is TYPE-HOSTNAME, so that docker-compose --scale replicas differ"},
	{Name: "SYNAPSE_WORKER_MAIN_HOST", Section: WorkersSection, Default: "synapse", Requires: "SYNAPSE_WORKERS", Ignored: "there are no workers",
		Keys: []string{"instance_map"}, Parse: hostName,
		Help: "host name of the main process on the workers' network (its compose service or container name); each worker is reached at its instance name"},
	{Name: "SYNAPSE_REPLICATION_SECRET", Section: WorkersSection, Shown: "(generated)", Secret: true, Requires: "SYNAPSE_WORKERS", Ignored: "there are no workers",
		Keys: []string{"worker_replication_secret"}, Parse: verbatim,
		Help: "worker_replication_secret; else DATA/SERVER.replication.key, created by the main if missing"},
	{Name: "SYNAPSE_WORKER_WAIT_TIMEOUT", Section: WorkersSection, Default: "60", Requires: "SYNAPSE_WORKERS", Ignored: "there are no workers", Parse: waitTimeout,
		Help: "a worker's wait, in seconds or a duration like 2m, for the main to create the signing key and secrets it shares (a worker never creates them); 0: no wait"},

	{Name: "SYNAPSE_CONFIG_PATH", Section: Runtime, Shown: "(unset: automated mode)", Parse: absPath(false),
		Help: "manual mode: run Synapse with this config (must exist); generate: where to write (default /data/homeserver.yaml)"},
	{Name: "SYNAPSE_DATA_DIR", Section: Runtime, Default: "/data", Parse: absPath(true),
		Help: "the data directory"},
	{Name: "UID", Section: Runtime, Default: "991", Parse: integer(0, 1<<31-1),
		Help: "user Synapse runs as when /start is started as root"},
	{Name: "GID", Section: Runtime, Default: "991", Parse: integer(0, 1<<31-1),
		Help: "group Synapse runs as when /start is started as root"},
}

// Lookup returns the variable called name.
func (t Table) Lookup(name string) (Var, bool) {
	for _, v := range t {
		if v.Name == name {
			return v, true
		}
	}
	return Var{}, false
}

// Sections are the sections of t in the order of their first variable,
// the order help and docs show them in.
func (t Table) Sections() []Section {
	var out []Section
	seen := map[Section]bool{}
	for _, v := range t {
		if !seen[v.Section] {
			seen[v.Section] = true
			out = append(out, v.Section)
		}
	}
	return out
}

// In returns the variables of section, in table order.
func (t Table) In(section Section) Table {
	var out Table
	for _, v := range t {
		if v.Section == section {
			out = append(out, v)
		}
	}
	return out
}

// Secrets are the names of the secret variables.
func (t Table) Secrets() map[string]bool {
	out := map[string]bool{}
	for _, v := range t {
		if v.Secret {
			out[v.Name] = true
		}
	}
	return out
}

// ShownDefault is the default as help and docs show it.
func (v Var) ShownDefault() string {
	switch {
	case v.Required != "":
		return "(mandatory)"
	case v.Shown != "":
		return v.Shown
	case v.Default != "":
		return v.Default
	}
	return "(unset)"
}

// IsSet reports whether the operator set the variable (or its NAME_FILE
// form) to a non-empty value: then the homeserver.yaml keys it sets are
// the operator's choice, not a default.
func (v Var) IsSet(src Source) bool {
	return src.Set(v.Name) || (v.Secret && src.Set(v.Name+"_FILE"))
}
