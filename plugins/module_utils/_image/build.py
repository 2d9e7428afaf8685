# -*- coding: utf-8 -*-
# Copyright: db2ops.docker contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Recipe 2 of the cookbook as code: render the build context of an image extending an IBM Db2
image (Dockerfile + scripts + files), hash it, and build it through the Engine API only when
the tag does not already carry that hash.

The image replaces none of IBM's files: its entrypoint wraps the base image's own and runs the start
hooks when the base logs `(*) Setup has completed.`; users are made in a build stage of their own so no
password or hash reaches `docker history`. Why, and how: docs/extended-images.md.

PRIVATE to the db2ops.docker collection: not a public API, it may change in any release.
"""

from __future__ import absolute_import, annotations, division, print_function

__metaclass__ = type

import hashlib
import io
import json
import os
import posixpath
import re
import shlex
import tarfile
import time

from ansible_collections.db2ops.docker.plugins.module_utils._docker.client import (
    APIError,
    DockerOperationError,
    NotFound,
    api_message,
    short_text,
)
from ansible_collections.db2ops.docker.plugins.module_utils.inputs import USER_NAME
from ansible_collections.db2ops.docker.plugins.module_utils._db2.sha_crypt import is_sha512_hash, sha512_crypt
from ansible_collections.db2ops.docker.plugins.module_utils._image.scripts import (
    ACTIVATE_DBS_SH,
    ENTRYPOINT_SH,
    START_HOOKS_SH,
    USERS_SH,
)

LABEL_HASH = "db2ops.image.hash"
LABEL_DOCKERFILE = "db2ops.image.dockerfile"
LABEL_BASE = "db2ops.image.base"
LABEL_BASE_ID = "db2ops.image.base_id"
RENDER_VERSION = "1"  # bump when the rendering changes, so existing tags are rebuilt

HOOK_DIR = "/var/db2ops"
DEFAULT_ALLOWED_DIRS = ("/var/db2_setup/include", "/var/db2_setup/lib", "/var/custom")
# Made at every container start by IBM's setup (create_users): images must leave them alone.
RESERVED_USERS = {"root", "db2inst1", "db2fenc1", "dasusr1"}
RESERVED_UIDS = {0, 1000, 1001}
# Name rules are used with fullmatch(): a pattern ending in `$` with match() also takes "name\n".
LABEL_KEY = re.compile(r"[A-Za-z0-9][A-Za-z0-9._/-]*")
SHELL = re.compile(r"/[A-Za-z0-9_/.-]+")
SALT = re.compile(r"[./0-9A-Za-z]{1,16}")
OWNER = re.compile(r"[A-Za-z0-9_.-]+(:[A-Za-z0-9_.-]+)?")
DEST = re.compile(r"/[A-Za-z0-9_.@+ /-]+")
# The same rules for the modules' input gate (docker.check_module_input): (regex, what is expected).
USER_NAME_RULE = (USER_NAME, "a user or group name: 1-30 of a-z, 0-9, _ or -, starting with a letter or _")
SHELL_RULE = (SHELL, "an absolute path like /bin/bash")
SALT_RULE = (SALT, "1-16 characters of ./0-9A-Za-z")
OWNER_RULE = (OWNER, "user[:group] of letters, digits, _ . -")
DEST_RULE = (DEST, "an absolute path of letters, digits, blanks and _ . @ + -")


class ImageInputError(DockerOperationError):
    """Bad module input, found before anything was built."""


# ---------------------------------------------------------------------------------------------
# Validation and rendering

def normalise_dest(dest, allowed_dirs):
    """An absolute, normalised destination inside one of allowed_dirs; raise otherwise."""
    if dest and re.search(r"[\x00-\x1f\x7f]", dest):  # a newline would add a Dockerfile instruction
        raise ImageInputError("file dest must be one line of printable text")
    if not dest or not dest.startswith("/"):
        raise ImageInputError("file dest %r must be an absolute path" % (dest,))
    norm = posixpath.normpath(dest)
    if norm != dest.rstrip("/") or ".." in dest.split("/"):
        raise ImageInputError("file dest %r is not a normalised path (no '..', '//' or '.')" % dest)
    for allowed in allowed_dirs:
        allowed = posixpath.normpath(allowed)
        if norm.startswith(allowed + "/"):
            return norm
    raise ImageInputError("file dest %s is outside the allowed directories (%s)" % (dest, ", ".join(allowed_dirs)))


def validate_users(users):
    seen_names, seen_uids = set(), {}
    for user in users:
        name, uid = user["name"], user["uid"]
        if not USER_NAME.fullmatch(name or "") or name.upper().startswith(("SYS", "IBM", "SQL")):
            raise ImageInputError(
                "invalid user name %r: use 1-30 characters a-z, 0-9, _ or -, starting with a letter or _, "
                "and not starting with SYS, IBM or SQL (reserved by Db2)" % (name,))
        if name in RESERVED_USERS:
            raise ImageInputError("user %s is created by the base image's setup at every start; "
                                  "do not declare it" % name)
        if name in seen_names:
            raise ImageInputError("user %s is listed twice" % name)
        if uid in RESERVED_UIDS or uid < 100 or uid > 60000:
            raise ImageInputError("uid %s of user %s is not allowed: use 100-60000, except 1000 and 1001 "
                                  "(db2inst1 and db2fenc1 get them at every start)" % (uid, name))
        if uid in seen_uids:
            raise ImageInputError("uid %s is given to both %s and %s" % (uid, seen_uids[uid], name))
        for group in user.get("groups") or []:
            if not USER_NAME.fullmatch(group):
                raise ImageInputError("invalid group name %r of user %s" % (group, name))
        if user.get("password") and user.get("password_hash"):
            raise ImageInputError("user %s: give password or password_hash, not both" % name)
        if user.get("password_salt") and not SALT.fullmatch(user["password_salt"]):
            raise ImageInputError("password_salt of user %s must be 1-16 characters of [./0-9A-Za-z]" % name)
        if user.get("password_hash") and not is_sha512_hash(user["password_hash"]):
            raise ImageInputError("password_hash of user %s is not a SHA-512 crypt hash ($6$...); "
                                  "make one with password_hash('sha512', salt)" % name)
        if not SHELL.fullmatch(user.get("shell") or "/bin/bash"):
            raise ImageInputError("invalid shell %r of user %s" % (user.get("shell"), name))
        seen_names.add(name)
        seen_uids[uid] = name


def user_password_hash(user, image_name):
    """The `$6$` hash for a user: given, or computed with a salt that is stable across runs.

    Without password_salt the salt is derived from the image and user names (not from the
    password): unique per user and image, and the same on every run, so rebuilds stay no-ops.
    """
    if user.get("password_hash"):
        return user["password_hash"]
    if not user.get("password"):
        return None
    salt = user.get("password_salt")
    if not salt:
        digest = hashlib.sha256(("db2ops.image\0%s\0%s" % (image_name, user["name"])).encode()).digest()
        salt = "".join("./0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"[b & 63] for b in digest[:16])
    return sha512_crypt(user["password"], salt)


def _owner_ok(owner):
    return bool(OWNER.fullmatch(owner))


def load_files(files, allowed_dirs):
    """[(dest, bytes, mode, owner)] from the files option; raise on bad input."""
    result, seen = [], set()
    for item in files:
        dest = normalise_dest(item["dest"], allowed_dirs)
        if dest in seen:
            raise ImageInputError("file dest %s is listed twice" % dest)
        seen.add(dest)
        if item.get("content") is not None:
            data = item["content"].encode("utf-8")
        else:
            src = item.get("src")
            if not src or not os.path.isfile(src):
                raise ImageInputError("file src of %s does not exist or is not a regular file" % dest)
            with open(src, "rb") as handle:
                data = handle.read()
        mode = item.get("mode")
        if mode is None:
            # IBM's setup executes every file in /var/custom; scripts elsewhere get read access.
            mode = 0o755 if dest.startswith(("/var/custom/", "/var/db2_setup/lib/")) else 0o644
        elif isinstance(mode, str):
            if not re.fullmatch(r"0?[0-7]{3,4}", mode):
                raise ImageInputError("file mode of %s is not an octal mode like '0755'" % dest)
            mode = int(mode, 8)
        owner = item.get("owner") or "root:root"
        if not _owner_ok(owner):
            raise ImageInputError("owner %r of %s is not user[:group]" % (owner, dest))
        result.append((dest, data, mode, owner))
    return result


def base_command(base_config):
    """The base image's ENTRYPOINT + CMD as one argv list (what the wrapper runs)."""
    return list(base_config.get("Entrypoint") or []), list(base_config.get("Cmd") or [])


