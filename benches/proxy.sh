#!/usr/bin/env bash
# `corsair proxy` against CORS Anywhere (npm cors-anywhere 0.4.4), side by side in one run, all
# on 127.0.0.1: the same upstream, the same proxied GET with an allowed Origin, the same load.
# Both check the page's origin against an allowlist and strip cookies. corsair proxy is measured
# as a user starts it (an access line per request on stderr) and with its access log off
# (CORSAIR_LOG=warn), and with a secret injected (`corsair-inject`: every response header and
# the body scanned for the secret's forms, access log on); CORS Anywhere logs nothing. Servers are pinned to core 0, wrk to core 1;
# rounds are interleaved. Reports requests/s, p99, server CPU per request and memory (RSS after
# the load, and its peak), and the ratios.
#
#   bash benches/proxy.sh        ROUNDS=3 DURATION=5 CONNECTIONS=64 by default
set -euo pipefail
cd "$(dirname "$0")/.."
ROUNDS=${ROUNDS:-3}
DURATION=${DURATION:-5}
CONNECTIONS=${CONNECTIONS:-64}
SERVER_CPU=${SERVER_CPU:-0}
LOAD_CPU=${LOAD_CPU:-1}
source benches/common.sh
need wrk node npm
mods=.test-deps/node_modules
if [ ! -d "$mods/cors-anywhere" ]; then
  mkdir -p .test-deps && (cd .test-deps && npm install --no-audit --no-fund --silent cors-anywhere@0.4.4)
fi

UP=$(free_port); taskset -c "$SERVER_CPU" "$SERVERS" upstream "$UP" & pids+=($!); wait_port "$UP"
PAGE=https://app.example.com
declare -A port pidof

# corsair proxy, as started by a user (access log on), and with the log off.
for variant in corsair corsair-nolog corsair-inject; do
  p=$(free_port)
  cat > "$work/$variant.toml" <<TOML
listen = "127.0.0.1:$p"
[proxy]
origins = ["$PAGE"]
targets = ["http://127.0.0.1:$UP"]
allow_private = ["127.0.0.1:$UP"]
TOML
  if [ $variant = corsair-inject ]; then
    printf '[[proxy.inject]]\ntarget = "http://127.0.0.1:%s"\nheader = "Authorization"\nvalue_env = "BENCH_TOKEN"\n' "$UP" >> "$work/$variant.toml"
  fi
  if [ $variant = corsair ]; then log=info; else log=warn; fi
  BENCH_TOKEN="Bearer 2f9c1a7e4b8d6f03a5c2e1b9d7f4a6c8" CORSAIR_LOG=$log taskset -c "$SERVER_CPU" "$BIN" proxy --config "$work/$variant.toml" > /dev/null 2>&1 & pidof[$variant]=$!; pids+=($!)
  port[$variant]=$p; wait_port "$p"
done

# CORS Anywhere with an origin allowlist and cookies removed: the same work.
CA=$(free_port)
NODE_PATH="$mods" taskset -c "$SERVER_CPU" node -e "
require('cors-anywhere').createServer({originWhitelist: ['$PAGE'], removeHeaders: ['cookie', 'cookie2']})
  .listen($CA, '127.0.0.1');" & pidof[cors-anywhere]=$!; pids+=($!)
port[cors-anywhere]=$CA; wait_port "$CA"

path="/http://127.0.0.1:$UP/api/items"
for name in corsair corsair-nolog corsair-inject cors-anywhere; do
  curl -sf -o /dev/null -D - "http://127.0.0.1:${port[$name]}$path" -H "Origin: $PAGE" | grep -qi "^access-control-allow-origin: \(https://app.example.com\|\*\)" \
    || { echo "$name does not proxy the request with CORS headers" >&2; exit 1; }
done

cat > "$work/get.lua" <<LUA
wrk.method = "GET"
wrk.headers["Origin"] = "$PAGE"
wrk.headers["Cookie"] = "session=abc"
LUA

declare -A rps p99 cpu
ticks() { awk '{print $14 + $15}' /proc/"$1"/stat; }
HZ=$(getconf CLK_TCK)
measure() { # name
  local before after out n
  before=$(ticks "${pidof[$1]}")
  out=$(taskset -c "$LOAD_CPU" wrk -t1 -c"$CONNECTIONS" -d"${DURATION}s" --latency -s "$work/get.lua" "http://127.0.0.1:${port[$1]}$path")
  after=$(ticks "${pidof[$1]}")
  if echo "$out" | grep -q "Non-2xx\|Socket errors"; then echo "$1: errors under load" >&2; echo "$out" >&2; fi
  n=$(echo "$out" | awk '/requests in/{print $1}')
  rps[$1]="${rps[$1]:-} $(echo "$out" | awk '/Requests\/sec/{print $2}')"
  p99[$1]="${p99[$1]:-} $(echo "$out" | awk '$1=="99%"{print $2}')"
  cpu[$1]="${cpu[$1]:-} $(awk -v d=$((after - before)) -v n="$n" -v hz="$HZ" 'BEGIN{printf "%.1f", d / hz * 1e6 / n}')"
}
median() { printf '%s\n' $1 | sort -g | awk '{a[NR]=$1} END{print a[int((NR+1)/2)]}'; }
ms() { printf '%s\n' $1 | sed -E 's/us$/e-3/; s/ms$//; s/([0-9.]+)s$/\1e3/' | sort -g | awk '{a[NR]=$1} END{printf "%.3f", a[int((NR+1)/2)]}'; }
mem() { awk -v k="$2" '$1==k":"{printf "%.1f", $2/1024}' /proc/"${pidof[$1]}"/status; }

for round in $(seq "$ROUNDS"); do
  for name in corsair corsair-nolog corsair-inject cors-anywhere; do measure "$name"; done
done

echo "# wrk -t1 -c$CONNECTIONS -d${DURATION}s, proxied GET with Origin and a Cookie, median of $ROUNDS interleaved rounds; servers on CPU $SERVER_CPU, wrk on CPU $LOAD_CPU"
echo "# node $(node --version), cors-anywhere $(node -p "require('$PWD/$mods/cors-anywhere/package.json').version")"
printf '%-15s %12s %10s %14s %10s %12s\n' server req/s p99_ms server_us/req rss_MiB peak_rss_MiB
for name in corsair corsair-nolog corsair-inject cors-anywhere; do
  printf '%-15s %12s %10s %14s %10s %12s\n' "$name" "$(median "${rps[$name]}")" "$(ms "${p99[$name]}")" "$(median "${cpu[$name]}")" "$(mem "$name" VmRSS)" "$(mem "$name" VmHWM)"
done
r() { awk -v a="$1" -v b="$2" 'BEGIN{printf "%.2f", a/b}'; }
echo
echo "corsair-inject / corsair (the secret scan, both with the access log on): $(r "$(median "${rps[corsair-inject]}")" "$(median "${rps[corsair]}")")x requests/s, $(r "$(median "${cpu[corsair-inject]}")" "$(median "${cpu[corsair]}")")x CPU per request"
for name in corsair corsair-nolog corsair-inject; do
  echo "$name / cors-anywhere: $(r "$(median "${rps[$name]}")" "$(median "${rps[cors-anywhere]}")")x requests/s, $(r "$(mem "$name" VmHWM)" "$(mem cors-anywhere VmHWM)")x peak memory, $(r "$(ms "${p99[$name]}")" "$(ms "${p99[cors-anywhere]}")")x p99, $(r "$(median "${cpu[$name]}")" "$(median "${cpu[cors-anywhere]}")")x CPU per request"
done
