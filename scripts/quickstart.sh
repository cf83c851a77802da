#!/usr/bin/env bash
# Quick start: install setopsd, apply the bundled example's staging stage to the embedded local
# engine (no account needed) and ask its web app for an answer through the stage router.
set -euo pipefail
cd "$(dirname "$0")/.."
port="${SETOPSD_ROUTER_PORT:-8080}"

node_major=$(node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0)
if [ "$node_major" -lt 20 ]; then
  echo "quickstart: setopsd needs Node.js 20 or newer (found: $(node --version 2>/dev/null || echo none))" >&2
  exit 1
fi

# The example's `cache` service runs on a redis-server from the PATH.
if ! command -v redis-server >/dev/null 2>&1; then
  if command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
    echo "quickstart: installing redis-server (apt-get)"
    DEBIAN_FRONTEND=noninteractive apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends redis-server >/dev/null
  elif command -v apt-get >/dev/null 2>&1 && command -v sudo >/dev/null 2>&1; then
    echo "quickstart: installing redis-server (sudo apt-get)"
    sudo DEBIAN_FRONTEND=noninteractive apt-get update -qq
    sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends redis-server >/dev/null
  elif command -v brew >/dev/null 2>&1; then
    echo "quickstart: installing redis (brew)"
    brew install redis
  else
    echo "quickstart: the example's cache service needs redis-server on the PATH; install it and run again" >&2
    exit 1
  fi
fi

npm ci --no-audit --no-fund
# The example app is its own package (examples/app/package.json): install its dependencies.
npm install --prefix examples/app --no-audit --no-fund --no-package-lock
SETOPSD_ROUTER_PORT="$port" ./bin/setopsd apply examples --stage acme/shop/staging --yes

echo
echo "quickstart: asking the web app through the router: curl http://web.staging.shop.localhost:$port/"
for _ in $(seq 1 50); do
  # Node does the request (curl may not be installed); it sends the same Host header curl would.
  if node -e '
    const [port] = process.argv.slice(1);
    require("node:http").get({ host: "127.0.0.1", port, path: "/", headers: { host: "web.staging.shop.localhost" } }, (res) => {
      let body = ""; res.on("data", (c) => (body += c));
      res.on("end", () => { process.stdout.write(body); process.exit(res.statusCode === 200 ? 0 : 1); });
    }).on("error", () => process.exit(1));' "$port"; then
    echo
    echo "quickstart: done. Try: ./bin/setopsd status examples · history acme/shop/staging examples · logs examples --stage acme/shop/staging --app web"
    exit 0
  fi
  sleep 0.2
done
echo "quickstart: the web app did not answer; see ./bin/setopsd status examples and ./bin/setopsd logs examples --stage acme/shop/staging --app web" >&2
exit 1
