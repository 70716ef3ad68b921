#!/usr/bin/env bash
# One command from a fresh clone to a running platform with functions/hello.ts deployed (Debian/Ubuntu, as root).
set -euo pipefail
cd "$(dirname "$0")/.."

say() { printf '\033[1;34m▸\033[0m %s\n' "$*"; }
die() { printf '\033[1;31m✖\033[0m %s\n' "$*" >&2; exit 1; }

bash cli/setup-host.sh
say "installing dependencies and building"
npm install --no-audit --no-fund --loglevel=error
npm run --silent build
npm link --no-audit --no-fund --loglevel=error >/dev/null 2>&1 || true   # puts `faas` on PATH

port=${FAAS_PORT:-8080}
mkdir -p .faas
if ! curl -sf "http://127.0.0.1:${port}/healthz" >/dev/null; then
  say "starting the platform (log: .faas/faas.log)"
  nohup node dist/cli/main.js up >.faas/faas.log 2>&1 &
  echo $! >.faas/faas.pid
  for _ in $(seq 1 240); do
    curl -sf "http://127.0.0.1:${port}/healthz" >/dev/null && break
    kill -0 "$(cat .faas/faas.pid)" 2>/dev/null || { tail -20 .faas/faas.log >&2; die "the platform exited; see .faas/faas.log"; }
    sleep 0.5
  done
  curl -sf "http://127.0.0.1:${port}/healthz" >/dev/null || die "the platform did not answer on port ${port}; see .faas/faas.log"
fi

node dist/cli/main.js deploy functions/hello.ts
say "calling it"
echo "\$ curl 'http://127.0.0.1:${port}/fn/hello?name=you'"
curl -sS "http://127.0.0.1:${port}/fn/hello?name=you"
echo
say "the platform runs in the background: stop it with  kill \$(cat .faas/faas.pid)"