def render(base_ref, base_inspect, params, files, allowed_dirs=DEFAULT_ALLOWED_DIRS):
    """The build context as {path: (bytes, mode)} and the Dockerfile text (no secrets in it)."""
    config = base_inspect.get("Config") or {}
    entrypoint, cmd = base_command(config)
    users = params.get("users") or []
    context = {}
    lines = [
        "# Rendered by db2ops.docker.db2_image (render %s); rebuilt by the module, do not edit." % RENDER_VERSION,
        "# Base: %s" % base_ref,
    ]
    if users:
        context["db2ops/users.sh"] = (USERS_SH.encode(), 0o755)
        context["db2ops/users.list"] = ("".join(
            "%s %d %s %s\n" % (u["name"], u["uid"], u.get("shell") or "/bin/bash", ",".join(u.get("groups") or []) or "-")
            for u in users).encode(), 0o644)
        context["db2ops/users.secret"] = ("".join(
            "%s:%s\n" % (u["name"], user_password_hash(u, params["name"])) for u in users
            if user_password_hash(u, params["name"])).encode(), 0o600)
        lines += ["# User %s: uid %d, groups %s, password %s" % (
            u["name"], u["uid"], ",".join(u.get("groups") or []) or "-",
            "set" if u.get("password") or u.get("password_hash") else "none") for u in users]
        lines += [
            "FROM %s AS db2ops-users" % base_inspect["Id"],
            "COPY db2ops/users.sh db2ops/users.list db2ops/users.secret /tmp/db2ops/",
            "RUN sh /tmp/db2ops/users.sh && rm -rf /tmp/db2ops",
            "",
        ]
    lines.append("FROM %s" % base_inspect["Id"])
    if users:
        lines.append("COPY --from=db2ops-users /etc/passwd /etc/group /etc/shadow /etc/gshadow /etc/")
    conf = "BASE_COMMAND=(%s)\nACTIVATE_DATABASES=%s\n" % (
        " ".join(shlex.quote(part) for part in entrypoint),
        "true" if params.get("activate_databases") else "false")
    context["hooks/image.conf"] = (conf.encode(), 0o644)
    context["hooks/entrypoint.sh"] = (ENTRYPOINT_SH.encode(), 0o755)
    context["hooks/start_hooks.sh"] = (START_HOOKS_SH.encode(), 0o755)
    context["hooks/activate_dbs.sh"] = (ACTIVATE_DBS_SH.encode(), 0o755)
    groups = "".join("%s %s\n" % (u["name"], g) for u in users for g in u.get("groups") or [])
    context["hooks/user-groups"] = (groups.encode(), 0o644)
    lines.append("COPY hooks/ %s/" % HOOK_DIR)
    for index, (dest, data, mode, owner) in enumerate(files):
        name = "files/%03d-%s" % (index, posixpath.basename(dest))
        context[name] = (data, mode)
        chown = "" if owner in ("root", "root:root") else "--chown=%s " % owner
        # The comment makes a content change visible in the Dockerfile diff.
        lines.append("# %s: sha256 %s, mode %04o" % (dest, hashlib.sha256(data).hexdigest()[:16], mode))
        lines.append("COPY %s%s %s" % (chown, json.dumps(name), json.dumps(dest)) if " " in dest
                     else "COPY %s%s %s" % (chown, name, dest))
    text_search = params.get("text_search")
    if text_search is not None:
        lines.append("ENV TEXT_SEARCH=%s" % ("true" if text_search else "false"))
    labels = params.get("labels") or {}
    if labels:
        lines.append("LABEL " + " ".join("%s=%s" % (k, json.dumps(str(v))) for k, v in sorted(labels.items())))
    lines.append('ENTRYPOINT ["%s/entrypoint.sh"]' % HOOK_DIR)
    if cmd:
        lines.append("CMD %s" % json.dumps(cmd))
    dockerfile = "\n".join(lines) + "\n"
    context["Dockerfile"] = (dockerfile.encode(), 0o644)
    return context, dockerfile


