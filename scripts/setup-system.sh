#!/usr/bin/env bash
# Install the system packages the collection's setup needs, when we can (root on Debian/Ubuntu).
# Otherwise say in one sentence what to install and stop.
set -euo pipefail
# chromium: the tests render the fleet report (playbooks/report.yml) headless and read its DOM.
need_cmds="dockerd:docker.io debootstrap:debootstrap shellcheck:shellcheck openssl:openssl ldapsearch:ldap-utils ip:iproute2 flock:util-linux chromium:chromium"
need_pkgs_headers="libldap2-dev libsasl2-dev python3-venv python3-dev gcc"
missing=()
for pair in $need_cmds; do
  command -v "${pair%%:*}" >/dev/null 2>&1 || missing+=("${pair##*:}")
done
for pkg in $need_pkgs_headers; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" -ne 0 ] || ! command -v apt-get >/dev/null 2>&1; then
  echo "Please install these packages first (as root, Debian/Ubuntu names): ${missing[*]}" >&2
  exit 1
fi
echo "[setup] apt-get install ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
