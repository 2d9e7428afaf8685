#!/usr/bin/env bash
# Make sure a Docker daemon answers on the default socket; start one if we are root and none does.
set -euo pipefail
if docker info >/dev/null 2>&1; then exit 0; fi
if [ "$(id -u)" -ne 0 ]; then
  echo "No Docker daemon answers: start one (or ask for access to /var/run/docker.sock)." >&2
  exit 1
fi
log="${DB2OPS_DOCKERD_LOG:-/var/log/db2ops-dockerd.log}"
echo "[setup] starting dockerd (log: $log)" >&2
setsid dockerd >"$log" 2>&1 < /dev/null &
for _ in $(seq 1 60); do
  docker info >/dev/null 2>&1 && exit 0
  sleep 0.5
done
echo "dockerd did not answer within 30 s; see $log" >&2
tail -20 "$log" >&2
exit 1
