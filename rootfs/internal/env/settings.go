package env

import (
	"fmt"
	"strings"
	"time"

	"github.com/synapse-image/synapse-image/rootfs/internal/workers"
)

// Common is what every mode needs.
type Common struct {
	DataDir    string // SYNAPSE_DATA_DIR, absolute
	UID, GID   int
	ConfigPath string // SYNAPSE_CONFIG_PATH; "" means automated mode
}

// Settings is the validated environment of automated mode (and `generate`).
type Settings struct {
	Common

	ServerName         string
	ReportStats        bool
	NoTLS              bool
	EnableRegistration bool
	AllowGuest         bool
	EventCacheSize     string
	CacheFactor        float64
	MaxUploadSize      string // "" = Synapse's default
	LogLevel           string
	LogFormat          string // text or json
	PublicBaseURL      string // "" = none (or the SMTP default)
	EnableMetrics      bool
	MetricsPort        int

	RecaptchaPublicKey, RecaptchaPrivateKey string

	TURNURIs   []string
	TURNSecret string

	// Secrets given by variables; "" means: read or create the file in /data.
	RegistrationSharedSecret string
	MacaroonSecretKey        string
	FormSecret               string

	Postgres *Postgres // nil = SQLite
	SMTP     *SMTP     // nil = no email section
	Redis    *Redis    // nil = no Redis
	Workers  *Workers  // nil = one process, no workers

	// Values are the parsed variables, by name, as the table's parsers made them.
	Values Values

	// Warnings are printed by the caller (never containing secrets).
	Warnings []string
}

// Postgres is the database connection of automated mode.
type Postgres struct {
	Host        string
	Port        int
	User        string
	Password    string
	Database    string
	CPMin       int
	CPMax       int
	WaitTimeout time.Duration // 0 = do not wait
}

// SMTP is the email section of automated mode.
type SMTP struct {
	Host     string
	Port     int
	User     string
	Password string
	From     string
}

// Redis is the redis section of automated mode.
type Redis struct {
	Host     string
	Port     int
	Password string // "" = none
	DB       int
}

// Workers is the worker topology of a deployment and this process's place
// in it.
type Workers struct {
	Topology workers.Topology
	// Name is the instance this process runs; "" is the main process.
	Name string
	// Instance is the instance of Name (nil for the main process): one of
	// the topology's, or a replica of a scalable type.
	Instance *workers.Instance
	MainHost string
	// ReplicationSecret given by a variable; "" means: read (or, on the
	// main, create) the file in /data.
	ReplicationSecret string
	// WaitTimeout bounds a worker's wait for the main's keys and secrets.
	WaitTimeout time.Duration
}

// Worker is the instance this process runs, false for the main process.
func (w *Workers) Worker() (workers.Instance, bool) {
	if w == nil || w.Instance == nil {
		return workers.Instance{}, false
	}
	return *w.Instance, true
}

// Host is the server name without its port (for e-mail addresses, URLs and
// the TLS certificate).
func (s Settings) Host() string {
	h := s.ServerName
	if strings.HasPrefix(h, "[") {
		if i := strings.Index(h, "]"); i > 0 {
			return h[:i+1]
		}
	}
	if i := strings.LastIndex(h, ":"); i >= 0 {
		return h[:i]
	}
	return h
}

// Load reads and validates every variable of automated mode with the table
// of /start. It reads `_FILE` files but writes nothing.
func Load(src Source) (Settings, error) { return Vars.Load(src) }

// LoadCommon reads the variables every mode needs.
func LoadCommon(src Source) (Common, error) { return Vars.LoadCommon(src) }

// WaitTimeout reads POSTGRES_WAIT_TIMEOUT (also without POSTGRES_PASSWORD,
// for manual mode): seconds or a Go duration; 0 disables the wait.
func WaitTimeout(src Source) (time.Duration, error) {
	v, ok := Vars.Lookup("POSTGRES_WAIT_TIMEOUT")
	if !ok {
		panic("env: POSTGRES_WAIT_TIMEOUT is not in the table")
	}
	d, err := v.Value(src)
	if err != nil {
		return 0, err
	}
	return d.(time.Duration), nil
}

