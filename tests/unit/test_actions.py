"""The one action recorder and the one error base every module shares (module_utils/actions.py)."""
import pytest

from ansible_collections.db2ops.docker.plugins.module_utils.actions import ActionFailed, ActionRecorder
from ansible_collections.db2ops.docker.plugins.module_utils._db2.clp import Db2Error
from ansible_collections.db2ops.docker.plugins.module_utils._docker.client import DockerOperationError
from ansible_collections.db2ops.docker.plugins.module_utils._ldap.dn import LdapError
from ansible_collections.db2ops.docker.plugins.module_utils._upgrade.engine import UpgradeError


def test_check_mode_records_but_does_not_run():
    ran = []
    recorder = ActionRecorder(check_mode=True)
    assert recorder.do("docker stop db2", ran.append, "stop") is None
    recorder.record("CONNECT TO SAMPLE", "BIND x")
    assert ran == []
    assert recorder.commands == ["docker stop db2", "CONNECT TO SAMPLE", "BIND x"]
    assert recorder.changed is True  # what the task would change


def test_real_run_records_then_runs_and_counts():
    ran = []
    recorder = ActionRecorder()
    assert recorder.changed is False
    recorder.do("docker stop db2", ran.append, "stop")
    assert ran == ["stop"] and recorder.commands == ["docker stop db2"] and recorder.changed


def test_a_failing_command_is_recorded_and_the_error_says_what_ran():
    recorder = ActionRecorder()
    recorder.do("docker stop db2", lambda: None)

    def boom():
        raise DockerOperationError("no such image")

    with pytest.raises(DockerOperationError) as err:
        try:
            recorder.do("docker create db2", boom)
        except DockerOperationError as exc:
            raise recorder.fail(exc)
    assert err.value.changed is True  # the stop went through
    assert err.value.commands == ["docker stop db2", "docker create db2"]


def test_nothing_done_before_the_failure_means_unchanged():
    recorder = ActionRecorder()
    exc = recorder.fail(LdapError("bad DN"))
    assert exc.changed is False and exc.commands == []


@pytest.mark.parametrize("error", [DockerOperationError, Db2Error, LdapError, UpgradeError])
def test_every_error_family_shares_the_base_and_defaults_to_unchanged(error):
    exc = error("x")
    assert isinstance(exc, ActionFailed)
    assert exc.changed is False and list(exc.commands) == []
