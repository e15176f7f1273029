package publish

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/remote/transport"
	"github.com/sigstore/sigstore/pkg/signature"

	"github.com/synapse-image/synapse-image/image/sign"
	"github.com/synapse-image/synapse-image/image/tags"
)

const userAgent = "synapse-image"

// progressEvery is how often a running upload reports its progress.
const progressEvery = 5 * time.Second

// Options says where and how to publish to a registry.
type Options struct {
	// Registry is HOST[:PORT], without a scheme.
	Registry string
	// Repository is the repository in the registry, e.g. "synapse" or "org/synapse".
	Repository string
	// Tags to point at the image; at least one.
	Tags []string
	// NoOverwrite refuses to move a tag that points at another image; all tags
	// are checked before any is written.
	NoOverwrite bool
	// DryRun reads the registry (tag states, conflicts, credentials) but writes nothing.
	DryRun bool
	// Insecure allows plain HTTP to a registry that is not on loopback.
	// Loopback registries (127.0.0.0/8, ::1, localhost) may always use plain HTTP.
	Insecure bool
	// Auth is used when set; otherwise Keychain.
	Auth authn.Authenticator
	// Keychain finds credentials when Auth is nil; nil means the Docker config
	// (authn.DefaultKeychain: ~/.docker/config.json, $DOCKER_CONFIG, credential helpers).
	Keychain authn.Keychain
	// Transport is the HTTP transport; nil means remote.DefaultTransport.
	Transport http.RoundTripper
	// Log receives progress lines (steps and their durations); nil discards them.
	Log func(format string, args ...any)
	// Attachments are attached to the image as OCI 1.1 referrers once its
	// tags are pushed (those the registry has already are left alone).
	Attachments []Attachment
	// Signer, when set, signs the image's digest in cosign's format
	// (image/sign) once its tags and attachments are pushed.
	Signer signature.SignerVerifier
}

// Conflict is a tag that already points at another image.
type Conflict struct {
	Tag     string
	Current v1.Hash
}

// ConflictError is returned with Options.NoOverwrite when tags point at other
// images; nothing has been written.
type ConflictError struct {
	Repository string
	Image      v1.Hash
	Conflicts  []Conflict
}

func (e *ConflictError) Error() string {
	parts := make([]string, len(e.Conflicts))
	for i, c := range e.Conflicts {
		parts[i] = fmt.Sprintf("%s → %s", c.Tag, c.Current)
	}
	return fmt.Sprintf("--no-overwrite: %d tag(s) in %s point at another image than %s (%s); nothing was pushed",
		len(e.Conflicts), e.Repository, e.Image, strings.Join(parts, ", "))
}

// Registry publishes to an OCI registry. It checks every tag before it
// writes anything, so a refused overwrite (Options.NoOverwrite), bad
// credentials or an unreachable registry leave the registry as it was. Tags
// that already point at the image are left alone, and blobs the registry
// already has are not uploaded again, so publishing the same build twice
// writes nothing.
type Registry struct {
	opt      Options
	attached []AttachResult
}

// Attached says what Publish did with each of Options.Attachments.
func (p *Registry) Attached() []AttachResult { return p.attached }

// NewRegistry returns the publisher for opt; Publish validates opt first
// (Options.Check does it without the image).
func NewRegistry(opt Options) *Registry { return &Registry{opt: opt} }

func (p *Registry) String() string {
	return fmt.Sprintf("registry %s/%s", p.opt.Registry, p.opt.Repository)
}

