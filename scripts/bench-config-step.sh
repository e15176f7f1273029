#!/usr/bin/env bash
# Prints the per-start cost of the config step of the image: /start (check,
# and run up to the exec of Synapse) next to what the 2018 image paid on
# every start, a second Python Synapse process run with --generate-keys on
# the same config. Everything is timed inside the Synapse image, by the same
# Python loop, as the median of several runs.
#
#   scripts/bench-config-step.sh            # image: $SYNAPSE_IMAGE, synapse:latest or synapse-rootfs:dev
#   RUNS=21 PY_RUNS=5 scripts/bench-config-step.sh
set -euo pipefail
cd "$(dirname "$0")/.."

RUNS=${RUNS:-21}       # runs of /start per measurement
PY_RUNS=${PY_RUNS:-5}  # runs of Python Synapse --generate-keys

image=${SYNAPSE_IMAGE:-}
if [ -z "$image" ]; then
  for c in synapse:latest synapse-rootfs:dev; do
    if docker image inspect "$c" >/dev/null 2>&1; then image=$c; break; fi
  done
fi
[ -n "$image" ] || { echo "no Synapse image (set SYNAPSE_IMAGE or run: go run . build --load)" >&2; exit 1; }
arch=$(docker image inspect -f '{{.Architecture}}' "$image")

work=$(mktemp -d /tmp/start-bench-XXXXXX)
name=start-bench-$$
cleanup() { docker rm -f "$name" >/dev/null 2>&1 || true; rm -rf "$work"; }
trap cleanup EXIT INT TERM

echo "building /start (linux/$arch, static)..." >&2
CGO_ENABLED=0 GOOS=linux GOARCH=$arch go build -trimpath -ldflags='-s -w' -o "$work/start" ./rootfs/start
mkdir -p "$work/data"

docker run -d --name "$name" -v "$work/start:/start:ro" -v "$work/data:/data" \
  -e SYNAPSE_SERVER_NAME=example.com -e SYNAPSE_REPORT_STATS=no \
  --entrypoint sleep "$image" infinity >/dev/null
# First start: creates keys and the config; Synapse only checks its keys.
docker exec "$name" /start run --generate-keys >/dev/null 2>&1

docker exec -i -e RUNS="$RUNS" -e PY_RUNS="$PY_RUNS" -e IMAGE="$image" "$name" python3 - <<'PY'
import os, statistics, subprocess, tempfile, time

runs, py_runs = int(os.environ["RUNS"]), int(os.environ["PY_RUNS"])
# A fake python3 first on PATH: /start run then execs /bin/true instead of
# Synapse, so the time is exactly /start's work plus one exec.
fake = tempfile.mkdtemp()
os.chmod(fake, 0o755)  # /start looks it up after dropping to uid 991
os.symlink("/bin/true", os.path.join(fake, "python3"))

def median_ms(argv, n, env=None):
    times = []
    for _ in range(n):
        t = time.perf_counter()
        subprocess.run(argv, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True, timeout=120)
        times.append((time.perf_counter() - t) * 1000)
    return statistics.median(times), min(times), max(times)

env = dict(os.environ, PATH=fake + ":" + os.environ.get("PATH", "/usr/bin:/bin"))
rows = [
    ("/start check", median_ms(["/start", "check"], runs)),
    ("/start run (up to the exec of Synapse)", median_ms(["/start", "run"], runs, env)),
    ("2018: python3 -m synapse.app.homeserver --generate-keys",
     median_ms(["python3", "-m", "synapse.app.homeserver", "--config-path",
                "/data/generated/homeserver.yaml", "--generate-keys"], py_runs)),
]
print(f"config step per container start, image {os.environ['IMAGE']} (median of {runs}; Python: {py_runs})")
for label, (med, lo, hi) in rows:
    print(f"  {label:58s} {med:9.1f} ms   (min {lo:.1f}, max {hi:.1f})")
ours, theirs = rows[1][1][0], rows[2][1][0]
print(f"  /start run is {theirs / ours:.0f}x faster than the 2018 per-start Python step")
PY
