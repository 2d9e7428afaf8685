"""SHA-512 crypt against the specification's vectors and glibc's crypt()."""
import warnings

import pytest

from ansible_collections.db2ops.docker.plugins.module_utils._db2.sha_crypt import (
    hash_password,
    is_sha512_hash,
    sha512_crypt,
    verify_password,
)

# Ulrich Drepper, "Unix crypt using SHA-256 and SHA-512", test vectors for SHA-512.
VECTORS = [
    ("Hello world!", "saltstring", None,
     "$6$saltstring$svn8UoSVapNtMuq1ukKS4tPQd8iKwSMHWjl/O817G3uBnIFNjnQJuesI68u4OTLiBFdcbYEdFCoEOfaS35inz1"),
    ("Hello world!", "saltstringsaltstring", 10000,
     "$6$rounds=10000$saltstringsaltst$OW1/O6BYHV6BcXZu8QVeXbDWra3Oeqh0sbHbbMCVNSnCM/UrjmM0Dp8vOuZeHBy/YTBmSK6H9qs/y3RnOaw5v."),
    ("This is just a test", "toolongsaltstring", 5000,
     "$6$rounds=5000$toolongsaltstrin$lQ8jolhgVRVhY4b5pZKaysCLi0QBxGoNeKQzQ3glMhwllF7oGDZxUhx1yxdYcz/e1JSbq3y6JMxxl8audkUEm0"),
    ("a very much longer text to encrypt.  This one even stretches over morethan one line.", "anotherlongsaltstring",
     1400, "$6$rounds=1400$anotherlongsalts$POfYwTEok97VWcjxIiSOjiykti.o/pQs.wPvMxQ6Fm7I6IoYN3CmLs66x9t0oSwbtEW7o7UmJEiDwGqd8p4ur1"),
]


@pytest.mark.parametrize("password,salt,rounds,expected", VECTORS)
def test_specification_vectors(password, salt, rounds, expected):
    assert sha512_crypt(password, salt, rounds) == expected
    assert verify_password(password, expected)


def test_matches_glibc_crypt_and_verifies():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        crypt = pytest.importorskip("crypt")
    for password in ("Passw0rd-1", "päss wörd", "x" * 100, ""):
        hashed = hash_password(password)
        assert is_sha512_hash(hashed)
        assert crypt.crypt(password, hashed) == hashed
        assert verify_password(password, hashed)
        assert not verify_password(password + "x", hashed)


def test_fresh_salt_each_time_and_foreign_schemes_never_match():
    assert hash_password("a") != hash_password("a")
    for stored in ("", "!", "*", "!$6$x$y", "$y$j9T$abc$def", "$5$salt$abc"):
        assert not verify_password("a", stored)
