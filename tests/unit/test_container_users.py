"""_db2/users.py (db2_container_user) against the fake daemon: a container with an /etc/passwd
model that answers the read script and useradd / usermod / userdel / chpasswd -e."""
import pytest
from fake_docker import FakeDocker

from ansible_collections.db2ops.docker.plugins.module_utils._db2.sha_crypt import hash_password
from ansible_collections.db2ops.docker.plugins.module_utils._db2.users import (
    ContainerUserManager,
    PartialChange,
    UserInputError,
)
from ansible_collections.db2ops.docker.plugins.module_utils._docker.client import DockerOperationError


class Passwd:
    """The accounts of one container: name -> dict(uid, gid, shell, groups, hash)."""

    def __init__(self, daemon):
        self.users = {"root": dict(uid=0, gid=0, shell="/bin/bash", groups=[], hash="!"),
                      "db2inst1": dict(uid=1000, gid=1000, shell="/bin/bash", groups=[], hash="x"),
                      "db2fenc1": dict(uid=1001, gid=1001, shell="/bin/bash", groups=[], hash="x"),
                      "daemon": dict(uid=2, gid=2, shell="/usr/sbin/nologin", groups=[], hash="*")}
        self.groups = {"root": 0, "db2iadm1": 1000, "db2fadm1": 1001, "dba": 2000, "daemon": 2}
        self.stdin = []
        daemon.on_exec(r"@@DB2OPS-USER passwd", self.read)
        daemon.on_exec(r"^(useradd|usermod|userdel|chpasswd) ", self.change)

    def group_name(self, gid):
        return next((g for g, i in self.groups.items() if i == gid), str(gid))

    def read(self, container, command, stdin, user):
        args = command.split(" sh ", 1)[1].split(" ")
        name, uid, known = args[0], args[1] if len(args) > 1 else "", args[2:]
        out = ["@@DB2OPS-USER passwd"]
        account = self.users.get(name)
        if account:
            out.append("%s:x:%d:%d::/home/%s:%s" % (name, account["uid"], account["gid"], name, account["shell"]))
        out.append("@@DB2OPS-USER groups")
        if account:
            out.append(" ".join([self.group_name(account["gid"])] + account["groups"]))
        out += ["@@DB2OPS-USER primary"] + ([self.group_name(account["gid"])] if account else [])
        out += ["@@DB2OPS-USER shadow"] + ([account["hash"]] if account else [])
        out.append("@@DB2OPS-USER uid")
        out += [n for n, a in self.users.items() if uid and str(a["uid"]) == uid]
        out.append("@@DB2OPS-USER known-groups")
        out += ["%s:%d" % (g, self.groups[g]) for g in known if g in self.groups]
        out += ["@@DB2OPS-USER fenced", "db2fenc1", "@@DB2OPS-USER end"]
        return 0, "\n".join(out) + "\n"

    def change(self, container, command, stdin, user):
        assert user == "root"
        words = command.split()
        tool, name = words[0], words[-1]
        if tool == "chpasswd":
            user_name, hashed = stdin.strip().split(":", 1)
            self.stdin.append(stdin)
            self.users[user_name]["hash"] = hashed
            return 0, ""
        if tool == "userdel":
            del self.users[name]
            return 0, ""
        account = self.users.setdefault(name, dict(uid=1002 + len(self.users), gid=100, shell="/bin/sh", groups=[],
                                                   hash="!"))
        options = dict(zip(words[1:-1:], words[2:-1]))
        if "-u" in options:
            account["uid"] = int(options["-u"])
        if "-g" in options:
            account["gid"] = int(options["-g"])
        if "-s" in options:
            account["shell"] = options["-s"]
        if "-G" in options:
            account["groups"] = options["-G"].split(",")
        return 0, ""


@pytest.fixture
def daemon():
    fake = FakeDocker()
    fake.add_image("db2:11.1.4.4", level="11.1.4.4")
    fake.add_db2("db2", "db2:11.1.4.4")
    fake.passwd = Passwd(fake)
    yield fake
    assert fake.unexpected == []


def params(**extra):
    p = dict(container="db2", name="alice", state="present", uid=None, gid=None, groups=None, append=False,
             shell=None, password=None, update_password="always")
    p.update(extra)
    return p


