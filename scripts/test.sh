#!/usr/bin/env bash
# The project's test command: sets up what the tests need on this machine
# (packages, images, a local registry), then runs every test.
# With E2E_REQUIRED=1 (CI; also true or yes, see internal/dockertest) a
# missing capability fails instead of skipping.
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
command -v python3 >/dev/null || need+=(python3)
command -v docker-compose >/dev/null || docker compose version >/dev/null 2>&1 || need+=(docker-compose)
# The linux/arm64 image is built (and smoke-tested) under qemu user
# emulation; mmdebstrap needs arch-test for a foreign architecture.
[ -x /usr/bin/qemu-aarch64-static ] || need+=(qemu-user-static)
command -v update-binfmts >/dev/null || need+=(binfmt-support)
command -v arch-test >/dev/null || need+=(arch-test)
if [ ${#need[@]} -gt 0 ]; then
  if [ "$(id -u)" -ne 0 ]; then
    echo "missing packages: ${need[*]} (install them with apt-get as root)" >&2
    exit 1
  fi
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi
if [ ! -e /proc/sys/fs/binfmt_misc/qemu-aarch64 ] && [ "$(id -u)" -eq 0 ]; then
  mountpoint -q /proc/sys/fs/binfmt_misc || mount -t binfmt_misc binfmt_misc /proc/sys/fs/binfmt_misc
  update-binfmts --enable qemu-aarch64
fi
echo "ok ($(elapsed))"

step "format and vet"
unformatted=$(gofmt -l $(git ls-files '*.go' | grep -v '^ci/') || true)
if [ -n "$unformatted" ]; then echo "gofmt would change: $unformatted" >&2; exit 1; fi
go vet ./...
echo "ok ($(elapsed))"

step "build the images"
# SYNAPSE_WHEELS: a wheel cache other than wheels/ (.ci/run points it at
# CI's, with txredisapi for the worker tests).
wheels=()
if [ -n "${SYNAPSE_WHEELS:-}" ]; then wheels=(--wheels "$SYNAPSE_WHEELS"); fi
if ! compgen -G "${SYNAPSE_WHEELS:-wheels}/txredisapi-*.whl" >/dev/null; then
  echo "no txredisapi wheel in ${SYNAPSE_WHEELS:-wheels/}: the worker tests will skip (add it as wheels/README.md says)"
fi
# Both platforms, as published: one index in the layout, the host's loaded.
go run . build --platform linux/amd64,linux/arm64 --load "${wheels[@]}"
go run . build --recipe image/postgres.yaml --load
go run . build --recipe image/ldap.yaml --load
go run . build --recipe image/redis.yaml --load
go run . build --recipe image/router.yaml --load
echo "ok ($(elapsed))"

step "build the previous release's image (TestSQLiteUpgradePath upgrades from it)"
if [ -z "${E2E_UPGRADE_FROM_IMAGE:-}" ]; then
  bash scripts/build-previous.sh synapse-previous
  export E2E_UPGRADE_FROM_IMAGE=synapse-previous:latest
else
  echo "E2E_UPGRADE_FROM_IMAGE=$E2E_UPGRADE_FROM_IMAGE: not building"
fi
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
remote=""
cleanup() {
  kill "$regpid" 2>/dev/null || true
  rm -rf "$regdir"
  if [ -n "$remote" ]; then docker rm -f -v "$remote" >/dev/null 2>&1 || true; fi
}
trap cleanup EXIT
for _ in $(seq 50); do curl -fsS "http://127.0.0.1:$regport/v2/" >/dev/null 2>&1 && break; sleep 0.1; done
curl -fsS "http://127.0.0.1:$regport/v2/" >/dev/null
export TEST_REGISTRY=127.0.0.1:$regport
echo "ok: $TEST_REGISTRY ($(elapsed))"

step "go test ./... (unit, acceptance, registry and end-to-end)"
export SYNAPSE_IMAGE=${SYNAPSE_IMAGE:-synapse:latest}
export POSTGRES_IMAGE=${POSTGRES_IMAGE:-synapse-postgres:latest}
export LDAP_IMAGE=${LDAP_IMAGE:-synapse-ldap:latest}
export REDIS_IMAGE=${REDIS_IMAGE:-synapse-redis:latest}
export ROUTER_IMAGE=${ROUTER_IMAGE:-synapse-router:latest}
go test -count=1 -timeout 40m ./...
echo "ok ($(elapsed))"

step "URL mode of the suite against a running homeserver (what the Dagger module's test does)"
remote=ci-remote-$$
secret=$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')
docker run -d --name "$remote" -p 127.0.0.1::8008 \
  -e SYNAPSE_SERVER_NAME=remote.test -e SYNAPSE_REPORT_STATS=no -e SYNAPSE_NO_TLS=1 \
  -e SYNAPSE_REGISTRATION_SHARED_SECRET="$secret" "$SYNAPSE_IMAGE" >/dev/null
url="http://$(docker port "$remote" 8008/tcp | head -n1)"
for _ in $(seq 240); do curl -fsS "$url/health" >/dev/null 2>&1 && break; sleep 0.5; done
curl -fsS "$url/health" >/dev/null || { docker logs "$remote" >&2; echo "the homeserver for URL mode never answered $url/health" >&2; exit 1; }
out=$(E2E_HOMESERVER_URL=$url E2E_SERVER_NAME=remote.test E2E_REGISTRATION_SHARED_SECRET=$secret \
  go test -count=1 -v -run '^TestRemoteHomeserver$' ./tests/ 2>&1) || { echo "$out"; exit 1; }
# The test skips without E2E_HOMESERVER_URL: make sure it ran here.
grep -q -- '--- PASS: TestRemoteHomeserver' <<<"$out" || { echo "$out"; echo "TestRemoteHomeserver did not pass" >&2; exit 1; }
echo "$out" | grep -E '^(--- |ok|PASS|FAIL)'
docker rm -f -v "$remote" >/dev/null
remote=""
echo "ok ($(elapsed))"

step "the Dagger module (ci/): build, vet, test, bindings up to date"
(cd ci && go build ./... && go vet ./... && go test -count=1 ./...)
bash scripts/check-dagger-bindings.sh
echo "ok ($(elapsed))"

printf '\nall tests passed in %s\n' "$(elapsed)"
