package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/sigstore/sigstore/pkg/signature"

	"github.com/synapse-image/synapse-image/image/names"
	"github.com/synapse-image/synapse-image/image/pipeline"
	"github.com/synapse-image/synapse-image/image/publish"
	"github.com/synapse-image/synapse-image/image/sign"
	"github.com/synapse-image/synapse-image/image/tags"
)

// runPublish pushes the image the builder wrote (an OCI layout) to a registry
// under its tags and prints "REF → DIGEST (what happened)" for each tag.
func runPublish(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	return publishCommand{stdin: os.Stdin, getenv: os.Getenv}.run(ctx, args, stdout, stderr)
}

// publishCommand holds what the command reads besides its arguments, so
// tests can give it a password on stdin or in the environment.
type publishCommand struct {
	stdin  io.Reader
	getenv func(string) string
}

func (c publishCommand) run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	for _, a := range args {
		if a == "--" {
			break
		}
		if n := strings.TrimLeft(strings.SplitN(a, "=", 2)[0], "-"); strings.HasPrefix(a, "-") && (n == "password" || n == "p") {
			return usageError{Err: errors.New("a password is never taken as a flag value (it would show in ps and the shell history): use --password-file FILE, --password-stdin or REGISTRY_PASSWORD")}
		}
	}

	fs := flag.NewFlagSet("publish", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var (
		registry   = fs.String("registry", "", "registry `HOST[:PORT]` to push to (required)")
		repository = fs.String("repository", "", "repository in the registry (default: the image title label, else synapse)")
		from       = fs.String("from", names.DefaultLayout(), "OCI layout `DIR` written by `go run . build`")
		tagList    stringList
		noLatest   = fs.Bool("no-latest", false, "do not move the latest tag")
		packageTag = fs.Bool("package-tag", false, "also tag the exact Debian package version (v1.160.0-1)")
		noOverwrt  = fs.Bool("no-overwrite", false, "fail, pushing nothing, if any tag points at another image")
		dryRun     = fs.Bool("dry-run", false, "check the registry and print what would be pushed; write nothing")
		insecure   = fs.Bool("insecure", false, "allow plain HTTP to a registry that is not on loopback")
		username   = fs.String("username", c.getenv("REGISTRY_USERNAME"), "user name for the registry (default $REGISTRY_USERNAME; default credentials: the Docker config)")
		pwFile     = fs.String("password-file", "", "read the password from `FILE`")
		pwStdin    = fs.Bool("password-stdin", false, "read the password from standard input")
		signKey    = fs.String("sign-key", "", "sign the pushed image with this cosign private key `FILE` (password: $COSIGN_PASSWORD)")
	)
	fs.Var(&tagList, "tag", "push under this `TAG` instead of the computed tags (repeatable)")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: go run . publish --registry HOST[:PORT] [flags]")
		fmt.Fprintln(stderr, "Pushes the built image under vX.Y.Z, vX.Y, latest and sha-<revision> (see docs/publish.md).")
		fmt.Fprintln(stderr, "Password: --password-file, --password-stdin or $REGISTRY_PASSWORD, with --username.")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return usageError{Err: err}
	}
	if fs.NArg() > 0 {
		return usageError{Err: fmt.Errorf("unexpected argument %q: publish takes flags only", fs.Arg(0))}
	}
	if *registry == "" {
		return usageError{Err: errors.New("--registry is required: the registry HOST[:PORT] to push to")}
	}
	if len(tagList) > 0 && (*noLatest || *packageTag) {
		return usageError{Err: errors.New("--no-latest and --package-tag change the computed tags; with --tag, list exactly the tags you want")}
	}
	auth, err := publish.Credentials{
		Username:      *username,
		PasswordFile:  *pwFile,
		PasswordStdin: *pwStdin,
		Stdin:         c.stdin,
		EnvPassword:   c.getenv("REGISTRY_PASSWORD"),
	}.Authenticator()
	if err != nil {
		return usageError{Err: err}
	}
	var signer signature.SignerVerifier
	if *signKey != "" {
		var password []byte
		if p := c.getenv("COSIGN_PASSWORD"); p != "" {
			password = []byte(p)
		}
		if signer, err = sign.LoadPrivateKey(*signKey, password); err != nil {
			return usageError{Err: fmt.Errorf("--sign-key: %w", err)}
		}
	}

	return pipeline.Publish(ctx, pipeline.PublishOptions{
		From:        *from,
		Registry:    *registry,
		Repository:  *repository,
		Tags:        tagList,
		TagRules:    tags.Options{NoLatest: *noLatest, PackageTag: *packageTag},
		NoOverwrite: *noOverwrt,
		DryRun:      *dryRun,
		Insecure:    *insecure,
		Auth:        auth,
		Signer:      signer,
		Stdout:      stdout,
		Log:         stderr,
	})
}
