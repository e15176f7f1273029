#!/usr/bin/env bash
# Benchmarks the image build: a cold build (empty layer cache), a warm
# rebuild after a change to the config generator, a rebuild without changes,
# and the size of each layer. Everything happens in a temporary copy of the
# repository with its own cache; the working tree is never touched.
#
#   bash scripts/bench-build.sh [--recipe image/synapse.yaml] [--no-load]
#                               [--platform linux/arm64] [--again]
#
# With --load (the default) the image is loaded as builder-bench:* and
# removed again at the end (only for the host's platform). --platform builds
# for that platform (another architecture needs qemu-user-static); --again
# adds a second cold build in another empty cache right after the first:
# the same digest shows the build is reproducible.
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$PWD

recipe=image/synapse.yaml
load=(--load --repository builder-bench)
platform=()
again=no
while [ $# -gt 0 ]; do
  case "$1" in
    --recipe) recipe=$2; shift 2 ;;
    --no-load) load=(); shift ;;
    --platform) platform=(--platform "$2"); shift 2 ;;
    --again) again=yes; shift ;;
    *) echo "usage: $0 [--recipe FILE] [--no-load] [--platform PLATFORM] [--again]" >&2; exit 2 ;;
  esac
done
# --load takes the host's platform only.
if [ ${#platform[@]} -gt 0 ] && [ "${platform[1]}" != "linux/$(go env GOARCH)" ]; then load=(); fi

work=$(mktemp -d /tmp/builder-bench-XXXXXX)
cleanup() {
  if [ ${#load[@]} -gt 0 ]; then
    docker image ls --format '{{.Repository}}:{{.Tag}}' builder-bench 2>/dev/null | xargs -r docker rmi >/dev/null 2>&1 || true
  fi
  rm -rf "$work"
}
trap cleanup EXIT

# The copy: tracked and untracked (not ignored) files of the working tree.
mkdir "$work/repo"
git ls-files -z --cached --others --exclude-standard | tar --null -T - -cf - | tar -xf - -C "$work/repo"
export SOURCE_DATE_EPOCH=${SOURCE_DATE_EPOCH:-$(git log -1 --format=%ct)}
revision=$(git rev-parse HEAD)
cache="$work/cache"

# Build the builder once, so go run's compile time is not measured.
go build -o "$work/synapse-image" .

build() { # id label [cache]
  local log="$work/$1.log" t0 t1
  t0=$(date +%s.%N)
  (cd "$work/repo" && "$work/synapse-image" build --recipe "$recipe" --cache-dir "${3:-$cache}" \
    --revision "$revision" --progress plain "${platform[@]}" "${load[@]}") >"$work/$1.out" 2>"$log" || { cat "$log" >&2; exit 1; }
  t1=$(date +%s.%N)
  # The image digest after the time: equal digests for equal inputs show the
  # build is reproducible.
  printf '%-32s %7.1f s  %s\n' "$2" "$(echo "$t1 - $t0" | bc)" \
    "$(grep -om1 'sha256:[0-9a-f]\{64\}' "$work/$1.out" || echo 'no digest')"
  # Each layer step and how it ended, from BuildKit's plain display:
  # "#N [rootfs] …", then "#N DONE 120.1s" or "#N CACHED".
  awk '$2 ~ /^\[(rootfs|wheels|project)\]$/ && !($1 in step) { step[$1] = $2; next }
       ($1 in step) && ($2 == "DONE" || $2 == "CACHED") { print "    " step[$1] " " $2 ($3 != "" ? " " $3 : "") }' "$log"
}

echo "synapse-image build benchmark ($(nproc) CPUs, load $(cut -d' ' -f1-3 /proc/loadavg), $(date -u +%FT%TZ)${platform[1]:+, ${platform[1]}})"
build cold "cold (empty cache)"
if [ "$again" = yes ]; then
  build again "again (another empty cache)" "$work/cache-again"
  rm -rf "$work/cache-again"
fi

# A harmless change to the config generator: a comment in /start's main package.
echo "// bench: $(date +%s%N)" >>"$work/repo/rootfs/start/main.go"
build warm "warm (rootfs/ changed)"
build nochange "no change"

echo
echo "layers:"
grep '^\[layer\]' "$work/nochange.log" | sed 's/^\[layer\] /    /'
grep '^\[build\] done' "$work/nochange.log" | sed 's/^\[build\] done in [0-9.]*s: /total: /'
if [ ${#load[@]} -gt 0 ]; then
  docker image ls --format 'docker image ls: {{.Size}}' builder-bench:latest
fi
