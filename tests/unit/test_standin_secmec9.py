"""The stand-in's DES and SECMEC 9 key agreement (tests/images/db2-standin/standin/secmec9.py)
against FIPS 46-3's worked example and the client side of pydrda (which uses pyDes)."""
import importlib.util
import os
from pathlib import Path

import pytest

SOURCE = Path(__file__).resolve().parents[2] / "tests" / "images" / "db2-standin" / "standin" / "secmec9.py"
_SPEC = importlib.util.spec_from_file_location("standin_secmec9", SOURCE)
secmec9 = importlib.util.module_from_spec(_SPEC)
_SPEC.loader.exec_module(secmec9)


def test_des_block_matches_the_classic_worked_example():
    key, clear = bytes.fromhex("133457799BBCDFF1"), bytes.fromhex("0123456789ABCDEF")
    cipher = secmec9.des_block(key, clear)
    assert cipher.hex().upper() == "85E813540F0AB405"
    assert secmec9.des_block(key, cipher, decrypt=True) == clear


def test_des_cbc_matches_pydes():
    pyDes = pytest.importorskip("pyDes")
    for size in range(1, 25):
        key, iv, data = os.urandom(8), os.urandom(8), os.urandom(size)
        expected = pyDes.des(key, pyDes.CBC, iv, None, pyDes.PAD_PKCS5).encrypt(data)
        assert secmec9.des_cbc_encrypt(key, iv, data) == expected
        assert secmec9.des_cbc_decrypt(key, iv, expected) == data


def test_the_server_decrypts_what_a_drda_client_encrypts_and_refuses_garbage():
    client = pytest.importorskip("drda.secmec9")
    server = secmec9.Exchange()
    private = client.get_private()
    public = client.calc_public(private).to_bytes(32, "big")
    assert server.decrypt(public, client.des(server.token, private).encrypt(b"db2inst1")) == b"db2inst1"
    with pytest.raises(ValueError):
        server.decrypt(public, b"\x00" * 7)