def content_hash(base_inspect, context):
    """sha256 over the base image id and every context file (name, mode, bytes)."""
    digest = hashlib.sha256()
    digest.update(("render %s\nbase %s\n" % (RENDER_VERSION, base_inspect["Id"])).encode())
    for name in sorted(context):
        data, mode = context[name]
        digest.update(("%s %o %d\n" % (name, mode, len(data))).encode())
        digest.update(data)
    return digest.hexdigest()


def context_tar(context):
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as tar:
        for name in sorted(context):
            data, mode = context[name]
            info = tarfile.TarInfo(name)
            info.size = len(data)
            info.mode = mode
            info.mtime = 0  # same bytes, same cache
            tar.addfile(info, io.BytesIO(data))
    buffer.seek(0)
    return buffer


# ---------------------------------------------------------------------------------------------
# Docker side

def split_name(name):
    """`repo[:tag]` -> (repo, tag); a port in a registry host is not a tag."""
    repo, sep, tag = name.rpartition(":")
    if not sep or "/" in tag:
        return name, "latest"
    return repo, tag


def inspect_image(api, name):
    try:
        return api.inspect_image(name)
    except NotFound:
        return None
    except APIError as exc:
        if getattr(exc, "status_code", None) == 404:
            return None
        raise DockerOperationError("cannot inspect image %s: %s" % (name, api_message(exc)))


