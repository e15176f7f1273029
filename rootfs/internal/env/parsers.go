package env

import (
	"errors"
	"fmt"
	"math"
	"net"
	"net/url"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/synapse-image/synapse-image/rootfs/internal/workers"
)

// The parsers of the table. Each returns the message of a bad value, which
// names what is expected and quotes the value (never for secrets: they use
// verbatim, which cannot fail).

// text is a trimmed string, or def when empty.
func text(raw, def string) (any, error) {
	if v := strings.TrimSpace(raw); v != "" {
		return v, nil
	}
	return def, nil
}

// verbatim is the value as given (secrets, user names), or def when empty.
func verbatim(raw, def string) (any, error) {
	if raw == "" {
		return def, nil
	}
	return raw, nil
}

// boolean is a strict boolean (ParseBool); empty is def, else false.
func boolean(raw, def string) (any, error) {
	v := strings.TrimSpace(raw)
	if v == "" {
		v = def
	}
	if v == "" {
		return false, nil
	}
	b, ok := ParseBool(v)
	if !ok {
		return false, fmt.Errorf("expected a boolean (1/0, true/false, yes/no, on/off), got %q", v)
	}
	return b, nil
}

// integer is a whole number in [min, max], or def when empty.
func integer(min, max int) Parser {
	return func(raw, def string) (any, error) {
		v := strings.TrimSpace(raw)
		if v == "" {
			v = def
		}
		n, err := strconv.Atoi(v)
		if err != nil || n < min || n > max {
			return 0, fmt.Errorf("expected a whole number from %d to %d, got %q", min, max, v)
		}
		return n, nil
	}
}