// Publish points every tag in Options.Tags at a in Options.Registry/Repository,
// uploading what the registry does not have yet, and returns one Result per
// tag in the order given.
func (p *Registry) Publish(ctx context.Context, a Artifact) ([]Result, error) {
	opt := p.opt
	logf := opt.Log
	if logf == nil {
		logf = func(string, ...any) {}
	}
	repo, err := repository(opt)
	if err != nil {
		return nil, err
	}
	refs, err := tagRefs(repo, opt.Tags)
	if err != nil {
		return nil, err
	}
	digest, err := digestOf(a)
	if err != nil {
		return nil, err
	}
	// The manifests pushed (the image, or the index and each of its
	// images): what attachments may refer to and what is signed.
	subjects, err := manifestsOf(a)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", digest, err)
	}
	taggable, ok := a.(remote.Taggable)
	if !ok {
		return nil, fmt.Errorf("%s: cannot be pushed", digest)
	}
	sizes, err := blobSizes(a)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", digest, err)
	}

	base := opt.Transport
	if base == nil {
		base = remote.DefaultTransport
	}
	counter := &countingTransport{next: &plainHTTPGuard{next: base, allow: opt.Insecure}}
	auth := opt.Auth
	if auth == nil {
		kc := opt.Keychain
		if kc == nil {
			kc = authn.DefaultKeychain
		}
		if auth, err = authn.Resolve(ctx, kc, repo); err != nil {
			return nil, fmt.Errorf("credentials for %s from the Docker config: %w", repo.RegistryStr(), err)
		}
	}
	ropts := []remote.Option{
		remote.WithContext(ctx),
		remote.WithTransport(counter),
		remote.WithUserAgent(userAgent),
		remote.WithAuth(auth),
	}

	// Check every tag first: this is where credentials, reachability and
	// --no-overwrite are proven before anything is written. (A tag could
	// still move between this check and the push; registries offer no
	// compare-and-swap for tags.)
	start := time.Now()
	results, conflicts, err := checkTags(ctx, repo, refs, digest, auth, counter)
	if err != nil {
		return nil, err
	}
	logf("checked the %d tag(s) in %s (%s)", len(refs), repo.Name(), since(start))
	if opt.NoOverwrite && len(conflicts) > 0 {
		return nil, &ConflictError{Repository: repo.Name(), Image: digest, Conflicts: conflicts}
	}

	// attachAll attaches Options.Attachments once the tags are done.
	attachAll := func(results []Result) ([]Result, error) {
		if len(opt.Attachments) == 0 {
			return results, nil
		}
		start := time.Now()
		p.attached, err = attach(ctx, repo, opt.Attachments, subjects, opt.DryRun, ropts)
		if err != nil {
			return nil, err
		}
		count := map[Action]int{}
		for _, a := range p.attached {
			count[a.Action]++
			if a.Action != Unchanged {
				logf("%s", a)
			}
		}
		logf("attachments of %s: %d pushed, %d would push, %d unchanged (%s)", digest, count[Pushed], count[WouldPush], count[Unchanged], since(start))
		return results, nil
	}
	// finish attaches, then signs: a signature covers a manifest whose
	// referrers are in place.
	finish := func(results []Result) ([]Result, error) {
		results, err := attachAll(results)
		if err != nil || opt.Signer == nil {
			return results, err
		}
		for _, d := range sortedDigests(subjects) {
			if opt.DryRun {
				ok, err := sign.Signed(ctx, repo, d, opt.Signer, ropts...)
				if err != nil {
					return nil, explain(repo, err)
				}
				logf("signature of %s: %s", d, map[bool]string{true: "unchanged", false: "would sign"}[ok])
				continue
			}
			wrote, err := sign.Sign(ctx, repo, d, opt.Signer, ropts...)
			if err != nil {
				return nil, explain(repo, err)
			}
			logf("signature of %s: %s (%s)", d, map[bool]string{true: "signed", false: "unchanged"}[wrote], sign.Tag(repo, d).TagStr())
		}
		return results, nil
	}

	var todo []int
	for i, r := range results {
		if r.Action != Unchanged {
			todo = append(todo, i)
		}
	}
	if opt.DryRun {
		for _, i := range todo {
			if results[i].Action == Pushed {
				results[i].Action = WouldPush
			} else {
				results[i].Action = WouldMove
			}
		}
		logf("dry run: %d of %d tags would change, nothing written", len(todo), len(refs))
		return finish(results)
	}
	if len(todo) == 0 {
		logf("every tag already points at %s: nothing to push", digest)
		return finish(results)
	}

	start = time.Now()
	pusher, err := remote.NewPusher(ropts...)
	if err != nil {
		return nil, explain(repo, err)
	}
	stopProgress := reportProgress(logf, &counter.sent, start)
	for n, i := range todo {
		// The first push uploads the missing blobs; later ones only put the
		// manifest under another tag (the pusher remembers what it wrote).
		if err = pusher.Push(ctx, refs[i], taggable); err != nil {
			err = explain(repo, err)
			if n > 0 {
				err = fmt.Errorf("%w (tags already written: %s)", err, written(results, todo[:n]))
			}
			break
		}
	}
	stopProgress()
	if err != nil {
		return nil, err
	}
	up, upBytes := counter.uploaded(sizes)
	logf("pushed %s: %d of %d blobs uploaded (%s), %d tag(s) written (%s)",
		digest, up, len(sizes), humanBytes(upBytes), len(todo), since(start))
	return finish(results)
}

