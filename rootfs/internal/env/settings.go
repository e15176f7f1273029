package env

import (
	"fmt"
	"math"
	"net"
	"net/url"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// Defaults of the contract.
const (
	DefaultDataDir        = "/data"
	DefaultUID            = 991
	DefaultGID            = 991
	DefaultEventCacheSize = "10K"
	DefaultCacheFactor    = 0.5
	DefaultLogLevel       = "INFO"
	DefaultMetricsPort    = 19090
	DefaultWaitTimeout    = 60 * time.Second
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

// LoadCommon reads the variables every mode needs.
func LoadCommon(src Source) (Common, error) {
	var c Common
	c.DataDir = src.StringOr("SYNAPSE_DATA_DIR", DefaultDataDir)
	if !filepath.IsAbs(c.DataDir) {
		return c, &Error{"SYNAPSE_DATA_DIR", fmt.Sprintf("expected an absolute path, got %q", c.DataDir)}
	}
	c.DataDir = filepath.Clean(c.DataDir)
	var err error
	if c.UID, err = src.Int("UID", DefaultUID, 0, math.MaxInt32); err != nil {
		return c, err
	}
	if c.GID, err = src.Int("GID", DefaultGID, 0, math.MaxInt32); err != nil {
		return c, err
	}
	if p := src.String("SYNAPSE_CONFIG_PATH"); p != "" {
		if !filepath.IsAbs(p) {
			return c, &Error{"SYNAPSE_CONFIG_PATH", fmt.Sprintf("expected an absolute path, got %q", p)}
		}
		c.ConfigPath = filepath.Clean(p)
	}
	return c, nil
}

// Load reads and validates every variable of automated mode. It reads
// `_FILE` files but writes nothing.
func Load(src Source) (Settings, error) {
	var s Settings
	var err error
	if s.Common, err = LoadCommon(src); err != nil {
		return s, err
	}

	s.ServerName = strings.TrimSpace(src.String("SYNAPSE_SERVER_NAME"))
	if s.ServerName == "" {
		return s, &Error{"SYNAPSE_SERVER_NAME", "is mandatory: set it to the public host name of the server, e.g. matrix.example.com"}
	}
	if err := validServerName(s.ServerName); err != nil {
		return s, &Error{"SYNAPSE_SERVER_NAME", err.Error()}
	}

	rs := strings.TrimSpace(src.String("SYNAPSE_REPORT_STATS"))
	if rs == "" {
		return s, &Error{"SYNAPSE_REPORT_STATS", "is mandatory: set it to yes or no (report anonymous usage statistics to matrix.org)"}
	}
	if s.ReportStats, err = src.Bool("SYNAPSE_REPORT_STATS"); err != nil {
		return s, err
	}

	for _, b := range []struct {
		name string
		dst  *bool
	}{
		{"SYNAPSE_NO_TLS", &s.NoTLS},
		{"SYNAPSE_ENABLE_REGISTRATION", &s.EnableRegistration},
		{"SYNAPSE_ALLOW_GUEST", &s.AllowGuest},
		{"SYNAPSE_ENABLE_METRICS", &s.EnableMetrics},
	} {
		if *b.dst, err = src.Bool(b.name); err != nil {
			return s, err
		}
	}

	if s.EventCacheSize, err = size(src, "SYNAPSE_EVENT_CACHE_SIZE", DefaultEventCacheSize); err != nil {
		return s, err
	}
	if s.MaxUploadSize, err = size(src, "SYNAPSE_MAX_UPLOAD_SIZE", ""); err != nil {
		return s, err
	}
	s.CacheFactor = DefaultCacheFactor
	if v := strings.TrimSpace(src.String("SYNAPSE_CACHE_FACTOR")); v != "" {
		f, err := strconv.ParseFloat(v, 64)
		if err != nil || !(f > 0) || math.IsInf(f, 0) {
			return s, &Error{"SYNAPSE_CACHE_FACTOR", fmt.Sprintf("expected a number greater than 0, e.g. 0.5 or 2, got %q", v)}
		}
		s.CacheFactor = f
	}

	s.LogLevel = strings.ToUpper(src.StringOr("SYNAPSE_LOG_LEVEL", DefaultLogLevel))
	switch s.LogLevel {
	case "DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL":
	case "WARN":
		s.LogLevel = "WARNING"
	default:
		return s, &Error{"SYNAPSE_LOG_LEVEL", fmt.Sprintf("expected one of DEBUG, INFO, WARNING, ERROR, CRITICAL, got %q", src.String("SYNAPSE_LOG_LEVEL"))}
	}

	if s.MetricsPort, err = src.Port("SYNAPSE_METRICS_PORT", DefaultMetricsPort); err != nil {
		return s, err
	}
	if s.EnableMetrics && (s.MetricsPort == 8008 || (!s.NoTLS && s.MetricsPort == 8448)) {
		return s, &Error{"SYNAPSE_METRICS_PORT", fmt.Sprintf("port %d is already used by an HTTP listener; choose another", s.MetricsPort)}
	}

	if v := strings.TrimSpace(src.String("SYNAPSE_PUBLIC_BASEURL")); v != "" {
		u, err := url.Parse(v)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.RawQuery != "" || u.Fragment != "" {
			return s, &Error{"SYNAPSE_PUBLIC_BASEURL", fmt.Sprintf("expected an http(s) URL such as https://matrix.example.com/, got %q", v)}
		}
		if !strings.HasSuffix(v, "/") {
			v += "/"
		}
		s.PublicBaseURL = v
	}

	// reCAPTCHA: both keys or neither.
	s.RecaptchaPublicKey = strings.TrimSpace(src.String("SYNAPSE_RECAPTCHA_PUBLIC_KEY"))
	if s.RecaptchaPrivateKey, err = src.Secret("SYNAPSE_RECAPTCHA_PRIVATE_KEY"); err != nil {
		return s, err
	}
	switch {
	case s.RecaptchaPublicKey != "" && s.RecaptchaPrivateKey == "":
		return s, &Error{"SYNAPSE_RECAPTCHA_PRIVATE_KEY", "is required when SYNAPSE_RECAPTCHA_PUBLIC_KEY is set (set both or neither)"}
	case s.RecaptchaPublicKey == "" && s.RecaptchaPrivateKey != "":
		return s, &Error{"SYNAPSE_RECAPTCHA_PUBLIC_KEY", "is required when SYNAPSE_RECAPTCHA_PRIVATE_KEY is set (set both or neither)"}
	}
	if s.EnableRegistration && s.RecaptchaPublicKey == "" {
		s.Warnings = append(s.Warnings, "SYNAPSE_ENABLE_REGISTRATION is on without a captcha: anyone can register an account without verification (enable_registration_without_verification: true); set SYNAPSE_RECAPTCHA_PUBLIC_KEY/_PRIVATE_KEY to require a captcha")
	}

	// TURN.
	for _, item := range strings.Split(src.String("SYNAPSE_TURN_URIS"), ",") {
		item = strings.TrimSpace(item)
		if item == "" {
			continue
		}
		if !strings.HasPrefix(item, "turn:") && !strings.HasPrefix(item, "turns:") && !strings.HasPrefix(item, "stun:") {
			return s, &Error{"SYNAPSE_TURN_URIS", fmt.Sprintf("expected comma-separated URIs starting with turn:, turns: or stun:, got %q", item)}
		}
		s.TURNURIs = append(s.TURNURIs, item)
	}
	if s.TURNSecret, err = src.Secret("SYNAPSE_TURN_SECRET"); err != nil {
		return s, err
	}
	if len(s.TURNURIs) > 0 && s.TURNSecret == "" {
		return s, &Error{"SYNAPSE_TURN_SECRET", "is required when SYNAPSE_TURN_URIS is set (the shared secret of the TURN server)"}
	}
	if len(s.TURNURIs) == 0 && s.TURNSecret != "" {
		s.Warnings = append(s.Warnings, "SYNAPSE_TURN_SECRET is set but SYNAPSE_TURN_URIS is empty: TURN is not configured")
		s.TURNSecret = ""
	}

	// Secrets.
	for _, sec := range []struct {
		name string
		dst  *string
	}{
		{"SYNAPSE_REGISTRATION_SHARED_SECRET", &s.RegistrationSharedSecret},
		{"SYNAPSE_MACAROON_SECRET_KEY", &s.MacaroonSecretKey},
		{"SYNAPSE_FORM_SECRET", &s.FormSecret},
	} {
		if *sec.dst, err = src.Secret(sec.name); err != nil {
			return s, err
		}
	}

	// PostgreSQL.
	pw, err := src.Secret("POSTGRES_PASSWORD")
	if err != nil {
		return s, err
	}
	if pw != "" {
		pg := &Postgres{
			Password: pw,
			Host:     src.StringOr("POSTGRES_HOST", "db"),
			User:     src.StringOr("POSTGRES_USER", "matrix"),
			Database: src.StringOr("POSTGRES_DB", "synapse"),
		}
		if pg.Port, err = src.Port("POSTGRES_PORT", 5432); err != nil {
			return s, err
		}
		if pg.CPMin, err = src.Int("POSTGRES_CP_MIN", 5, 1, 1000); err != nil {
			return s, err
		}
		if pg.CPMax, err = src.Int("POSTGRES_CP_MAX", 10, 1, 1000); err != nil {
			return s, err
		}
		if pg.CPMax < pg.CPMin {
			return s, &Error{"POSTGRES_CP_MAX", fmt.Sprintf("must not be less than POSTGRES_CP_MIN (%d), got %d", pg.CPMin, pg.CPMax)}
		}
		if pg.WaitTimeout, err = WaitTimeout(src); err != nil {
			return s, err
		}
		s.Postgres = pg
	}

	// SMTP.
	if host := strings.TrimSpace(src.String("SYNAPSE_SMTP_HOST")); host != "" {
		m := &SMTP{Host: host, User: src.String("SYNAPSE_SMTP_USER")}
		if m.Port, err = src.Port("SYNAPSE_SMTP_PORT", 25); err != nil {
			return s, err
		}
		if m.Password, err = src.Secret("SYNAPSE_SMTP_PASSWORD"); err != nil {
			return s, err
		}
		m.From = src.StringOr("SYNAPSE_SMTP_FROM", "Matrix <noreply@"+strings.Trim(s.Host(), "[]")+">")
		if !strings.Contains(m.From, "@") || strings.ContainsAny(m.From, "\r\n") {
			return s, &Error{"SYNAPSE_SMTP_FROM", fmt.Sprintf("expected an e-mail address such as \"Matrix <noreply@example.com>\", got %q", m.From)}
		}
		if s.PublicBaseURL == "" {
			s.PublicBaseURL = "https://" + s.Host() + "/"
		}
		s.SMTP = m
	} else {
		for _, n := range []string{"SYNAPSE_SMTP_PORT", "SYNAPSE_SMTP_USER", "SYNAPSE_SMTP_PASSWORD", "SYNAPSE_SMTP_PASSWORD_FILE", "SYNAPSE_SMTP_FROM"} {
			if src.Set(n) {
				s.Warnings = append(s.Warnings, n+" is set but SYNAPSE_SMTP_HOST is not: e-mail is not configured")
			}
		}
	}
	return s, nil
}

// WaitTimeout reads POSTGRES_WAIT_TIMEOUT: seconds or a Go duration; 0 disables the wait.
func WaitTimeout(src Source) (time.Duration, error) {
	v := strings.TrimSpace(src.String("POSTGRES_WAIT_TIMEOUT"))
	if v == "" {
		return DefaultWaitTimeout, nil
	}
	if n, err := strconv.Atoi(v); err == nil && n >= 0 {
		return time.Duration(n) * time.Second, nil
	}
	if d, err := time.ParseDuration(v); err == nil && d >= 0 {
		return d, nil
	}
	return 0, &Error{"POSTGRES_WAIT_TIMEOUT", fmt.Sprintf("expected seconds or a duration such as 60 or 2m (0 disables the wait), got %q", v)}
}

var sizeRE = regexp.MustCompile(`^([0-9]+)([KkMm]?)$`)

// size validates a Synapse size (a number with an optional K or M suffix)
// and writes the suffix in upper case, the only case Synapse parses.
func size(src Source, name, def string) (string, error) {
	v := strings.TrimSpace(src.String(name))
	if v == "" {
		return def, nil
	}
	m := sizeRE.FindStringSubmatch(v)
	if m == nil {
		return "", &Error{name, fmt.Sprintf("expected a number with an optional K or M suffix, e.g. 10K or 50M, got %q", v)}
	}
	return m[1] + strings.ToUpper(m[2]), nil
}

var labelRE = regexp.MustCompile(`^[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?$`)

// validServerName accepts a DNS name, an IPv4 address or a bracketed IPv6
// address, optionally followed by :port (as the Matrix spec's server name).
func validServerName(v string) error {
	if strings.Contains(v, "://") || strings.ContainsAny(v, "/ ") {
		return fmt.Errorf("expected a host name with an optional :port and no scheme or path, e.g. matrix.example.com, got %q", v)
	}
	host, port := v, ""
	if strings.HasPrefix(v, "[") {
		end := strings.Index(v, "]")
		if end < 0 {
			return fmt.Errorf("expected a host name, an IP address or [IPv6 address], optionally with :port, got %q", v)
		}
		host, port = v[:end+1], strings.TrimPrefix(v[end+1:], ":")
		if v[end+1:] != "" && !strings.HasPrefix(v[end+1:], ":") {
			return fmt.Errorf("expected [IPv6 address] optionally followed by :port, got %q", v)
		}
		if ip := net.ParseIP(host[1 : len(host)-1]); ip == nil || ip.To4() != nil {
			return fmt.Errorf("expected a valid IPv6 address inside brackets, got %q", v)
		}
	} else if i := strings.LastIndex(v, ":"); i >= 0 {
		host, port = v[:i], v[i+1:]
	}
	if strings.Contains(v, ":") && !strings.HasPrefix(v, "[") || port != "" {
		n, err := strconv.Atoi(port)
		if err != nil || n < 1 || n > 65535 {
			return fmt.Errorf("expected :port to be a number from 1 to 65535, got %q", v)
		}
	}
	if strings.HasPrefix(host, "[") {
		return nil
	}
	if len(host) > 253 {
		return fmt.Errorf("host name is longer than 253 characters")
	}
	for _, l := range strings.Split(host, ".") {
		if !labelRE.MatchString(l) {
			return fmt.Errorf("expected a host name of letters, digits, '-' and '.', optionally with :port, e.g. matrix.example.com, got %q", v)
		}
	}
	return nil
}
