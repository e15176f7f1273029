package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/remote"

	"github.com/synapse-image/synapse-image/image/publish"
	"github.com/synapse-image/synapse-image/image/sign"
	"github.com/synapse-image/synapse-image/image/verify"
)

// errVerifyFailed makes the command exit 1 once the checks are printed.
var errVerifyFailed = errors.New("verification failed")

// runVerify checks a published image (image/verify): one line per check.
func runVerify(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("verify", flag.ContinueOnError)
	fs.SetOutput(stderr)
	key := fs.String("key", "", "also check cosign signatures with this public key `FILE` (cosign.pub)")
	insecure := fs.Bool("insecure", false, "allow plain HTTP to a registry that is not on loopback")
	var platforms stringList
	fs.Var(&platforms, "platform", "require this `platform` (linux/amd64; repeatable)")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: go run . verify [flags] HOST[:PORT]/REPOSITORY:TAG\n\nChecks that the tag resolves to an image or index, that each platform has an SBOM\nand a provenance statement that describe it, and with --key the signatures (docs/publish.md).\n\nflags:")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return usageError{Err: err}
	}
	if fs.NArg() != 1 {
		return usageError{Err: errors.New("expected one image reference, like 127.0.0.1:5000/synapse:latest")}
	}
	raw := fs.Arg(0)
	var nopts []name.Option
	if host, _, _ := strings.Cut(raw, "/"); *insecure || publish.IsLoopback(host) {
		nopts = append(nopts, name.Insecure)
	}
	ref, err := name.ParseReference(raw, nopts...)
	if err != nil {
		return usageError{Err: fmt.Errorf("%q: %w", raw, err)}
	}
	opt := verify.Options{
		Remote:    []remote.Option{remote.WithAuthFromKeychain(authn.DefaultKeychain), remote.WithUserAgent("synapse-image")},
		Platforms: platforms,
	}
	if *key != "" {
		if opt.Key, err = sign.LoadPublicKey(*key); err != nil {
			return usageError{Err: fmt.Errorf("--key: %w", err)}
		}
	}
	checks := verify.Verify(ctx, ref, opt)
	for _, c := range checks {
		fmt.Fprintln(stdout, c)
	}
	if verify.Failed(checks) {
		return errVerifyFailed
	}
	return nil
}
