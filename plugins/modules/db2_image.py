#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: db2ops.docker contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: db2_image
short_description: Build an image extending an IBM Db2 image (database activation, TEXT_SEARCH, files, users), idempotently
version_added: 0.1.0
description:
  - Recipe 2 of the Docker Cookbook as a task. From a base image (C(icr.io/db2_community/db2),
    C(ibmcom/db2), C(store/ibmcorp/db2_developer_c) or one built from them) and declarative options,
    renders a build context (Dockerfile, scripts, files) and builds it through the Docker Engine API.
  - The image's tag carries a content-hash label over the base image id and the whole rendered
    context. When the tag already carries the same hash nothing is built (C(changed=false)); a new
    base image id, a changed file, user or option rebuilds.
  - B(How the activation hook attaches.) No IBM file is replaced. The image's entrypoint is
    C(/var/db2ops/entrypoint.sh), which runs the base image's own entrypoint (read from the base
    image at build time) and, when it logs C((*\) Setup has completed.), holds that line back, runs
    the start hooks (group memberships, TEXT_SEARCH, the cookbook's C(activate_dbs.sh) as the
    instance owner for every database of
    C(db2fupdt -f /database/config/instance.cfg -s database -p list)), then passes the line on.
    Whoever waits for that line (testcontainers, our readiness check) finds the databases active.
    Because IBM's C(setup_db2_instance.sh) and C(db2_common_functions) are used as each base level
    ships them, a new base level brings its fixes along; the cookbook's copied setup script would
    silently revert them. (IBM runs C(/var/custom) scripts only after that line, so they cannot
    make "ready" mean "active".)
  - B(Users and passwords.) The Docker 20.10 API's classic builder has no build secrets. Users are
    created in a build stage of their own, which receives the password hashes as a context file;
    the final image only copies C(/etc/passwd), C(group), C(shadow) and C(gshadow) from it, and the
    stage's cache images are removed after the build. Neither the plaintext (never given) nor the
    hash is in C(docker history) or the image config; the hash is in the image's C(/etc/shadow), as
    in any OS user database, so anyone who can pull the image can read it.
  - With O(copy_from), nothing is built; the image O(name) is streamed from another Docker host
    (C(docker save | docker load) over the Engine API) unless both hosts already hold the same image id.
author:
  - db2ops.docker developers (@db2ops)
extends_documentation_fragment:
  - db2ops.docker.docker
  - db2ops.docker.attributes
  - db2ops.docker.attributes.actiongroup_docker
attributes:
  check_mode:
    support: full
    details:
      - Reports whether the image would be built and the rendered Dockerfile; builds nothing.
  diff_mode:
    support: full
    details:
      - The rendered Dockerfile against the one recorded in the existing tag's C(db2ops.image.dockerfile) label.
