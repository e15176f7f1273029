package entrypoint

import (
	"fmt"
	"io"

	"github.com/synapse-image/synapse-image/rootfs/internal/env"
)

// Usage prints the modes and every variable of vars (env.Vars), by section.
func Usage(w io.Writer, vars env.Table) {
	fmt.Fprint(w, `Usage: /start [MODE] [ARGS...]

The entrypoint of the Synapse image: writes Synapse's config from
environment variables (automated mode) or uses yours (manual mode), then
runs Synapse as PID 1.

Modes:
  run [ARGS...]  (default) prepare /data, drop privileges, exec Synapse;
                 ARGS are passed to Synapse. Manual mode when
                 SYNAPSE_CONFIG_PATH is set (the file must exist).
  generate       write a commented homeserver.yaml for hand editing to
                 SYNAPSE_CONFIG_PATH (default /data/homeserver.yaml) plus
                 keys and secrets; never overwrites an existing file
  check [--synapse]
                 validate the environment and print the config run would
                 use (secrets masked; on stderr which generic setting set
                 each key); writes nothing. --synapse: Synapse also parses
                 the config, without starting (exit 2 with its error)
  health         GET http://127.0.0.1:8008/health (port of the first plain
                 HTTP listener of the config), then room on /data (64 MiB)
                 and PostgreSQL answering; exit 0 when healthy, 1 otherwise
  register -u USER (-p PASSWORD | --password-file FILE|-) [--admin]
                 create a user on the running Synapse with the shared
                 secret (the variable, else the config's), over HTTP
  port-db [OPTIONS...]
                 copy /data/homeserver.db (SQLite) into the PostgreSQL
                 database of the POSTGRES_* variables with synapse_port_db,
                 as the Synapse user; Synapse must be stopped; resumable.
                 OPTIONS are synapse_port_db's (docs/migration.md)
  help           this text

Exit status: 0 success, 1 failure, 2 bad input (one line on stderr names the
variable or file; nothing is written).

Variables (booleans: 1/0, true/false, yes/no, on/off; empty = false;
NAME_FILE reads the value from a file for variables marked *):
`)
	for _, section := range vars.Sections() {
		fmt.Fprintf(w, "\n%s:\n", section)
		for _, v := range vars.In(section) {
			name := v.Name
			if v.Secret {
				name += " *"
			}
			fmt.Fprintf(w, "  %s (default: %s)\n      %s\n", name, v.ShownDefault(), v.Help)
		}
	}
	fmt.Fprint(w, `
Any other homeserver.yaml setting (automated mode), applied on top of the
config of the variables above, in this order:
  /data/conf.d/*.yaml, *.yml  fragments (mappings), in name order
  SYNAPSE_CONFIG__KEY[__SUBKEY...]=VALUE
                 KEY lower-cased, __ nests: SYNAPSE_CONFIG__RC_MESSAGE__PER_SECOND=5;
                 VALUE is YAML as in homeserver.yaml (5, yes, [a, b], {k: v})
  SYNAPSE_CONFIG_FILE__KEY[__SUBKEY...]=PATH
                 the file's content, as a string (a secret)
Mappings merge, lists and scalars replace, null removes. Setting a key
that a variable above sets too is an error.

Files in the data directory (/data): homeserver.db, media/, uploads/,
conf.d/*.yaml|*.yml, appservices/*.yaml|*.yml, SERVER.signing.key, SERVER.registration.key,
SERVER.macaroon.key, SERVER.form.key, SERVER.tls.crt, SERVER.tls.key (kept
between starts, secrets mode 0600) and generated/ (written on every start).

Register a user:
  docker exec synapse /start register -u alice -p 'a long password' [--admin]
`)
}
