#!/usr/bin/env bash
# Instructions per request of `corsair serve` under valgrind's callgrind, for machines where perf
# cannot count instructions (benches/gateway.sh uses perf when it can). Deterministic: the same
# build gives the same count to within a few instructions. One worker, one keep-alive client on
# 127.0.0.1, the policy in benches/policy.toml, the bench upstream. Each figure is
# (I(N2) - I(N1)) / (N2 - N1), so start-up and shutdown cancel out; user space only.
#
#   bash benches/instructions.sh                          this build
#   BASELINE_BIN=/path/to/older/corsair bash benches/instructions.sh   and another, side by side
#   ACCESS_LOG=off bash benches/instructions.sh   with [gateway] access_log = false (default: the
#                                                 access log on, as a user starts it)
#   N1=500 N2=5500 by default
set -euo pipefail
cd "$(dirname "$0")/.."
N1=${N1:-500}
N2=${N2:-5500}
source benches/common.sh
need valgrind

# A client that sends N requests of one kind over one connection and reads each answer whole.
cat > "$work/client.py" <<'PY'
import socket, sys
port, n, kind = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
if kind == "preflight":
    req = (b"OPTIONS /api/items HTTP/1.1\r\nHost: gw\r\nOrigin: https://app.example.com\r\n"
           b"Access-Control-Request-Method: PUT\r\nAccess-Control-Request-Headers: content-type, authorization\r\n\r\n")
else:
    req = b"GET /api/items HTTP/1.1\r\nHost: gw\r\nOrigin: https://app.example.com\r\n\r\n"
s = socket.create_connection(("127.0.0.1", port))
buf = b""
for _ in range(n):
    s.sendall(req)
    while True:
        i = buf.find(b"\r\n\r\n")
        if i >= 0:
            length = 0
            for line in buf[:i].decode("latin1").lower().split("\r\n"):
                if line.startswith("content-length:"):
                    length = int(line.split(":")[1])
            if len(buf) >= i + 4 + length:
                buf = buf[i + 4 + length:]
                break
        chunk = s.recv(65536)
        if not chunk:
            sys.exit("the gateway closed the connection")
        buf += chunk
PY

UP=$(free_port)
"$SERVERS" upstream "$UP" & pids+=($!)
wait_port "$UP"

# Total instructions of one gateway run serving N requests of one kind.
total() {
  local bin=$1 kind=$2 n=$3 port
  port=$(free_port)
  { echo "listen = \"127.0.0.1:$port\""; echo "upstream = \"http://127.0.0.1:$UP\""
    [ "${ACCESS_LOG:-on}" = off ] && printf '[gateway]\naccess_log = false\n'
    cat benches/policy.toml; } > "$work/c.toml"
  CORSAIR_LOG=warn valgrind --tool=callgrind --callgrind-out-file="$work/cg.out" "$bin" serve --workers 1 --config "$work/c.toml" >/dev/null 2>"$work/vg.txt" &
  local gw=$!
  wait_port "$port"
  python3 "$work/client.py" "$port" "$n" "$kind"
  kill -TERM "$gw"; wait "$gw" 2>/dev/null || true
  awk '/^(summary|totals):/ {print $2; exit}' "$work/cg.out"
}

per_request() {
  local a b
  a=$(total "$1" "$2" "$N1"); b=$(total "$1" "$2" "$N2")
  echo $(( (b - a) / (N2 - N1) ))
}

declare -A ins
bins=("$BIN")
[ -n "${BASELINE_BIN:-}" ] && bins+=("$BASELINE_BIN")
for kind in preflight actual; do
  line="$kind:"
  for bin in "${bins[@]}"; do
    ins[$kind$bin]=$(per_request "$bin" "$kind")
    line+=" $bin ${ins[$kind$bin]}"
  done
  if [ -n "${BASELINE_BIN:-}" ]; then
    line+=" ($(python3 -c "print(f'{${ins[$kind${bins[0]}]}/${ins[$kind$BASELINE_BIN]}:.3f}')")x the baseline)"
  fi
  echo "instructions per request, $line"
done
