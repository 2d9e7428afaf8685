"""Root-side instance tools used by the container entrypoint.

    db2icrt -u FENCED INSTANCE    create the instance under the owner's home
    db2iupdt INSTANCE             bring an instance of this version to this image's fix pack
    db2iupgrade INSTANCE          move an instance to this version (its databases too with
                                  DB2_STANDIN_UPGRADE=kind)
    python3 -m standin.setup check-storage SQLLIB
                                  print new|same|update|upgrade for the instance on storage,
                                  or refuse (exit 1) when the storage is newer than the image

The installer output follows the 11.1.4.4 container log (idx 14416154560).
"""
import os
import socket
import sys
from pathlib import Path

from . import atspolicy, dbmcfg, levels, messages
from .database import Database
from .instance import Instance, recorded_level

# Links db2icrt/db2iupdt make from sqllib into the installation (real Db2 does the same, which
# is how an updated instance starts using the new code).
INSTALL_LINKS = ("bin", "bnd", "lib64", "misc")
SUBDIRS = ("adm", "cfg", "ctrl", "tmp", "function", "sqldbdir", "db2dump/DIAG0000",
           "security64/plugin/server", "security64/plugin/client", "security64/plugin/group")


def check_storage(sqllib):
    image = levels.installed()
    stored = recorded_level(sqllib)
    if stored is None:
        return "new"
    if stored.vrmf > image.vrmf:
        sys.stderr.write(
            "(!) The instance on this storage was last updated by Db2 %s; this image has Db2 %s.\n"
            "(!) Refusing to start: an instance cannot go back to an older level. Use an image of "
            "level %s or newer.\n" % (stored.server_version, image.name,
                                      stored.server_version))
        sys.exit(1)
    if stored.version_release != image.version_release:
        return "upgrade"
    return "same" if stored.vrmf == image.vrmf else "update"


def _installer(program):
    """What the Db2 installer prints while db2icrt/db2iupdt/db2iupgrade run."""
    tasks = (("Setting default global profile registry variables", 1),
             ("Initializing instance list", 5), ("Configuring DB2 instances", 300),
             ("Updating global profile registry", 3))
    out = ["DB2 installation is being initialized.", "",
           " Total number of tasks to be performed: 4 ",
           "Total estimated time for all tasks to be performed: 309 second(s) ", ""]
    for number, (description, seconds) in enumerate(tasks, start=1):
        out += ["Task #%d start" % number, "Description: %s " % description,
                "Estimated time %d second(s) " % seconds, "Task #%d end " % number, ""]
    out += ["The execution completed successfully.", "",
            messages.wrap('For more information see the DB2 installation log at '
                          '"/tmp/%s.log.%d".' % (program, os.getpid())),
            messages.text("DBI1446I", program=program), "", ""]
    sys.stdout.write("\n".join(out) + "\n")


def lay_out(instance, fenced=None):
    """Write the instance's files for this image's level; a new instance (with its fenced
    user) also gets the default registry and dbm cfg."""
    level = levels.installed()
    for sub in SUBDIRS:
        (instance.sqllib / sub).mkdir(parents=True, exist_ok=True)
    for name in INSTALL_LINKS:
        link = instance.sqllib / name
        if link.is_symlink() or link.exists():
            link.unlink()
        link.symlink_to(Path(level.install_path) / name)
    (instance.sqllib / "db2profile").write_text(PROFILE.format(
        instance=instance.name, home=instance.home, db2dir=level.install_path))
    (instance.sqllib / "db2nodes.cfg").write_text("0 %s 0\n" % socket.gethostname())
    instance.diag_log.touch()
    if fenced:
        (instance.sqllib / "adm" / "fencedid").write_text(fenced + "\n")
        instance.set_registry("DB2COMM", "TCPIP")
        instance.set_registry("DB2AUTOSTART", "YES")
        if atspolicy.mode_from(os.environ.get("DB2_STANDIN_ATS")) == "kind":
            instance.set_registry("DB2_ATS_ENABLE", "YES")  # kind reading; IBM: off by default
        defaults = dbmcfg.defaults(instance.name, instance.home)
        defaults["SVCENAME"] = "db2c_%s" % instance.name
        instance.update_dbm_cfg(defaults)
    for rc_file, text in ((".bashrc", BASHRC), (".bash_profile", BASH_PROFILE)):
        path = instance.home / rc_file
        if not path.exists() or "sqllib/db2profile" not in path.read_text():
            with open(path, "a") as handle:
                handle.write(text.format(home=instance.home))
    instance.set_level(level)
    _chown_tree(instance.home, instance.uid, instance.gid)


