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
)

const userAgent = "synapse-image"

// progressEvery is how often a running upload reports its progress.
const progressEvery = 5 * time.Second

// Options says where and how to publish to a registry.
type Options struct {
	// Refs are the tags to point at the image, all in one repository; at
	// least one (References makes them from the command line's names).
	Refs []name.Tag
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

// NewRegistry returns the publisher for opt.
func NewRegistry(opt Options) *Registry { return &Registry{opt: opt} }

func (p *Registry) String() string {
	if len(p.opt.Refs) == 0 {
		return "registry"
	}
	return "registry " + p.opt.Refs[0].Context().Name()
}

// push is one Publish: what is pushed, where, and how to reach it.
type push struct {
	opt     Options
	logf    func(string, ...any)
	repo    name.Repository
	a       Artifact
	digest  v1.Hash
	counter *countingTransport
	auth    authn.Authenticator
	ropts   []remote.Option
}

// Publish points every tag in Options.Refs at a, uploading what the
// registry does not have yet, then attaches Options.Attachments and signs
// with Options.Signer; it returns one Result per tag in the order given.
func (p *Registry) Publish(ctx context.Context, a Artifact) ([]Result, error) {
	s, err := p.connect(ctx, a)
	if err != nil {
		return nil, err
	}
	// Check every tag first: this is where credentials, reachability and
	// --no-overwrite are proven before anything is written. (A tag could
	// still move between this check and the push; registries offer no
	// compare-and-swap for tags.)
	start := time.Now()
	results, conflicts, err := checkTags(ctx, s.repo, s.opt.Refs, s.digest, s.auth, s.counter)
	if err != nil {
		return nil, err
	}
	s.logf("checked the %d tag(s) in %s (%s)", len(results), s.repo.Name(), since(start))
	if s.opt.NoOverwrite && len(conflicts) > 0 {
		return nil, &ConflictError{Repository: s.repo.Name(), Image: s.digest, Conflicts: conflicts}
	}
	if err := s.pushTags(ctx, results); err != nil {
		return nil, err
	}
	// Attachments, then signatures: a signature covers a manifest whose
	// referrers are in place.
	if p.attached, err = s.attachAll(ctx); err != nil {
		return nil, err
	}
	if err := s.sign(ctx); err != nil {
		return nil, err
	}
	return results, nil
}

// connect checks opt and a and sets up the transport and credentials.
func (p *Registry) connect(ctx context.Context, a Artifact) (*push, error) {
	s := &push{opt: p.opt, logf: p.opt.Log, a: a}
	if s.logf == nil {
		s.logf = func(string, ...any) {}
	}
	if len(s.opt.Refs) == 0 {
		return nil, errors.New("no tags to publish")
	}
	s.repo = s.opt.Refs[0].Context()
	for _, r := range s.opt.Refs {
		if r.Context() != s.repo {
			return nil, fmt.Errorf("%s is not in %s: one repository at a time", r, s.repo)
		}
	}
	var err error
	if s.digest, err = digestOf(a); err != nil {
		return nil, err
	}
	base := s.opt.Transport
	if base == nil {
		base = remote.DefaultTransport
	}
	s.counter = &countingTransport{next: &plainHTTPGuard{next: base, allow: s.opt.Insecure}}
	s.auth = s.opt.Auth
	if s.auth == nil {
		kc := s.opt.Keychain
		if kc == nil {
			kc = authn.DefaultKeychain
		}
		if s.auth, err = authn.Resolve(ctx, kc, s.repo); err != nil {
			return nil, fmt.Errorf("credentials for %s from the Docker config: %w", s.repo.RegistryStr(), err)
		}
	}
	s.ropts = []remote.Option{
		remote.WithContext(ctx),
		remote.WithTransport(s.counter),
		remote.WithUserAgent(userAgent),
		remote.WithAuth(s.auth),
	}
	return s, nil
}

// pushTags pushes a under the tags that do not point at it yet (with
// DryRun, says what it would do), updating results.
func (s *push) pushTags(ctx context.Context, results []Result) error {
	var todo []int
	for i, r := range results {
		if r.Action != Unchanged {
			todo = append(todo, i)
		}
	}
	if s.opt.DryRun {
		for _, i := range todo {
			if results[i].Action == Pushed {
				results[i].Action = WouldPush
			} else {
				results[i].Action = WouldMove
			}
		}
		s.logf("dry run: %d of %d tags would change, nothing written", len(todo), len(results))
		return nil
	}
	if len(todo) == 0 {
		s.logf("every tag already points at %s: nothing to push", s.digest)
		return nil
	}
	taggable, ok := s.a.(remote.Taggable)
	if !ok {
		return fmt.Errorf("%s: cannot be pushed", s.digest)
	}
	sizes, err := blobSizes(s.a)
	if err != nil {
		return fmt.Errorf("%s: %w", s.digest, err)
	}
	start := time.Now()
	pusher, err := remote.NewPusher(s.ropts...)
	if err != nil {
		return explain(s.repo, err)
	}
	stopProgress := reportProgress(s.logf, &s.counter.sent, start)
	for n, i := range todo {
		// The first push uploads the missing blobs; later ones only put the
		// manifest under another tag (the pusher remembers what it wrote).
		if err = pusher.Push(ctx, results[i].Ref, taggable); err != nil {
			err = explain(s.repo, err)
			if n > 0 {
				err = fmt.Errorf("%w (tags already written: %s)", err, written(results, todo[:n]))
			}
			break
		}
	}
	stopProgress()
	if err != nil {
		return err
	}
	up, upBytes := s.counter.uploaded(sizes)
	s.logf("pushed %s: %d of %d blobs uploaded (%s), %d tag(s) written (%s)",
		s.digest, up, len(sizes), humanBytes(upBytes), len(todo), since(start))
	return nil
}

// attachAll attaches Options.Attachments to the manifests pushed (the
// image, or the index and each of its images).
func (s *push) attachAll(ctx context.Context) ([]AttachResult, error) {
	if len(s.opt.Attachments) == 0 {
		return nil, nil
	}
	subjects, err := manifestsOf(s.a)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", s.digest, err)
	}
	start := time.Now()
	attached, err := attach(ctx, s.repo, s.opt.Attachments, subjects, s.opt.DryRun, s.ropts)
	if err != nil {
		return nil, err
	}
	count := map[Action]int{}
	for _, a := range attached {
		count[a.Action]++
		if a.Action != Unchanged {
			s.logf("%s", a)
		}
	}
	s.logf("attachments of %s: %d pushed, %d would push, %d unchanged (%s)", s.digest, count[Pushed], count[WouldPush], count[Unchanged], since(start))
	return attached, nil
}

