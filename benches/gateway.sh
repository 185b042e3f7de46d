#!/usr/bin/env bash
# Side-by-side throughput, p99 latency and memory, all on 127.0.0.1, in one run:
#   1. CORS reverse proxies in front of the same upstream: `corsair serve`, nginx with the
#      equivalent hand-written CORS config (map + add_header ... always, preflight return 204,
#      upstream keepalive), and a no-CORS hyper proxy as the baseline;
#   2. the same axum app without CORS, with corsair-tower, and with tower-http's CorsLayer.
# Servers (proxy and upstream) are pinned to core 0, wrk to core 1; rounds are interleaved.
# Besides req/s and p99: the server's and the upstream's CPU time per request, the server's
# context switches and the machine's TCP segments per request, and perf's counters where readable.
# Installs nginx and wrk with apt if missing. Bounded: ROUNDS x DURATION per measurement.
#
#   bash benches/gateway.sh            ROUNDS=3 DURATION=5 CONNECTIONS=64 by default
#   ONLY="corsair nginx" bash benches/gateway.sh   measures only the servers named
#   UPSTREAM_CPU=1 bash benches/gateway.sh   the upstream on wrk's core: CPU 0 is the proxy's alone
#   UPSTREAM_BATCH=1 bash benches/gateway.sh   the upstream's wake-ups do not preempt the proxy
#   BASELINE_BIN=/path/to/older/corsair bash benches/gateway.sh
#       also measures another corsair build ("corsair-base") with the same config, interleaved
set -euo pipefail
cd "$(dirname "$0")/.."
ROUNDS=${ROUNDS:-3}
DURATION=${DURATION:-5}
CONNECTIONS=${CONNECTIONS:-64}
SERVER_CPU=${SERVER_CPU:-0}
LOAD_CPU=${LOAD_CPU:-1}
# The upstream shares the servers' core by default, so requests/s count its work too, the same
# for every proxy; UPSTREAM_CPU=1 moves it to wrk's core, leaving CPU 0 to the proxy alone.
UPSTREAM_CPU=${UPSTREAM_CPU:-$SERVER_CPU}
# UPSTREAM_BATCH=1 runs the upstream under SCHED_BATCH (chrt -b 0): its wake-ups no longer
# preempt the proxy on their shared core, so each side handles more requests per turn.
up_sched=(); [ -n "${UPSTREAM_BATCH:-}" ] && up_sched=(chrt -b 0)
source benches/common.sh
need wrk nginx:/usr/sbin/nginx nghttp2-client:/usr/bin/h2load openssl
rss_kib() { local total=0; for p in "$@"; do total=$((total + $(awk '/VmRSS/{print $2}' /proc/"$p"/status 2>/dev/null || echo 0))); done; echo "$total"; }

UP=$(free_port); taskset -c "$UPSTREAM_CPU" "${up_sched[@]}" "$SERVERS" upstream "$UP" & up_pid=$!; pids+=($up_pid); wait_port "$UP"

# corsair serve, access log off ("corsair"), and as a user starts it: the default access log
# (text, on standard error), here into a file ("corsair-log")
CS=$(free_port)
cat > "$work/corsair.toml" <<TOML
listen = "127.0.0.1:$CS"
upstream = "http://127.0.0.1:$UP"
[gateway]
access_log = false
TOML
cat benches/policy.toml >> "$work/corsair.toml"
CORSAIR_LOG=warn taskset -c "$SERVER_CPU" "$BIN" serve --workers 1 --config "$work/corsair.toml" > /dev/null 2>&1 & cs_pid=$!; pids+=($cs_pid); wait_port "$CS"
CL=$(free_port)
printf 'listen = "127.0.0.1:%s"\nupstream = "http://127.0.0.1:%s"\n' "$CL" "$UP" > "$work/corsair-log.toml"
cat benches/policy.toml >> "$work/corsair-log.toml"
taskset -c "$SERVER_CPU" "$BIN" serve --workers 1 --config "$work/corsair-log.toml" > /dev/null 2> "$work/corsair-access.log" & cl_pid=$!; pids+=($cl_pid); wait_port "$CL"
# Another corsair build with the same config, to compare two versions in one run.
CB=""; cb_pid=""
if [ -n "${BASELINE_BIN:-}" ]; then
  CB=$(free_port)
  sed "s/^listen = .*/listen = \"127.0.0.1:$CB\"/" "$work/corsair.toml" > "$work/corsair-base.toml"
  CORSAIR_LOG=warn taskset -c "$SERVER_CPU" "$BASELINE_BIN" serve --workers 1 --config "$work/corsair-base.toml" > /dev/null 2>&1 & cb_pid=$!; pids+=($cb_pid); wait_port "$CB"
