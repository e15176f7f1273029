// Package refs turns what the builder wrote into the references the Dagger
// module publishes. The tags themselves are never computed here: they are
// read from the docker-load tarball the builder writes, whose manifest.json
// lists every tag the project's tag rules (image/tags) gave the build.
package refs

import (
	"encoding/json"
	"fmt"
	"sort"
	"strings"
)

// Named is the repository and the tags the builder gave the image.
type Named struct {
	Repository string
	Tags       []string
}

// FromManifest reads the repository and tags from the manifest.json of a
// docker-load tarball, which must describe exactly one image.
func FromManifest(manifestJSON []byte) (Named, error) {
	var entries []struct {
		RepoTags []string `json:"RepoTags"`
	}
	if err := json.Unmarshal(manifestJSON, &entries); err != nil {
		return Named{}, fmt.Errorf("manifest.json of the image tarball: %w", err)
	}
	if len(entries) != 1 {
		return Named{}, fmt.Errorf("manifest.json of the image tarball: %d images, expected exactly one", len(entries))
	}
	var n Named
	for _, rt := range entries[0].RepoTags {
		repo, tag, err := split(rt)
		if err != nil {
			return Named{}, fmt.Errorf("manifest.json of the image tarball: %w", err)
		}
		if n.Repository == "" {
			n.Repository = repo
		} else if repo != n.Repository {
			return Named{}, fmt.Errorf("manifest.json of the image tarball: tags name two repositories, %q and %q", n.Repository, repo)
		}
		n.Tags = append(n.Tags, tag)
	}
	if len(n.Tags) == 0 {
		return Named{}, fmt.Errorf("manifest.json of the image tarball: the image has no tags (RepoTags is empty)")
	}
	// The tarball lists them in no particular order; publish in a stable one.
	sort.Strings(n.Tags)
	return n, nil
}

// split cuts "repo:tag" (repo may hold a registry with a port) at the tag.
func split(repoTag string) (repo, tag string, err error) {
	i := strings.LastIndex(repoTag, ":")
	if i <= 0 || i < strings.LastIndex(repoTag, "/") || i == len(repoTag)-1 {
		return "", "", fmt.Errorf("RepoTags entry %q is not REPOSITORY:TAG", repoTag)
	}
	return repoTag[:i], repoTag[i+1:], nil
}

// References joins registry, repository and each tag into image references,
// e.g. "ghcr.io/org" + "synapse" + "v1.160.0" → "ghcr.io/org/synapse:v1.160.0".
func References(registry, repository string, tags []string) ([]string, error) {
	if err := CheckRegistry(registry); err != nil {
		return nil, err
	}
	registry = strings.TrimSuffix(registry, "/")
	if repository == "" || strings.ContainsAny(repository, ": ") {
		return nil, fmt.Errorf("repository %q: expected a name like synapse or org/synapse", repository)
	}
	if len(tags) == 0 {
		return nil, fmt.Errorf("no tags to publish")
	}
	out := make([]string, 0, len(tags))
	for _, t := range tags {
		if t == "" || strings.ContainsAny(t, ":/@ ") {
			return nil, fmt.Errorf("tag %q: expected a tag like v1.160.0 or latest", t)
		}
		out = append(out, registry+"/"+repository+":"+t)
	}
	return out, nil
}

// CheckRegistry says what is wrong with a registry address, if anything.
func CheckRegistry(registry string) error {
	r := strings.TrimSuffix(registry, "/")
	if r == "" || strings.Contains(r, "://") || strings.ContainsAny(r, " @") || strings.HasPrefix(r, "/") {
		return fmt.Errorf("registry %q: expected HOST[:PORT][/PATH] without a scheme, e.g. ghcr.io/example", registry)
	}
	return nil
}

// Host is the registry host a reference is pushed to, which is what
// credentials are registered for.
func Host(registry string) string {
	host, _, _ := strings.Cut(registry, "/")
	return host
}
