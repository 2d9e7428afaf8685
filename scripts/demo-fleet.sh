#!/usr/bin/env bash
# The demo fleet's second Docker daemon: dockerd on 127.0.0.1:23760 with --tlsverify, its own
# data root, bridge and certificates under /var/tmp/db2ops-demo, and the stand-in images loaded.
#   scripts/demo-fleet.sh up | down
set -euo pipefail
root=/var/tmp/db2ops-demo
daemon="$root/docker-b"
certs="$root/certs"
sock="unix://$daemon/docker.sock"
bridge=db2demo0
images="db2ops/db2-standin:11.1.3.3a db2ops/db2-standin:11.1.4.4"

make_certs() {
  [ -s "$certs/key.pem" ] && return
  mkdir -p "$certs" && cd "$certs"
  openssl req -x509 -newkey rsa:2048 -nodes -days 365 -subj "/CN=db2ops demo CA" -keyout ca-key.pem -out ca.pem 2>/dev/null
  printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n' > server.ext
  printf 'extendedKeyUsage=clientAuth\n' > client.ext
  for who in server client; do
    openssl req -newkey rsa:2048 -nodes -subj "/CN=db2ops demo $who" -keyout "$who-key.pem" -out "$who.csr" 2>/dev/null
    openssl x509 -req -in "$who.csr" -CA ca.pem -CAkey ca-key.pem -CAcreateserial -days 365 \
      -extfile "$who.ext" -out "$who.pem" 2>/dev/null
  done
  mv client.pem cert.pem && mv client-key.pem key.pem
  chmod 600 ./*key.pem
  cd - >/dev/null
}

up() {
  make_certs
  if ! docker -H "$sock" info >/dev/null 2>&1; then
    mkdir -p "$daemon"
    ip link show "$bridge" >/dev/null 2>&1 || {
      ip link add name "$bridge" type bridge && ip addr add 10.213.250.1/24 dev "$bridge" && ip link set "$bridge" up; }
    echo "[demo] starting a second dockerd with TLS on 127.0.0.1:23760" >&2
    setsid dockerd --data-root "$daemon/data" --exec-root "$daemon/exec" --pidfile "$daemon/dockerd.pid" \
      -H "$sock" -H tcp://127.0.0.1:23760 --tlsverify --tlscacert "$certs/ca.pem" \
      --tlscert "$certs/server.pem" --tlskey "$certs/server-key.pem" \
      --bridge "$bridge" --iptables=false --ip-masq=false >"$daemon/dockerd.log" 2>&1 < /dev/null &
    for _ in $(seq 1 60); do docker -H "$sock" info >/dev/null 2>&1 && break; sleep 0.5; done
    docker -H "$sock" info >/dev/null 2>&1 || { tail -20 "$daemon/dockerd.log" >&2; exit 1; }
  fi
  for image in $images; do
    want="$(docker image inspect --format '{{.Id}}' "$image")"
    have="$(docker -H "$sock" image inspect --format '{{.Id}}' "$image" 2>/dev/null || true)"
    if [ "$want" != "$have" ]; then
      echo "[demo] loading $image into the second daemon" >&2
      docker save "$image" | docker -H "$sock" load >/dev/null
    fi
  done
}

down() {
  if [ -s "$daemon/dockerd.pid" ]; then
    kill "$(cat "$daemon/dockerd.pid")" 2>/dev/null || true
  fi
}

case "${1:-}" in
  up) up ;;
  down) down ;;
  *) echo "usage: $0 up|down" >&2; exit 2 ;;
esac
