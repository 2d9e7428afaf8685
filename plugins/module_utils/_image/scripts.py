# -*- coding: utf-8 -*-
# Copyright: db2ops.docker contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The shell scripts an extended image carries (entrypoint, start hooks, activate_dbs.sh, the users
stage), written into the build context by _image/build.py.

PRIVATE to the db2ops.docker collection: not a public API, it may change in any release.
"""

from __future__ import absolute_import, annotations, division, print_function

__metaclass__ = type


ENTRYPOINT_SH = r"""#!/bin/bash
# Entrypoint of images built by db2ops.docker.db2_image. It runs the base image's own entrypoint
# unchanged; when that logs "(*) Setup has completed." it first runs the db2ops start hooks
# (users' groups, TEXT_SEARCH, database activation), then passes the line on: ready = active.
. /var/db2ops/image.conf
fifo="$(mktemp -u /tmp/db2ops-entrypoint.XXXXXX)"
mkfifo -m 600 "${fifo}"
"${BASE_COMMAND[@]}" "$@" > "${fifo}" &
child=$!
# docker stop signals PID 1 only: hand it to the base entrypoint (it stops Db2 and exits).
trap 'kill -TERM "${child}" 2> /dev/null' TERM INT HUP
exec 3< "${fifo}"
rm -f "${fifo}"
text_search_started=false
while :; do
   if IFS= read -r line <&3; then
      case "${line}" in
         *"(*) Starting TEXT SEARCH service"*) text_search_started=true ;;
         *"(*) Setup has completed."*)
            /var/db2ops/start_hooks.sh "${text_search_started}" &
            while ! wait $!; do kill -0 $! 2> /dev/null || break; done
            printf '%s\n' "${line}"
            break ;;
      esac
      printf '%s\n' "${line}"
   else
      [ $? -gt 128 ] && continue  # a signal interrupted read; the trap has passed it on
      break
   fi
done
cat <&3 &
while :; do
   wait "${child}"
   rc=$?
   kill -0 "${child}" 2> /dev/null || break
done
exit "${rc}"
"""
START_HOOKS_SH = r"""#!/bin/bash
# db2ops start hooks, run as root by /var/db2ops/entrypoint.sh before "(*) Setup has completed."
# is passed on. $1: whether the base image's setup started text search itself.
. /var/db2ops/image.conf
instance="${DB2INSTANCE:-db2inst1}"

# Groups the base image creates at start (db2iadm1, ...) did not exist when the image was built.
if [ -s /var/db2ops/user-groups ]; then
   while read -r user group; do
      if ! getent group "${group}" > /dev/null; then
         echo "(!) db2ops: group ${group} of user ${user} does not exist"
      elif ! id -nG "${user}" | tr ' ' '\n' | grep -qx "${group}"; then
         usermod -a -G "${group}" "${user}"
      fi
   done < /var/db2ops/user-groups
fi

# TEXT_SEARCH: IBM's newer setup honours it, older levels start text search always. Either way
# the container ends up as the variable says (the cookbook's ${TEXT_SEARCH:-true} check).
case "${TEXT_SEARCH:-}" in
   true)
      if [ "$1" != true ]; then
         echo "(*) Starting TEXT SEARCH service ..."
         su - "${instance}" -c 'db2ts "start for text"'
      fi ;;
   false)
      if [ "$1" = true ]; then
         echo "(*) Stopping TEXT SEARCH service (TEXT_SEARCH=false) ..."
         su - "${instance}" -c 'db2ts "stop for text"'
      fi ;;
esac

if [ "${DB2OPS_ACTIVATE_DATABASES:-${ACTIVATE_DATABASES}}" = true ]; then
   /var/db2ops/activate_dbs.sh || echo "(!) db2ops: not every database could be activated"
fi
exit 0
"""
ACTIVATE_DBS_SH = r"""#!/bin/bash
#
# activate_dbs.sh -- Activate databases known to this container
# After the Docker Cookbook, recipe 2 (Ian Bjorhovde, 2019), with the sqllib path fixed.
#

# Execute this script as instance owner
if [[ ${UID} -eq 0 ]] ; then
    exec su - "${DB2INSTANCE:-db2inst1}" -c "$0"
fi

. "${HOME}/sqllib/db2profile"

dbs=$(db2fupdt -f /database/config/instance.cfg -s database -p list 2> /dev/null | sed -e 's/,/ /g')
if [ -z "${dbs}" ]; then  # instance.cfg not written yet: ask the database directory
    dbs=$(db2 list db directory 2> /dev/null | awk -F'= ' '/Database alias/ {print $2}')
fi
rc=0
for db in ${dbs} ; do
    echo "(*) Activating database ${db}..."
    db2 activate database "${db}" || [ $? -le 2 ] || { echo "(!) Failed to activate database ${db}"; rc=1; }
done
db2 terminate > /dev/null 2>&1
exit ${rc}
"""
USERS_SH = r"""#!/bin/sh
# Build stage `db2ops-users` of images built by db2ops.docker.db2_image: create the OS users
# listed in users.list (name uid shell groups...) and set the hashes in users.secret.
set -eu
while read -r name uid shell groups; do
   owner=$(getent passwd "${uid}" | cut -d: -f1 || true)
   if [ -n "${owner}" ] && [ "${owner}" != "${name}" ]; then
      echo "db2ops: uid ${uid} of user ${name} is already used by ${owner} in the base image" >&2
      exit 1
   fi
   if getent passwd "${name}" > /dev/null; then
      usermod -u "${uid}" -s "${shell}" "${name}"
   else
      useradd -M -N -u "${uid}" -s "${shell}" "${name}"
   fi
   for group in $(echo "${groups}" | tr ',' ' '); do
      if getent group "${group}" > /dev/null; then usermod -a -G "${group}" "${name}"; fi
   done
done < /tmp/db2ops/users.list
if [ -s /tmp/db2ops/users.secret ]; then chpasswd -e < /tmp/db2ops/users.secret; fi
"""
