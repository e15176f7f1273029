package entrypoint

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strings"
	"time"

	"github.com/synapse-image/synapse-image/internal/atomicfile"
	"github.com/synapse-image/synapse-image/rootfs/internal/appservices"
	"github.com/synapse-image/synapse-image/rootfs/internal/config"
	"github.com/synapse-image/synapse-image/rootfs/internal/env"
	"github.com/synapse-image/synapse-image/rootfs/internal/overrides"
	"github.com/synapse-image/synapse-image/rootfs/internal/pgwait"
	"github.com/synapse-image/synapse-image/rootfs/internal/privileges"
	"github.com/synapse-image/synapse-image/rootfs/internal/safefs"
	"github.com/synapse-image/synapse-image/rootfs/internal/secrets"
)

// plan is everything automated mode learnt before writing anything.
type plan struct {
	settings    env.Settings
	files       config.Files
	appServices []string
	// secrets holds the values known so far; missing ones are created.
	secrets config.Secrets
	missing []secretFile
	// newTLS: the self-signed TLS pair is to be created (if the config
	// still names the image's own paths for it).
	newTLS bool
	// vars are the generic variables (SYNAPSE_CONFIG__…), read as root.
	vars []overrides.Layer
	// trusted are the media and uploads directories the environment names
	// (SYNAPSE_CONFIG__MEDIA_STORE_PATH…): root may give them to UID:GID.
	trusted []string
}

type secretFile struct {
	what string
	path string
	dst  *string
}

// load validates the environment and reads what exists in the data
// directory. It writes nothing; any error is bad input.
func (s *starter) load() (*plan, error) {
	c, err := env.LoadCommon(s.sys.Env)
	if err != nil {
		return nil, err
	}
	st, err := env.Load(s.dataSafeEnv(c))
	if err != nil {
		return nil, err
	}
	for _, w := range st.Warnings {
		s.logf("warning: %s", w)
	}
	if err := s.checkWorkers(st); err != nil {
		return nil, err
	}
	p := &plan{settings: st, files: config.FilesFor(st.DataDir, st.ServerName)}
	// Read through safefs: no link out of the data directory (a linked
	// appservices/ would have root read, and later own, what it points
	// at), no FIFO, no hard link, bounded.
	data, err := s.openData(st.Common, false)
	switch {
	case err == nil:
		err = s.checkServerName(st, data)
		if err == nil {
			p.appServices, err = appservices.FindIn(data, "appservices", dataPath(st.Common, "appservices"))
			if err != nil {
				err = bad(err)
			}
		}
		data.Close()
		if err != nil {
			return nil, err
		}
	case !errors.Is(err, fs.ErrNotExist):
		return nil, err
	}
	p.secrets = config.Secrets{
		RegistrationSharedSecret: st.RegistrationSharedSecret,
		MacaroonSecretKey:        st.MacaroonSecretKey,
		FormSecret:               st.FormSecret,
	}
	for _, f := range append([]secretFile{
		{"registration shared secret", p.files.Registration, &p.secrets.RegistrationSharedSecret},
		{"macaroon secret key", p.files.Macaroon, &p.secrets.MacaroonSecretKey},
		{"form secret", p.files.Form, &p.secrets.FormSecret},
	}, workerSecretFiles(p)...) {
		if *f.dst != "" {
			continue
		}
		// Read without following a link out of the data directory: a
		// form.key linked to /etc/shadow would put the shadow file into
		// the config, which the Synapse user reads.
		b, err := s.readInData(st.Common, f.path, safefs.SecretLimit)
		exists := !errors.Is(err, fs.ErrNotExist)
		var b2 badInput
		if errors.As(err, &b2) {
			return nil, badf("%s: %v", f.what, err)
		}
		if err != nil && exists {
			return nil, badf("%s: %v (/start does not follow symbolic links out of the data directory)", f.what, err)
		}
		v, err := secrets.Parse(f.path, b)
		if exists && err != nil {
			return nil, bad(err)
		}
		if exists {
			*f.dst = v
		} else {
			p.missing = append(p.missing, f)
		}
	}
	if !st.NoTLS && !isWorker(st) {
		crt, key := s.existsInData(st.Common, p.files.TLSCert), s.existsInData(st.Common, p.files.TLSKey)
		if crt != key {
			have, lack := p.files.TLSCert, p.files.TLSKey
			if key {
				have, lack = lack, have
			}
			return nil, badf("%s exists but %s does not: provide both, or remove %s to have a self-signed pair generated", have, lack, have)
		}
		p.newTLS = !crt
	}
	if p.vars, err = s.genericVars(st.Common); err != nil {
		return nil, err
	}
	if p.trusted, err = s.tryVars(p); err != nil {
		return nil, err
	}
	return p, nil
}

