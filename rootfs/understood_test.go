package rootfs_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"gopkg.in/yaml.v3"
)

// parsedValues is run by the image's python3: Synapse loads each config
// (HomeServerConfig, as at start) and prints, as JSON, the values it parsed.
// Synapse ignores unknown keys, so a config that loads can still mean
// nothing: a misspelled x_forwarded loads and leaves it false.
const parsedValues = `
import json, sys
from synapse.config.homeserver import HomeServerConfig

def s(v):
    return v.decode() if isinstance(v, bytes) else v

out = {}
for path in sys.argv[1:]:
    c = HomeServerConfig.load_config("acceptance", ["--config-path", path])
    listeners = []
    for l in c.server.listeners:
        h = l.http_options
        listeners.append({
            "port": l.port, "type": l.type, "tls": l.tls, "bind_addresses": list(l.bind_addresses),
            "x_forwarded": h.x_forwarded if h else None,
            "names": sorted(n for r in h.resources for n in r.names) if h else None,
        })
    db = c.database.databases[0].config
    out[path] = {
        "server_name": c.server.server_name,
        "public_baseurl": c.server.public_baseurl,
        "report_stats": c.metrics.report_stats,
        "enable_metrics": c.metrics.enable_metrics,
        "listeners": listeners,
        "media_store_path": c.media.media_store_path,
        "max_upload_size": c.media.max_upload_size,
        "global_factor": c.caches.global_factor,
        "event_cache_size": c.caches.event_cache_size,
        "allow_guest_access": c.registration.allow_guest_access,
        "enable_registration": c.registration.enable_registration,
        "enable_registration_without_verification": c.registration.enable_registration_without_verification,
        "enable_registration_captcha": c.captcha.enable_registration_captcha,
        "recaptcha_public_key": c.captcha.recaptcha_public_key,
        "recaptcha_private_key": c.captcha.recaptcha_private_key,
        "smtp": [c.email.email_smtp_host, c.email.email_smtp_port, s(c.email.email_smtp_user), s(c.email.email_smtp_pass), c.email.email_notif_from]
            if c.email.email_enable_notifs or c.email.email_notif_from else None,
        "turn_uris": list(c.voip.turn_uris),
        "turn_shared_secret": c.voip.turn_shared_secret,
        "app_service_config_files": list(c.appservice.app_service_config_files),
        "database": {"name": db["name"], "args": {k: v for k, v in db["args"].items() if k in ("database", "user", "password", "host", "port", "cp_min", "cp_max")}},
        "registration_shared_secret": c.registration.registration_shared_secret,
        "macaroon_secret_key": s(c.key.macaroon_secret_key),
        "form_secret": c.key.form_secret,
        "key_servers": [k.server_name for k in c.key.key_servers],
        "log_config": c.logging.log_config,
        "tls_certificate_file": c.tls.tls_certificate_file,
    }
print("PARSED " + json.dumps(out, default=str))
`

