"""Rendering, hashing and input checks of db2_image (no daemon)."""
import pytest

from ansible_collections.db2ops.docker.plugins.module_utils._image.build import (
    ImageInputError,
    content_hash,
    load_files,
    normalise_dest,
    render,
    split_name,
    user_password_hash,
    validate_users,
)

ALLOWED = ("/var/db2_setup/include", "/var/db2_setup/lib", "/var/custom")
BASE = {"Id": "sha256:" + "ab" * 32,
        "Config": {"Entrypoint": ["/var/db2_setup/lib/setup_db2_instance.sh"], "Cmd": None}}


def params(**kwargs):
    base = dict(name="custom:1", base_image="ibmcom/db2:11.5.8.0", activate_databases=True, text_search=True,
                files=[], users=[], labels={})
    base.update(kwargs)
    return base


@pytest.mark.parametrize("dest", ["/etc/passwd", "/var/custom", "/var/custom/../x", "var/custom/x",
                                  "/var/customer/x", "/var/db2_setup/lib//x", "/opt/ibm/db2/x"])
def test_dest_outside_allowed_dirs_is_refused(dest):
    with pytest.raises(ImageInputError):
        normalise_dest(dest, ALLOWED)


def test_dest_inside_allowed_dirs_and_default_modes(tmp_path):
    src = tmp_path / "s.sh"
    src.write_text("echo hi\n")
    files = load_files([dict(src=str(src), dest="/var/custom/s.sh"),
                        dict(content="x=1\n", dest="/var/db2_setup/include/extra"),
                        dict(content="y", dest="/opt/site/y", mode="0600", owner="root")],
                       ALLOWED + ("/opt/site",))
    expected = [("/var/custom/s.sh", 0o755), ("/var/db2_setup/include/extra", 0o644), ("/opt/site/y", 0o600)]
    assert [(d, m) for d, _b, m, _o in files] == expected


def test_missing_source_is_refused(tmp_path):
    with pytest.raises(ImageInputError, match="does not exist"):
        load_files([dict(src=str(tmp_path / "nope"), dest="/var/custom/x")], ALLOWED)


@pytest.mark.parametrize("users,message", [
    ([dict(name="Bad Name", uid=2000)], "invalid user name"),
    ([dict(name="sysadm", uid=2000)], "invalid user name"),
    ([dict(name="db2inst1", uid=2000)], "created by the base image"),
    ([dict(name="app", uid=1000)], "not allowed"),
    ([dict(name="a1", uid=2000), dict(name="a2", uid=2000)], "given to both"),
    ([dict(name="a1", uid=2000), dict(name="a1", uid=2001)], "listed twice"),
    ([dict(name="a1", uid=2000, password_hash="plain")], "not a SHA-512"),
])
def test_bad_users_are_refused(users, message):
    with pytest.raises(ImageInputError, match=message):
        validate_users(users)


@pytest.mark.parametrize("users,message", [
    ([dict(name="appuser\n", uid=2000)], "invalid user name"),
    ([dict(name="appuser", uid=2000, groups=["db2iadm1\n"])], "invalid group name"),
    ([dict(name="appuser", uid=2000, password="x", password_salt="abcdefgh\n")], "password_salt"),
    ([dict(name="appuser", uid=2000, shell="/bin/bash\n")], "invalid shell"),
    ([dict(name="appuser", uid=2000, shell="/bin/b\u00e4sh")], "invalid shell"),
])
def test_name_rules_are_full_matches(users, message):
    """A trailing newline passes `re.match(...$)`: every rule must be a full match."""
    with pytest.raises(ImageInputError, match=message):
        validate_users(users)


@pytest.mark.parametrize("item,message", [
    (dict(content="x", dest="/var/custom/x.sh\nRUN id"), "one line of printable text"),
    (dict(content="x", dest="/var/custom/x.sh\n"), "one line of printable text"),
    (dict(content="x", dest="/var/custom/x.sh", owner="root\n"), "not user"),
    (dict(content="x", dest="/var/custom/x.sh", mode="0755\n"), "not an octal mode"),
])
def test_file_options_cannot_add_dockerfile_lines(item, message):
    with pytest.raises(ImageInputError, match=message):
        load_files([item], ALLOWED)


def test_rendering_keeps_the_base_entrypoint_and_no_secret_in_the_dockerfile():
    users = [dict(name="appuser1", uid=2001, groups=["db2iadm1"], password="S3cret!", shell="/bin/bash")]
    context, dockerfile = render("ibmcom/db2:11.5.8.0", BASE, params(users=users), [])
    assert "FROM %s AS db2ops-users" % BASE["Id"] in dockerfile
    assert 'ENTRYPOINT ["/var/db2ops/entrypoint.sh"]' in dockerfile
    assert "ENV TEXT_SEARCH=true" in dockerfile
    assert "S3cret" not in dockerfile and "$6$" not in dockerfile
    assert b"BASE_COMMAND=(/var/db2_setup/lib/setup_db2_instance.sh)" in context["hooks/image.conf"][0]
    secret = context["db2ops/users.secret"][0].decode()
    assert secret.startswith("appuser1:$6$") and context["db2ops/users.secret"][1] == 0o600
    assert context["hooks/user-groups"][0] == b"appuser1 db2iadm1\n"


def test_hash_is_stable_and_follows_every_input():
    users = [dict(name="appuser1", uid=2001, groups=[], password="pw")]
    first = content_hash(BASE, render("b", BASE, params(users=users), [])[0])
    assert first == content_hash(BASE, render("b", BASE, params(users=users), [])[0])
    other_pw = [dict(users[0], password="pw2")]
    assert first != content_hash(BASE, render("b", BASE, params(users=other_pw), [])[0])
    assert first != content_hash(BASE, render("b", BASE, params(users=users, text_search=False), [])[0])
    new_base = dict(BASE, Id="sha256:" + "cd" * 32)
    assert first != content_hash(new_base, render("b", new_base, params(users=users), [])[0])


def test_password_salt_is_stable_without_being_given():
    user = dict(name="u1", password="pw")
    assert user_password_hash(user, "img:1") == user_password_hash(user, "img:1")
    assert user_password_hash(user, "img:1") != user_password_hash(user, "img:2")
    assert user_password_hash(dict(user, password_salt="abc"), "img:1").startswith("$6$abc$")


def test_split_name():
    assert split_name("custom:11.5") == ("custom", "11.5")
    assert split_name("custom") == ("custom", "latest")
    assert split_name("reg.example:5000/custom") == ("reg.example:5000/custom", "latest")
