package pipeline

import (
	"bytes"
	"encoding/json"
	"runtime/debug"

	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/synapse-image/synapse-image/image/build"
	"github.com/synapse-image/synapse-image/image/platform"
	"github.com/synapse-image/synapse-image/image/progress"
	"github.com/synapse-image/synapse-image/image/provenance"
	"github.com/synapse-image/synapse-image/image/publish"
	"github.com/synapse-image/synapse-image/image/recipe"
	"github.com/synapse-image/synapse-image/image/sbom"
)

// labelSource is the recipe label naming the source repository.
const labelSource = "org.opencontainers.image.source"

// attestInputs is what the SBOM and the provenance of one built image need.
type attestInputs struct {
	root, recipeFile string
	recipe           *recipe.Recipe
	result           *build.Result
	platform         platform.Platform
	repository       string
	revision         string
	epoch            time.Time
	// cacheDir keeps what a scan of an image found, by image digest: a
	// warm build does not read the whole image again.
	cacheDir string
}

// attest makes the image's SBOM and provenance, attachments of the image:
// the layout holds them as its referrers and publish pushes them so.
func attest(in attestInputs, step *progress.Step) ([]publish.Attachment, error) {
	recipeFile, err := filepath.Abs(in.recipeFile)
	if err != nil {
		return nil, err
	}
	in.recipeFile = recipeFile
	start := time.Now()
	digest, err := in.result.Image.Digest()
	if err != nil {
		return nil, err
	}
	var programs []string
	for _, p := range in.recipe.Programs {
		programs = append(programs, p.Dst)
	}
	contents, cached, err := scanCached(in.cacheDir, in.result.Image, digest.String(), programs)
	if err != nil {
		return nil, fmt.Errorf("SBOM: %w", err)
	}
	var doc bytes.Buffer
	if err := sbom.Write(&doc, sbom.Document(contents, sbom.Subject{
		Repository: in.repository, Digest: digest.String(), Arch: in.platform.Arch(),
		Distro: "debian-" + in.recipe.Debian.Suite, Created: in.epoch,
	})); err != nil {
		return nil, err
	}

	recipeSum, err := fileSHA256(in.recipeFile)
	if err != nil {
		return nil, fmt.Errorf("recipe: %w", err)
	}
	recipePath, err := filepath.Rel(in.root, in.recipeFile)
	if err != nil {
		return nil, err
	}
	goVersion := ""
	if len(contents.Programs) > 0 {
		goVersion = contents.Programs[0].Info.GoVersion
	}
	st, err := provenance.New(provenance.Build{
		Repository: in.repository, Digest: digest.String(), Platform: in.platform.String(),
		RecipePath: filepath.ToSlash(recipePath), RecipeSHA256: recipeSum,
		Source: in.recipe.Config.Labels[labelSource], Revision: in.revision,
		Mirror: in.recipe.Debian.Mirror, Suite: in.recipe.Debian.Suite,
		InReleaseSHA256: in.result.Mirror.InReleaseSHA256, MirrorDate: in.result.Mirror.Date,
		Epoch: in.epoch, Wheels: in.result.Wheels, GoVersion: goVersion,
	})
	if err != nil {
		return nil, fmt.Errorf("provenance: %w", err)
	}
	var prov bytes.Buffer
	if err := provenance.Write(&prov, st); err != nil {
		return nil, err
	}
	goModules := 0
	for _, p := range contents.Programs {
		goModules += len(p.Info.Deps) + 1
	}
	if cached {
		step.Logf("image contents cached")
	}
	step.Logf("%d Debian packages, %d wheels, %d Go modules: SBOM and provenance of %s (%.1fs)",
		len(contents.Debs), len(contents.Wheels), goModules, digest, time.Since(start).Seconds())
	return []publish.Attachment{
		{Subject: digest, ArtifactType: publish.ArtifactTypeSPDX, Data: doc.Bytes(), Created: in.epoch},
		{Subject: digest, ArtifactType: publish.ArtifactTypeInToto, Data: prov.Bytes(), Created: in.epoch},
	}, nil
}

func fileSHA256(file string) (string, error) {
	data, err := os.ReadFile(file)
	if err != nil {
		return "", err
	}
	sum := sha256.Sum256(data)
	return hex.EncodeToString(sum[:]), nil
}

// scannedContents is sbom.Contents as the cache keeps it (build info as text).
type scannedContents struct {
	Debs     []sbom.Deb
	Wheels   []sbom.Wheel
	Programs []struct{ Path, BuildInfo string }
}

// scanCached is sbom.Scan of img, kept in the layer cache under its digest
// and the programs asked for: the same image always has the same contents.
func scanCached(cacheDir string, img v1.Image, digest string, programs []string) (*sbom.Contents, bool, error) {
	scan := func() (*sbom.Contents, error) { return sbom.Scan(img, programs) }
	if cacheDir == "" {
		c, err := scan()
		return c, false, err
	}
	key, err := build.Key("sbom-scan", digest, programs)
	if err != nil {
		return nil, false, err
	}
	cache := &build.Cache{Dir: cacheDir}
	const file = "contents.json"
	dir, hit := cache.Lookup(key)
	if !hit {
		if dir, err = cache.Store(key, func(out string) error {
			c, err := scan()
			if err != nil {
				return err
			}
			s := scannedContents{Debs: c.Debs, Wheels: c.Wheels}
			for _, p := range c.Programs {
				s.Programs = append(s.Programs, struct{ Path, BuildInfo string }{p.Path, p.Info.String()})
			}
			data, err := json.Marshal(s)
			if err != nil {
				return err
			}
			return os.WriteFile(filepath.Join(out, file), data, 0o644)
		}); err != nil {
			return nil, false, err
		}
	}
	data, err := os.ReadFile(filepath.Join(dir, file))
	if err != nil {
		return nil, false, err
	}
	var s scannedContents
	if err := json.Unmarshal(data, &s); err != nil {
		return nil, false, fmt.Errorf("cached scan %s: %w", dir, err)
	}
	c := &sbom.Contents{Debs: s.Debs, Wheels: s.Wheels}
	for _, p := range s.Programs {
		info, err := debug.ParseBuildInfo(p.BuildInfo)
		if err != nil {
			return nil, false, fmt.Errorf("cached scan %s: %s: %w", dir, p.Path, err)
		}
		c.Programs = append(c.Programs, sbom.Program{Path: p.Path, Info: info})
	}
	return c, hit, nil
}
