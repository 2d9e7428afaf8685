# -*- coding: utf-8 -*-
# Copyright: db2ops.docker contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Copy an image between two Docker daemons: docker save | docker load over the Engine API.

PRIVATE to the db2ops.docker collection: not a public API, it may change in any release.
"""

from __future__ import absolute_import, annotations, division, print_function

__metaclass__ = type

from ansible_collections.db2ops.docker.plugins.module_utils._docker.client import (
    APIError,
    DockerOperationError,
    api_message,
)
from ansible_collections.db2ops.docker.plugins.module_utils._image.build import ImageInputError, inspect_image


def copy_image(source_api, target_api, name, check_mode=False, chunk_size=1024 * 1024):
    """Load image `name` from source_api's daemon into target_api's unless the ids already match."""
    source = inspect_image(source_api, name)
    if source is None:
        raise ImageInputError("image %s is not on the source Docker host" % name)
    target = inspect_image(target_api, name)
    result = dict(changed=False, image=name, image_id=source["Id"], actions=[], commands=[])
    if target and target["Id"] == source["Id"]:
        return result
    result["changed"] = True
    result["actions"].append("load %s (%s) from the source Docker host" % (name, source["Id"][:19]))
    result["commands"].append("docker save %s | docker load  (source host -> this host)" % name)
    if check_mode:
        return result
    try:
        # The save stream feeds the load request as it arrives (chunked upload): no temp file.
        reply = target_api.load_image(source_api.get_image(name, chunk_size=chunk_size), quiet=True)
        for chunk in reply or []:
            if isinstance(chunk, dict) and chunk.get("error"):
                raise DockerOperationError("loading %s failed: %s" % (name, chunk["error"]))
    except APIError as exc:
        raise DockerOperationError("copying %s between Docker hosts failed: %s" % (name, api_message(exc)))
    loaded = inspect_image(target_api, name)
    if not loaded or loaded["Id"] != source["Id"]:
        raise DockerOperationError("after loading, %s on the target is %s, not %s"
                                   % (name, loaded and loaded["Id"], source["Id"]))
    return result
