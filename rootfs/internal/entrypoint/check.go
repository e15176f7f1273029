package entrypoint

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"gopkg.in/yaml.v3"

	"github.com/synapse-image/synapse-image/rootfs/internal/config"
	"github.com/synapse-image/synapse-image/rootfs/internal/env"
	"github.com/synapse-image/synapse-image/rootfs/internal/overrides"
	"github.com/synapse-image/synapse-image/rootfs/internal/synapsecheck"
)

// checkManual prints the hand-written config, secrets masked, and with
// --synapse has Synapse parse it.
func (s *starter) checkManual(ctx context.Context, c env.Common, withSynapse bool) error {
	b, err := s.readManualFile(c, c.ConfigPath)
	if err != nil {
		return err
	}
	doc, err := parseYAML(b)
	if err != nil {
		return badf("SYNAPSE_CONFIG_PATH: %s: %v", c.ConfigPath, err)
	}
	config.Mask(doc)
	out, err := config.Marshal("# "+c.ConfigPath+" (manual mode, secrets masked)\n", doc)
	if err != nil {
		return err
	}
	if _, err := s.sys.Stdout.Write(out); err != nil {
		return err
	}
	s.logf("manual mode: %s is valid YAML", c.ConfigPath)
	s.warnGenericIgnored()
	if withSynapse {
		return s.synapseCheck(ctx, c, b, filepath.Dir(c.ConfigPath))
	}
	return nil
}

// check prints the config run would use, secrets masked; it writes
// nothing. With --synapse the image's Synapse also parses the config (as
// at start, without starting) and its own error is the one line of a bad
// config.
func (s *starter) check(ctx context.Context, args []string) error {
	withSynapse := false
	for _, a := range args {
		if a != "--synapse" {
			return badf("check: unknown argument %q; expected --synapse or nothing", a)
		}
		withSynapse = true
	}
	c, err := s.common(true)
	if err != nil {
		return err
	}
	if c.ConfigPath != "" {
		return s.checkManual(ctx, c, withSynapse)
	}
	p, err := s.load()
	if err != nil {
		return err
	}
	if err := checkCommon(c, s.sys.Euid); err != nil {
		return err
	}
	// check writes nothing, so unlike run it cannot first hand a new /data
	// (often root's 0700 bind mount) to UID:GID; as that user it could not
	// even list it. Fragments are read through an os.Root of the data
	// directory (no link leads out of it), regular files only, without
	// blocking, and nothing named in them is opened: safe as root.
	frags, err := s.fragments(c)
	if err != nil {
		return err
	}
	layers := append(frags, p.vars...)
	hsPath, logPath := config.GeneratedFiles(p.settings)
	m, err := s.merge(s.homeserver(p, logPath), layers, "", hsPath)
	if err != nil {
		return err
	}
	config.Mask(m.doc)
	overrides.MaskSecrets(m.doc, m.changes, config.Masked)
	out, err := config.Marshal("# The config /start run would write to "+hsPath+" (secrets masked).\n", m.doc)
	if err != nil {
		return err
	}
	if _, err := s.sys.Stdout.Write(out); err != nil {
		return err
	}
	s.reportGeneric(layers, m.changes)
	s.logf("automated mode: the environment is valid (%s)", summary(p, layers))
	if withSynapse {
		return s.synapseCheck(ctx, c, m.out, filepath.Dir(hsPath))
	}
	return nil
}

// synapseCheck has the image's Synapse parse cfg without starting, as
// UID:GID (never as root: the config may name any file).
func (s *starter) synapseCheck(ctx context.Context, c env.Common, cfg []byte, configDir string) error {
	python, err := s.sys.LookPath("python3")
	if err != nil {
		return fmt.Errorf("find python3: %w", err)
	}
	validate := s.sys.Validate
	if validate == nil {
		validate = synapsecheck.Check
	}
	err = validate(ctx, python, cfg, configDir, c.DataDir, os.Geteuid() == 0, c.UID, c.GID)
	var invalid *synapsecheck.Invalid
	if errors.As(err, &invalid) {
		return bad(err)
	}
	if err != nil {
		return err
	}
	s.logf("Synapse accepts the config")
	return nil
}

func parseYAML(b []byte) (*yaml.Node, error) {
	var doc yaml.Node
	if err := yaml.Unmarshal(b, &doc); err != nil {
		return nil, err
	}
	if doc.Kind == 0 {
		return nil, fmt.Errorf("the file is empty")
	}
	return &doc, nil
}
