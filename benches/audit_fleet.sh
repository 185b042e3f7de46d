#!/usr/bin/env bash
# corsair audit at fleet scale, on loopback only: HOSTS hosts (api1.fleet.test ... reached at
# 127.0.1.1 ... with --resolve), PATHS targets on each (default 100 x 100 = 10,000 targets),
# each path one of five CORS behaviours (examples/audit_fleet.rs). The list is read with
# --input and written as JSON lines as targets finish. Reports requests/s, targets/s and peak
# memory for the whole list and for a tenth of it (the list streams: memory should not grow
# with its length), with the default limits (--concurrency 64, --per-host 8).
#
#   bash benches/audit_fleet.sh              HOSTS=100 PATHS=100
#   HOSTS=20 PATHS=50 bash benches/audit_fleet.sh
set -euo pipefail
cd "$(dirname "$0")/.."
HOSTS=${HOSTS:-100}
PATHS=${PATHS:-100}
need() { command -v "$1" >/dev/null 2>&1 || { echo "$1 is needed" >&2; exit 2; }; }
need python3
[ -x /usr/bin/time ] || { sudo apt-get install -y -qq time >/dev/null; }
cargo build --release --quiet -p corsair --bin corsair --example audit_fleet
BIN=target/release/corsair
work=$(mktemp -d)
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.1.1",0)); print(s.getsockname()[1])')
coproc FLEET { exec target/release/examples/audit_fleet "$PORT" "$HOSTS"; }
fleet_pid=$FLEET_PID
trap 'kill $fleet_pid 2>/dev/null || true; rm -rf "$work"' EXIT
read -r ready <&"${FLEET[0]}"
[ "$ready" = ready ] || { echo "the fleet did not start" >&2; exit 1; }

resolve=()
for h in $(seq "$HOSTS"); do resolve+=(--resolve "api$h.fleet.test:$PORT:127.0.1.$h"); done
# Hosts interleaved, as a real list would be.
for p in $(seq 0 $((PATHS - 1))); do
  for h in $(seq "$HOSTS"); do echo "http://api$h.fleet.test:$PORT/t/$p"; done
done > "$work/all.txt"
total=$(wc -l < "$work/all.txt")

run() { # name targets
  head -n "$2" "$work/all.txt" > "$work/list.txt"
  /usr/bin/time -f "%e %M" -o "$work/time.txt" "$BIN" audit --input "$work/list.txt" --format jsonl \
    --no-progress --timeout 10 "${resolve[@]}" > "$work/out.jsonl" 2> "$work/err.txt" || true
  local secs kib requests done_lines findings
  read -r secs kib < <(tail -n1 "$work/time.txt")
  requests=$(tail -n1 "$work/err.txt" | python3 -c 'import json,sys; print(json.load(sys.stdin)["summary"]["requests"])')
  done_lines=$(grep -c '"done":true' "$work/out.jsonl" || true)
  findings=$(grep -c '"class":' "$work/out.jsonl" || true)
  [ "$done_lines" -eq "$2" ] || { echo "$1: $done_lines of $2 targets done" >&2; tail -n3 "$work/err.txt" >&2; exit 1; }
  printf '%-8s %8s targets %9s requests %8.2f s %9.0f req/s %8.0f targets/s %7.1f MiB peak RSS %7s findings\n' \
    "$1" "$2" "$requests" "$secs" "$(echo "$requests / $secs" | bc -l)" "$(echo "$2 / $secs" | bc -l)" "$(echo "$kib / 1024" | bc -l)" "$findings"
}

echo "# corsair audit --input LIST --format jsonl, $HOSTS loopback hosts; $(nproc) cores shared with the fleet server"
run tenth $((total / 10))
run all "$total"
exec {FLEET[1]}>&-