class BuildFailed(DockerOperationError):
    """The build failed; `step_images` are the step images it left behind (they may hold secrets)."""

    def __init__(self, message, step_images):
        super(BuildFailed, self).__init__(message)
        self.step_images = step_images


def build(api, context, labels, timeout=None):
    """Build the context; return (image id, log lines, ids of the intermediate step images).

    Raises BuildFailed carrying the step images made before the failure.
    """
    log, step_images = [], []
    try:
        return _build(api, context, labels, timeout, log, step_images)
    except BuildFailed:
        raise
    except DockerOperationError as exc:
        raise BuildFailed(str(exc), step_images)
    except Exception as exc:  # read timeout (build_timeout) or a broken connection mid-build
        raise BuildFailed("the image build failed: %s; last steps: %s" % (short_text(str(exc)), " | ".join(log[-4:])),
                          step_images)


def _build(api, context, labels, timeout, log, step_images):
    try:
        stream = api.build(fileobj=context_tar(context), custom_context=True, rm=True, forcerm=True,
                           pull=False, labels=labels, decode=True, timeout=timeout)
        image_id = None
        for chunk in stream:
            if "error" in chunk:
                detail = (chunk.get("errorDetail") or {}).get("message") or chunk["error"]
                raise DockerOperationError("the image build failed: %s; last steps: %s"
                                           % (" ".join(detail.split()), " | ".join(log[-4:])))
            text = chunk.get("stream") or ""
            for line in text.splitlines():
                line = line.strip()
                if line and not line.startswith(("Removing intermediate", "---> Running in")):
                    log.append(line)
                match = re.match(r"^---> ([0-9a-f]{12,})$", line)
                if match:
                    step_images.append(match.group(1))
            aux = chunk.get("aux") or {}
            if aux.get("ID"):
                image_id = aux["ID"]
    except APIError as exc:
        raise DockerOperationError("the image build failed: %s" % api_message(exc))
    if not image_id:
        raise DockerOperationError("the image build ended without an image id; last steps: %s" % " | ".join(log[-4:]))
    return image_id, log, step_images


def remove_stage_images(api, step_images, final_id, keep_ids):
    """Remove the step images of a build outside the final image (they held the password hashes).

    After a success that is the `db2ops-users` stage; after a failure (final_id None) every step
    image of the build, since the final stage's steps copy /etc/shadow too. Images in the parent
    chain of the final image or of keep_ids stay; failures are ignored (an image still used by
    another build is left for `docker image prune`).
    """
    removed = []
    keep = set(i.replace("sha256:", "")[:12] for i in keep_ids)
    chain = set()
    for current in [final_id] + list(keep_ids):
        while current and current.replace("sha256:", "")[:12] not in chain:
            chain.add(current.replace("sha256:", "")[:12])
            info = inspect_image(api, current)
            current = info.get("Parent") if info else None
    for short in reversed(step_images):
        if short[:12] in chain or short[:12] in keep:
            continue
        try:
            api.remove_image(short, noprune=True)
            removed.append(short)
        except Exception:
            pass
    return removed


