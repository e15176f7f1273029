package build

import (
	"encoding/json"
	"fmt"
	"sort"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/synapse-image/synapse-image/image/names"
	"github.com/synapse-image/synapse-image/image/platform"
	"github.com/synapse-image/synapse-image/image/recipe"
)

// defaultPath is Docker's default PATH, written into the image so every
// runtime sees the same one.
const defaultPath = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

type configInputs struct {
	platform                platform.Platform
	epoch                   time.Time
	revision                string
	version, packageVersion string
	layers                  []LayerInfo
	history                 []v1.History
}

// imageConfig is the image configuration as JSON. go-containerregistry's
// v1.HealthConfig has no StartInterval (Docker 25+), so the healthcheck is
// added to the encoded config by hand.
func imageConfig(r *recipe.Recipe, in configInputs) ([]byte, error) {
	c := r.Config
	labels := map[string]string{}
	for k, v := range c.Labels {
		labels[k] = v
	}
	labels[names.LabelCreated] = in.epoch.UTC().Format(time.RFC3339)
	if in.revision != "" {
		labels[names.LabelRevision] = in.revision
	}
	if in.version != "" {
		labels[names.LabelVersion] = in.version
		labels[names.LabelPackageVersion] = in.packageVersion
	}
	env := []string{}
	hasPath := false
	keys := make([]string, 0, len(c.Env))
	for k := range c.Env {
		keys = append(keys, k)
		hasPath = hasPath || k == "PATH"
	}
	sort.Strings(keys)
	if !hasPath {
		env = append(env, "PATH="+defaultPath)
	}
	for _, k := range keys {
		env = append(env, k+"="+c.Env[k])
	}
	cfg := v1.ConfigFile{
		Architecture: in.platform.OCI().Architecture,
		OS:           in.platform.OCI().OS,
		Variant:      in.platform.OCI().Variant,
		Created:      v1.Time{Time: in.epoch.UTC()},
		History:      in.history,
		RootFS:       v1.RootFS{Type: "layers"},
		Config: v1.Config{
			Entrypoint: c.Entrypoint,
			Cmd:        c.Cmd,
			Env:        env,
			User:       c.User,
			WorkingDir: c.WorkingDir,
			Labels:     labels,
			StopSignal: c.StopSignal,
		},
	}
	for _, l := range in.layers {
		cfg.RootFS.DiffIDs = append(cfg.RootFS.DiffIDs, l.Meta.DiffID)
	}
	if len(c.Ports) > 0 {
		cfg.Config.ExposedPorts = map[string]struct{}{}
		for _, p := range c.Ports {
			cfg.Config.ExposedPorts[p] = struct{}{}
		}
	}
	if len(c.Volumes) > 0 {
		cfg.Config.Volumes = map[string]struct{}{}
		for _, v := range c.Volumes {
			cfg.Config.Volumes[v] = struct{}{}
		}
	}
	data, err := json.Marshal(cfg)
	if err != nil {
		return nil, fmt.Errorf("image config: %w", err)
	}
	if c.Healthcheck == nil {
		return data, nil
	}
	return withHealthcheck(data, c.Healthcheck)
}

// healthcheck is Docker's HealthConfig including StartInterval.
type healthcheck struct {
	Test          []string      `json:"Test"`
	Interval      time.Duration `json:"Interval,omitempty"`
	Timeout       time.Duration `json:"Timeout,omitempty"`
	StartPeriod   time.Duration `json:"StartPeriod,omitempty"`
	StartInterval time.Duration `json:"StartInterval,omitempty"`
	Retries       int           `json:"Retries,omitempty"`
}

func withHealthcheck(config []byte, h *recipe.Healthcheck) ([]byte, error) {
	var top map[string]json.RawMessage
	if err := json.Unmarshal(config, &top); err != nil {
		return nil, err
	}
	var inner map[string]json.RawMessage
	if err := json.Unmarshal(top["config"], &inner); err != nil {
		return nil, err
	}
	hc, err := json.Marshal(healthcheck{
		Test:          h.Test,
		Interval:      time.Duration(h.Interval),
		Timeout:       time.Duration(h.Timeout),
		StartPeriod:   time.Duration(h.StartPeriod),
		StartInterval: time.Duration(h.StartInterval),
		Retries:       h.Retries,
	})
	if err != nil {
		return nil, err
	}
	inner["Healthcheck"] = hc
	if top["config"], err = json.Marshal(inner); err != nil {
		return nil, err
	}
	// encoding/json sorts map keys, so the result is deterministic.
	return json.Marshal(top)
}