fi

# nginx with the equivalent hand-written CORS configuration
NG=$(free_port)
nginx_cors_conf "$work/nginx" "$NG" "$UP" off
taskset -c "$SERVER_CPU" /usr/sbin/nginx -p "$work/nginx" -c "$work/nginx/nginx.conf" -g 'daemon off;' & ng_pid=$!; pids+=($ng_pid); wait_port "$NG"
# Over TLS, one certificate for both (ECDSA P-256, for localhost and 127.0.0.1), access logs
# off on both: "corsair-tls" (corsair serve with [tls]) and "nginx-tls" (`listen ... ssl
# http2`, TLS 1.2 and 1.3). wrk measures HTTP/1.1 over TLS, h2load HTTP/2.
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 -subj /CN=localhost \
  -addext "subjectAltName=DNS:localhost,IP:127.0.0.1" -keyout "$work/key.pem" -out "$work/cert.pem" 2>/dev/null
CT=$(free_port)
sed -e "s/^listen = .*/listen = \"127.0.0.1:$CT\"/" "$work/corsair.toml" > "$work/corsair-tls.toml"
printf '[tls]\ncert = "%s"\nkey = "%s"\n' "$work/cert.pem" "$work/key.pem" >> "$work/corsair-tls.toml"
CORSAIR_LOG=warn taskset -c "$SERVER_CPU" "$BIN" serve --workers 1 --config "$work/corsair-tls.toml" > /dev/null 2>&1 & ct_pid=$!; pids+=($ct_pid); wait_port "$CT"
NT=$(free_port)
mkdir -p "$work/nginx-tls"
sed -e "s|listen 127.0.0.1:$NG;|listen 127.0.0.1:$NT ssl http2; ssl_certificate $work/cert.pem; ssl_certificate_key $work/key.pem; ssl_protocols TLSv1.2 TLSv1.3; ssl_session_cache shared:SSL:1m; keepalive_requests 1000000;|" \
    -e "s|$work/nginx/|$work/nginx-tls/|g" "$work/nginx/nginx.conf" > "$work/nginx-tls/nginx.conf"
grep -q "ssl_certificate $work/cert.pem" "$work/nginx-tls/nginx.conf" || { echo "nginx-tls: the listen line was not set" >&2; exit 1; }
taskset -c "$SERVER_CPU" /usr/sbin/nginx -p "$work/nginx-tls" -c "$work/nginx-tls/nginx.conf" -g 'daemon off;' & nt_pid=$!; pids+=($nt_pid); wait_port "$NT"

# The same nginx with its access log on, buffered as nginx users run it ("nginx-log").
NL=$(free_port)
mkdir -p "$work/nginx-log"
sed -e "s|access_log off;|access_log $work/nginx-log/access.log combined buffer=64k flush=1s;|" \
    -e "s|listen 127.0.0.1:$NG;|listen 127.0.0.1:$NL;|" -e "s|$work/nginx/|$work/nginx-log/|g" \
    "$work/nginx/nginx.conf" > "$work/nginx-log/nginx.conf"
grep -q "access_log $work/nginx-log/access.log" "$work/nginx-log/nginx.conf" || { echo "nginx-log: the access_log line was not set" >&2; exit 1; }
taskset -c "$SERVER_CPU" /usr/sbin/nginx -p "$work/nginx-log" -c "$work/nginx-log/nginx.conf" -g 'daemon off;' & nl_pid=$!; pids+=($nl_pid); wait_port "$NL"

