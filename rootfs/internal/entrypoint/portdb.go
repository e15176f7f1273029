package entrypoint

import (
	"context"
	"fmt"
	"os"
	"strings"

	"github.com/synapse-image/synapse-image/rootfs/internal/env"
)

// portDB is `/start port-db`: it copies the SQLite database of automated
// mode (/data/homeserver.db) into the PostgreSQL database that the
// POSTGRES_* variables name, with Synapse's synapse_port_db.
//
// A mode rather than a raw `synapse_port_db` command because the PostgreSQL
// config synapse_port_db needs is then the very one `run` will start Synapse
// with: written by the same code from the same variables (password files
// included), after the same preparation of /data, waiting for the database
// like run, and with privileges dropped to UID:GID before anything in /data
// is read. An operator never writes a database section by hand, so the
// port cannot go to a different database than the server then uses.
// synapse_port_db is resumable: run again after an interruption, it
// continues where it stopped.
func (s *starter) portDB(ctx context.Context, args []string) error {
	for _, a := range args {
		if a == "--sqlite-database" || a == "--postgres-config" || strings.HasPrefix(a, "--sqlite-database=") || strings.HasPrefix(a, "--postgres-config=") {
			return badf("port-db: %s is set by /start (from SYNAPSE_DATA_DIR and the POSTGRES_* variables); other synapse_port_db options are passed on", a)
		}
	}
	// Not announced: the official layout is refused below, not run.
	c, err := s.common(false)
	if err != nil {
		return err
	}
	if c.ConfigPath != "" {
		return badf("port-db: manual mode (config %s); port-db writes the PostgreSQL config of automated mode from the POSTGRES_* variables: run synapse_port_db --sqlite-database FILE --postgres-config FILE with your own files instead", c.ConfigPath)
	}
	p, err := s.load()
	if err != nil {
		return err
	}
	if p.settings.Postgres == nil {
		return badf("port-db: POSTGRES_PASSWORD (or POSTGRES_PASSWORD_FILE) is not set; set the POSTGRES_* variables of the database to port to, as the server will run with them")
	}
	// Before anything is written: as root the database is only stat'ed
	// through the data directory's os.Root, which follows no link out of it.
	if !s.existsInData(c, dataPath(c, "homeserver.db")) {
		return badf("port-db: no SQLite database %s to port", dataPath(c, "homeserver.db"))
	}
	cfgPath, err := s.runAutomated(ctx)
	if err != nil {
		return err
	}
	// From here on /start runs as the Synapse user.
	if err := ctx.Err(); err != nil {
		return err
	}
	python, err := s.sys.LookPath("python3")
	if err != nil {
		return fmt.Errorf("find python3: %w", err)
	}
	// -s -P as for Synapse itself (see exec).
	argv := append([]string{"python3", "-s", "-P", "-m", "synapse._scripts.synapse_port_db",
		"--sqlite-database", dataPath(c, "homeserver.db"), "--postgres-config", cfgPath}, args...)
	s.logf("porting %s to PostgreSQL as %d:%d: %s", dataPath(c, "homeserver.db"), os.Geteuid(), os.Getegid(), strings.Join(argv, " "))
	// The port holds the data directory's lock as Synapse would: no server
	// starts on the data while it is copied.
	if err := s.keepLockOnExec(); err != nil {
		return err
	}
	if err := s.sys.Exec(python, argv, withoutSecrets(s.sys.Environ, env.Vars)); err != nil {
		return fmt.Errorf("exec %s: %w", python, err)
	}
	return nil
}