options:
  name:
    description:
      - The image to build (or copy), C(repository[:tag]); the tag defaults to C(latest).
    type: str
    required: true
  base_image:
    description:
      - The image to extend, for example C(icr.io/db2_community/db2:11.5.8.0). It must be on the Docker
        host already; it is used by image id, so a new image under the same tag rebuilds.
      - Required unless O(copy_from) is given.
    type: str
  activate_databases:
    description:
      - Activate every database listed by C(db2fupdt -f /database/config/instance.cfg -s database -p list)
        as the instance owner at each container start, before the image reports ready.
      - A container can turn it off with C(-e DB2OPS_ACTIVATE_DATABASES=false).
    type: bool
    default: true
  text_search:
    description:
      - Default of the C(TEXT_SEARCH) environment variable of the image. Containers override it with
        C(-e TEXT_SEARCH=false) as in the cookbook. The start hook makes the container follow the
        variable even on base levels that start text search unconditionally (it stops it again).
      - V(null) leaves the variable alone and the base image's behaviour as it is.
      - The default V(true) is the cookbook's C(${TEXT_SEARCH:-true}).
    type: bool
    default: true
  files:
    description:
      - Extra files for the image.
    type: list
    elements: dict
    default: []
    suboptions:
      src:
        description:
          - A file on the host that runs the module. Exactly one of O(files[].src) and O(files[].content).
        type: path
      content:
        description:
          - The file's content as text (any text but NUL).
        type: str
      dest:
        description:
          - Absolute path in the image, under C(/var/db2_setup/include), C(/var/db2_setup/lib),
            C(/var/custom) or one of O(allowed_dest_dirs); anything else is refused.
          - IBM's setup runs every file in C(/var/custom) after C((*\) Setup has completed.).
          - Letters, digits, blanks and C(_ . @ + -) only; anything else (a newline, a quote) is refused.
        type: str
        required: true
      mode:
        description:
          - File mode, octal as a string (C('0755')). Defaults to C(0755) under C(/var/custom) and
            C(/var/db2_setup/lib) (IBM executes them) and C(0644) elsewhere.
        type: raw
      owner:
        description:
          - C(user[:group]) of letters, digits and C(_ . -) that owns the file; C(root:root) by default.
            Must exist at build time
            (root, a numeric id or one of O(users)); C(db2inst1) is only created when a container starts.
        type: str
  users:
    description:
      - OS users baked into the image (the cookbook's C(useradd -M -N)). Users that must differ per
        container belong in M(db2ops.docker.db2_container_user) or LDAP instead.
    type: list
    elements: dict
    default: []
    suboptions:
      name:
        description:
          - User name, 1-30 characters C(a-z0-9_-); not C(db2inst1), C(db2fenc1), C(root), nor starting
            with C(SYS), C(IBM) or C(SQL).
        type: str
        required: true
      uid:
        description:
          - User id, 100-60000; not 1000 or 1001 (the base image gives them to db2inst1 and db2fenc1
            at each start) and not used by another user of the base image.
        type: int
        required: true
      groups:
        description:
          - Supplementary groups. Groups the base image creates at start (C(db2iadm1)) are joined
            by the start hook.
        type: list
        elements: str
        default: []
      password:
        description:
          - The user's password. The module hashes it (SHA-512 crypt) with O(users[].password_salt), or
            without one with a salt derived from the image and user names, so that reruns are no-ops.
          - Without O(users[].password) and O(users[].password_hash) the user has no password (cannot log in).
        type: str
      password_salt:
        description:
          - Salt (1-16 characters C([./0-9A-Za-z])) for O(users[].password).
        type: str
      password_hash:
        description:
          - A ready SHA-512 crypt hash (C($6$...)) instead of O(users[].password). A new salt rebuilds the image.
        type: str
      shell:
        description:
          - Login shell.
        type: str
        default: /bin/bash
  labels:
    description:
      - Labels of the image. Keys C(db2ops.image.*) are reserved; keys are letters, digits and C(. _ / -),
        values one line of text.
    type: dict
    default: {}
  allowed_dest_dirs:
    description:
      - More directories where O(files[].dest) may point (the same characters as O(files[].dest)).
    type: list
    elements: path
    default: []
  force:
    description:
      - Build even when the tag carries the same content hash.
    type: bool
    default: false
  build_timeout:
    description:
      - Seconds the build may take.
    type: int
    default: 1800
  copy_from:
    description:
      - Copy O(name) from this Docker host instead of building it (no registry needed). The options mean
        the same as this module's own connection options; no environment variable applies to them.
    type: dict
    suboptions:
      docker_host:
        description:
          - The source Docker daemon, C(unix://...) or C(tcp://host:2376).
        type: str
        required: true
        aliases: [docker_url]
      tls:
        description:
          - Use TLS; by default on for C(tcp://) hosts.
        type: bool
      validate_certs:
        description:
          - Verify the source daemon's certificate against O(copy_from.ca_path).
          - When not set, certificates are verified. With V(false) the module warns.
        type: bool
        aliases: [tls_verify]
      ca_path:
        description:
          - CA certificate of the source daemon.
        type: path
        aliases: [ca_cert, tls_ca_cert]
      client_cert:
        description:
          - Client certificate for the source daemon.
        type: path
        aliases: [tls_client_cert, cert_path]
      client_key:
        description:
          - Key of O(copy_from.client_cert).
        type: path
        aliases: [tls_client_key, key_path]
      timeout:
        description:
          - Seconds to wait for one answer of the source daemon.
        type: int
        default: 600
notes:
  - Containers of the image start with C(/var/db2ops/entrypoint.sh); every C(docker run) option of
    the base image (C(LICENSE), C(DB2INST1_PASSWORD), C(DBNAME), C(-v .../database)) works as before.
  - Image layers are built by the daemon, not on the controller; O(files[].src) is read where the module runs.
seealso:
  - module: db2ops.docker.db2_container_user
  - name: Docker Cookbook, recipe 2
    description: The Dockerfile, C(activate_dbs.sh) and C(TEXT_SEARCH) check this module renders.
    link: https://www.xtivia.com
"""

EXAMPLES = r"""
- name: Activate databases at start, text search off by default, an extra script and a user
  db2ops.docker.db2_image:
    name: custom:11.5.8.0
    base_image: icr.io/db2_community/db2:11.5.8.0
    text_search: false
    files:
      - src: files/runstats.sh
        dest: /var/db2_setup/lib/runstats.sh
      - content: |
          #!/bin/bash
          echo "(*) custom script ran"
        dest: /var/custom/10-hello.sh
    users:
      - name: appuser1
        uid: 2001
        groups: [db2iadm1]
        password: "{{ appuser1_password }}"
    labels:
      org.opencontainers.image.vendor: Example Corp

- name: Same image on another Docker host without a registry
  db2ops.docker.db2_image:
    name: custom:11.5.8.0
    docker_host: tcp://db2host2.example.com:2376
    ca_path: /etc/db2ops/ca.pem
    client_cert: /etc/db2ops/cert.pem
    client_key: /etc/db2ops/key.pem
    copy_from:
      docker_host: tcp://db2host1.example.com:2376
      ca_path: /etc/db2ops/ca.pem
      client_cert: /etc/db2ops/cert.pem
      client_key: /etc/db2ops/key.pem
"""

RETURN = r"""
image:
  description: The image name.
  returned: always
  type: str
  sample: custom:11.5.8.0
image_id:
  description: Id of the image under O(name) afterwards; null in check mode when it would be built.
  returned: always
  type: str
hash:
  description: Content hash of the rendered context (the C(db2ops.image.hash) label).
  returned: when building
  type: str
base_image_id:
  description: Id of O(base_image).
  returned: when building
  type: str
dockerfile:
  description: The rendered Dockerfile (it holds no secret).
  returned: when building
  type: str
commands:
  description:
    - The Docker commands run, or that would run in check mode, as a user would type them (C(docker build),
      C(docker tag), C(docker save | docker load) for O(copy_from)).
  returned: always
  type: list
  elements: str
  sample: ["docker build --label db2ops.image.hash=3f2a... --label db2ops.image.base=icr.io/db2_community/db2:11.5.8.0
            <context: Dockerfile FROM icr.io/db2_community/db2:11.5.8.0>", "docker tag sha256:0c1d2e3f4a5b custom:11.5.8.0"]
actions:
  description: What was done (or would be, in check mode).
  returned: always
  type: list
  elements: str
  sample: ["build custom:11.5.8.0 from icr.io/db2_community/db2:11.5.8.0 (base image changed)"]
build_log:
  description: The last lines of the build output.
  returned: when built
  type: list
  elements: str
build_seconds:
  description: Seconds the build took.
  returned: when built
  type: float
removed_stage_images:
  description: Cache images of the users build stage removed after the build.
  returned: when built with users
  type: list
  elements: str
"""

from ansible_collections.db2ops.docker.plugins.module_utils._docker.client import (
    DOCKER_HOST,
    DOCKER_REQUIRED_TOGETHER,
    IMAGE_NAME,
    DockerModuleClient,
    DockerOperationError,
    docker_module,
    docker_suboptions,
)
from ansible_collections.db2ops.docker.plugins.module_utils._image.build import (
    DEST_RULE,
    OWNER_RULE,
    SALT_RULE,
    SHELL_RULE,
    USER_NAME_RULE,
    ImageBuilder,
    inspect_image,
)
from ansible_collections.db2ops.docker.plugins.module_utils._image.copy import copy_image


def what_is_left(api, name):
    """After a failure: the tag keeps its image, or there never was one (say so, claim nothing)."""
    try:
        existing = inspect_image(api, name)
    except DockerOperationError:
        existing = None
    return ("%s keeps its previous image" % name) if existing else ("no image %s was built" % name)


def main():
    module = docker_module(
        dict(
            name=dict(type="str", required=True),
            base_image=dict(type="str"),
            activate_databases=dict(type="bool", default=True),
            text_search=dict(type="bool", default=True),
            files=dict(type="list", elements="dict", default=[], options=dict(
                src=dict(type="path"), content=dict(type="str"), dest=dict(type="str", required=True),
                mode=dict(type="raw"), owner=dict(type="str")),
                mutually_exclusive=[["src", "content"]], required_one_of=[["src", "content"]]),
            users=dict(type="list", elements="dict", default=[], options=dict(
                name=dict(type="str", required=True), uid=dict(type="int", required=True),
                groups=dict(type="list", elements="str", default=[]),
                password=dict(type="str", no_log=True), password_salt=dict(type="str", no_log=False),
                password_hash=dict(type="str", no_log=True), shell=dict(type="str", default="/bin/bash"))),
            labels=dict(type="dict", default={}),
            allowed_dest_dirs=dict(type="list", elements="path", default=[]),
            force=dict(type="bool", default=False),
            build_timeout=dict(type="int", default=1800),
            copy_from=dict(type="dict", options=docker_suboptions(timeout=600),
                           required_together=DOCKER_REQUIRED_TOGETHER),
        ),
        required_one_of=[["base_image", "copy_from"]],
        mutually_exclusive=[["base_image", "copy_from"]],
        rules={
            "name": IMAGE_NAME, "base_image": IMAGE_NAME, "files.dest": DEST_RULE, "files.owner": OWNER_RULE,
            "allowed_dest_dirs": DEST_RULE, "users.name": USER_NAME_RULE, "users.groups": USER_NAME_RULE,
            "users.shell": SHELL_RULE, "users.password_salt": SALT_RULE, "copy_from.docker_host": DOCKER_HOST,
        },
        multiline=("files.content",), not_empty=("name", "base_image", "files.dest", "users.name", "users.password"))
    docker = DockerModuleClient(module)
    try:
        if module.params["copy_from"]:
            source = docker.connect_other("copy_from")
            result = copy_image(source, docker.api, module.params["name"], module.check_mode)
        else:
            result = ImageBuilder(docker.api, module.params, module.check_mode).run()
    except DockerOperationError as exc:
        docker.fail("%s. Nothing was changed: %s." % (exc, what_is_left(docker.api, module.params["name"])))
    finally:
        docker.close()
    if not module._diff:
        result.pop("diff", None)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