// Load parses the variables of t, then turns them into Settings section by
// section; a section checks the rules between its variables.
func (t Table) Load(src Source) (Settings, error) {
	vals, warnings, err := t.Parse(src)
	if err != nil {
		return Settings{}, err
	}
	s := Settings{Values: vals, Warnings: warnings}
	s.Common = common(vals)
	for _, section := range []func(*Settings, Values) error{
		server, registration, caches, turn, secretKeys, metrics, database, email, redis, workerTopology,
	} {
		if err := section(&s, vals); err != nil {
			return s, err
		}
	}
	return s, nil
}

// LoadCommon parses only the variables every mode needs.
func (t Table) LoadCommon(src Source) (Common, error) {
	if err := checkOfficial(src); err != nil {
		return Common{}, err
	}
	vals, _, err := t.In(Runtime).Parse(src)
	if err != nil {
		return Common{}, err
	}
	return common(vals), nil
}

func common(v Values) Common {
	return Common{
		DataDir:    v.String("SYNAPSE_DATA_DIR"),
		UID:        v.Int("UID"),
		GID:        v.Int("GID"),
		ConfigPath: v.String("SYNAPSE_CONFIG_PATH"),
	}
}

func server(s *Settings, v Values) error {
	s.ServerName = v.String("SYNAPSE_SERVER_NAME")
	s.ReportStats = v.Bool("SYNAPSE_REPORT_STATS")
	s.NoTLS = v.Bool("SYNAPSE_NO_TLS")
	s.PublicBaseURL = v.String("SYNAPSE_PUBLIC_BASEURL")
	s.LogLevel = v.String("SYNAPSE_LOG_LEVEL")
	s.LogFormat = v.String("SYNAPSE_LOG_FORMAT")
	return nil
}

// registration: the reCAPTCHA keys come in pairs, and open registration
// without a captcha is worth a warning.
func registration(s *Settings, v Values) error {
	s.EnableRegistration = v.Bool("SYNAPSE_ENABLE_REGISTRATION")
	s.AllowGuest = v.Bool("SYNAPSE_ALLOW_GUEST")
	s.RecaptchaPublicKey = v.String("SYNAPSE_RECAPTCHA_PUBLIC_KEY")
	s.RecaptchaPrivateKey = v.String("SYNAPSE_RECAPTCHA_PRIVATE_KEY")
	switch {
	case s.RecaptchaPublicKey != "" && s.RecaptchaPrivateKey == "":
		return &Error{"SYNAPSE_RECAPTCHA_PRIVATE_KEY", "is required when SYNAPSE_RECAPTCHA_PUBLIC_KEY is set (set both or neither)"}
	case s.RecaptchaPublicKey == "" && s.RecaptchaPrivateKey != "":
		return &Error{"SYNAPSE_RECAPTCHA_PUBLIC_KEY", "is required when SYNAPSE_RECAPTCHA_PRIVATE_KEY is set (set both or neither)"}
	}
	if s.EnableRegistration && s.RecaptchaPublicKey == "" {
		s.Warnings = append(s.Warnings, "SYNAPSE_ENABLE_REGISTRATION is on without a captcha: anyone can register an account without verification (enable_registration_without_verification: true); set SYNAPSE_RECAPTCHA_PUBLIC_KEY/_PRIVATE_KEY to require a captcha")
	}
	return nil
}

func caches(s *Settings, v Values) error {
	s.EventCacheSize = v.String("SYNAPSE_EVENT_CACHE_SIZE")
	s.CacheFactor = get[float64](v, "SYNAPSE_CACHE_FACTOR")
	s.MaxUploadSize = v.String("SYNAPSE_MAX_UPLOAD_SIZE")
	return nil
}

