#!/usr/bin/env bash
# Runs before `npm test`: the Docker engine and redis-server (cli/setup-host.sh), and the test-only tools
# from Debian: Chromium for the dashboard's browser test (driven by playwright-core, never a downloaded
# browser) and promtool (package prometheus) to check /metrics. Installs only what is missing.
set -euo pipefail
cd "$(dirname "$0")/../.."
if [ "$(id -u)" != 0 ]; then
  echo "npm test needs root here: it installs and starts the Docker engine and redis-server, and runs iptables (see README, Tests)" >&2
  exit 1
fi
bash cli/setup-host.sh
tools=()
command -v chromium >/dev/null 2>&1 || tools+=(chromium)
command -v promtool >/dev/null 2>&1 || tools+=(prometheus)
command -v tmux >/dev/null 2>&1 || tools+=(tmux)
command -v docker-compose >/dev/null 2>&1 || tools+=(docker-compose)
# Network namespaces for the simulated second host (function network, swarm tests).
command -v ip >/dev/null 2>&1 || tools+=(iproute2)
command -v nsenter >/dev/null 2>&1 || tools+=(util-linux)
if [ ${#tools[@]} -gt 0 ]; then
  printf '\033[1;34m▸\033[0m installing test tools: %s\n' "${tools[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${tools[@]}" >/dev/null
fi
