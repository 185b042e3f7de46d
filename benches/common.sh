# Shared by the benchmark scripts (sourced): package installs, the release builds, a work
# directory with the processes to stop on exit, and loopback ports.
sudo_if_needed() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }

# Installs the Debian packages named whose command is missing: `need wrk nginx:/usr/sbin/nginx`.
need() {
  local missing=() spec pkg path
  for spec in "$@"; do
    pkg=${spec%%:*}; path=${spec#*:}
    if [ "$path" = "$spec" ]; then command -v "$pkg" >/dev/null 2>&1 || missing+=("$pkg"); else [ -x "$path" ] || missing+=("$pkg"); fi
  done
  if [ ${#missing[@]} -gt 0 ]; then
    sudo_if_needed apt-get update -qq
    sudo_if_needed env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
  fi
}

cargo build --release --quiet -p corsair --bin corsair
cargo build --release --quiet -p corsair-tower --example bench_servers
BIN=target/release/corsair
SERVERS=target/release/examples/bench_servers
work=$(mktemp -d)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_port() { for _ in $(seq 300); do (echo > /dev/tcp/127.0.0.1/"$1") 2>/dev/null && return 0; sleep 0.05; done; echo "port $1 did not open" >&2; return 1; }