// sign signs every manifest pushed with Options.Signer, if any.
func (s *push) sign(ctx context.Context) error {
	if s.opt.Signer == nil {
		return nil
	}
	subjects, err := manifestsOf(s.a)
	if err != nil {
		return fmt.Errorf("%s: %w", s.digest, err)
	}
	for _, d := range sortedDigests(subjects) {
		if s.opt.DryRun {
			ok, err := sign.Signed(ctx, s.repo, d, s.opt.Signer, s.ropts...)
			if err != nil {
				return explain(s.repo, err)
			}
			s.logf("signature of %s: %s", d, map[bool]string{true: "unchanged", false: "would sign"}[ok])
			continue
		}
		wrote, err := sign.Sign(ctx, s.repo, d, s.opt.Signer, s.ropts...)
		if err != nil {
			return explain(s.repo, err)
		}
		s.logf("signature of %s: %s (%s)", d, map[bool]string{true: "signed", false: "unchanged"}[wrote], sign.Tag(s.repo, d).TagStr())
	}
	return nil
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

// References are the tags to publish to, from the names a user gives:
// the registry HOST[:PORT] without a scheme, the repository in it
// ("synapse", "org/synapse") and the tags (a repeated one counts once). A
// loopback registry is marked insecure so go-containerregistry may fall
// back to plain HTTP; plainHTTPGuard keeps every other host on HTTPS
// unless insecure.
func References(registry, repository string, tagList []string, insecure bool) ([]name.Tag, error) {
	switch {
	case registry == "":
		return nil, errors.New("registry: empty, expected HOST[:PORT]")
	case strings.Contains(registry, "://"):
		return nil, fmt.Errorf("registry %q: expected HOST[:PORT] without a scheme (plain HTTP is chosen with --insecure)", registry)
	case strings.Contains(registry, "/"):
		return nil, fmt.Errorf("registry %q: expected HOST[:PORT]; give the path with --repository", registry)
	}
	if repository == "" {
		return nil, errors.New("repository: empty, expected a name like synapse or org/synapse")
	}
	nopts := []name.Option{name.StrictValidation}
	if insecure || isLoopback(registry) {
		nopts = append(nopts, name.Insecure)
	}
	r, err := name.NewRegistry(registry, nopts...)
	if err != nil {
		return nil, fmt.Errorf("registry %q: expected HOST[:PORT]: %w", registry, err)
	}
	repo, err := name.NewRepository(r.Name()+"/"+repository, nopts...)
	if err != nil {
		return nil, fmt.Errorf("repository %q: expected lower-case path components like synapse or org/synapse", repository)
	}
	if len(tagList) == 0 {
		return nil, errors.New("no tags to publish")
	}
	var refs []name.Tag
	seen := map[string]bool{}
	for _, t := range tagList {
		// go-containerregistry checks the characters and the length; the
		// OCI grammar also wants no '.' or '-' first.
		ref, err := name.NewTag(repo.Name()+":"+t, nopts...)
		if err != nil || t == "" || strings.ContainsAny(t[:1], ".-") || strings.Contains(t, ":") {
			return nil, fmt.Errorf("tag %q: expected letters, digits, '_', '.' and '-' (at most 128, not starting with '.' or '-')", t)
		}
		if !seen[t] {
			seen[t] = true
			refs = append(refs, ref)
		}
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
