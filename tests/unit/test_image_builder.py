"""The build driver of db2_image (_image/build.py: ImageBuilder, build, remove_stage_images)
against the fake daemon: plan, build, tag, rebuild only on change, and the stage images (which
hold password hashes) removed after a success and after a failure."""
import io
import tarfile

import pytest
from docker.errors import APIError
from fake_docker import FakeDocker

from ansible_collections.db2ops.docker.plugins.module_utils._docker.client import DockerOperationError
from ansible_collections.db2ops.docker.plugins.module_utils._image.build import (
    LABEL_BASE_ID,
    LABEL_HASH,
    BuildFailed,
    ImageBuilder,
    ImageInputError,
    inspect_image,
)

BASE = "ibmcom/db2:11.5.8.0"
USERS = [dict(name="appuser1", uid=2001, groups=["db2iadm1"], password="S3cret!", shell="/bin/bash")]


@pytest.fixture
def daemon():
    fake = FakeDocker()
    fake.add_image(BASE, level="11.5.8.0")
    yield fake
    assert fake.unexpected == []


def params(**extra):
    p = dict(name="custom:1", base_image=BASE, activate_databases=True, text_search=False, users=[], labels={},
             files=[dict(dest="/var/custom/10-hello.sh", content="echo hello\n")], allowed_dest_dirs=[],
             force=False, build_timeout=60)
    p.update(extra)
    return p


def run(daemon, check_mode=False, **extra):
    return ImageBuilder(daemon, params(**extra), check_mode=check_mode).run()


def stream(*step_ids, final="sha256:" + "f" * 64):
    chunks = [{"stream": "Step 1/3 : FROM %s AS db2ops-users\n" % BASE}]
    for step in step_ids:
        chunks += [{"stream": " ---> Running in 0badc0ffee00\n"}, {"stream": " ---> %s\n" % step}]
    return chunks + ([{"aux": {"ID": final}}] if final else [])


def test_check_mode_plans_then_build_tags_and_a_rerun_is_a_no_op(daemon):
    plan = run(daemon, check_mode=True)
    assert plan["changed"] and plan["actions"] == ["build custom:1 from %s (new)" % BASE] and plan["image_id"] is None
    assert daemon.calls == [] and "custom:1" not in daemon.images
    assert plan["diff"]["before"] == "" and "FROM" in plan["diff"]["after"]

    result = run(daemon)
    assert result["changed"] and result["actions"][1].startswith("tag sha256:")
    image = daemon.images["custom:1"]
    assert image["Id"] == result["image_id"] and image["Config"]["Labels"][LABEL_HASH] == result["hash"]
    with tarfile.open(fileobj=io.BytesIO(daemon.built["context"])) as tar:
        assert "Dockerfile" in tar.getnames()
    again = run(daemon)
    assert again["changed"] is False and again["image_id"] == image["Id"] and again["actions"] == []
    assert run(daemon, force=True)["changed"], "force builds again"


def test_rebuild_reasons(daemon):
    run(daemon)
    assert run(daemon, check_mode=True, text_search=True)["actions"] == [
        "build custom:1 from %s (build context changed)" % BASE]
    daemon.images["custom:1"]["Config"]["Labels"][LABEL_BASE_ID] = "sha256:old"
    assert "(base image changed)" in run(daemon, check_mode=True, text_search=True)["actions"][0]
    daemon.images["custom:1"]["Config"]["Labels"] = {LABEL_BASE_ID: daemon.images[BASE]["Id"]}
    assert "(not built by db2_image)" in run(daemon, check_mode=True)["actions"][0]


def test_stage_images_with_password_hashes_are_removed(daemon):
    daemon.images["sha256:aaaaaaaaaaaa"] = {"Id": "sha256:" + "a" * 64, "RepoTags": [], "Parent": ""}
    daemon.images["sha256:bbbbbbbbbbbb"] = {"Id": "sha256:" + "b" * 64, "RepoTags": [], "Parent": ""}
    daemon.build_stream = stream("aaaaaaaaaaaa", "bbbbbbbbbbbb")
    result = run(daemon, users=USERS)
    assert result["removed_stage_images"] == ["bbbbbbbbbbbb", "aaaaaaaaaaaa"]
    assert "S3cret" not in str(result)


def test_a_failed_build_removes_its_step_images_and_says_what_failed(daemon):
    daemon.images["sha256:aaaaaaaaaaaa"] = {"Id": "sha256:" + "a" * 64, "RepoTags": [], "Parent": ""}
    daemon.build_stream = stream("aaaaaaaaaaaa", final=None) + [
        {"error": "The command '/bin/sh -c chpasswd -e' returned a non-zero code: 1",
         "errorDetail": {"message": "The command '/bin/sh -c chpasswd -e' returned a non-zero code: 1"}}]
    with pytest.raises(BuildFailed) as err:
        run(daemon, users=USERS)
    assert "returned a non-zero code: 1" in str(err.value) and err.value.step_images == ["aaaaaaaaaaaa"]
    assert ("remove_image", "aaaaaaaaaaaa") in daemon.calls and "custom:1" not in daemon.images


@pytest.mark.parametrize("chunks, words", [
    ([{"stream": "Step 1/1 : FROM x\n"}], "ended without an image id"),
    ([APIError("500 Server Error", explanation="no space left on device")], "no space left on device"),
    ([TimeoutError("read timed out")], "read timed out"),
])
def test_build_failures(daemon, chunks, words):
    daemon.build_stream = chunks
    with pytest.raises(BuildFailed, match=words):
        run(daemon)


def test_tag_failure(daemon):
    daemon.fail("tag")
    with pytest.raises(DockerOperationError, match="could not tag it custom:1"):
        run(daemon)


@pytest.mark.parametrize("extra, words", [
    (dict(base_image="nothere:1"), "is not on this Docker host"),
    (dict(labels={"db2ops.image.hash": "x"}), "option labels has an invalid key"),
    (dict(files=[dict(dest="/var/custom/x", content="x", owner="appuser9")]), "file owner appuser9 is neither"),
])
def test_refusals(daemon, extra, words):
    with pytest.raises(ImageInputError, match=words):
        run(daemon, **extra)
    assert daemon.calls == []


def test_inspect_image_errors(daemon):
    daemon.fail("inspect_image", exc=APIError("404", response=type("R", (), {"status_code": 404})()))
    assert inspect_image(daemon, BASE) is None
    daemon.fail("inspect_image")
    with pytest.raises(DockerOperationError, match="cannot inspect image"):
        inspect_image(daemon, BASE)
