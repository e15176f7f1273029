package entrypoint

import (
	"fmt"
	"os"
	"path/filepath"

	"gopkg.in/yaml.v3"

	"github.com/synapse-image/synapse-image/rootfs/internal/config"
	"github.com/synapse-image/synapse-image/rootfs/internal/env"
)

// checkManual prints the hand-written config, secrets masked.
func (s *starter) checkManual(c env.Common) error {
	if _, err := readManual(c); err != nil {
		return err
	}
	b, err := os.ReadFile(c.ConfigPath)
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
	_, err = s.sys.Stdout.Write(out)
	s.logf("manual mode: %s is valid YAML", c.ConfigPath)
	return err
}

// check prints the config run would use, secrets masked; it writes nothing.
func (s *starter) check() error {
	c, err := env.LoadCommon(s.sys.Env)
	if err != nil {
		return err
	}
	if c.ConfigPath != "" {
		return s.checkManual(c)
	}
	p, err := s.load()
	if err != nil {
		return err
	}
	hs := s.homeserver(p, "")
	doc, err := config.Node(hs)
	if err != nil {
		return err
	}
	config.Mask(doc)
	out, err := config.Marshal("# The config /start run would write to "+filepath.Join(config.GeneratedDir(c.DataDir), "homeserver.yaml")+" (secrets masked).\n", doc)
	if err != nil {
		return err
	}
	_, err = s.sys.Stdout.Write(out)
	s.logf("automated mode: the environment is valid (%s)", summary(p))
	return err
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