// turn: URIs need the shared secret; a secret without URIs is dropped.
func turn(s *Settings, v Values) error {
	s.TURNURIs = get[[]string](v, "SYNAPSE_TURN_URIS")
	s.TURNSecret = v.String("SYNAPSE_TURN_SECRET")
	if len(s.TURNURIs) > 0 && s.TURNSecret == "" {
		return &Error{"SYNAPSE_TURN_SECRET", "is required when SYNAPSE_TURN_URIS is set (the shared secret of the TURN server)"}
	}
	if len(s.TURNURIs) == 0 && s.TURNSecret != "" {
		s.Warnings = append(s.Warnings, "SYNAPSE_TURN_SECRET is set but SYNAPSE_TURN_URIS is empty: TURN is not configured")
		s.TURNSecret = ""
	}
	return nil
}

func secretKeys(s *Settings, v Values) error {
	s.RegistrationSharedSecret = v.String("SYNAPSE_REGISTRATION_SHARED_SECRET")
	s.MacaroonSecretKey = v.String("SYNAPSE_MACAROON_SECRET_KEY")
	s.FormSecret = v.String("SYNAPSE_FORM_SECRET")
	return nil
}

// metrics: the listener must not take the port of an HTTP listener.
func metrics(s *Settings, v Values) error {
	s.EnableMetrics = v.Bool("SYNAPSE_ENABLE_METRICS")
	s.MetricsPort = v.Int("SYNAPSE_METRICS_PORT")
	if s.EnableMetrics && (s.MetricsPort == 8008 || (!s.NoTLS && s.MetricsPort == 8448)) {
		return &Error{"SYNAPSE_METRICS_PORT", fmt.Sprintf("port %d is already used by an HTTP listener; choose another", s.MetricsPort)}
	}
	return nil
}

// database: PostgreSQL when POSTGRES_PASSWORD is set, else SQLite.
func database(s *Settings, v Values) error {
	pw := v.String("POSTGRES_PASSWORD")
	if pw == "" {
		return nil
	}
	pg := &Postgres{
		Password:    pw,
		Host:        v.String("POSTGRES_HOST"),
		Port:        v.Int("POSTGRES_PORT"),
		User:        v.String("POSTGRES_USER"),
		Database:    v.String("POSTGRES_DB"),
		CPMin:       v.Int("POSTGRES_CP_MIN"),
		CPMax:       v.Int("POSTGRES_CP_MAX"),
		WaitTimeout: get[time.Duration](v, "POSTGRES_WAIT_TIMEOUT"),
	}
	if pg.CPMax < pg.CPMin {
		return &Error{"POSTGRES_CP_MAX", fmt.Sprintf("must not be less than POSTGRES_CP_MIN (%d), got %d", pg.CPMin, pg.CPMax)}
	}
	s.Postgres = pg
	return nil
}

// email: an email section when SYNAPSE_SMTP_HOST is set, with the sender
// and public_baseurl (which Synapse requires with it) defaulting to the host.
func email(s *Settings, v Values) error {
	host := v.String("SYNAPSE_SMTP_HOST")
	if host == "" {
		return nil
	}
	m := &SMTP{
		Host:     host,
		Port:     v.Int("SYNAPSE_SMTP_PORT"),
		User:     v.String("SYNAPSE_SMTP_USER"),
		Password: v.String("SYNAPSE_SMTP_PASSWORD"),
		From:     v.String("SYNAPSE_SMTP_FROM"),
	}
	if m.From == "" {
		m.From = "Matrix <noreply@" + strings.Trim(s.Host(), "[]") + ">"
	}
	if s.PublicBaseURL == "" {
		s.PublicBaseURL = "https://" + s.Host() + "/"
	}
	s.SMTP = m
	return nil
}

// redis: a redis section when SYNAPSE_REDIS_HOST is set.
func redis(s *Settings, v Values) error {
	host := v.String("SYNAPSE_REDIS_HOST")
	if host == "" {
		return nil
	}
	s.Redis = &Redis{
		Host:     host,
		Port:     v.Int("SYNAPSE_REDIS_PORT"),
		Password: v.String("SYNAPSE_REDIS_PASSWORD"),
		DB:       v.Int("SYNAPSE_REDIS_DB"),
	}
	return nil
}