// understood compares what Synapse parsed from a config /start wrote for c
// with what c's environment asks for, worked out here from the contract,
// not from the config writer. dir is the data directory (/data inside).
// inImage says the config was written by /start in a container (Docker's
// default network, without IPv6; secrets generated there and kept in dir),
// else it is the golden file (the case's IPv6, deterministic secrets).
func understood(t *testing.T, c goldenCase, dir string, got map[string]any, inImage bool) {
	t.Helper()
	e := func(k, def string) string {
		if v, ok := c.env[k]; ok && v != "" {
			return v
		}
		return def
	}
	on := func(k string) bool {
		switch strings.ToLower(c.env[k]) {
		case "1", "true", "yes", "on":
			return true
		}
		return false
	}
	size := func(v string) float64 {
		mult := 1.0
		switch strings.ToUpper(v[len(v)-1:]) {
		case "K":
			mult, v = 1024, v[:len(v)-1]
		case "M":
			mult, v = 1024*1024, v[:len(v)-1]
		}
		n, err := strconv.ParseFloat(v, 64)
		require.NoError(t, err)
		return n * mult
	}
	secret := func(k, file string) string {
		if v := c.env[k]; v != "" {
			return v
		}
		b, err := os.ReadFile(filepath.Join(dir, file))
		require.NoError(t, err)
		return strings.TrimSpace(string(b))
	}
	server := e("SYNAPSE_SERVER_NAME", "")
	bind := []any{"0.0.0.0"}
	if c.ipv6 && !inImage {
		bind = []any{"::", "0.0.0.0"}
	}
	names := []any{"client", "federation"}
	listeners := []any{map[string]any{"port": 8008.0, "type": "http", "tls": false, "bind_addresses": bind, "x_forwarded": true, "names": names}}
	tlsCert := any(nil)
	if !on("SYNAPSE_NO_TLS") {
		listeners = append(listeners, map[string]any{"port": 8448.0, "type": "http", "tls": true, "bind_addresses": bind, "x_forwarded": false, "names": names})
		tlsCert = "/data/" + server + ".tls.crt"
	}
	if on("SYNAPSE_ENABLE_METRICS") {
		listeners = append(listeners, map[string]any{"port": 19090.0, "type": "metrics", "tls": false, "bind_addresses": bind, "x_forwarded": nil, "names": nil})
	}
	baseurl := "https://" + server + "/" // Synapse's default, and /start's with e-mail
	if v := e("SYNAPSE_PUBLIC_BASEURL", ""); v != "" {
		baseurl = strings.TrimSuffix(v, "/") + "/"
	}
	smtp := any(nil)
	if h := e("SYNAPSE_SMTP_HOST", ""); h != "" {
		port, err := strconv.Atoi(e("SYNAPSE_SMTP_PORT", "25"))
		require.NoError(t, err)
		smtp = []any{h, float64(port), e("SYNAPSE_SMTP_USER", ""), e("SYNAPSE_SMTP_PASSWORD", ""), e("SYNAPSE_SMTP_FROM", "Matrix <noreply@"+server+">")}
	}
	turn := []any{}
	for _, u := range strings.Split(e("SYNAPSE_TURN_URIS", ""), ",") {
		if u = strings.TrimSpace(u); u != "" {
			turn = append(turn, u)
		}
	}
	apps := []any{}
	sorted := append([]string(nil), c.appServices...)
	sort.Strings(sorted)
	for _, f := range sorted {
		apps = append(apps, "/data/appservices/"+f)
	}
	// Synapse sets SQLite's pool to one connection.
	db := map[string]any{"name": "sqlite3", "args": map[string]any{"database": "/data/homeserver.db", "cp_min": 1.0, "cp_max": 1.0}}
	if pw := e("POSTGRES_PASSWORD", ""); pw != "" {
		port, err := strconv.Atoi(e("POSTGRES_PORT", "5432"))
		require.NoError(t, err)
		cpMin, _ := strconv.Atoi(e("POSTGRES_CP_MIN", "5"))
		cpMax, _ := strconv.Atoi(e("POSTGRES_CP_MAX", "10"))
		db = map[string]any{"name": "psycopg2", "args": map[string]any{
			"user": e("POSTGRES_USER", "matrix"), "password": pw, "database": e("POSTGRES_DB", "synapse"),
			"host": e("POSTGRES_HOST", "db"), "port": float64(port), "cp_min": float64(cpMin), "cp_max": float64(cpMax)}}
	}
	logConfig := "/data/generated/log.config"
	if c.mode == "generate" {
		logConfig = "/data/" + server + ".log.config"
	}
	maxUpload := 50.0 * 1024 * 1024 // Synapse's default
	if v := e("SYNAPSE_MAX_UPLOAD_SIZE", ""); v != "" {
		maxUpload = size(v)
	}
	cacheFactor, err := strconv.ParseFloat(e("SYNAPSE_CACHE_FACTOR", "0.5"), 64)
	require.NoError(t, err)
	captcha := e("SYNAPSE_RECAPTCHA_PUBLIC_KEY", "") != ""

	want := map[string]any{
		"server_name":         server,
		"public_baseurl":      baseurl,
		"report_stats":        on("SYNAPSE_REPORT_STATS"),
		"enable_metrics":      on("SYNAPSE_ENABLE_METRICS"),
		"listeners":           listeners,
		"media_store_path":    "/data/media",
		"max_upload_size":     maxUpload,
		"global_factor":       cacheFactor,
		"event_cache_size":    size(e("SYNAPSE_EVENT_CACHE_SIZE", "10K")),
		"allow_guest_access":  on("SYNAPSE_ALLOW_GUEST"),
		"enable_registration": on("SYNAPSE_ENABLE_REGISTRATION"),
		"enable_registration_without_verification": on("SYNAPSE_ENABLE_REGISTRATION") && !captcha,
		"enable_registration_captcha":              captcha,
		"recaptcha_public_key":                     nilIfEmpty(e("SYNAPSE_RECAPTCHA_PUBLIC_KEY", "")),
		"recaptcha_private_key":                    nilIfEmpty(e("SYNAPSE_RECAPTCHA_PRIVATE_KEY", "")),
		"smtp":                                     smtp,
		"turn_uris":                                turn,
		"turn_shared_secret":                       nilIfEmpty(e("SYNAPSE_TURN_SECRET", "")),
		"app_service_config_files":                 apps,
		"database":                                 db,
		"key_servers":                              []any{"matrix.org"},
		"log_config":                               logConfig,
		"tls_certificate_file":                     tlsCert,
	}
	if inImage {
		want["registration_shared_secret"] = secret("SYNAPSE_REGISTRATION_SHARED_SECRET", server+".registration.key")
		want["macaroon_secret_key"] = secret("SYNAPSE_MACAROON_SECRET_KEY", server+".macaroon.key")
		want["form_secret"] = secret("SYNAPSE_FORM_SECRET", server+".form.key")
	}
	for k, w := range c.generic {
		want[k] = w // what SYNAPSE_CONFIG__ variables and conf.d ask for
	}
	// Keys that generic settings or conf.d fragments set are theirs: the
	// generic golden case checks them (what the environment asks for there
	// is what those settings say, not the contract's default), here those
	// it states in c.generic, and all in TestSynapseUnderstandsGenericSettings.
	overridden := map[string]bool{}
	for k := range c.env {
		if rest, ok := strings.CutPrefix(k, "SYNAPSE_CONFIG__"); ok {
			top, _, _ := strings.Cut(rest, "__")
			overridden[strings.ToLower(top)] = true
		}
	}
	for _, f := range c.fragments {
		b, err := os.ReadFile(filepath.Join("testdata", "conf.d", f))
		require.NoError(t, err)
		var m map[string]any
		require.NoError(t, yaml.Unmarshal(b, &m))
		for k := range m {
			overridden[k] = true
		}
	}
	configKey := map[string]string{"smtp": "email", "global_factor": "caches", "key_servers": "trusted_key_servers",
		"tls_certificate_file": "tls_certificate_path"}
	for k, w := range want {
		ck := k
		if v, ok := configKey[k]; ok {
			ck = v
		}
		if _, stated := c.generic[k]; overridden[ck] && !stated {
			continue
		}
		assert.Equal(t, w, got[k], "%s: Synapse parsed %s = %v, the environment asks for %v", c.name, k, got[k], w)
	}
}

func nilIfEmpty(s string) any {
	if s == "" {
		return nil
	}
	return s
}

// parsedFrom extracts the JSON line of parsedValues from the output.
func parsedFrom(t *testing.T, out string) map[string]map[string]any {
	t.Helper()
	_, line, ok := strings.Cut(out, "PARSED ")
	require.True(t, ok, "no parsed values in: %s", out)
	line, _, _ = strings.Cut(line, "\n")
	var got map[string]map[string]any
	require.NoError(t, json.Unmarshal([]byte(line), &got), line)
	return got
}
