#!/usr/bin/env bash
# Runs every corsair test on a Debian machine with Rust, installing what the tests need first:
# Chromium, Firefox ESR, WebKitGTK (MiniBrowser, Xvfb), nginx, Apache and Caddy (apt); playwright-core, express and cors (npm, into
# .test-deps/); the Python frameworks, PyYAML and CORScanner (pip, into .test-deps/venv);
# cargo-fuzz and mdBook (crates.io).
# Nothing is skipped: a missing dependency that cannot be installed fails the run.
#
#   bash scripts/test.sh            everything (about 6 minutes on 2 cores once dependencies are built)
#   FUZZ_SECONDS=60 bash scripts/test.sh   longer fuzz runs
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
fuzz_seconds=${FUZZ_SECONDS:-15}
playwright_version=1.65.1
mdbook_version=0.5.4

started=$SECONDS
step() { printf '\n==> [%ss] %s\n' "$((SECONDS - started))" "$*"; }
# A clean clone builds everything once: incremental state would only take disk (gigabytes) and time.
export CARGO_INCREMENTAL=0
sudo_if_needed() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }

step "system packages (chromium, firefox-esr, webkit2gtk-driver, xvfb, nginx, apache2, caddy, node, redis)"
missing=()
command -v chromium >/dev/null 2>&1 || [ -x /usr/bin/chromium ] || missing+=(chromium)
[ -x /usr/sbin/nginx ] || missing+=(nginx)
[ -x /usr/sbin/apache2 ] || missing+=(apache2)
command -v caddy >/dev/null 2>&1 || missing+=(caddy)
command -v node >/dev/null 2>&1 || missing+=(nodejs)
command -v npm >/dev/null 2>&1 || missing+=(npm)
# corsair proxy's shared rate limits are tested against a real Redis, started on loopback.
command -v redis-server >/dev/null 2>&1 || missing+=(redis-server)
# The Firefox differential drives Debian's Firefox ESR through Marionette.
[ -x /usr/bin/firefox-esr ] || missing+=(firefox-esr)
# The WebKit differential runs WebKitGTK's MiniBrowser (Safari's engine) under Xvfb.
[ -x /usr/lib/x86_64-linux-gnu/webkit2gtk-4.1/MiniBrowser ] || missing+=(webkit2gtk-driver)
command -v xvfb-run >/dev/null 2>&1 || missing+=(xvfb xauth)
# Firefox and WebKit run in a loopback-only network namespace (unshare, ip).
command -v unshare >/dev/null 2>&1 || missing+=(util-linux)
command -v ip >/dev/null 2>&1 || [ -x /usr/sbin/ip ] || missing+=(iproute2)
# The web-font scenarios of the browser differential serve a real font.
[ -f /usr/share/fonts/truetype/dejavu/DejaVuSans.ttf ] || missing+=(fonts-dejavu-core)
if [ ${#missing[@]} -gt 0 ]; then
  # nginx, apache2 and caddy would each start a service on port 80; the tests start their own, so keep
  # the packages' services from starting during the install.
  guard=""
  if [ ! -e /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\nexit 101\n' | sudo_if_needed tee /usr/sbin/policy-rc.d >/dev/null
    sudo_if_needed chmod +x /usr/sbin/policy-rc.d
    guard=1
  fi
  sudo_if_needed apt-get update -qq
  sudo_if_needed env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
  [ -z "$guard" ] || sudo_if_needed rm -f /usr/sbin/policy-rc.d
fi
chromium --version 2>/dev/null | head -n1 || /usr/bin/chromium --version | head -n1

step "node packages: playwright-core $playwright_version (no browser download), express, cors, axe-core"
mkdir -p .test-deps
[ -f .test-deps/package.json ] || echo '{"name":"corsair-test-deps","private":true}' > .test-deps/package.json
installed=$(node -p "try{require('$root/.test-deps/node_modules/playwright-core/package.json').version}catch(e){''}")
if [ "$installed" != "$playwright_version" ] || [ ! -d .test-deps/node_modules/express ] || [ ! -d .test-deps/node_modules/cors ] || [ ! -d .test-deps/node_modules/axe-core ]; then
  (cd .test-deps && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm install --no-audit --no-fund --silent "playwright-core@$playwright_version" express@4 cors@2 axe-core@4)
fi

step "dev servers for corsair gen --dev: vite, webpack-dev-server, react-scripts (in .test-deps/dev-servers), Angular CLI 18 (in .test-deps/angular)"
mkdir -p .test-deps/dev-servers
[ -f .test-deps/dev-servers/package.json ] || echo '{"name":"corsair-dev-servers","private":true}' > .test-deps/dev-servers/package.json
if [ ! -d .test-deps/dev-servers/node_modules/vite ] || [ ! -d .test-deps/dev-servers/node_modules/webpack-dev-server ] || [ ! -d .test-deps/dev-servers/node_modules/react-scripts ]; then
  (cd .test-deps/dev-servers && npm install --no-audit --no-fund --silent vite@5 webpack@5 webpack-cli@5 webpack-dev-server@5 react-scripts@5 react@18 react-dom@18)
fi
export CORSAIR_DEV_SERVERS="$root/.test-deps/dev-servers/node_modules"
# Angular's packages pin another TypeScript than react-scripts: their own directory.
mkdir -p .test-deps/angular
[ -f .test-deps/angular/package.json ] || echo '{"name":"corsair-angular","private":true}' > .test-deps/angular/package.json
if [ ! -d .test-deps/angular/node_modules/@angular/cli ]; then
  (cd .test-deps/angular && npm install --no-audit --no-fund --silent @angular/cli@18 @angular-devkit/build-angular@18 @angular/core@18 @angular/common@18 @angular/compiler@18 @angular/compiler-cli@18 @angular/platform-browser@18 rxjs@7 zone.js@0.14 typescript@5.4 tslib@2)
fi
export CORSAIR_ANGULAR="$root/.test-deps/angular/node_modules"

step "python packages (venv in .test-deps/venv): starlette, fastapi, uvicorn, flask, flask-cors, django, django-cors-headers, pyyaml, cors (CORScanner), marionette-driver (Firefox), jsonschema (the Gateway API schema), httpbin (an echo service for corsair proxy)"
if ! .test-deps/venv/bin/python -c "import starlette, fastapi, uvicorn, flask, flask_cors, django, corsheaders, yaml, CORScanner, marionette_driver, jsonschema, httpbin" 2>/dev/null; then
  python3 -m venv .test-deps/venv || { sudo_if_needed env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-venv >/dev/null && python3 -m venv .test-deps/venv; }
  .test-deps/venv/bin/pip install --quiet --disable-pip-version-check starlette fastapi uvicorn flask flask-cors django django-cors-headers pyyaml cors marionette-driver jsonschema httpbin
fi
export CORSAIR_NODE_MODULES="$root/.test-deps/node_modules"
export CORSAIR_CHROMIUM=/usr/bin/chromium

step "formatting and lints"
cargo fmt --all -- --check
cargo clippy --all-targets --locked -- -D warnings
# The library crates' docs, private items included: no broken or ambiguous intra-doc link.
RUSTDOCFLAGS="-D warnings" cargo doc --no-deps --locked --quiet --workspace --exclude corsair --document-private-items
# Every library crate packages and builds from its own package (publishable as it is). Each run
# starts from nothing: cargo takes a registry crate of an unchanged version as unchanged, so an
# earlier run's build of a sibling package would be used instead of today's.
rm -rf target/package target/package-check "${CARGO_HOME:-$HOME/.cargo}"/registry/src/-*/corsair-*
cargo package --workspace --exclude corsair --locked --quiet --target-dir target/package-check
rm -rf target/package-check

step "the book (mdBook ${mdbook_version}, into docs/book; its examples and links are tested by book::)"
if ! mdbook --version 2>/dev/null | grep -qx "mdbook v$mdbook_version"; then
  # Without the serve and watch features: the build only (about 2 minutes on 2 cores).
  cargo install mdbook --version "$mdbook_version" --locked --quiet --no-default-features --features search
fi
mdbook build docs >/dev/null

step "the decision crates stay sans-IO (model, policy, gen, diagnose, audit, relay, and the core facade)"
decision_crates="corsair-model corsair-policy corsair-gen corsair-diagnose corsair-audit corsair-relay corsair-core"
for c in $decision_crates; do
  if cargo tree -p "$c" -e normal --prefix none | grep -E '^(tokio|hyper|mio|async-std|reqwest|h2|socket2) ' ; then
    echo "$c depends on an async runtime or HTTP stack (above); keep IO in the corsair crate" >&2
    exit 1
  fi
  # Outside string literals (the generators write programs that use tokio): scripts/sans-io.pl.
  if find "crates/$c/src" -name '*.rs' -print0 | xargs -0 perl scripts/sans-io.pl | grep .; then
    echo "$c uses the network, the file system or the clock (above); take them as parameters instead" >&2
    exit 1
  fi
done
echo "ok: no IO in $decision_crates"

step "fuzz: ${fuzz_seconds}s per target (cargo fuzz, stable toolchain, no sanitizer)"
command -v cargo-fuzz >/dev/null 2>&1 || cargo install cargo-fuzz --locked --quiet
for target in origin header_list decision policy audit http1 closed_loop import explain relay route; do
  corpus=$(mktemp -d)
  # Each target and its seeds live beside the crate it fuzzes: crates/CRATE/fuzz/seeds/TARGET.
  cp crates/*/fuzz/seeds/"$target"/* "$corpus"/
  log=$(mktemp)
  if ! (cd fuzz && cargo fuzz run "$target" --sanitizer none "$corpus" -- -max_total_time="$fuzz_seconds" >"$log" 2>&1); then
    tail -n 40 "$log" >&2
    echo "fuzz target $target failed: the crashing input is in fuzz/artifacts/$target" >&2
    exit 1
  fi
  echo "$target: $(grep -E '^Done' "$log" | tail -n1)"
  rm -rf "$corpus" "$log"
done

step "tests (unit, CLI, TLS, browser differential)"
# Every process the tests start inherits this mark; any still alive once they end was left
# running by a test (a server, a dev server's child, a browser), and fails the run.
marker="corsair-test-run-$$-$RANDOM"
tests=0
CORSAIR_TEST_RUN=$marker cargo test --workspace --locked -- --nocapture || tests=$?

step "nothing the tests started is still running"
left=()
for d in /proc/[0-9]*; do
  pid=${d#/proc/}
  if { tr '\0' '\n' < "$d/environ"; } 2>/dev/null | grep -qx "CORSAIR_TEST_RUN=$marker"; then
    left+=("$pid")
  fi
done
if [ ${#left[@]} -gt 0 ]; then
  for pid in "${left[@]}"; do
    echo "left running by the tests: $pid $(tr '\0' ' ' < /proc/$pid/cmdline 2>/dev/null)" >&2
  done
  kill -KILL "${left[@]}" 2>/dev/null || true
  exit 1
fi
echo "ok: no process of the tests is left ($((SECONDS - started))s in all; target/ $(du -sh target 2>/dev/null | cut -f1), fuzz/target $(du -sh fuzz/target 2>/dev/null | cut -f1))"
exit "$tests"