# the no-CORS hyper proxy baseline, and the three axum apps
BL=$(free_port); taskset -c "$SERVER_CPU" "$SERVERS" proxy "$BL" "$UP" & bl_pid=$!; pids+=($bl_pid); wait_port "$BL"
AX0=$(free_port); taskset -c "$SERVER_CPU" "$SERVERS" axum "$AX0" none & ax0_pid=$!; pids+=($ax0_pid); wait_port "$AX0"
AX1=$(free_port); taskset -c "$SERVER_CPU" "$SERVERS" axum "$AX1" corsair & ax1_pid=$!; pids+=($ax1_pid); wait_port "$AX1"
AX2=$(free_port); taskset -c "$SERVER_CPU" "$SERVERS" axum "$AX2" tower-http & ax2_pid=$!; pids+=($ax2_pid); wait_port "$AX2"
AX3=$(free_port); taskset -c "$SERVER_CPU" "$SERVERS" axum "$AX3" corsair-outer & ax3_pid=$!; pids+=($ax3_pid); wait_port "$AX3"
AX4=$(free_port); taskset -c "$SERVER_CPU" "$SERVERS" axum "$AX4" static-headers & ax4_pid=$!; pids+=($ax4_pid); wait_port "$AX4"
AX5=$(free_port); taskset -c "$SERVER_CPU" "$SERVERS" axum "$AX5" handler-headers & ax5_pid=$!; pids+=($ax5_pid); wait_port "$AX5"

cat > "$work/preflight.lua" <<'LUA'
wrk.method = "OPTIONS"
wrk.headers["Origin"] = "https://app.example.com"
wrk.headers["Access-Control-Request-Method"] = "PUT"
wrk.headers["Access-Control-Request-Headers"] = "authorization,content-type"
LUA
cat > "$work/actual.lua" <<'LUA'
wrk.method = "GET"
wrk.headers["Origin"] = "https://app.example.com"
LUA

# Correctness first: every server under test must answer the preflight and the request.
for port in $CT $NT; do
  for proto in --http1.1 --http2; do
    curl -sfk $proto -o /dev/null "https://127.0.0.1:$port/api/items" -H 'Origin: https://app.example.com' -D - | grep -qi '^access-control-allow-origin: https://app.example.com' \
      || { echo "port $port does not answer over TLS ($proto) correctly" >&2; exit 1; }
  done
done
for port in $CS $CL $NG $NL $AX1 $AX2 $AX3; do
  curl -sf -o /dev/null -X OPTIONS "http://127.0.0.1:$port/api/items" -H 'Origin: https://app.example.com' -H 'Access-Control-Request-Method: PUT' -D - | grep -qi '^access-control-allow-origin: https://app.example.com' \
    || { echo "port $port does not answer the preflight correctly" >&2; exit 1; }
  curl -sf -o /dev/null "http://127.0.0.1:$port/api/items" -H 'Origin: https://app.example.com' -D - | grep -qi '^access-control-allow-origin: https://app.example.com' \
    || { echo "port $port does not answer the request correctly" >&2; exit 1; }
done

