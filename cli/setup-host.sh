#!/usr/bin/env bash
# Installs (when missing) and starts what the platform needs on a Debian/Ubuntu host, as root:
# the Docker engine and redis-server. Safe to run again: it does only what is missing.
set -euo pipefail

say() { printf '\033[1;34m▸\033[0m %s\n' "$*"; }
die() { printf '\033[1;31m✖\033[0m %s\n' "$*" >&2; exit 1; }

[ "$(id -u)" = 0 ] || die "run as root (it installs docker.io and redis-server with apt-get)"

node_major=$(node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0)
[ "$node_major" -ge 20 ] || die "Node.js >= 20 is needed (found: $(node --version 2>/dev/null || echo none)); install it from your distribution or nodesource.com"

missing=()
command -v dockerd >/dev/null 2>&1 || missing+=(docker.io)
command -v redis-server >/dev/null 2>&1 || missing+=(redis-server)
if [ ${#missing[@]} -gt 0 ]; then
  say "installing ${missing[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
fi

# Debian's redis-server package starts a service on 6379 where systemd runs; the platform and the
# tests start their own redis-server, so nothing more to do for Redis here.

if ! docker info >/dev/null 2>&1; then
  say "starting the Docker engine"
  if command -v systemctl >/dev/null 2>&1 && systemctl is-system-running >/dev/null 2>&1; then
    systemctl start docker
  else
    nohup dockerd >/var/log/dockerd.log 2>&1 &
  fi
  for _ in $(seq 1 120); do
    docker info >/dev/null 2>&1 && break
    sleep 0.5
  done
  docker info >/dev/null 2>&1 || die "dockerd did not start; see /var/log/dockerd.log"
fi
say "Docker $(docker version --format '{{.Server.Version}}') and redis $(redis-server --version | sed 's/.*v=\([^ ]*\).*/\1/') are ready"