// workerTopology: workers need PostgreSQL (SQLite is one process's
// database) and Redis (their replication channel), and a worker's name is
// one of the topology's instances.
func workerTopology(s *Settings, v Values) error {
	name := v.String("SYNAPSE_WORKER_NAME")
	top, err := workers.ParseTopology(v.String("SYNAPSE_WORKERS"))
	if err != nil {
		return &Error{"SYNAPSE_WORKERS", err.Error()}
	}
	if top.Empty() {
		if name != "" {
			return &Error{"SYNAPSE_WORKER_NAME", fmt.Sprintf("is %q but SYNAPSE_WORKERS is empty: set the same SYNAPSE_WORKERS in every container, or unset SYNAPSE_WORKER_NAME for the main process", name)}
		}
		return nil
	}
	var inst *workers.Instance
	if name != "" {
		in, err := top.Resolve(name, v.String("HOSTNAME"))
		if err != nil {
			return &Error{"SYNAPSE_WORKER_NAME", err.Error()}
		}
		inst, name = &in, in.Name
	}
	if s.Postgres == nil {
		return &Error{"SYNAPSE_WORKERS", "workers need PostgreSQL (SQLite is the database of one process): set POSTGRES_PASSWORD and the other POSTGRES_ variables"}
	}
	if s.Redis == nil {
		return &Error{"SYNAPSE_WORKERS", "workers need Redis, their replication channel: set SYNAPSE_REDIS_HOST"}
	}
	s.Workers = &Workers{
		Topology:          top,
		Name:              name,
		Instance:          inst,
		MainHost:          v.String("SYNAPSE_WORKER_MAIN_HOST"),
		ReplicationSecret: v.String("SYNAPSE_REPLICATION_SECRET"),
		WaitTimeout:       get[time.Duration](v, "SYNAPSE_WORKER_WAIT_TIMEOUT"),
	}
	return nil
}

// WorkerInstance reads only SYNAPSE_WORKERS and SYNAPSE_WORKER_NAME: the
// instance this process runs, false for the main process (Load checks the
// rest of the topology).
func WorkerInstance(src Source) (workers.Instance, bool, error) {
	vals, _, err := Table{mustLookup("SYNAPSE_WORKERS"), mustLookup("SYNAPSE_WORKER_NAME"), mustLookup("HOSTNAME")}.Parse(src)
	if err != nil {
		return workers.Instance{}, false, err
	}
	top, err := workers.ParseTopology(vals.String("SYNAPSE_WORKERS"))
	if err != nil {
		return workers.Instance{}, false, &Error{"SYNAPSE_WORKERS", err.Error()}
	}
	name := vals.String("SYNAPSE_WORKER_NAME")
	if name == "" {
		return workers.Instance{}, false, nil
	}
	in, err := top.Resolve(name, vals.String("HOSTNAME"))
	if err != nil {
		return workers.Instance{}, false, &Error{"SYNAPSE_WORKER_NAME", err.Error()}
	}
	return in, true, nil
}

func mustLookup(name string) Var {
	v, ok := Vars.Lookup(name)
	if !ok {
		panic("env: " + name + " is not in the table")
	}
	return v
}

// RouterTopology reads only what the router needs: the topology and the
// main's host (SYNAPSE_WORKERS, SYNAPSE_WORKER_MAIN_HOST).
func RouterTopology(src Source) (workers.Topology, string, error) {
	vals, _, err := Table{mustLookup("SYNAPSE_WORKERS"), mustLookup("SYNAPSE_WORKER_MAIN_HOST")}.Parse(src)
	if err != nil {
		return workers.Topology{}, "", err
	}
	top, err := workers.ParseTopology(vals.String("SYNAPSE_WORKERS"))
	if err != nil {
		return workers.Topology{}, "", &Error{"SYNAPSE_WORKERS", err.Error()}
	}
	host := vals.String("SYNAPSE_WORKER_MAIN_HOST")
	if host == "" {
		host = mustLookup("SYNAPSE_WORKER_MAIN_HOST").Default
	}
	return top, host, nil
}