// checkTags reads where each tag points now and says what publishing digest
// would do to it; conflicts are the tags that point at other images.
func checkTags(ctx context.Context, repo name.Repository, refs []name.Tag, digest v1.Hash, auth authn.Authenticator, rt http.RoundTripper) ([]Result, []Conflict, error) {
	reader, err := newTagReader(ctx, repo, auth, rt)
	if err != nil {
		return nil, nil, explain(repo, err)
	}
	results := make([]Result, len(refs))
	var conflicts []Conflict
	for i, ref := range refs {
		results[i] = Result{Ref: ref, Digest: digest}
		current, found, err := reader.digest(ctx, ref)
		switch {
		case err != nil:
			return nil, nil, explain(repo, err)
		case !found:
			results[i].Action = Pushed
		case current == digest:
			results[i].Action = Unchanged
		default:
			results[i].Action = Moved
			results[i].Previous = current
			conflicts = append(conflicts, Conflict{Tag: ref.TagStr(), Current: current})
		}
	}
	return results, conflicts, nil
}

// reportProgress logs the bytes sent every progressEvery until stopped:
// big layers take a while on a slow link.
func reportProgress(logf func(string, ...any), sent *atomic.Int64, start time.Time) (stop func()) {
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		tick := time.NewTicker(progressEvery)
		defer tick.Stop()
		for {
			select {
			case <-done:
				return
			case <-tick.C:
				logf("uploading: %s sent (%s)", humanBytes(sent.Load()), since(start))
			}
		}
	})
	return func() { close(done); wg.Wait() }
}

// Check validates the registry, repository and tag names in o without
// contacting the registry; Publish does the same first.
func (o Options) Check() error {
	repo, err := repository(o)
	if err != nil {
		return err
	}
	_, err = tagRefs(repo, o.Tags)
	return err
}

// repository validates the registry and repository names. A loopback
// registry is marked insecure so go-containerregistry may fall back to plain
// HTTP; plainHTTPGuard keeps every other host on HTTPS unless opt.Insecure.
func repository(opt Options) (name.Repository, error) {
	reg := opt.Registry
	switch {
	case reg == "":
		return name.Repository{}, errors.New("registry: empty, expected HOST[:PORT]")
	case strings.Contains(reg, "://"):
		return name.Repository{}, fmt.Errorf("registry %q: expected HOST[:PORT] without a scheme (plain HTTP is chosen with --insecure)", reg)
	case strings.Contains(reg, "/"):
		return name.Repository{}, fmt.Errorf("registry %q: expected HOST[:PORT]; give the path with --repository", reg)
	}
	if opt.Repository == "" {
		return name.Repository{}, errors.New("repository: empty, expected a name like synapse or org/synapse")
	}
	var nopts []name.Option
	if opt.Insecure || isLoopback(reg) {
		nopts = append(nopts, name.Insecure)
	}
	r, err := name.NewRegistry(reg, append(nopts, name.StrictValidation)...)
	if err != nil {
		return name.Repository{}, fmt.Errorf("registry %q: expected HOST[:PORT]: %w", reg, err)
	}
	repo, err := name.NewRepository(r.Name()+"/"+opt.Repository, append(nopts, name.StrictValidation)...)
	if err != nil {
		return name.Repository{}, fmt.Errorf("repository %q: expected lower-case path components like synapse or org/synapse", opt.Repository)
	}
	return repo, nil
}

func tagRefs(repo name.Repository, list []string) ([]name.Tag, error) {
	if len(list) == 0 {
		return nil, errors.New("no tags to publish")
	}
	var refs []name.Tag
	seen := map[string]bool{}
	for _, t := range list {
		if !tags.Valid(t) {
			return nil, fmt.Errorf("tag %q: expected letters, digits, '_', '.' and '-' (at most 128, not starting with '.' or '-')", t)
		}
		if seen[t] {
			continue
		}
		seen[t] = true
		refs = append(refs, repo.Tag(t))
	}
	return refs, nil
}

func isNotFound(err error) bool {
	var terr *transport.Error
	return errors.As(err, &terr) && terr.StatusCode == http.StatusNotFound
}

func written(results []Result, idx []int) string {
	var s []string
	for _, i := range idx {
		s = append(s, results[i].Ref.TagStr())
	}
	return strings.Join(s, ", ")
}

func since(t time.Time) string {
	return time.Since(t).Round(time.Millisecond).String()
}

func humanBytes(n int64) string {
	switch {
	case n >= 1e9:
		return fmt.Sprintf("%.1f GB", float64(n)/1e9)
	case n >= 1e6:
		return fmt.Sprintf("%.1f MB", float64(n)/1e6)
	case n >= 1e3:
		return fmt.Sprintf("%.1f kB", float64(n)/1e3)
	}
	return fmt.Sprintf("%d B", n)
}