def run(daemon, check_mode=False, **extra):
    return ContainerUserManager(daemon, params(**extra), check_mode=check_mode).run()


def test_create_with_password_then_nothing_to_do(daemon):
    plan = run(daemon, check_mode=True, uid=1500, groups=["dba"], password="S3cret!")
    assert plan["changed"] and plan["commands"] == ["useradd -M -N -s /bin/bash -u 1500 -G dba alice", "chpasswd -e"]
    assert "alice" not in daemon.passwd.users, "check mode changes nothing"
    assert plan["user"]["uid"] == 1500 and plan["diff"]["after"]["password"] == "changed"

    result = run(daemon, uid=1500, groups=["dba"], password="S3cret!")
    assert result["commands"] == plan["commands"] and result["user"]["uid"] == 1500
    stored = daemon.passwd.users["alice"]["hash"]
    assert stored.startswith("$6$") and "S3cret!" not in str(result) and "S3cret!" not in "".join(daemon.passwd.stdin)
    again = run(daemon, uid=1500, groups=["dba"], password="S3cret!")
    assert again["changed"] is False and again["commands"] == []


def test_modify_and_remove(daemon):
    daemon.passwd.users["alice"] = dict(uid=1500, gid=100, shell="/bin/sh", groups=["dba"],
                                        hash=hash_password("old"))
    result = run(daemon, uid=1501, gid=2000, shell="/bin/bash", groups=["db2iadm1"], append=True, password="new")
    assert result["commands"] == ["usermod -u 1501 -g 2000 -s /bin/bash -G db2iadm1,dba alice", "chpasswd -e"]
    assert daemon.passwd.users["alice"]["groups"] == ["db2iadm1", "dba"]
    assert run(daemon, password="other", update_password="on_create")["changed"] is False
    plan = run(daemon, check_mode=True, state="absent")
    assert plan["commands"] == ["userdel alice"] and plan["user"] is None and "alice" in daemon.passwd.users
    assert run(daemon, state="absent")["changed"] and "alice" not in daemon.passwd.users
    assert run(daemon, state="absent")["changed"] is False


@pytest.mark.parametrize("extra, words", [
    (dict(name="SYSADM"), "invalid user name"),
    (dict(name="db2inst1"), "belongs to the image or the Db2 instance"),
    (dict(name="root"), "belongs to the image"),
    (dict(uid=10), "outside 1000-60000"),
    (dict(gid=0), "gid 0 is outside"),
    (dict(groups=["bad group"]), "invalid group name"),
    (dict(groups=["nogroup"]), "do not exist in the container"),
    (dict(uid=1000), "already used by db2inst1"),
    (dict(name="daemon"), "system account"),
])
def test_refusals_change_nothing(daemon, extra, words):
    before = dict((k, dict(v)) for k, v in daemon.passwd.users.items())
    with pytest.raises(UserInputError) as err:
        run(daemon, **extra)
    assert words in str(err.value) and daemon.passwd.users == before


def test_missing_or_stopped_container(daemon):
    with pytest.raises(DockerOperationError, match="does not exist"):
        run(daemon, container="nope")
    daemon.stop("db2")
    with pytest.raises(DockerOperationError, match="is not running"):
        run(daemon)


def test_a_failure_after_a_change_is_a_partial_change_without_the_hash(daemon):
    daemon.on_exec(r"^chpasswd ", lambda c, cmd, stdin, user: (1, "chpasswd: cannot lock; hash %s" % stdin.split(":")[1]))
    with pytest.raises(PartialChange) as err:
        run(daemon, password="S3cret!")
    assert err.value.changed is True and "already done in the container: useradd" in str(err.value)
    assert "$6$" not in str(err.value) and "********" in str(err.value)
    daemon.on_exec(r"^useradd ", (1, "useradd: cannot lock /etc/passwd"))
    with pytest.raises(DockerOperationError) as first:
        run(daemon, name="bob")
    assert not isinstance(first.value, PartialChange) and "useradd failed" in str(first.value)


def test_unreadable_user_database(daemon):
    daemon.on_exec(r"@@DB2OPS-USER passwd", (1, "sh: getent: not found"))
    with pytest.raises(DockerOperationError, match="could not read the users"):
        run(daemon)
