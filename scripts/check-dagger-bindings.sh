#!/usr/bin/env bash
# Checks that the committed Go bindings of the Dagger module (ci/) are what
# the engine's code generator makes from the module's source today: it
# regenerates them with tools/daggercodegen into a temporary copy of the
# module and compares. Then it checks the module's API
# (ci/contract/testdata/api.golden) with the same generator. The working tree
# is never written to (except with UPDATE_API=1).
#
# usage: scripts/check-dagger-bindings.sh
# env:   UPDATE_API=1 - rewrite ci/contract/testdata/api.golden
# The first run on a machine builds the generator: one to three minutes.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
tool=tools/daggercodegen
generated=(ci/dagger.gen.go ci/internal ci/go.mod ci/go.sum)
fix="run 'go -C $tool run .' from the repository root and commit ${generated[*]}"

# The engine refuses modules that ask for a newer Go than it has.
if ! grep -qx 'go 1.26.1' ci/go.mod; then
  echo "check-dagger-bindings: ci/go.mod must say 'go 1.26.1' (it says '$(grep -m1 '^go ' ci/go.mod)'): the engine rejects newer" >&2
  exit 1
fi

# The generator itself: formatted, vetted, tested, and pinned to the
# engineVersion of dagger.json.
(cd "$tool" && go vet ./... && go test -count=1 ./... >/dev/null)
go -C "$tool" run . -check-version

tmp=$(mktemp -d /tmp/dagger-bindings-XXXXXX)
trap 'rm -rf "$tmp"' EXIT

# The module as go build sees it: tracked files and new, not ignored ones.
git ls-files -z --cached --others --exclude-standard -- dagger.json ci |
  while IFS= read -r -d '' f; do
    [ -e "$f" ] && printf '%s\0' "$f"
  done | tar --null -T - -cf - | tar -xf - -C "$tmp"

start=$(date +%s)
if ! go -C "$tool" run . -module "$tmp" -schema-out "$tmp/schema.json" >"$tmp/regen.log" 2>&1; then
  cat "$tmp/regen.log" >&2
  echo "check-dagger-bindings: the generator failed (output above)" >&2
  exit 1
fi
echo "regenerated the bindings in $(( $(date +%s) - start ))s"

status=0
for path in "${generated[@]}"; do
  if ! diff -ru "$root/$path" "$tmp/$path" >"$tmp/diff" 2>&1; then
    echo "check-dagger-bindings: $path differs from what the generator makes:" >&2
    head -n 40 "$tmp/diff" >&2
    status=1
  fi
done
if [ "$status" -ne 0 ]; then
  echo "check-dagger-bindings: the committed bindings are stale: $fix" >&2
  exit 1
fi
echo "Dagger bindings are up to date"

# With the generator at hand, also check the module's API as an engine
# registers it (what `dagger call --help` shows) against
# ci/contract/testdata/api.golden. UPDATE_API=1 rewrites the golden file.
codegen=$(go -C "$tool" tool -n codegen)
update=()
[ "${UPDATE_API:-}" = 1 ] && update=(-update)
if ! (cd ci && DAGGER_CODEGEN="$codegen" DAGGER_SCHEMA_JSON="$tmp/schema.json" \
      go test -count=1 -tags dagger_codegen -run TestModuleAPI ./contract/ "${update[@]}"); then
  echo "check-dagger-bindings: the module's API differs from ci/contract/testdata/api.golden;" \
    "if that is intended, run UPDATE_API=1 scripts/check-dagger-bindings.sh and review the diff" >&2
  exit 1
fi
echo "Dagger module API matches ci/contract/testdata/api.golden"
