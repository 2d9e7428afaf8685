# -*- coding: utf-8 -*-
# Copyright: db2ops.docker contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""{SSHA} and {SSHA2} userPassword hashes: made here, verified locally so reruns change nothing.

PRIVATE to the db2ops.docker collection: not a public API, it may change in any release.
"""

from __future__ import absolute_import, annotations, division, print_function

__metaclass__ = type

import base64
import binascii
import hashlib
import hmac
import os
import re


# scheme -> (hashlib algorithm, salted); slapd's own {SSHA}/{SHA} and contrib pw-sha2 schemes.
_HASH_SCHEMES = {
    "SSHA": ("sha1", True), "SHA": ("sha1", False),
    "SSHA256": ("sha256", True), "SHA256": ("sha256", False),
    "SSHA384": ("sha384", True), "SHA384": ("sha384", False),
    "SSHA512": ("sha512", True), "SHA512": ("sha512", False),
}
PASSWORD_HASHES = ["ssha", "ssha256", "ssha384", "ssha512"]
_STORED_SCHEME = re.compile(rb"^\{([A-Za-z0-9._-]+)\}(.*)$", re.S)


def hash_password(password, scheme="ssha", salt=None):
    """`{SSHA}base64(sha1(password + salt) + salt)`, as slappasswd makes it (8 random salt bytes)."""
    algorithm, salted = _HASH_SCHEMES[scheme.upper()]
    if not salted:
        raise ValueError("refusing to write unsalted %s hashes" % scheme)
    salt = os.urandom(8) if salt is None else salt
    digest = hashlib.new(algorithm, password.encode("utf-8") + salt).digest()
    return "{%s}%s" % (scheme.upper(), base64.b64encode(digest + salt).decode("ascii"))


def verify_password(password, stored):
    """Whether `password` matches a stored userPassword value (bytes).

    True/False for the SHA family (salted or not) and cleartext; None for schemes that cannot
    be checked here ({CRYPT}, {PBKDF2}, {ARGON2}, ...), so the caller can decide.
    """
    candidate = password.encode("utf-8")
    match = _STORED_SCHEME.match(stored)
    if not match:
        return hmac.compare_digest(candidate, stored)
    scheme = match.group(1).decode("ascii").upper()
    if scheme not in _HASH_SCHEMES:
        return None
    algorithm, salted = _HASH_SCHEMES[scheme]
    try:
        raw = base64.b64decode(match.group(2), validate=True)
    except (binascii.Error, ValueError):
        return False
    size = hashlib.new(algorithm).digest_size
    digest, salt = raw[:size], raw[size:]
    if len(digest) != size or (salt and not salted):
        return False
    return hmac.compare_digest(hashlib.new(algorithm, candidate + salt).digest(), digest)
