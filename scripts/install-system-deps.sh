#!/usr/bin/env bash
# System packages the test suite needs besides npm's: Debian's Chromium for the pay-page browser tests
# (playwright-core drives it; no browser download). Needs root (or sudo). Idempotent.
set -euo pipefail
if command -v chromium >/dev/null 2>&1 || [ -x /usr/bin/chromium ]; then
  echo "chromium: already installed ($(chromium --version 2>/dev/null || echo /usr/bin/chromium))"
  exit 0
fi
if ! command -v apt-get >/dev/null 2>&1; then
  echo "install-system-deps: apt-get not found; install Chromium yourself and set CHROMIUM_PATH to its binary" >&2
  exit 1
fi
SUDO=""
[ "$(id -u)" -ne 0 ] && SUDO="sudo"
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq chromium >/dev/null
echo "chromium: installed ($(chromium --version))"
