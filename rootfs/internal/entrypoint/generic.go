package entrypoint

import (
	"errors"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/synapse-image/synapse-image/rootfs/internal/config"
	"github.com/synapse-image/synapse-image/rootfs/internal/env"
	"github.com/synapse-image/synapse-image/rootfs/internal/knownkeys"
	"github.com/synapse-image/synapse-image/rootfs/internal/overrides"
)

// Generic settings (SYNAPSE_CONFIG__…, SYNAPSE_CONFIG_FILE__…, conf.d) are
// merged into automated mode's config. The variables are the operator's
// and are read first, as root if /start runs as root; the fragments are in
// the data directory, which the Synapse user can write, so they are read
// only after the privilege drop (check, which writes nothing, reads them
// confined to conf.d through os.Root, as it was started).

// genericVars reads the generic variables of the environment; any error is
// bad input.
func (s *starter) genericVars(c env.Common) ([]overrides.Layer, error) {
	if s.sys.Env.Environ == nil {
		return nil, nil
	}
	// A file in the data directory is the Synapse user's: read through
	// safefs, like every _FILE variable.
	layers, err := overrides.Variables(s.sys.Env.Environ(), s.dataSafeEnv(c).ReadFile)
	if err != nil {
		return nil, bad(err)
	}
	return layers, nil
}

// claims are the keys of the contract variables set explicitly, which a
// generic setting may not set too. listeners is left out: it is a fixed
// part of the image that SYNAPSE_NO_TLS and the metrics variables only add
// to, and replacing it whole is allowed.
func claims(src env.Source) []overrides.Claim {
	var out []overrides.Claim
	for _, v := range env.Vars {
		if !v.IsSet(src) {
			continue
		}
		for _, k := range v.Keys {
			if k == "listeners" {
				continue
			}
			name := v.Name
			if v.Secret && !src.Set(v.Name) {
				name += "_FILE"
			}
			out = append(out, overrides.Claim{Var: name, Path: strings.Split(k, ".")})
		}
	}
	return out
}

// merged is automated mode's config with the generic settings applied.
type merged struct {
	doc     *yaml.Node
	out     []byte // the file, with header
	changes []overrides.Change
	// facts are what /start itself needs from the final config: read back
	// from out, so they are what Synapse will read.
	facts config.Manual
}

// merge applies layers (fragments, then variables) to hs and writes the
// result after header. Errors of the layers are bad input naming the
// variable or file.
func (s *starter) merge(hs config.HomeServer, layers []overrides.Layer, header, path string) (*merged, error) {
	doc, err := config.Node(hs)
	if err != nil {
		return nil, err
	}
	changes, err := overrides.Apply(doc, layers, claims(s.sys.Env))
	if err != nil {
		var oe *overrides.Error
		if errors.As(err, &oe) {
			return nil, bad(err)
		}
		return nil, err
	}
	out, err := config.Marshal(header, doc)
	if err != nil {
		return nil, err
	}
	facts, err := config.ParseManual(path, out)
	if err != nil {
		return nil, bad(err)
	}
	src := sourceOf(changes, "redis", "enabled")
	if src == "" {
		src = path
	}
	if err := s.checkModules(facts, src); err != nil {
		return nil, err
	}
	return &merged{doc: doc, out: out, changes: changes, facts: facts}, nil
}

// reportGeneric logs which source set each key and the keys Synapse would
// ignore.
func (s *starter) reportGeneric(layers []overrides.Layer, changes []overrides.Change) {
	for _, c := range changes {
		s.logf("generic setting: %s", c)
	}
	for _, w := range overrides.Warnings(layers, knownkeys.Synapse()) {
		s.logf("warning: %s", w)
	}
}

// warnGenericIgnored names the generic variables manual mode ignores.
func (s *starter) warnGenericIgnored() {
	if s.sys.Env.Environ == nil {
		return
	}
	for _, kv := range s.sys.Env.Environ() {
		if name, _, _ := strings.Cut(kv, "="); overrides.IsGeneric(name) {
			s.logf("warning: %s is ignored in manual mode (SYNAPSE_CONFIG_PATH is set)", name)
		}
	}
}
