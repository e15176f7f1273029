package publish

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote/transport"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// tagReader reads where tags point with credentials scoped for pushing, the
// scope the push itself will use. remote.Head asks for a pull-only token,
// for which some registries (Docker Hub) answer 401 rather than 404 about a
// repository that does not exist yet; and a push token proves the
// credentials before anything is written.
type tagReader struct {
	client *http.Client
	repo   name.Repository
}

func newTagReader(ctx context.Context, repo name.Repository, auth authn.Authenticator, rt http.RoundTripper) (*tagReader, error) {
	rt = transport.NewUserAgent(rt, userAgent)
	tr, err := transport.NewWithContext(ctx, repo.Registry, auth, rt, []string{repo.Scope(transport.PushScope)})
	if err != nil {
		return nil, err
	}
	return &tagReader{client: &http.Client{Transport: tr}, repo: repo}, nil
}

// manifestTypes are the manifests a tag may name.
var manifestTypes = []string{
	string(types.OCIManifestSchema1), string(types.DockerManifestSchema2),
	string(types.OCIImageIndex), string(types.DockerManifestList),
}

// digest is the digest tag points at; found is false when the tag (or the
// whole repository) does not exist.
func (r *tagReader) digest(ctx context.Context, tag name.Tag) (d v1.Hash, found bool, err error) {
	u := url.URL{
		Scheme: r.repo.Scheme(), // the transport switches to what the ping found
		Host:   r.repo.RegistryStr(),
		Path:   fmt.Sprintf("/v2/%s/manifests/%s", r.repo.RepositoryStr(), tag.TagStr()),
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodHead, u.String(), nil)
	if err != nil {
		return d, false, err
	}
	req.Header.Set("Accept", strings.Join(manifestTypes, ","))
	resp, err := r.client.Do(req)
	if err != nil {
		return d, false, err
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, resp.Body)
	if resp.StatusCode == http.StatusNotFound {
		return d, false, nil
	}
	if err := transport.CheckError(resp, http.StatusOK); err != nil {
		return d, false, err
	}
	d, err = v1.NewHash(resp.Header.Get("Docker-Content-Digest"))
	if err != nil {
		return d, false, fmt.Errorf("HEAD %s: the registry sent no valid Docker-Content-Digest: %w", u.Redacted(), err)
	}
	return d, true, nil
}