// tryVars applies the generic variables alone to the config, so that their
// errors (a conflict, a path through a list…) stop /start before it writes
// anything, and returns the media and uploads directories they move.
func (s *starter) tryVars(p *plan) ([]string, error) {
	if len(p.vars) == 0 {
		return nil, nil
	}
	doc, err := config.Node(s.homeserver(p, ""))
	if err != nil {
		return nil, err
	}
	changes, err := overrides.Apply(doc, p.vars, claims(s.sys.Env))
	if err != nil {
		return nil, bad(err)
	}
	// A module the variables' settings need and the image lacks stops
	// /start here too, before it touches the data directory.
	if src := sourceOf(changes, "redis", "enabled"); src != "" {
		out, err := config.Marshal("", doc)
		if err != nil {
			return nil, err
		}
		facts, err := config.ParseManual(src, out)
		if err != nil {
			return nil, bad(err)
		}
		if err := s.checkModules(facts, src); err != nil {
			return nil, err
		}
	}
	var dirs []string
	var moved struct {
		Media   string `yaml:"media_store_path"`
		Uploads string `yaml:"uploads_path"`
	}
	if err := doc.Decode(&moved); err != nil {
		return nil, bad(fmt.Errorf("media_store_path, uploads_path: %w", err))
	}
	for _, c := range changes {
		switch {
		case len(c.Path) != 1:
		case c.Path[0] == "media_store_path" && moved.Media != "":
			dirs = append(dirs, moved.Media)
		case c.Path[0] == "uploads_path" && moved.Uploads != "":
			dirs = append(dirs, moved.Uploads)
		}
	}
	return dirs, nil
}

// homeserver builds the config of automated mode.
func (s *starter) homeserver(p *plan, logConfig string) config.HomeServer {
	return config.Build(config.Input{
		Settings:    p.settings,
		Secrets:     p.secrets,
		LogConfig:   logConfig,
		IPv6:        s.sys.HasIPv6(),
		AppServices: p.appServices,
	})
}

func summary(p *plan, layers []overrides.Layer) string {
	st := p.settings
	db := "SQLite"
	if st.Postgres != nil {
		db = "PostgreSQL at " + st.Postgres.Host
	}
	tls := "TLS on 8448"
	if st.NoTLS {
		tls = "no TLS"
	}
	if in, ok := st.Workers.Worker(); ok {
		tls = "worker " + in.Name + " (no TLS)"
	}
	frags := 0
	for _, l := range layers {
		if l.Kind == overrides.Fragment {
			frags++
		}
	}
	return fmt.Sprintf("server %s, %s, %s, %d app services, %d conf.d fragments, %d generic variables",
		st.ServerName, db, tls, len(p.appServices), frags, len(layers)-frags)
}