declare -A rps p99 cpu upcpu csw tseg ins insu sys core pidof
# Instructions per request (user + kernel) from perf, when the machine allows it: unlike
# requests/s, they do not move with the other load on a shared machine.
use_perf=""
if command -v perf >/dev/null 2>&1 && perf stat -x, -e instructions -- true 2>&1 | grep -q '^[0-9]'; then use_perf=1; fi
# System calls per request too, where the kernel's tracepoints are readable (root, or a low
# perf_event_paranoid): the kernel's share of a proxied request is most of its cost.
perf_events=instructions:u,instructions:k
if [ -n "$use_perf" ] && perf stat -x, -e raw_syscalls:sys_enter -- true 2>&1 | grep -q '^[0-9]'; then perf_events+=,raw_syscalls:sys_enter; fi
pidof[corsair-tls]=$ct_pid; pidof[nginx-tls]="$nt_pid $(pgrep -P "$nt_pid" | tr '\n' ' ')"
pidof[corsair]=$cs_pid; pidof[corsair-log]=$cl_pid; pidof[corsair-base]=$cb_pid; pidof[nginx]="$ng_pid $(pgrep -P "$ng_pid" | tr '\n' ' ')"; pidof[nginx-log]="$nl_pid $(pgrep -P "$nl_pid" | tr '\n' ' ')"; pidof[baseline]=$bl_pid
pidof[axum-none]=$ax0_pid; pidof[axum-static-headers]=$ax4_pid; pidof[axum-handler-headers]=$ax5_pid; pidof[axum-corsair]=$ax1_pid; pidof[axum-tower-http]=$ax2_pid; pidof[axum-corsair-outer]=$ax3_pid
switches() { local t=0; for p in "$@"; do t=$((t + $(cat /proc/"$p"/task/*/status 2>/dev/null | awk '/ctxt_switches/{s += $2} END{print s + 0}'))); done; echo "$t"; }
ticks() { local t=0; for p in "$@"; do t=$((t + $(awk '{print $14 + $15}' /proc/"$p"/stat))); done; echo "$t"; }
HZ=$(getconf CLK_TCK)
measure() { # name port script
  if [ -n "${ONLY:-}" ] && [[ " $ONLY " != *" $1 "* ]]; then return 0; fi
  local out before after up_before up_after cs_before cs_after
  before=$(ticks ${pidof[$1]}); up_before=$(ticks $up_pid); cs_before=$(switches ${pidof[$1]})
  local perf_pid=""
  if [ -n "$use_perf" ]; then
    perf stat -x, -e "$perf_events" -p "$(echo ${pidof[$1]} | tr ' ' ',')" -o "$work/perf.txt" -- sleep "$DURATION" & perf_pid=$!
    # The whole server core's cycles: the proxy's, the upstream's and the kernel's work between
    # them, which is what requests/s on that core comes down to.
    perf stat -x, -a -C "$SERVER_CPU" -e cycles -o "$work/core.txt" -- sleep "$DURATION" & core_pid=$!
  fi
  command -v nstat >/dev/null && nstat -n >/dev/null 2>&1
  out=$(taskset -c "$LOAD_CPU" wrk -t1 -c"$CONNECTIONS" -d"${DURATION}s" --latency -s "$work/$3.lua" "${scheme[$1]:-http}://127.0.0.1:$2/api/items")
  # TCP segments sent on the machine per request (all on loopback): 4 is the floor for a
  # proxied request on kept-alive connections, 2 for a preflight; more means pure ACKs or reconnects.
  local segs=""; command -v nstat >/dev/null && segs=$(nstat 2>/dev/null | awk '$1=="TcpOutSegs"{print $2}')
  after=$(ticks ${pidof[$1]}); up_after=$(ticks $up_pid); cs_after=$(switches ${pidof[$1]})
  if [ -n "$perf_pid" ]; then
    wait "$perf_pid" "$core_pid" || true
    local n_req; n_req=$(echo "$out" | awk '/requests in/{print $1}')
    ins["$1/$3"]="${ins["$1/$3"]:-} $(awk -F, -v n="$n_req" '/instructions/{t += $1} END{printf "%.0f", t / n}' "$work/perf.txt")"
    insu["$1/$3"]="${insu["$1/$3"]:-} $(awk -F, -v n="$n_req" '/instructions:u/{t += $1} END{printf "%.0f", t / n}' "$work/perf.txt")"
    sys["$1/$3"]="${sys["$1/$3"]:-} $(awk -F, -v n="$n_req" '/sys_enter/{t += $1} END{printf "%.1f", t / n}' "$work/perf.txt")"
    core["$1/$3"]="${core["$1/$3"]:-} $(awk -F, -v n="$n_req" '/cycles/{t += $1} END{printf "%.0f", t / n}' "$work/core.txt")"
  fi
  local r l n
  r=$(echo "$out" | awk '/Requests\/sec/{print $2}')
  l=$(echo "$out" | awk '$1=="99%"{print $2}')
  n=$(echo "$out" | awk '/requests in/{print $1}')
  # CPU time the server (not the load generator) spent per request, in microseconds.
  cpu["$1/$3"]="${cpu["$1/$3"]:-} $(awk -v d=$((after - before)) -v n="$n" -v hz="$HZ" 'BEGIN{printf "%.2f", d / hz * 1e6 / n}')"
  # The same for the upstream all proxies share (on the same core): what the proxy's way of
  # talking to it costs there. And the proxy's context switches per request.
  upcpu["$1/$3"]="${upcpu["$1/$3"]:-} $(awk -v d=$((up_after - up_before)) -v n="$n" -v hz="$HZ" 'BEGIN{printf "%.2f", d / hz * 1e6 / n}')"
  [ -n "$segs" ] && tseg["$1/$3"]="${tseg["$1/$3"]:-} $(awk -v s="$segs" -v n="$n" 'BEGIN{printf "%.2f", s / n}')"
  csw["$1/$3"]="${csw["$1/$3"]:-} $(awk -v d=$((cs_after - cs_before)) -v n="$n" 'BEGIN{printf "%.3f", d / n}')"
  if echo "$out" | grep -q "Non-2xx"; then echo "$1 $3: non-2xx responses" >&2; echo "$out" >&2; exit 1; fi
  rps["$1/$3"]="${rps["$1/$3"]:-} $r"
  p99["$1/$3"]="${p99["$1/$3"]:-} $l"
}
# HTTP/2 over TLS with h2load: CONNECTIONS/4 connections, 10 streams each, for DURATION; a
# preflight is an OPTIONS with Access-Control-Request-Method (h2load overrides :method).
measure_h2() { # name port kind
  if [ -n "${ONLY:-}" ] && [[ " $ONLY " != *" $1 "* ]]; then return 0; fi
  local out r extra=()
  [ "$3" = preflight ] && extra=(-H ':method: OPTIONS' -H 'access-control-request-method: PUT' -H 'access-control-request-headers: content-type')
  out=$(taskset -c "$LOAD_CPU" h2load -t1 -c$((CONNECTIONS / 4)) -m10 -D"$DURATION" -H 'origin: https://app.example.com' "${extra[@]}" "https://127.0.0.1:$2/api/items" 2>&1)
  echo "$out" | grep -q "status codes: [0-9]* 2xx" || { echo "$1 h2: $out" >&2; exit 1; }
  if ! echo "$out" | grep -qE "status codes: [0-9]+ 2xx, 0 3xx, 0 4xx, 0 5xx"; then echo "$1 h2: non-2xx" >&2; echo "$out" >&2; exit 1; fi
  r=$(echo "$out" | awk '/^finished in/{for(i=1;i<=NF;i++) if ($i ~ /req\/s/) {print $(i-1); exit}}')
  rps["$1/h2-$3"]="${rps["$1/h2-$3"]:-} $r"
}
declare -A scheme; scheme[corsair-tls]=https; scheme[nginx-tls]=https
median() { [ -n "$1" ] || { printf n/a; return; }; printf '%s\n' $1 | sort -g | awk '{a[NR]=$1} END{print a[int((NR+1)/2)]}'; }
ms() { # wrk latency (e.g. 812.00us, 1.20ms) in ms
  [ -n "$1" ] || { printf n/a; return; }
  printf '%s\n' $1 | sed -E 's/us$/e-3/; s/ms$//; s/([0-9.]+)s$/\1e3/' | sort -g | awk '{a[NR]=$1} END{printf "%.3f", a[int((NR+1)/2)]}'
}

for round in $(seq "$ROUNDS"); do
  for kind in actual preflight; do
    measure corsair "$CS" $kind
    measure corsair-log "$CL" $kind
    measure corsair-tls "$CT" $kind
    measure nginx-tls "$NT" $kind
    measure_h2 corsair-tls "$CT" $kind
    measure_h2 nginx-tls "$NT" $kind
    [ -n "$CB" ] && measure corsair-base "$CB" $kind
    measure nginx "$NG" $kind
    measure nginx-log "$NL" $kind
    measure baseline "$BL" $kind
    [ $kind = actual ] && measure axum-none "$AX0" $kind   # no CORS: it has no preflight to answer
    [ $kind = actual ] && measure axum-static-headers "$AX4" $kind
    [ $kind = actual ] && measure axum-handler-headers "$AX5" $kind
    measure axum-corsair "$AX1" $kind
    measure axum-tower-http "$AX2" $kind
    measure axum-corsair-outer "$AX3" $kind
  done
done

echo "# wrk -t1 -c$CONNECTIONS -d${DURATION}s, median of $ROUNDS interleaved rounds; servers on CPU $SERVER_CPU, the upstream on CPU $UPSTREAM_CPU${UPSTREAM_BATCH:+ (SCHED_BATCH)}, wrk on CPU $LOAD_CPU"
echo "$(/usr/sbin/nginx -v 2>&1); $(wrk --version 2>&1 | head -n1 | cut -c1-40)"
printf '%-19s %-10s %12s %10s %14s %14s %12s %12s %14s %14s %12s %15s\n' server request req/s p99_ms server_us/req upstream_us/req ctxsw/req tcp_segs/req instr/req user_instr/req syscalls/req core_cycles/req
for name in corsair corsair-log corsair-tls corsair-base nginx nginx-log nginx-tls baseline axum-none axum-handler-headers axum-static-headers axum-corsair axum-corsair-outer axum-tower-http; do
  for kind in actual preflight h2-actual h2-preflight; do
    [ -n "${rps["$name/$kind"]:-}" ] || continue
    printf '%-19s %-10s %12s %10s %14s %14s %12s %12s %14s %14s %12s %15s\n' "$name" "$kind" "$(median "${rps["$name/$kind"]}")" "$(ms "${p99["$name/$kind"]:-}")" "$(median "${cpu["$name/$kind"]:-}")" "$(median "${upcpu["$name/$kind"]:-}")" "$(median "${csw["$name/$kind"]:-}")" "$(median "${tseg["$name/$kind"]:-}")" "$(median "${ins["$name/$kind"]:-n/a}")" "$(median "${insu["$name/$kind"]:-n/a}")" "$(median "${sys["$name/$kind"]:-n/a}")" "$(median "${core["$name/$kind"]:-n/a}")"
  done
done
ratio() { [ -n "${rps["$1"]:-}" ] && [ -n "${rps["$2"]:-}" ] || { printf "n/a "; return; }; awk -v a="$(median "${rps["$1"]}")" -v b="$(median "${rps["$2"]}")" 'BEGIN{printf "%.2f", a/b}'; }
echo
echo "access logs off on both sides:"
echo "corsair serve / nginx, proxied actual requests: $(ratio corsair/actual nginx/actual)x"
echo "corsair serve / nginx, preflights:              $(ratio corsair/preflight nginx/preflight)x"
echo "access logs on, as each is run (corsair's default text log on stderr into a file; nginx combined, buffer=64k flush=1s):"
echo "corsair serve / nginx, proxied actual requests: $(ratio corsair-log/actual nginx-log/actual)x"
echo "corsair serve / nginx, preflights:              $(ratio corsair-log/preflight nginx-log/preflight)x"
echo "over TLS, access logs off on both (same certificate, TLS 1.2/1.3):"
echo "corsair serve / nginx, HTTP/1.1 proxied actual: $(ratio corsair-tls/actual nginx-tls/actual)x"
echo "corsair serve / nginx, HTTP/1.1 preflights:     $(ratio corsair-tls/preflight nginx-tls/preflight)x"
echo "corsair serve / nginx, HTTP/2 proxied actual:   $(ratio corsair-tls/h2-actual nginx-tls/h2-actual)x"
echo "corsair serve / nginx, HTTP/2 preflights:       $(ratio corsair-tls/h2-preflight nginx-tls/h2-preflight)x"
echo "what the log costs: corsair $(ratio corsair-log/actual corsair/actual)x and nginx $(ratio nginx-log/actual nginx/actual)x of their own requests/s without it (actual)"
echo "access log lines written: corsair $(wc -l < "$work/corsair-access.log"), nginx $(wc -l < "$work/nginx-log/access.log" 2>/dev/null || echo 0) (nginx flushes every second)"
if [ -n "$CB" ]; then
  echo "corsair serve / BASELINE_BIN, proxied actual:   $(ratio corsair/actual corsair-base/actual)x"
  echo "corsair serve / BASELINE_BIN, preflights:       $(ratio corsair/preflight corsair-base/preflight)x"
fi
echo "corsair serve / no-CORS hyper proxy, actual:    $(ratio corsair/actual baseline/actual)x"
echo "nginx / no-CORS hyper proxy, actual:            $(ratio nginx/actual baseline/actual)x"
echo "axum + corsair-tower / axum, actual:            $(ratio axum-corsair/actual axum-none/actual)x"
echo "axum + tower-http / axum, actual:               $(ratio axum-tower-http/actual axum-none/actual)x"
echo "axum + four constant headers / axum, actual:    $(ratio axum-static-headers/actual axum-none/actual)x"
echo "axum + corsair-tower / axum + tower-http, preflight: $(ratio axum-corsair/preflight axum-tower-http/preflight)x"
cpu_ratio() { [ -n "${rps["$1"]:-}" ] && [ -n "${rps["$2"]:-}" ] || { printf "n/a "; return; }; awk -v a="$(median "${cpu["$1"]}")" -v b="$(median "${cpu["$2"]}")" 'BEGIN{printf "%.2f", a/b}'; }
echo "server CPU per request, corsair serve / nginx, actual:    $(cpu_ratio corsair/actual nginx/actual)x"
echo "server CPU per request, corsair serve / nginx, preflight: $(cpu_ratio corsair/preflight nginx/preflight)x"
echo "server CPU per request, axum + corsair-tower / axum, actual:      $(cpu_ratio axum-corsair/actual axum-none/actual)x"
echo "server CPU per request, axum + tower-http / axum, actual:         $(cpu_ratio axum-tower-http/actual axum-none/actual)x"
if [ -n "$use_perf" ]; then
  ins_ratio() { [ -n "${rps["$1"]:-}" ] && [ -n "${rps["$2"]:-}" ] || { printf "n/a "; return; }; awk -v a="$(median "${ins["$1"]}")" -v b="$(median "${ins["$2"]}")" 'BEGIN{printf "%.2f", a/b}'; }
  core_ratio() { [ -n "${core["$1"]:-}" ] && [ -n "${core["$2"]:-}" ] || { printf "n/a "; return; }; awk -v a="$(median "${core["$1"]}")" -v b="$(median "${core["$2"]}")" 'BEGIN{printf "%.2f", a/b}'; }
  echo "server core cycles per request, nginx / corsair serve, actual:    $(core_ratio nginx/actual corsair/actual)x"
  echo "server core cycles per request, nginx / corsair serve, preflight: $(core_ratio nginx/preflight corsair/preflight)x"
  echo "instructions per request, corsair serve / nginx, actual:    $(ins_ratio corsair/actual nginx/actual)x"
  echo "instructions per request, corsair serve / nginx, preflight: $(ins_ratio corsair/preflight nginx/preflight)x"
  echo "instructions per request, axum + corsair-tower / axum:               $(ins_ratio axum-corsair/actual axum-none/actual)x"
  echo "instructions per request, axum wrapped whole in corsair-tower / axum: $(ins_ratio axum-corsair-outer/actual axum-none/actual)x"
  echo "instructions per request, axum + tower-http / axum:                  $(ins_ratio axum-tower-http/actual axum-none/actual)x"
  echo "instructions per request, axum + four constant headers / axum:       $(ins_ratio axum-static-headers/actual axum-none/actual)x"
  echo "server core cycles per request, axum + corsair-tower / axum:         $(core_ratio axum-corsair/actual axum-none/actual)x"
  echo "server core cycles per request, axum + four constant headers / axum: $(core_ratio axum-static-headers/actual axum-none/actual)x"
fi
echo
echo "RSS after the run: corsair serve $(( $(rss_kib $cs_pid) / 1024 )) MiB; nginx (master + worker) $(( $(rss_kib $ng_pid $(pgrep -P $ng_pid | tr '\n' ' ')) / 1024 )) MiB; no-CORS proxy $(( $(rss_kib $bl_pid) / 1024 )) MiB"
