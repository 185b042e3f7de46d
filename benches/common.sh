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

# nginx with the hand-written CORS configuration equivalent to benches/policy.toml (map +
# add_header ... always, preflight return 204, upstream keepalive), in DIR/nginx.conf, listening
# on 127.0.0.1:PORT in front of 127.0.0.1:UPSTREAM; ACCESS is the access_log directive's value
# ("off", or "FILE combined buffer=64k flush=1s").
nginx_cors_conf() { # DIR PORT UPSTREAM ACCESS
  local dir=$1 port=$2 up=$3 access=$4
  mkdir -p "$dir"
  cat > "$dir/nginx.conf" <<NGINX
worker_processes 1;
worker_cpu_affinity auto;
pid $dir/nginx.pid;
error_log $dir/error.log warn;
events { worker_connections 4096; }
http {
  access_log $access;
  client_body_temp_path $dir/body; proxy_temp_path $dir/proxy;
  fastcgi_temp_path $dir/fcgi; uwsgi_temp_path $dir/uwsgi; scgi_temp_path $dir/scgi;
  upstream api { server 127.0.0.1:$up; keepalive 256; }
  map \$http_origin \$cors_origin {
    default "";
    "https://app.example.com" \$http_origin;
    "https://admin.example.com" \$http_origin;
  }
  map \$cors_origin \$cors_credentials { default ""; "~." "true"; }
  server {
    listen 127.0.0.1:$port;
    location / {
      if (\$request_method = OPTIONS) {
        add_header Access-Control-Allow-Origin \$cors_origin always;
        add_header Access-Control-Allow-Credentials \$cors_credentials always;
        add_header Access-Control-Allow-Methods "GET, POST, PUT, DELETE" always;
        add_header Access-Control-Allow-Headers "Content-Type, Authorization" always;
        add_header Access-Control-Max-Age 600 always;
        add_header Vary "Origin, Access-Control-Request-Method, Access-Control-Request-Headers" always;
        return 204;
      }
      proxy_hide_header Access-Control-Allow-Origin;
      add_header Access-Control-Allow-Origin \$cors_origin always;
      add_header Access-Control-Allow-Credentials \$cors_credentials always;
      add_header Access-Control-Expose-Headers "X-Total-Count" always;
      add_header Vary Origin always;
      proxy_pass http://api;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      # What corsair serve sends the upstream too, so both do the same work.
      proxy_set_header X-Forwarded-For \$proxy_add_x_forwarded_for;
      proxy_set_header X-Forwarded-Proto \$scheme;
      proxy_set_header X-Forwarded-Host \$host;
    }
  }
}
NGINX
}
