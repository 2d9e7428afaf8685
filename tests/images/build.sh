#!/usr/bin/env bash
# Build the test images on the Docker daemon named by DOCKER_HOST (default: local socket).
# Offline: the base root filesystem comes from debootstrap (Debian mirror only), is cached as a
# tarball on disk, imported once per daemon, and every image is skipped when its tag already
# carries the content hash of its build context.
#
#   tests/images/build.sh            # base + every test image
#   tests/images/build.sh base       # only the base image
#   tests/images/build.sh standin    # base + the Db2 stand-in levels and fault variants
#   tests/images/build.sh openldap   # base + the OpenLDAP test image
#   tests/images/build.sh phpldapadmin  # base + the phpLDAPadmin test image (apt from the Debian mirror)
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
cache_dir="${DB2OPS_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/db2ops}"
base_tag="db2ops/base:bookworm"
# Everything the stand-in and slapd images need; changing this list rebuilds the base.
base_packages="bash,passwd,procps,python3,python3-ldap,sqlite3,ldap-utils,slapd,openssl,ca-certificates,util-linux,login"
standin_levels="11.1.3.3a 11.1.4.4 11.5.8.0 11.5.9.0 12.1.0.0"
# Parallel worktrees that change the stand-in can test under their own tags (default: shared).
standin_repo="${DB2OPS_STANDIN_REPO:-db2ops/db2-standin}"

log() { printf '[build-images] %s\n' "$*" >&2; }

label_of() { # image label -> value or empty
  docker image inspect --format "{{ index .Config.Labels \"$2\" }}" "$1" 2>/dev/null || true
}

context_hash() { # hash of a build context directory plus extra words
  local dir="$1"; shift
  { (cd "$dir" && find . -type f -print0 | sort -z | xargs -0 sha256sum); echo "$*"; } | sha256sum | cut -c1-16
}

build_base() {
  local want; want="$(echo "$base_packages" | sha256sum | cut -c1-16)"
  if [ "$(label_of "$base_tag" db2ops.base.hash)" = "$want" ]; then
    log "$base_tag up to date"; return
  fi
  local tarball="$cache_dir/base-bookworm-$want.tar"
  if [ ! -s "$tarball" ]; then
    command -v debootstrap >/dev/null || { echo "debootstrap is missing: apt-get install debootstrap" >&2; exit 1; }
    log "debootstrap bookworm (about 45 s, once per machine)"
    local root; root="$(mktemp -d /tmp/db2ops-rootfs.XXXXXX)"
    debootstrap --variant=minbase --include="$base_packages" bookworm "$root" >"$root.log" 2>&1 \
      || { tail -20 "$root.log" >&2; rm -rf "$root"; exit 1; }
    # slapd's package post-install starts nothing in a chroot, but leaves a default database
    # we do not want: the images configure slapd themselves.
    rm -rf "$root/var/lib/ldap"/* "$root/etc/ldap/slapd.d"/* "$root/var/cache/apt/archives"/*.deb
    mkdir -p "$cache_dir"
    tar -C "$root" -cf "$tarball.tmp" . && mv "$tarball.tmp" "$tarball"
    rm -rf "$root" "$root.log"
  fi
  log "importing $tarball as $base_tag"
  docker import --change "LABEL db2ops.base.hash=$want" --change 'CMD ["/bin/bash"]' \
    "$tarball" "$base_tag" >/dev/null
}

build_context() { # tag dir [build-arg ...]
  local tag="$1" dir="$2"; shift 2
  local want; want="$(context_hash "$dir" "$(label_of "$base_tag" db2ops.base.hash)" "$@")"
  if [ "$(label_of "$tag" db2ops.context.hash)" = "$want" ]; then
    log "$tag up to date"; return
  fi
  log "building $tag"
  local args=()
  for a in "$@"; do args+=(--build-arg "$a"); done
  # Output only on failure (the CLI's legacy-builder notice is noise on success).
  local out; out="$(mktemp)"
  docker build -q --label "db2ops.context.hash=$want" "${args[@]}" -t "$tag" "$dir" >"$out" 2>&1 \
    || { cat "$out" >&2; rm -f "$out"; exit 1; }
  rm -f "$out"
}

build_standin() {
  local ctx="$here/db2-standin"
  for level in $standin_levels; do
    build_context "$standin_repo:$level" "$ctx" "DB2_LEVEL=$level"
  done
  # Fault variants: properties of the image, as in real life. Both claim level 11.1.4.4.
  build_context "$standin_repo:11.1.4.4-failsetup" "$ctx" "DB2_LEVEL=11.1.4.4" "STANDIN_FAULT=failsetup"
  build_context "$standin_repo:11.1.4.4-neverready" "$ctx" "DB2_LEVEL=11.1.4.4" "STANDIN_FAULT=neverready"
}

build_openldap() {
  build_context "db2ops/openldap:test" "$here/openldap"
}

build_phpldapadmin() {
  build_context "db2ops/phpldapadmin:test" "$here/phpldapadmin"
}

targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(standin openldap phpldapadmin)
build_base
for t in "${targets[@]}"; do
  case "$t" in
    base) ;;
    standin) build_standin ;;
    openldap) build_openldap ;;
    phpldapadmin) build_phpldapadmin ;;
    *) echo "unknown target: $t (base, standin, openldap, phpldapadmin)" >&2; exit 2 ;;
  esac
done
