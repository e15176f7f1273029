package entrypoint

import (
	"context"
	"crypto/rand"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/synapse-image/synapse-image/rootfs/internal/env"
)

// BenchmarkConfigStep measures what /start costs per container start, up
// to the exec of Synapse (which is replaced by a no-op): "restart" is the
// usual case (keys exist, config rewritten), "first-start" also creates
// every secret, the signing key and the TLS pair, "check" validates and
// prints, and "restart-generic" is a restart with 50 generic variables and
// 10 conf.d fragments (target: still < 20 ms). Compare with the 2018 image, which ran a second Python Synapse
// process (--generate-keys, about 2.4 s here) on every start; see
// scripts/bench-config-step.sh for both side by side.
func BenchmarkConfigStep(b *testing.B) {
	// As root, /start refuses UID 0 (Synapse would run as root): the
	// image's 991 then, whose ownership fix is part of the first start.
	uid, gid := os.Geteuid(), os.Getegid()
	if uid == 0 {
		uid, gid = 991, 991
	}
	vars := func(dir string) map[string]string {
		return map[string]string{
			"SYNAPSE_SERVER_NAME": "example.com", "SYNAPSE_REPORT_STATS": "no", "SYNAPSE_DATA_DIR": dir,
			"UID": strconv.Itoa(uid), "GID": strconv.Itoa(gid),
		}
	}
	sys := func(m map[string]string) System {
		return System{
			Env: env.Map(m), Stdout: io.Discard, Stderr: io.Discard, Rand: rand.Reader, Now: time.Now,
			Euid: os.Geteuid(), HasIPv6: HasIPv6, Drop: func(int, int) error { return nil },
			Exec:     func(string, []string, []string) error { return nil },
			LookPath: func(string) (string, error) { return "/usr/bin/python3", nil },
			Jemalloc: Jemalloc("amd64"),
		}
	}
	ctx := context.Background()
	for _, mode := range []string{"restart", "check", "restart-generic"} {
		b.Run(mode, func(b *testing.B) {
			dir := filepath.Join(b.TempDir(), "data")
			v := vars(dir)
			if mode == "restart-generic" {
				addGeneric(b, v, dir)
			}
			s := sys(v)
			if code := Main(ctx, s, []string{"run"}); code != ExitOK {
				b.Fatalf("first start: exit %d", code)
			}
			arg := "run"
			if mode == "check" {
				arg = "check"
			}
			b.ResetTimer()
			for b.Loop() {
				if code := Main(ctx, s, []string{arg}); code != ExitOK {
					b.Fatalf("exit %d", code)
				}
			}
		})
	}
	b.Run("first-start", func(b *testing.B) {
		base := b.TempDir()
		i := 0
		for b.Loop() {
			i++
			s := sys(vars(filepath.Join(base, strconv.Itoa(i))))
			if code := Main(ctx, s, []string{"run"}); code != ExitOK {
				b.Fatalf("exit %d", code)
			}
		}
	})
}

// addGeneric adds 50 SYNAPSE_CONFIG__ variables and 10 conf.d fragments of
// the kinds operators set (rate limits, previews, retention, OIDC, modules).
func addGeneric(b *testing.B, vars map[string]string, dir string) {
	b.Helper()
	for _, rc := range []string{"RC_MESSAGE", "RC_REGISTRATION", "RC_JOINS_PER_ROOM", "RC_3PID_VALIDATION", "RC_INVITES__PER_ROOM",
		"RC_INVITES__PER_USER", "RC_LOGIN__ADDRESS", "RC_LOGIN__ACCOUNT", "RC_LOGIN__FAILED_ATTEMPTS", "RC_ADMIN_REDACTION"} {
		vars["SYNAPSE_CONFIG__"+rc+"__PER_SECOND"] = "0.5"
		vars["SYNAPSE_CONFIG__"+rc+"__BURST_COUNT"] = "20"
	}
	for i := range 20 {
		vars[fmt.Sprintf("SYNAPSE_CONFIG__EXPERIMENTAL_FEATURES__MSC%d_ENABLED", 3000+i)] = "yes"
	}
	for k, v := range map[string]string{
		"PRESENCE__ENABLED": "false", "ALLOW_PUBLIC_ROOMS_OVER_FEDERATION": "true", "MAX_AVATAR_SIZE": "10M",
		"FEDERATION_DOMAIN_WHITELIST": "[matrix.org, example.org, example.net]", "AUTO_JOIN_ROOMS": `["#welcome:example.com"]`,
		"DEFAULT_ROOM_VERSION": `"10"`, "USER_DIRECTORY__SEARCH_ALL_USERS": "on", "LIMIT_PROFILE_REQUESTS_TO_USERS_WHO_SHARE_ROOMS": "yes",
		"REDACTION_RETENTION_PERIOD": "7d", "FORGET_ROOMS_ON_LEAVE": "true",
	} {
		vars["SYNAPSE_CONFIG__"+k] = v
	}
	confd := filepath.Join(dir, "conf.d")
	if err := os.MkdirAll(confd, 0o755); err != nil {
		b.Fatal(err)
	}
	fragments := []string{
		"url_preview_enabled: true\nurl_preview_ip_range_blacklist: ['127.0.0.0/8', '10.0.0.0/8', '172.16.0.0/12', '192.168.0.0/16', '::1/128', 'fe80::/10']\n",
		"retention:\n  enabled: true\n  default_policy: {min_lifetime: 1d, max_lifetime: 1y}\n  purge_jobs:\n    - {longest_max_lifetime: 3d, interval: 12h}\n    - {interval: 1d}\n",
		"oidc_providers:\n  - idp_id: example\n    idp_name: Example\n    issuer: https://id.example.com/\n    client_id: synapse\n    client_secret: secret\n    scopes: [openid, profile]\n    user_mapping_provider:\n      config: {localpart_template: '{{ user.preferred_username }}', display_name_template: '{{ user.name }}'}\n",
		"modules:\n  - module: ldap_auth_provider.LdapAuthProviderModule\n    config: {enabled: true, uri: 'ldap://ldap:389', start_tls: true, base: 'ou=users,dc=example,dc=com', attributes: {uid: uid, mail: mail, name: cn}}\n",
		"caches:\n  per_cache_factors: {get_users_who_share_room_with_user: 2.0, '*stateGroupCache*': 1.5}\n  expire_caches: true\n  cache_entry_ttl: 30m\n",
		"room_list_publication_rules:\n  - {user_id: '@admin:example.com', alias: '*', room_id: '*', action: allow}\n  - {action: deny}\n",
		"email:\n  enable_notifs: true\n  notif_for_new_users: false\n  app_name: Example Chat\n",
		"push:\n  include_content: false\n  group_unread_count_by_room: false\n",
		"server_notices:\n  system_mxid_localpart: notices\n  system_mxid_display_name: Server Notices\n  room_name: Server Notices\n",
		"media_retention:\n  local_media_lifetime: 90d\n  remote_media_lifetime: 14d\nmax_upload_size: 100M\n",
	}
	for i, f := range fragments {
		if err := os.WriteFile(filepath.Join(confd, fmt.Sprintf("%02d-bench.yaml", i)), []byte(f), 0o644); err != nil {
			b.Fatal(err)
		}
	}
	n := 0
	for k := range vars {
		if strings.HasPrefix(k, "SYNAPSE_CONFIG__") {
			n++
		}
	}
	if n != 50 || len(fragments) != 10 {
		b.Fatalf("%d generic variables and %d fragments; the case is 50 and 10", n, len(fragments))
	}
}
