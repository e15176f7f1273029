package main

import (
	"context"
	"fmt"
	"os"
	"runtime"
	"strconv"
	"strings"
	"time"

	"github.com/synapse-image/synapse-image/image/names"
)

// describeMachine collects what the table's heading says about the machine
// and the image measured.
func describeMachine(ctx context.Context, o options) (machine, error) {
	m := machine{CPUs: runtime.NumCPU(), Date: time.Now()}
	meminfo, err := os.ReadFile("/proc/meminfo")
	if err != nil {
		return m, fmt.Errorf("machine: %w", err)
	}
	if m.MemBytes, err = memTotal(string(meminfo)); err != nil {
		return m, fmt.Errorf("machine: %w", err)
	}
	kernel, err := os.ReadFile("/proc/sys/kernel/osrelease")
	if err != nil {
		return m, fmt.Errorf("machine: %w", err)
	}
	m.Kernel = strings.TrimSpace(string(kernel))
	if load, err := os.ReadFile("/proc/loadavg"); err == nil {
		if f := strings.Fields(string(load)); len(f) >= 3 {
			m.LoadAvg = strings.Join(f[:3], " ")
		}
	}
	v, err := docker(ctx, "version", "--format", "{{.Server.Version}} {{.Server.APIVersion}}")
	if err != nil {
		return m, fmt.Errorf("machine: %w", err)
	}
	m.Docker, m.DockerAPI, _ = strings.Cut(v, " ")
	if driver, err := docker(ctx, "info", "--format", "{{.Driver}}"); err == nil {
		m.Storage = driver
	}
	m.Image = o.image + " (not in the local engine)"
	if id, err := docker(ctx, "image", "inspect", "--format",
		`{{.Id}} {{index .Config.Labels "`+names.LabelVersion+`"}}`, o.image); err == nil {
		id, version, _ := strings.Cut(id, " ")
		m.ImageID = id
		m.Image = fmt.Sprintf("%s (%s, Synapse %s)", o.image, shortID(id), version)
	}
	return m, nil
}

func shortID(id string) string {
	if len(id) > 19 {
		return id[:19]
	}
	return id
}

// memTotal reads MemTotal from /proc/meminfo, in bytes.
func memTotal(meminfo string) (uint64, error) {
	for _, line := range strings.Split(meminfo, "\n") {
		v, ok := strings.CutPrefix(line, "MemTotal:")
		if !ok {
			continue
		}
		f := strings.Fields(v)
		if len(f) != 2 || f[1] != "kB" {
			return 0, fmt.Errorf("/proc/meminfo: MemTotal: unexpected %q", strings.TrimSpace(v))
		}
		kb, err := strconv.ParseUint(f[0], 10, 64)
		if err != nil {
			return 0, fmt.Errorf("/proc/meminfo: MemTotal: %w", err)
		}
		return kb * 1024, nil
	}
	return 0, fmt.Errorf("/proc/meminfo: no MemTotal line")
}

// apiBefore reports whether Docker API version v (e.g. "1.41") is older
// than major.minor; an unreadable version counts as old.
func apiBefore(v string, major, minor int) bool {
	a, b, ok := strings.Cut(v, ".")
	if !ok {
		return true
	}
	ma, err1 := strconv.Atoi(a)
	mi, err2 := strconv.Atoi(b)
	if err1 != nil || err2 != nil {
		return true
	}
	return ma < major || (ma == major && mi < minor)
}
