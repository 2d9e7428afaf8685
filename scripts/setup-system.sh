#!/usr/bin/env bash
# Install the system packages the collection's setup needs, when we can (root on Debian/Ubuntu).
# Otherwise say in one sentence what to install and stop.
set -euo pipefail
# chromium: the tests render the fleet report (playbooks/report.yml) headless and read its DOM.
need_cmds="dockerd:docker.io debootstrap:debootstrap shellcheck:shellcheck openssl:openssl ldapsearch:ldap-utils ip:iproute2 flock:util-linux chromium:chromium ssh:openssh-client sshd:openssh-server"
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
others=()
for pkg in "${missing[@]}"; do [ "$pkg" = openssh-server ] || others+=("$pkg"); done
[ ${#others[@]} -eq 0 ] || apt-get install -y -qq --no-install-recommends "${others[@]}" >/dev/null
if [ ${#others[@]} -ne ${#missing[@]} ]; then
  # Only sshd's binary is wanted: the fleet tests start their own sshd in test network
  # namespaces. policy-rc.d (exit 101) keeps the package from starting a machine-wide one.
  policy_rcd=""
  if [ ! -e /usr/sbin/policy-rc.d ]; then
    policy_rcd=/usr/sbin/policy-rc.d
    printf '#!/bin/sh\nexit 101\n' > "$policy_rcd"
    chmod 755 "$policy_rcd"
  fi
  apt-get install -y -qq --no-install-recommends openssh-server >/dev/null || status=$?
  [ -z "$policy_rcd" ] || rm -f "$policy_rcd"
  exit "${status:-0}"
fi