def _chown_tree(root, uid, gid):
    for path in [root, *root.rglob("*")]:
        os.lchown(path, uid, gid)


def db2icrt(args):
    fenced, name = args[args.index("-u") + 1], args[-1]
    instance = Instance(name)
    _installer("db2icrt")
    lay_out(instance, fenced)
    instance.diag("Info", "db2icrt", "install, db2icrt", "Instance %s created at level %s."
                  % (name, levels.installed().name))
    sys.stdout.write(messages.message("DBI1070I", program="db2icrt") + "\n\n")
    return 0


def db2iupdt(args):
    instance = Instance(args[-1])
    _installer("db2iupdt")
    lay_out(instance)
    sys.stdout.write(messages.message("DBI1070I", program="db2iupdt") + "\n\n")
    return 0


def db2iupgrade(args):
    """Upgrade the instance to this version. Strict reading (IBM's two steps): the instance
    only; each database then needs UPGRADE DATABASE (SQL5035N on CONNECT until then). Kind
    reading (DB2_STANDIN_UPGRADE=kind): every database's catalog too, as the entrypoint of
    earlier stand-ins did. Both are irreversible."""
    instance = Instance(args[-1])
    previous = instance.level()
    _installer("db2iupgrade")
    lay_out(instance)
    sys.stdout.write(messages.message("DBI1070I", program="db2iupgrade") + "\n\n")
    if upgrade_reading() != "kind":
        return 0
    level = levels.installed()
    for alias, entry in instance.directory().items():
        sys.stdout.write("(*) Upgrading database %s from V%s to V%s ...\n"
                         % (alias, previous.version_release, level.version_release))
        Database(instance, alias, entry).record_version(level)
        sys.stdout.write(messages.message("DB20000I", command="UPGRADE DATABASE"))
    return 0


def upgrade_reading():
    """DB2_STANDIN_UPGRADE: strict (IBM's documented steps) or kind; unset or empty: the default."""
    return (os.environ.get("DB2_STANDIN_UPGRADE") or DEFAULT_UPGRADE_READING).strip().lower()


# IBM's documented behaviour by default; the kind reading is what IBM's entrypoint might do (unconfirmed).
DEFAULT_UPGRADE_READING = "strict"


PROFILE = """\
# db2profile: the environment of Db2 instance {instance}.
# Source it from sh/bash: . {home}/sqllib/db2profile
DB2INSTANCE={instance}
export DB2INSTANCE
INSTHOME={home}
export INSTHOME
DB2DIR={db2dir}
export DB2DIR
case ":$PATH:" in
  *":$INSTHOME/sqllib/bin:"*) ;;
  *) PATH="$INSTHOME/sqllib/bin:$INSTHOME/sqllib/adm:$INSTHOME/sqllib/misc:$PATH" ;;
esac
export PATH
LD_LIBRARY_PATH="$INSTHOME/sqllib/lib64${{LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}}"
export LD_LIBRARY_PATH
"""

BASHRC = """
# The following three lines have been added by IBM DB2 instance utilities.
if [ -f {home}/sqllib/db2profile ]; then
    . {home}/sqllib/db2profile
fi
"""

BASH_PROFILE = """
# Login shells (su - db2inst1) read this file: load .bashrc and with it sqllib/db2profile.
if [ -f ~/.bashrc ]; then
    . ~/.bashrc
fi
"""

TOOLS = {"db2icrt": db2icrt, "db2iupdt": db2iupdt, "db2iupgrade": db2iupgrade}


def main(tool, argv):
    return TOOLS[tool](argv)


if __name__ == "__main__":
    if sys.argv[1:2] == ["check-storage"]:
        print(check_storage(sys.argv[2]))
    else:
        sys.exit("usage: python3 -m standin.setup check-storage SQLLIB")
