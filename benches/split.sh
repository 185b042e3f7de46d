#!/usr/bin/env bash
# Where a proxied GET's CPU goes: `corsair serve` and nginx, each with its access log on as users
# run it, under the load of benches/gateway.sh (wrk -t1 -c64 on CPU 1, server and upstream on
# CPU 0), sampled with `perf record -e cpu-clock` (no hardware counters needed). Prints each
# server's requests/s, CPU time per request, and the share of it in the kernel, in the server's
# own code and in libc, and the top kernel and user symbols. perf slows both a little; the
# shares are what matter.
#
#   bash benches/split.sh          DURATION=5 by default
set -euo pipefail
cd "$(dirname "$0")/.."
DURATION=${DURATION:-5}
source benches/common.sh
need wrk nginx:/usr/sbin/nginx linux-perf:/usr/bin/perf

UP=$(free_port); taskset -c 0 "$SERVERS" upstream "$UP" & pids+=($!); wait_port "$UP"
CS=$(free_port)
{ printf 'listen = "127.0.0.1:%s"\nupstream = "http://127.0.0.1:%s"\n' "$CS" "$UP"; cat benches/policy.toml; } > "$work/corsair.toml"
taskset -c 0 "$BIN" serve --workers 1 --config "$work/corsair.toml" > /dev/null 2> "$work/corsair-access.log" & cs_pid=$!; pids+=($cs_pid); wait_port "$CS"

NG=$(free_port)
nginx_cors_conf "$work/nginx" "$NG" "$UP" "$work/nginx/access.log combined buffer=64k flush=1s"
taskset -c 0 /usr/sbin/nginx -p "$work/nginx" -c "$work/nginx/nginx.conf" -g 'daemon off;' & ng_pid=$!; pids+=($ng_pid); wait_port "$NG"
ng_worker=""; for _ in $(seq 50); do ng_worker=$(pgrep -P "$ng_pid" | head -n1) && [ -n "$ng_worker" ] && break; sleep 0.1; done
[ -n "$ng_worker" ] || { echo "nginx started no worker" >&2; exit 1; }

cat > "$work/actual.lua" <<'LUA'
wrk.method = "GET"
wrk.headers["Origin"] = "https://app.example.com"
LUA

profile() { # name port pid
  local out n samples
  taskset -c 1 wrk -t1 -c64 -d2s -s "$work/actual.lua" "http://127.0.0.1:$2/api/items" > /dev/null   # warm up
  perf record -q -F 4999 -e cpu-clock -o "$work/$1.data" -p "$3" -- sleep "$DURATION" 2> /dev/null & local perf_pid=$!
  out=$(taskset -c 1 wrk -t1 -c64 -d"${DURATION}s" -s "$work/actual.lua" "http://127.0.0.1:$2/api/items")
  wait "$perf_pid" || true
  n=$(echo "$out" | awk '/requests in/{print $1}')
  samples=$(perf report -i "$work/$1.data" --stdio --sort dso 2>/dev/null | awk '/^# Event count/{print $NF}')
  echo "== $1: $(echo "$out" | awk '/Requests\/sec/{print $2}') req/s under perf, $(awk -v c="$samples" -v n="$n" 'BEGIN{printf "%.2f", c / 1e3 / n}') us CPU per request"
  # awk stops printing rather than exiting, so that perf never writes into a closed pipe
  perf report -i "$work/$1.data" --stdio --sort dso 2>/dev/null | awk '/%/ && !/^#/ && ++k <= 5 {printf "   %-8s %s\n", $1, $2}'
  echo "   top symbols:"
  perf report -i "$work/$1.data" --stdio --sort sym 2>/dev/null | awk '/%/ && !/^#/ && ++k <= 12 {print "   " $0}'
}
profile corsair "$CS" "$cs_pid"
profile nginx "$NG" "$ng_worker"