// runAutomated prepares /data and returns the config path to run Synapse with.
func (s *starter) runAutomated(ctx context.Context) (string, error) {
	start := time.Now()
	p, err := s.load()
	if err != nil {
		return "", err
	}
	st := p.settings
	if err := s.prepareDataDir(ctx, st.Common, p.trusted, p.ownedFiles()...); err != nil {
		return "", err
	}
	// From here on /start runs as the Synapse user.
	frags, err := s.fragments(st.Common)
	if err != nil {
		return "", err
	}
	layers := append(frags, p.vars...)
	for _, d := range []string{"media", "uploads", "generated"} {
		if err := os.MkdirAll(dataPath(st.Common, d), 0o750); err != nil {
			return "", fmt.Errorf("create %s: %w", d, err)
		}
	}
	hsPath, logPath := config.GeneratedFiles(st)
	// A bad fragment or an unusable media store stops /start before it
	// creates any file. The config holds the secrets: missing ones are
	// created after this first merge, and merged again.
	m, err := s.merge(s.homeserver(p, logPath), layers, config.Header, hsPath)
	if err != nil {
		return "", err
	}
	if err := s.makeStores(m); err != nil {
		return "", err
	}
	if isWorker(st) {
		if m, err = s.awaitMain(ctx, p, m, layers, hsPath, logPath); err != nil {
			return "", err
		}
	} else if len(p.missing) > 0 {
		if err := s.createSecrets(p); err != nil {
			return "", err
		}
		if m, err = s.merge(s.homeserver(p, logPath), layers, config.Header, hsPath); err != nil {
			return "", err
		}
	}
	s.reportGeneric(layers, m.changes)
	if err := s.createKeys(p, m.facts); err != nil {
		return "", err
	}
	logOut, err := config.Marshal(config.Header, config.BuildLog(st.LogLevel, st.LogFormat))
	if err != nil {
		return "", err
	}
	// homeserver.yaml holds secrets: 0600 like the key files.
	if err := atomicfile.WriteReplace(hsPath, m.out, 0o600); err != nil {
		return "", err
	}
	if err := atomicfile.WriteReplace(logPath, logOut, 0o644); err != nil {
		return "", err
	}
	s.logf("automated mode: wrote %s (%s) in %s", hsPath, summary(p, layers), time.Since(start).Round(time.Microsecond))
	if m.facts.DBAddress != "" {
		wait := time.Duration(0)
		if st.Postgres != nil {
			wait = st.Postgres.WaitTimeout
		} else if wait, err = env.WaitTimeout(s.sys.Env); err != nil {
			return "", err
		}
		if err := pgwait.Wait(ctx, m.facts.DBAddress, wait, s.logf); err != nil {
			return "", err
		}
	}
	return hsPath, nil
}

// ownedFiles are the files of automated mode that Synapse reads.
func (p *plan) ownedFiles() []string {
	f := p.files
	gen := config.GeneratedDir(p.settings.DataDir)
	hsPath, logPath := config.GeneratedFiles(p.settings)
	files := []string{f.SigningKey, f.Registration, f.Macaroon, f.Form, f.TLSCert, f.TLSKey,
		gen, hsPath, logPath}
	if st := p.settings; st.Workers != nil {
		files = append(files, config.ReplicationKeyFile(st.DataDir, st.ServerName))
	}
	return append(files, p.appServices...)
}

// makeStores makes the media store and uploads directories the final
// config names, as the Synapse user, and checks that it can write there.
func (s *starter) makeStores(m *merged) error {
	for _, d := range []struct{ key, path string }{
		{"media_store_path", m.facts.MediaStorePath}, {"uploads_path", m.facts.UploadsPath},
	} {
		if d.path == "" {
			continue
		}
		if err := os.MkdirAll(d.path, 0o750); err != nil {
			return badf("%s: cannot create %s as uid %d: %v (a directory outside the data directory set with SYNAPSE_CONFIG__%s is made and given to UID:GID by /start; one set in conf.d must exist and be writable)",
				d.key, d.path, os.Geteuid(), unwrapPath(err), strings.ToUpper(d.key))
		}
		if err := privileges.Writable(d.path); err != nil {
			return badf("%s: %s is not writable by uid %d gid %d: %v (set it with SYNAPSE_CONFIG__%s to have /start give it to UID:GID, or change its owner)",
				d.key, d.path, os.Geteuid(), os.Getegid(), unwrapPath(err), strings.ToUpper(d.key))
		}
	}
	return nil
}

func unwrapPath(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

// fragments reads the conf.d fragments of the data directory through
// safefs (as root in check mode, as the Synapse user otherwise).
func (s *starter) fragments(c env.Common) ([]overrides.Layer, error) {
	data, err := s.openData(c, false)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	defer data.Close()
	frags, err := overrides.Fragments(data)
	if err != nil {
		return nil, bad(err)
	}
	return frags, nil
}
