package provenance

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"time"

	attestation "github.com/in-toto/attestation/go/v1"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"google.golang.org/protobuf/encoding/protojson"
)

func testBuild() Build {
	return Build{
		Repository: "synapse", Digest: "sha256:" + strings.Repeat("ab", 32), Platform: "linux/arm64",
		RecipePath: "image/synapse.yaml", RecipeSHA256: strings.Repeat("01", 32),
		Source: "https://github.com/synapse-image/synapse-image", Revision: strings.Repeat("c", 40),
		Mirror: "http://deb.debian.org/debian/", Suite: "sid", InReleaseSHA256: strings.Repeat("ee", 32),
		MirrorDate: time.Date(2026, 11, 20, 8, 0, 0, 0, time.UTC), Epoch: time.Unix(1764374400, 0),
		Wheels:    map[string]string{"b-1.0-py3-none-any.whl": "bb", "a-2.0-py3-none-any.whl": "aa"},
		GoVersion: "go1.26.0",
	}
}

func TestStatementIsValidInTotoSLSA(t *testing.T) {
	s, err := New(testBuild())
	require.NoError(t, err)
	var buf bytes.Buffer
	require.NoError(t, Write(&buf, s))

	// in-toto's own Statement type accepts it.
	var pb attestation.Statement
	require.NoError(t, protojson.Unmarshal(buf.Bytes(), &pb), buf.String())
	require.NoError(t, pb.Validate())
	assert.Equal(t, "https://slsa.dev/provenance/v1", pb.GetPredicateType())
	require.Len(t, pb.GetSubject(), 1)
	assert.Equal(t, strings.Repeat("ab", 32), pb.GetSubject()[0].GetDigest()["sha256"])

	var got struct {
		Predicate struct {
			BuildDefinition struct {
				BuildType          string
				ExternalParameters struct {
					Recipe struct {
						Path   string
						Digest map[string]string
					}
					Source          map[string]string
					Platform        string
					SourceDateEpoch int64
				}
				ResolvedDependencies []struct {
					URI         string
					Name        string
					Digest      map[string]string
					Annotations map[string]string
				}
			}
			RunDetails struct {
				Builder struct {
					ID      string
					Version map[string]string
				}
			}
		}
	}
	require.NoError(t, json.Unmarshal(buf.Bytes(), &got))
	bd := got.Predicate.BuildDefinition
	assert.Equal(t, BuildType, bd.BuildType)
	assert.Equal(t, "image/synapse.yaml", bd.ExternalParameters.Recipe.Path)
	assert.Equal(t, strings.Repeat("01", 32), bd.ExternalParameters.Recipe.Digest["sha256"])
	assert.Equal(t, "linux/arm64", bd.ExternalParameters.Platform)
	assert.Equal(t, int64(1764374400), bd.ExternalParameters.SourceDateEpoch)
	assert.Equal(t, strings.Repeat("c", 40), bd.ExternalParameters.Source["revision"])
	require.Len(t, bd.ResolvedDependencies, 4)
	assert.Equal(t, "git+https://github.com/synapse-image/synapse-image@"+strings.Repeat("c", 40), bd.ResolvedDependencies[0].URI)
	assert.Equal(t, strings.Repeat("c", 40), bd.ResolvedDependencies[0].Digest["gitCommit"])
	assert.Equal(t, "http://deb.debian.org/debian/dists/sid/InRelease", bd.ResolvedDependencies[1].URI)
	assert.Equal(t, strings.Repeat("ee", 32), bd.ResolvedDependencies[1].Digest["sha256"])
	assert.Equal(t, "2026-11-20T08:00:00Z", bd.ResolvedDependencies[1].Annotations["date"])
	assert.Equal(t, "a-2.0-py3-none-any.whl", bd.ResolvedDependencies[2].Name, "wheels sorted by name")
	assert.Equal(t, BuilderID, got.Predicate.RunDetails.Builder.ID)
	assert.Equal(t, "go1.26.0", got.Predicate.RunDetails.Builder.Version["go"])

	// It reads back, and the same build writes the same bytes.
	back, err := Read(bytes.NewReader(buf.Bytes()))
	require.NoError(t, err)
	assert.Equal(t, "sha256:"+strings.Repeat("ab", 32), back.SubjectDigest())
	var again bytes.Buffer
	s2, err := New(testBuild())
	require.NoError(t, err)
	require.NoError(t, Write(&again, s2))
	assert.Equal(t, buf.String(), again.String())
}

func TestDirtyRevisionIsNoGitDependency(t *testing.T) {
	b := testBuild()
	b.Revision = strings.Repeat("c", 40) + "-dirty"
	s, err := New(b)
	require.NoError(t, err)
	for _, d := range s.Predicate.BuildDefinition.ResolvedDependencies {
		assert.NotContains(t, d.Digest, "gitCommit", "a tree with changes is not that commit")
	}
}

func TestErrors(t *testing.T) {
	b := testBuild()
	b.Digest = "abc"
	_, err := New(b)
	assert.ErrorContains(t, err, `image digest "abc"`)

	for _, in := range []string{
		`{"_type":"https://in-toto.io/Statement/v0.1","predicateType":"https://slsa.dev/provenance/v1","subject":[{"name":"x","digest":{"sha256":"ab"}}]}`,
		`{"_type":"https://in-toto.io/Statement/v1","predicateType":"https://spdx.dev/Document","subject":[{"name":"x","digest":{"sha256":"ab"}}]}`,
		`{"_type":"https://in-toto.io/Statement/v1","predicateType":"https://slsa.dev/provenance/v1","subject":[]}`,
		`not json`,
	} {
		_, err := Read(strings.NewReader(in))
		assert.Error(t, err, in)
	}
}
