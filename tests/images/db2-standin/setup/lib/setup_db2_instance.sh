#!/usr/bin/env bash
# Entrypoint of the Db2 stand-in image: set up the Db2 instance in this container.
#
# Same path, include files, steps and log lines as IBM's image (facts file 1.2), so that images
# derived the cookbook's way (recipe 2: replacing db2_common_functions or this file, adding
# /var/custom scripts) work unchanged. Stand-in additions: the storage lock, the storage level
# check, the image's fault (if any) and the simulated setup time.

source "${SETUPDIR?}/include/db2_constants"
source "${SETUPDIR?}/include/db2_common_functions"

if [ -z "${LICENSE}" ]; then
   echo ""
   echo >&2 'Error: you need to accept the license'
   echo >&2 "Did you forget to add '-e LICENSE=accept' ?"
   exit 1
fi

if [ "${LICENSE}" != "accept" ]; then
   echo ""
   echo >&2 "error: LICENSE not set to 'accept'"
   echo >&2 "Please set '-e LICENSE=accept' to accept License before use the DB2 software contained in this image."
   exit 1
fi

if [ -z "${DB2INST1_PASSWORD}" ]; then
   echo >&2 ""
   echo >&2 'error: DB2INST1_PASSWORD not set'
   echo >&2 'Did you forget to add -e "DB2INST1_PASSWORD=..." ?'
   exit 1
fi

# docker stop: stop Db2 and leave at once (not after docker's 10 s grace period).
trap on_sigterm SIGTERM

lock_storage
check_storage

chmod 755 "${STORAGE_DIR}"

if ! getent passwd "${DB2INSTANCE}" > /dev/null 2>&1; then
   echo "(*) Previous setup has not been detected. Creating the users... "
   create_users
fi

if ! create_instance; then
   exit 1
fi

echo "(*) Cataloging existing databases"
catalog_database

apply_license
set_dbm_cfg

# The real image remounts the storage with suid here (why it needs --privileged); the
# stand-in has no setuid programs on it and only keeps the log line.
echo "(*) Remounting ${STORAGE_DIR} with suid... "

start_db2

if [ "${TEXT_SEARCH}" = "true" ]; then
   echo "(*) Starting TEXT SEARCH service ..."
   su - "${DB2INSTANCE}" -c "db2ts \"start for text\""
fi

if [ -z "${UPDATEAVAIL}" ]; then
   echo "This is not an update request."
fi

if [ ! -f "${SETUP_COMPLETE}" ]; then
   if [ -n "${DBNAME}" ]; then
      echo "(*) User chose to create ${DBNAME} database"
      if ! create_db "${DBNAME}"; then
         echo "(!) Failed to create ${DBNAME} database"
      fi
      catalog_database
   fi
fi

simulate_setup_time

mkdir -p "${CONFIG_DIR}/.shared-data"
touch "${CONFIG_DIR}/.shared-data/db_activated" && echo "(*) All databases are now active. "
touch "${SETUP_COMPLETE}" && echo "(*) Setup has completed."

if [ -d /var/custom ]; then
   echo "(*) Running user-provided scripts ... "
   for script in /var/custom/*; do
      [ -e "${script}" ] || continue  # empty directory
      echo "(*) Running ${script##*/} ..."
      "${script}"
   done
fi

# Stream db2diag.log into the container log until docker stop.
while :; do
   tail -f "${DB2INSTANCE_HOME}/sqllib/db2dump/DIAG0000/db2diag.log" &
   tail_pid=$!
   wait "${tail_pid}"
done
