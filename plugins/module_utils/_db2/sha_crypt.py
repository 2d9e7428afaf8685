# -*- coding: utf-8 -*-
# Copyright: db2ops.docker contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""SHA-512 crypt (`$6$`, the /etc/shadow default of glibc) in pure Python.

Why our own: the `crypt` module is deprecated since Python 3.11 and gone in 3.13, and passlib
is unmaintained and would be one more dependency on every host for ~60 lines of a published
algorithm (Ulrich Drepper, "Unix crypt using SHA-256 and SHA-512", 2007). Unit tests check it
against that specification's test vectors and against glibc's crypt().

PRIVATE to the db2ops.docker collection: not a public API, it may change in any release.
"""

from __future__ import absolute_import, annotations, division, print_function

__metaclass__ = type

import hashlib
import hmac
import re
import secrets

_ITOA64 = "./0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
_ROUNDS_DEFAULT = 5000
_ROUNDS_MIN, _ROUNDS_MAX = 1000, 999999999
# Byte order of the final encoding (the specification's b64_from_24bit calls for SHA-512).
_ORDER = [(0, 21, 42), (22, 43, 1), (44, 2, 23), (3, 24, 45), (25, 46, 4), (47, 5, 26), (6, 27, 48),
          (28, 49, 7), (50, 8, 29), (9, 30, 51), (31, 52, 10), (53, 11, 32), (12, 33, 54), (34, 55, 13),
          (56, 14, 35), (15, 36, 57), (37, 58, 16), (59, 17, 38), (18, 39, 60), (40, 61, 19), (62, 20, 41)]
SHA512_HASH = re.compile(r"^\$6\$(?:rounds=(\d+)\$)?([^$]{0,16})\$([./0-9A-Za-z]{86})$")


def _repeat(digest, length):
    return (digest * (length // len(digest) + 1))[:length]


def _b64(b2, b1, b0, count):
    value = (b2 << 16) | (b1 << 8) | b0
    out = []
    for dummy in range(count):
        out.append(_ITOA64[value & 0x3F])
        value >>= 6
    return "".join(out)


def sha512_crypt(password, salt, rounds=None):
    """crypt(3) with a `$6$` salt: `$6$[rounds=N$]salt$hash`."""
    key = password.encode("utf-8") if isinstance(password, str) else password
    explicit_rounds = rounds is not None
    rounds = _ROUNDS_DEFAULT if rounds is None else max(_ROUNDS_MIN, min(_ROUNDS_MAX, int(rounds)))
    salt_bytes = (salt.encode("ascii") if isinstance(salt, str) else salt)[:16]

    alt = hashlib.sha512(key + salt_bytes + key).digest()
    ctx = hashlib.sha512(key + salt_bytes)
    ctx.update(_repeat(alt, len(key)))
    length = len(key)
    while length:
        ctx.update(alt if length & 1 else key)
        length >>= 1
    digest_a = ctx.digest()

    p_bytes = _repeat(hashlib.sha512(key * len(key)).digest(), len(key))
    s_bytes = _repeat(hashlib.sha512(salt_bytes * (16 + digest_a[0])).digest(), len(salt_bytes))

    current = digest_a
    for i in range(rounds):
        ctx = hashlib.sha512(p_bytes if i & 1 else current)
        if i % 3:
            ctx.update(s_bytes)
        if i % 7:
            ctx.update(p_bytes)
        ctx.update(current if i & 1 else p_bytes)
        current = ctx.digest()

    encoded = "".join(_b64(current[a], current[b], current[c], 4) for a, b, c in _ORDER)
    encoded += _b64(0, 0, current[63], 2)
    prefix = "$6$rounds=%d$" % rounds if explicit_rounds else "$6$"
    return "%s%s$%s" % (prefix, salt_bytes.decode("ascii"), encoded)


def new_salt(length=16):
    return "".join(secrets.choice(_ITOA64) for dummy in range(length))


def hash_password(password, rounds=None):
    """A fresh `$6$` hash with a random 16-character salt."""
    return sha512_crypt(password, new_salt(), rounds)


def is_sha512_hash(value):
    return bool(value) and SHA512_HASH.match(value) is not None


def verify_password(password, stored):
    """True when password matches a stored `$6$` hash (re-hashed with the stored salt and rounds).

    Other schemes (`$y$`, `$5$`, `!`, `*`, empty) are never a match: the caller then sets the
    password, which is the safe side.
    """
    match = SHA512_HASH.match(stored or "")
    if not match:
        return False
    rounds = int(match.group(1)) if match.group(1) else None
    return hmac.compare_digest(sha512_crypt(password, match.group(2), rounds), stored)
