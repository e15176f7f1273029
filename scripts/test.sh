#!/usr/bin/env bash
# The project's test command: sets up what the tests need on this machine
# (packages, images, a local registry), then runs every test.
# With E2E_REQUIRED=1 (CI) a missing capability fails instead of skipping.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD

step() { printf '\n==> %s\n' "$*"; }
t0=$(date +%s)
elapsed() { echo "$(( $(date +%s) - t0 ))s"; }

step "packages"
need=()
command -v mmdebstrap >/dev/null || need+=(mmdebstrap)
[ -x /usr/bin/docker-registry ] || need+=(docker-registry)
command -v curl >/dev/null || need+=(curl)
command -v docker-compose >/dev/null || docker compose version >/dev/null 2>&1 || need+=(docker-compose)
if [ ${#need[@]} -gt 0 ]; then
  if [ "$(id -u)" -ne 0 ]; then
    echo "missing packages: ${need[*]} (install them with apt-get as root)" >&2
    exit 1
  fi
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi
echo "ok ($(elapsed))"

step "format and vet"
unformatted=$(gofmt -l $(git ls-files '*.go' | grep -v '^ci/') || true)
if [ -n "$unformatted" ]; then echo "gofmt would change: $unformatted" >&2; exit 1; fi
go vet ./...
echo "ok ($(elapsed))"

step "build the images"
go run . build --load
go run . build --recipe image/postgres.yaml --load
echo "ok ($(elapsed))"

step "start a local OCI registry on loopback"
regdir=$(mktemp -d)
regport=${TEST_REGISTRY_PORT:-5055}
cat >"$regdir/config.yml" <<YML
version: 0.1
storage:
  filesystem:
    rootdirectory: $regdir/data
http:
  addr: 127.0.0.1:$regport
YML
/usr/bin/docker-registry serve "$regdir/config.yml" >"$regdir/log" 2>&1 &
regpid=$!
trap 'kill $regpid 2>/dev/null || true; rm -rf "$regdir"' EXIT
for _ in $(seq 50); do curl -fsS "http://127.0.0.1:$regport/v2/" >/dev/null 2>&1 && break; sleep 0.1; done
curl -fsS "http://127.0.0.1:$regport/v2/" >/dev/null
export TEST_REGISTRY=127.0.0.1:$regport
echo "ok: $TEST_REGISTRY ($(elapsed))"

step "go test ./... (unit, acceptance, registry and end-to-end)"
export SYNAPSE_IMAGE=${SYNAPSE_IMAGE:-synapse:latest}
export POSTGRES_IMAGE=${POSTGRES_IMAGE:-synapse-postgres:latest}
go test -count=1 -timeout 40m ./...
echo "ok ($(elapsed))"

step "the Dagger module (ci/): build, vet, test, bindings up to date"
(cd ci && go build ./... && go vet ./... && go test -count=1 ./...)
bash scripts/check-dagger-bindings.sh
echo "ok ($(elapsed))"

printf '\nall tests passed in %s\n' "$(elapsed)"
