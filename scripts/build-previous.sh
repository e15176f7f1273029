#!/usr/bin/env bash
# Builds the image of the previous release, for the upgrade test
# (TestSQLiteUpgradePath starts Synapse on E2E_UPGRADE_FROM_IMAGE, then on the
# image under test with the same /data). The commit pinned below is built by
# its own builder, from a detached git worktree of it, and loaded into the
# Docker engine as REPOSITORY:latest (and its version tags).
#
# Usage: scripts/build-previous.sh [REPOSITORY]   (default: synapse-previous)
#
# The layer cache is shared with the current build: when the Debian part of the
# recipe is unchanged the root file system layer is reused, and only the older
# /start and project layer are built.
set -euo pipefail
cd "$(dirname "$0")/.."

# The previous release: the last commit before the rework of the
# configuration writer, the entrypoint and the test harness (2026-11-26).
# Move it forward when a release is published.
previous=659f8c97f37b8efe8b7691c52a5397e4bfea67ce
repository=${1:-synapse-previous}

if ! git cat-file -e "$previous^{commit}" 2>/dev/null; then
  echo "build-previous: commit $previous is not in this clone (a shallow clone? run git fetch --unshallow)," >&2
  echo "or set E2E_UPGRADE_FROM_IMAGE to an image to upgrade from" >&2
  exit 1
fi

work=$(mktemp -d)
cleanup() {
  git worktree remove --force "$work/src" >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT
git worktree add --quiet --detach "$work/src" "$previous"
start=$(date +%s)
(cd "$work/src" && go run . build --load --repository "$repository")
echo "build-previous: $repository:latest from ${previous:0:12} in $(( $(date +%s) - start ))s"
