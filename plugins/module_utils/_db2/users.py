# -*- coding: utf-8 -*-
# Copyright: db2ops.docker contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""OS users inside a running Db2 container (the cookbook's `useradd` + `passwd`, recipe 4).

One exec reads the user, its groups, its shadow hash and the ids in use; the changes are
useradd/usermod/userdel argv (never a secret) plus `chpasswd -e` with the SHA-512 hash on
stdin. The password is hashed here, on the controller side; idempotence re-hashes it with the
salt of the stored hash, so the plaintext never enters the container.

PRIVATE to the db2ops.docker collection: not a public API, it may change in any release.
"""

from __future__ import absolute_import, annotations, division, print_function

__metaclass__ = type

import re
import shlex

from ansible_collections.db2ops.docker.plugins.module_utils.actions import MASK
from ansible_collections.db2ops.docker.plugins.module_utils._db2.target import (
    container_name,
    instance_owner,
    require_db2_container,
)
from ansible_collections.db2ops.docker.plugins.module_utils._docker.client import DockerOperationError
from ansible_collections.db2ops.docker.plugins.module_utils._docker.containers import get_container
from ansible_collections.db2ops.docker.plugins.module_utils._docker.exec import exec_in_container, split_sections
from ansible_collections.db2ops.docker.plugins.module_utils._image.build import USER_NAME
from ansible_collections.db2ops.docker.plugins.module_utils._db2.sha_crypt import hash_password, verify_password

_MARK = "@@DB2OPS-USER"
PROTECTED = {"root", "db2fenc1"}

READ_SCRIPT = r"""
name="$1"; uid="$2"; shift 2
echo "%(m)s passwd"; getent passwd "$name"
echo "%(m)s groups"; getent passwd "$name" > /dev/null && id -nG "$name"
echo "%(m)s primary"; gid=$(getent passwd "$name" | cut -d: -f4); [ -n "$gid" ] && getent group "$gid" | cut -d: -f1
echo "%(m)s shadow"; getent shadow "$name" | cut -d: -f2
echo "%(m)s uid"; [ -n "$uid" ] && getent passwd "$uid" | cut -d: -f1
echo "%(m)s known-groups"; for g in "$@"; do getent group "$g" | cut -d: -f1,3; done
echo "%(m)s fenced"; h=$(getent passwd "${DB2INSTANCE:-db2inst1}" | cut -d: -f6)
[ -n "$h" ] && [ -e "$h/sqllib/adm/.fenced" ] && stat -c %%U "$h/sqllib/adm/.fenced"
echo "%(m)s end"
""" % dict(m=_MARK)


# Below this uid an account belongs to the OS (daemon, bin, ...): never changed or removed here.
FIRST_USER_UID = 1000


class UserInputError(DockerOperationError):
    pass


class PartialChange(DockerOperationError):
    """Some commands ran, a later one failed: the container was changed (changed=true)."""

    changed = True


def read_user(api, container_id, name, uid=None, groups=()):
    cmd = ["/bin/sh", "-c", READ_SCRIPT, "sh", name, "" if uid is None else str(uid)] + list(groups)
    result = exec_in_container(api, container_id, cmd, user="root", timeout=60)
    sections = dict((name, part["output"].splitlines()) for name, part in split_sections(result.stdout, _MARK).items())
    if "end" not in sections:
        raise DockerOperationError("could not read the users of container %s: %s"
                                   % (container_id[:12], (result.stdout + result.stderr).strip()[-300:]))
    passwd = (sections.get("passwd") or [""])[0]
    state = dict(exists=bool(passwd), uid_owner=((sections.get("uid") or [""])[0] or None),
                 known_groups=dict(line.split(":", 1) for line in sections.get("known-groups") or [] if ":" in line),
                 fenced_user=(sections.get("fenced") or [""])[0] or None)
    if passwd:
        fields = passwd.split(":")
        state.update(uid=int(fields[2]), gid=int(fields[3]), shell=fields[6],
                     primary=(sections.get("primary") or [""])[0],
                     groups=sorted(set((sections.get("groups") or [""])[0].split())
                                   - set([(sections.get("primary") or [""])[0]])),
                     hash=(sections.get("shadow") or [""])[0])
    return state


class ContainerUserManager:
    def __init__(self, api, params, check_mode=False):
        self.api = api
        self.params = params
        self.check_mode = check_mode

    def validate(self, inspect):
        params = self.params
        name = params["name"]
        if not USER_NAME.fullmatch(name or "") or name.upper().startswith(("SYS", "IBM", "SQL")):
            raise UserInputError("invalid user name %r: use 1-30 characters a-z, 0-9, _ or -, starting with a letter "
                                 "or _, and not starting with SYS, IBM or SQL (reserved by Db2)" % (name,))
        owner = instance_owner(inspect)
        if name in PROTECTED or name == owner:
            raise UserInputError("user %s belongs to the image or the Db2 instance; db2_container_user does not "
                                 "manage it" % name)
        if params.get("uid") is not None and not FIRST_USER_UID <= params["uid"] <= 60000:
            raise UserInputError("uid %s is outside %d-60000 (lower uids are system accounts)"
                                 % (params["uid"], FIRST_USER_UID))
        if params.get("gid") is not None and not 1 <= params["gid"] <= 60000:
            raise UserInputError("gid %s is outside 1-60000" % params["gid"])
        for group in params.get("groups") or []:
            if not USER_NAME.fullmatch(group):
                raise UserInputError("invalid group name %r" % (group,))

    def run(self):
        params = self.params
        inspect = get_container(self.api, params["container"])
        if inspect is None:
            raise DockerOperationError("container %s does not exist" % params["container"])
        require_db2_container(inspect)
        if not (inspect.get("State") or {}).get("Running"):
            raise DockerOperationError("container %s is not running" % params["container"])
        self.validate(inspect)
        cid = inspect["Id"]
        name = params["name"]
        groups = sorted(set(params.get("groups") or [])) if params.get("groups") is not None else None
        current = read_user(self.api, cid, name, params.get("uid"), groups or ())
        before = public_view(current)
        commands, password_hash = self.plan(current, groups)
        result = dict(changed=bool(commands), container=container_name(inspect), name=name,
                      commands=[" ".join(shlex.quote(c) for c in cmd) for cmd in commands])
        if not self.check_mode:
            done = []
            for cmd, shown in zip(commands, result["commands"]):
                stdin = "%s:%s\n" % (name, password_hash) if cmd[:2] == ["chpasswd", "-e"] else None
                try:
                    res = exec_in_container(self.api, cid, cmd, user="root", stdin=stdin, timeout=60)
                    if res.rc != 0:
                        output = (res.stdout + res.stderr).strip()[-300:]
                        raise DockerOperationError("%s failed in container %s (rc=%s): %s" % (
                            cmd[0], container_name(inspect), res.rc,
                            " ".join(output.replace(password_hash or "\0", MASK).split())))
                except DockerOperationError as exc:
                    if not done:
                        raise
                    # The earlier commands did change the container: say so, and what is missing.
                    raise PartialChange("%s; already done in the container: %s; not done: %s. Fix the cause and "
                                        "run the task again" % (str(exc).rstrip("."), ", ".join(done),
                                                                ", ".join(result["commands"][len(done):])))
                done.append(shown)
            after_state = read_user(self.api, cid, name) if commands else current
        else:
            after_state = self.predict(current, groups)
        after = public_view(after_state)
        if any(cmd[:2] == ["chpasswd", "-e"] for cmd in commands):
            after["password"] = "changed"
        result.update(user=after if after.get("exists") else None, diff=dict(before=before, after=after))
        return result

    def plan(self, current, groups):
        params = self.params
        name, uid, gid = params["name"], params.get("uid"), params.get("gid")
        if current["exists"] and (current["uid"] < FIRST_USER_UID or name == current.get("fenced_user")):
            raise UserInputError("user %s is a system account of the container (uid below %d, or the Db2 fenced "
                                 "user); db2_container_user does not change or remove it" % (name, FIRST_USER_UID))
        if params["state"] == "absent":
            return ([["userdel", name]] if current["exists"] else []), None
        if uid is not None and current.get("uid_owner") not in (None, name):
            raise UserInputError("uid %s is already used by %s in the container" % (uid, current["uid_owner"]))
        missing = [g for g in groups or [] if g not in current["known_groups"]]
        if missing:
            raise UserInputError("group(s) %s do not exist in the container" % ", ".join(missing))
        commands = []
        password = params.get("password")
        set_password = False
        if not current["exists"]:
            cmd = ["useradd", "-M", "-N", "-s", params.get("shell") or "/bin/bash"]
            if uid is not None:
                cmd += ["-u", str(uid)]
            if gid is not None:
                cmd += ["-g", str(gid)]
            if groups:
                cmd += ["-G", ",".join(groups)]
            commands.append(cmd + [name])
            set_password = bool(password)
        else:
            changes = []
            if uid is not None and uid != current["uid"]:
                changes += ["-u", str(uid)]
            if gid is not None and gid != current["gid"]:
                changes += ["-g", str(gid)]
            if params.get("shell") and params["shell"] != current["shell"]:
                changes += ["-s", params["shell"]]
            if groups is not None:
                have = set(current["groups"])
                want = set(groups) | (have if params.get("append") else set())
                if want != have:
                    changes += ["-G", ",".join(sorted(want))]
            if changes:
                commands.append(["usermod"] + changes + [name])
            if password and params["update_password"] == "always":
                set_password = not verify_password(password, current.get("hash"))
        password_hash = None
        if set_password:
            password_hash = hash_password(password)
            commands.append(["chpasswd", "-e"])
        return commands, password_hash

    def predict(self, current, groups):
        params = self.params
        if params["state"] == "absent":
            return dict(exists=False)
        state = dict(current)
        state["exists"] = True
        for key in ("uid", "gid", "shell"):
            if params.get(key) is not None:
                state[key] = params[key]
        state.setdefault("shell", "/bin/bash")
        if groups is not None:
            state["groups"] = sorted(set(groups) | (set(current.get("groups") or []) if params.get("append") else set()))
        if params.get("password") and (not current["exists"] or params["update_password"] == "always"):
            state["hash"] = "$6$(new)"
        return state


def public_view(state):
    """What results and diffs may show: never the hash."""
    if not state.get("exists"):
        return dict(exists=False)
    view = dict((k, state.get(k)) for k in ("uid", "gid", "shell", "groups"))
    view["exists"] = True
    view["password_set"] = bool(state.get("hash")) and not re.match(r"^[!*]", state.get("hash") or "")
    return view