// port is a TCP port (1-65535), or def when empty.
func port(raw, def string) (any, error) {
	v := strings.TrimSpace(raw)
	if v == "" {
		v = def
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 || n > 65535 {
		return 0, fmt.Errorf("expected a port number from 1 to 65535, got %q", v)
	}
	return n, nil
}

var sizeRE = regexp.MustCompile(`^([0-9]+)([KkMm]?)$`)

// size is a Synapse size (a number with an optional K or M suffix), the
// suffix in upper case, the only case Synapse parses; def when empty.
func size(raw, def string) (any, error) {
	v := strings.TrimSpace(raw)
	if v == "" {
		v = def
	}
	if v == "" {
		return "", nil
	}
	m := sizeRE.FindStringSubmatch(v)
	if m == nil {
		return "", fmt.Errorf("expected a number with an optional K or M suffix, e.g. 10K or 50M, got %q", v)
	}
	return m[1] + strings.ToUpper(m[2]), nil
}

// positiveFloat is a finite number greater than 0, or def when empty.
func positiveFloat(raw, def string) (any, error) {
	v := strings.TrimSpace(raw)
	if v == "" {
		v = def
	}
	f, err := strconv.ParseFloat(v, 64)
	if err != nil || !(f > 0) || math.IsInf(f, 0) {
		return 0.0, fmt.Errorf("expected a number greater than 0, e.g. 0.5 or 2, got %q", v)
	}
	return f, nil
}

// logLevel is a Python logging level in upper case (WARN is WARNING).
func logLevel(raw, def string) (any, error) {
	v := strings.ToUpper(strings.TrimSpace(raw))
	if v == "" {
		v = def
	}
	switch v {
	case "DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL":
		return v, nil
	case "WARN":
		return "WARNING", nil
	}
	return "", fmt.Errorf("expected one of DEBUG, INFO, WARNING, ERROR, CRITICAL, got %q", raw)
}

// baseURL is an http(s) URL without query or fragment, ending in "/".
// logFormat is SYNAPSE_LOG_FORMAT: text or json.
func logFormat(raw, def string) (any, error) {
	v := strings.ToLower(strings.TrimSpace(raw))
	if v == "" {
		v = def
	}
	if v == "text" || v == "json" {
		return v, nil
	}
	return "", fmt.Errorf("expected text or json, got %q", raw)
}

func baseURL(raw, def string) (any, error) {
	v := strings.TrimSpace(raw)
	if v == "" {
		return def, nil
	}
	u, err := url.Parse(v)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.RawQuery != "" || u.Fragment != "" {
		return "", fmt.Errorf("expected an http(s) URL such as https://matrix.example.com/, got %q", v)
	}
	if !strings.HasSuffix(v, "/") {
		v += "/"
	}
	return v, nil
}

// turnURIs is a comma-separated list of turn:, turns: or stun: URIs,
// spaces trimmed and empty items dropped.
func turnURIs(raw, _ string) (any, error) {
	var uris []string
	for _, item := range strings.Split(raw, ",") {
		item = strings.TrimSpace(item)
		if item == "" {
			continue
		}
		if !strings.HasPrefix(item, "turn:") && !strings.HasPrefix(item, "turns:") && !strings.HasPrefix(item, "stun:") {
			return nil, fmt.Errorf("expected comma-separated URIs starting with turn:, turns: or stun:, got %q", item)
		}
		uris = append(uris, item)
	}
	return uris, nil
}

// waitTimeout is seconds or a Go duration, 0 or more; def when empty.
func waitTimeout(raw, def string) (any, error) {
	v := strings.TrimSpace(raw)
	if v == "" {
		v = def
	}
	if n, err := strconv.Atoi(v); err == nil && n >= 0 {
		return time.Duration(n) * time.Second, nil
	}
	if d, err := time.ParseDuration(v); err == nil && d >= 0 {
		return d, nil
	}
	return time.Duration(0), fmt.Errorf("expected seconds or a duration such as 60 or 2m (0 disables the wait), got %q", v)
}

// emailAddress is a sender such as "Matrix <noreply@example.com>"; empty
// stays empty (the e-mail section fills in its default).
func emailAddress(raw, def string) (any, error) {
	v := strings.TrimSpace(raw)
	if v == "" {
		v = def
	}
	if v != "" && (!strings.Contains(v, "@") || strings.ContainsAny(v, "\r\n")) {
		return "", fmt.Errorf("expected an e-mail address such as \"Matrix <noreply@example.com>\", got %q", v)
	}
	return v, nil
}

// absPath is a cleaned absolute path, or def when empty; trim says whether
// surrounding spaces are dropped first.
func absPath(trim bool) Parser {
	return func(raw, def string) (any, error) {
		v := raw
		if trim {
			v = strings.TrimSpace(raw)
		}
		if v == "" {
			v = def
		}
		if v == "" {
			return "", nil
		}
		if !filepath.IsAbs(v) {
			return "", fmt.Errorf("expected an absolute path, got %q", v)
		}
		return filepath.Clean(v), nil
	}
}

// serverName is a Matrix server name: a DNS name, an IPv4 address or a
// bracketed IPv6 address, optionally followed by :port.
func serverName(raw, _ string) (any, error) {
	v := strings.TrimSpace(raw)
	if err := validServerName(v); err != nil {
		return "", err
	}
	return v, nil
}

var labelRE = regexp.MustCompile(`^[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?$`)

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
		return errors.New("host name is longer than 253 characters")
	}
	for _, l := range strings.Split(host, ".") {
		if !labelRE.MatchString(l) {
			return fmt.Errorf("expected a host name of letters, digits, '-' and '.', optionally with :port, e.g. matrix.example.com, got %q", v)
		}
	}
	return nil
}

// topology is a worker topology (workers.ParseTopology), in its canonical
// form: the types in table order, counts only above one; "" for none.
func topology(raw, _ string) (any, error) {
	top, err := workers.ParseTopology(raw)
	if err != nil {
		return "", err
	}
	return top.String(), nil
}

// hostName is a DNS name or an IP address, without port; def when empty.
func hostName(raw, def string) (any, error) {
	v := strings.TrimSpace(raw)
	if v == "" {
		v = def
	}
	if net.ParseIP(v) != nil {
		return v, nil
	}
	for _, l := range strings.Split(v, ".") {
		// No underscores: Twisted refuses them in replication URLs.
		if !labelRE.MatchString(l) {
			return "", fmt.Errorf("expected a host name or IP address without port, e.g. synapse, got %q", v)
		}
	}
	return v, nil
}