class ImageBuilder:
    """Plan and (unless check_mode) build one extended Db2 image."""

    def __init__(self, api, params, check_mode=False):
        self.api = api
        self.params = params
        self.check_mode = check_mode

    def plan(self):
        params = self.params
        base_ref = params["base_image"]
        base = inspect_image(self.api, base_ref)
        if base is None:
            raise ImageInputError("base image %s is not on this Docker host: pull or load it first" % base_ref)
        validate_users(params.get("users") or [])
        for key in (params.get("labels") or {}):
            if not LABEL_KEY.fullmatch(key) or key.startswith("db2ops.image."):
                raise ImageInputError("option labels has an invalid key: use letters, digits and . _ / -; "
                                      "db2ops.image.* is reserved")
        allowed = list(DEFAULT_ALLOWED_DIRS) + list(params.get("allowed_dest_dirs") or [])
        files = load_files(params.get("files") or [], allowed)
        file_owners = set(o.split(":")[0] for _d, _b, _m, o in files)
        declared = set(u["name"] for u in params.get("users") or [])
        for owner in file_owners - declared - {"root", "0"}:
            if not owner.isdigit():
                raise ImageInputError("file owner %s is neither root, a uid nor a user of this image "
                                      "(db2inst1 only exists once the container has started)" % owner)
        context, dockerfile = render(base_ref, base, params, files, allowed)
        digest = content_hash(base, context)
        name = params["name"]
        current = inspect_image(self.api, name)
        labels = ((current or {}).get("Config") or {}).get("Labels") or {}
        return dict(base=base, base_ref=base_ref, context=context, dockerfile=dockerfile, digest=digest,
                    current=current, current_labels=labels, name=name)

    def run(self):
        plan = self.plan()
        current = plan["current"]
        result = dict(changed=False, image=plan["name"], hash=plan["digest"], actions=[], commands=[],
                      dockerfile=plan["dockerfile"], base_image_id=plan["base"]["Id"])
        before = plan["current_labels"].get(LABEL_DOCKERFILE, "") if current else ""
        result["diff"] = dict(before=before, after=plan["dockerfile"],
                              before_header="%s (Dockerfile label)" % plan["name"],
                              after_header="%s (rendered)" % plan["name"])
        if current and plan["current_labels"].get(LABEL_HASH) == plan["digest"] and not self.params.get("force"):
            result["image_id"] = current["Id"]
            return result
        reason = "new" if not current else (
            "base image changed" if plan["current_labels"].get(LABEL_BASE_ID) != plan["base"]["Id"]
            else "build context changed" if plan["current_labels"].get(LABEL_HASH) else "not built by db2_image")
        result["changed"] = True
        result["actions"].append("build %s from %s (%s)" % (plan["name"], plan["base_ref"], reason))
        result["commands"].append("docker build --label %s=%s --label %s=%s <context: Dockerfile FROM %s>"
                                  % (LABEL_HASH, plan["digest"], LABEL_BASE, plan["base_ref"], plan["base_ref"]))
        if self.check_mode:
            result["commands"].append("docker tag <the new image> %s" % plan["name"])
            result["image_id"] = None
            return result
        labels = {LABEL_HASH: plan["digest"], LABEL_DOCKERFILE: plan["dockerfile"],
                  LABEL_BASE: plan["base_ref"], LABEL_BASE_ID: plan["base"]["Id"]}
        started = time.monotonic()
        keep = [plan["base"]["Id"]] + ([current["Id"]] if current else [])
        try:
            image_id, log, steps = build(self.api, plan["context"], labels, timeout=self.params.get("build_timeout"))
        except BuildFailed as exc:
            if self.params.get("users"):  # the failed build's steps may hold the hashes too
                remove_stage_images(self.api, exc.step_images, None, keep)
            raise
        if self.params.get("users"):
            result["removed_stage_images"] = remove_stage_images(self.api, steps, image_id, keep)
        repo, tag = split_name(plan["name"])
        result["commands"].append("docker tag %s %s" % (image_id[:19], plan["name"]))
        try:
            self.api.tag(image_id, repo, tag, force=True)
        except APIError as exc:
            raise DockerOperationError("built %s but could not tag it %s: %s" % (image_id, plan["name"], api_message(exc)))
        result["actions"].append("tag %s as %s" % (image_id[:19], plan["name"]))
        result.update(image_id=image_id, build_seconds=round(time.monotonic() - started, 2), build_log=log[-40:])
        return result


# ---------------------------------------------------------------------------------------------
# Copy between daemons (docker save | docker load over the Engine API)
