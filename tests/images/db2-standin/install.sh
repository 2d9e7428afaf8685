#!/bin/sh
# Lay the stand-in out inside the image (run once by the Dockerfile):
#   install.sh DB2_LEVEL STANDIN_FAULT
set -eu
level="$1" fault="$2" src="$(cd "$(dirname "$0")" && pwd)"

case "$level" in
  11.1.*) db2dir=/opt/ibm/db2/V11.1 ;;
  11.5.*) db2dir=/opt/ibm/db2/V11.5 ;;
  12.1.*) db2dir=/opt/ibm/db2/V12.1 ;;
  *) echo "unknown DB2_LEVEL '$level'" >&2; exit 1 ;;
esac
case "$fault" in
  ""|failsetup|neverready) ;;
  *) echo "unknown STANDIN_FAULT '$fault' (failsetup, neverready or empty)" >&2; exit 1 ;;
esac

mkdir -p "$db2dir/bin" "$db2dir/instance" "$db2dir/lib" "$db2dir/bnd" "$db2dir/lib64" \
         "$db2dir/misc" "$db2dir/license"
cp -r "$src/standin" "$db2dir/lib/standin"
echo "$level" > "$db2dir/lib/standin/LEVEL"
PYTHONPATH="$db2dir/lib" python3 -c 'from standin import levels; levels.installed()'
python3 -m compileall -q "$db2dir/lib/standin"

# Thin executables: each Db2 command is a function of the Python package.
wrapper() { # path module [tool-name]
  tool_arg=""
  [ -z "${3:-}" ] || tool_arg="'$3', "
  cat > "$1" <<EOF
#!/usr/bin/python3 -I
import sys
sys.path.insert(0, "$db2dir/lib")
from standin.$2 import main
sys.exit(main(${tool_arg}sys.argv[1:]))
EOF
  chmod 755 "$1"
}
wrapper "$db2dir/bin/db2" clp
for tool in db2level db2start db2stop db2set db2fupdt db2gcf db2ts; do
  wrapper "$db2dir/bin/$tool" tools "$tool"
done
# The catalog update tool of this version only: db2updv111 on 11.1, db2updv115 on 11.5,
# db2updv121 on 12.1.
case "$level" in
  11.1.*) wrapper "$db2dir/bin/db2updv111" catalog db2updv111 ;;
  11.5.*) wrapper "$db2dir/bin/db2updv115" catalog db2updv115 ;;
  12.1.*) wrapper "$db2dir/bin/db2updv121" catalog db2updv121 ;;
esac
wrapper "$db2dir/bin/db2acd" scheduler db2acd  # the ATS scheduler, started by db2start
wrapper "$db2dir/bin/db2sysc" drda  # the DRDA server on SVCENAME/DBPORT, started by db2start
wrapper "$db2dir/bin/db2pd" db2pd
# HADR log shipping of one database (real Db2: the db2hadrp/db2hadrs EDUs of db2sysc).
wrapper "$db2dir/bin/db2hadr" hadrd
# STAND-IN ONLY test hook: run ATS tasks now (see README, "ATS").
wrapper "$db2dir/bin/db2standin-ats-run" scheduler db2standin-ats-run
for tool in db2icrt db2iupdt db2iupgrade; do
  wrapper "$db2dir/instance/$tool" setup "$tool"
done

# Bind files as `db2 bind` finds them in sqllib/bnd (a link to $DB2DIR/bnd, as in real Db2).
ubind="db2ueiwi.bnd db2clpnc.bnd db2clpcs.bnd db2clprr.bnd db2clpur.bnd db2clprs.bnd db2clpms.bnd db2arxcs.bnd db2arxrr.bnd db2arxrs.bnd db2arxur.bnd db2arxnc.bnd db2uimpm.bnd db2uexpm.bnd"
cli="db2clipk.bnd db2clist.bnd"
echo "$ubind" | tr ' ' '\n' | sed '$!s/$/+/' > "$db2dir/bnd/db2ubind.lst"
echo "$cli" | tr ' ' '\n' | sed '$!s/$/+/' > "$db2dir/bnd/db2cli.lst"
for bnd in $ubind $cli db2schema.bnd; do
  printf 'Db2 bind file %s, level %s\n' "$bnd" "$level" > "$db2dir/bnd/$bnd"
done

mkdir -p /var/db2_setup
cp -r "$src/setup/lib" "$src/setup/include" /var/db2_setup/
sed -i "s|@DB2DIR@|$db2dir|; s|@STANDIN_FAULT@|$fault|" /var/db2_setup/include/db2_constants
chmod 755 /var/db2_setup/lib/setup_db2_instance.sh
# Per-run instance state; the entrypoint gives each instance its own directory here.
install -d -m 1777 /run/db2standin
