"""DRDA security mechanism 9 (EUSRIDPWD): user id and password encrypted with DES-CBC under a
key agreed by Diffie-Hellman, for the DRDA server (drda.py).

The prime and generator are DRDA's fixed 256-bit constants (the same in Derby's
DecryptionManager and pydrda's secmec9.py); the key is bytes 12-19 of the 32-byte shared value,
the IV bytes 12-19 of the server's public value (shared/reference/drda-facts.md, section 3:
what decrypted IBM's driver's tokens). DES itself follows FIPS 46-3: the image has only Python's
standard library, which has no DES.
"""
import secrets

PRIME = 0xC62112D73EE613F0947AB31F0F6846A1BFF5B3A4CA0D60BC1E4C7A0D8C16B3E3
GENERATOR = 0x4690FA1F7B9E1D4442C86C9114603FDECF071EDCEC5F626E21E256AED9EA34E4


class Exchange:
    """The server's half of one connection's key agreement."""

    def __init__(self):
        self.private = secrets.randbelow(PRIME - 3) + 2
        self.token = pow(GENERATOR, self.private, PRIME).to_bytes(32, "big")  # sent in ACCSECRD

    def decrypt(self, client_token, data):
        """The clear text of one SECCHK token; ValueError when it does not decrypt."""
        shared = pow(int.from_bytes(client_token, "big"), self.private, PRIME).to_bytes(32, "big")
        return des_cbc_decrypt(shared[12:20], self.token[12:20], data)


# --- DES (FIPS 46-3) ---------------------------------------------------------------------------

IP = (58, 50, 42, 34, 26, 18, 10, 2, 60, 52, 44, 36, 28, 20, 12, 4, 62, 54, 46, 38, 30, 22, 14, 6,
      64, 56, 48, 40, 32, 24, 16, 8, 57, 49, 41, 33, 25, 17, 9, 1, 59, 51, 43, 35, 27, 19, 11, 3,
      61, 53, 45, 37, 29, 21, 13, 5, 63, 55, 47, 39, 31, 23, 15, 7)
FP = tuple(IP.index(position) + 1 for position in range(1, 65))  # the inverse of IP
E = (32, 1, 2, 3, 4, 5, 4, 5, 6, 7, 8, 9, 8, 9, 10, 11, 12, 13, 12, 13, 14, 15, 16, 17,
     16, 17, 18, 19, 20, 21, 20, 21, 22, 23, 24, 25, 24, 25, 26, 27, 28, 29, 28, 29, 30, 31, 32, 1)
P = (16, 7, 20, 21, 29, 12, 28, 17, 1, 15, 23, 26, 5, 18, 31, 10,
     2, 8, 24, 14, 32, 27, 3, 9, 19, 13, 30, 6, 22, 11, 4, 25)
PC1 = (57, 49, 41, 33, 25, 17, 9, 1, 58, 50, 42, 34, 26, 18, 10, 2, 59, 51, 43, 35, 27,
       19, 11, 3, 60, 52, 44, 36, 63, 55, 47, 39, 31, 23, 15, 7, 62, 54, 46, 38, 30, 22,
       14, 6, 61, 53, 45, 37, 29, 21, 13, 5, 28, 20, 12, 4)
PC2 = (14, 17, 11, 24, 1, 5, 3, 28, 15, 6, 21, 10, 23, 19, 12, 4, 26, 8, 16, 7, 27, 20, 13, 2,
       41, 52, 31, 37, 47, 55, 30, 40, 51, 45, 33, 48, 44, 49, 39, 56, 34, 53, 46, 42, 50, 36, 29, 32)
SHIFTS = (1, 1, 2, 2, 2, 2, 2, 2, 1, 2, 2, 2, 2, 2, 2, 1)
SBOXES = (
    (14, 4, 13, 1, 2, 15, 11, 8, 3, 10, 6, 12, 5, 9, 0, 7, 0, 15, 7, 4, 14, 2, 13, 1, 10, 6, 12, 11, 9, 5, 3, 8,
     4, 1, 14, 8, 13, 6, 2, 11, 15, 12, 9, 7, 3, 10, 5, 0, 15, 12, 8, 2, 4, 9, 1, 7, 5, 11, 3, 14, 10, 0, 6, 13),
    (15, 1, 8, 14, 6, 11, 3, 4, 9, 7, 2, 13, 12, 0, 5, 10, 3, 13, 4, 7, 15, 2, 8, 14, 12, 0, 1, 10, 6, 9, 11, 5,
     0, 14, 7, 11, 10, 4, 13, 1, 5, 8, 12, 6, 9, 3, 2, 15, 13, 8, 10, 1, 3, 15, 4, 2, 11, 6, 7, 12, 0, 5, 14, 9),
    (10, 0, 9, 14, 6, 3, 15, 5, 1, 13, 12, 7, 11, 4, 2, 8, 13, 7, 0, 9, 3, 4, 6, 10, 2, 8, 5, 14, 12, 11, 15, 1,
     13, 6, 4, 9, 8, 15, 3, 0, 11, 1, 2, 12, 5, 10, 14, 7, 1, 10, 13, 0, 6, 9, 8, 7, 4, 15, 14, 3, 11, 5, 2, 12),
    (7, 13, 14, 3, 0, 6, 9, 10, 1, 2, 8, 5, 11, 12, 4, 15, 13, 8, 11, 5, 6, 15, 0, 3, 4, 7, 2, 12, 1, 10, 14, 9,
     10, 6, 9, 0, 12, 11, 7, 13, 15, 1, 3, 14, 5, 2, 8, 4, 3, 15, 0, 6, 10, 1, 13, 8, 9, 4, 5, 11, 12, 7, 2, 14),
    (2, 12, 4, 1, 7, 10, 11, 6, 8, 5, 3, 15, 13, 0, 14, 9, 14, 11, 2, 12, 4, 7, 13, 1, 5, 0, 15, 10, 3, 9, 8, 6,
     4, 2, 1, 11, 10, 13, 7, 8, 15, 9, 12, 5, 6, 3, 0, 14, 11, 8, 12, 7, 1, 14, 2, 13, 6, 15, 0, 9, 10, 4, 5, 3),
    (12, 1, 10, 15, 9, 2, 6, 8, 0, 13, 3, 4, 14, 7, 5, 11, 10, 15, 4, 2, 7, 12, 9, 5, 6, 1, 13, 14, 0, 11, 3, 8,
     9, 14, 15, 5, 2, 8, 12, 3, 7, 0, 4, 10, 1, 13, 11, 6, 4, 3, 2, 12, 9, 5, 15, 10, 11, 14, 1, 7, 6, 0, 8, 13),
    (4, 11, 2, 14, 15, 0, 8, 13, 3, 12, 9, 7, 5, 10, 6, 1, 13, 0, 11, 7, 4, 9, 1, 10, 14, 3, 5, 12, 2, 15, 8, 6,
     1, 4, 11, 13, 12, 3, 7, 14, 10, 15, 6, 8, 0, 5, 9, 2, 6, 11, 13, 8, 1, 4, 10, 7, 9, 5, 0, 15, 14, 2, 3, 12),
    (13, 2, 8, 4, 6, 15, 11, 1, 10, 9, 3, 14, 5, 0, 12, 7, 1, 15, 13, 8, 10, 3, 7, 4, 12, 5, 6, 11, 0, 14, 9, 2,
     7, 11, 4, 1, 9, 12, 14, 2, 0, 6, 10, 13, 15, 3, 5, 8, 2, 1, 14, 7, 4, 10, 8, 13, 15, 12, 9, 0, 3, 5, 6, 11),
)


def _permute(value, table, width):
    """Bit i (1 = most significant of `width` bits) of the result is bit table[i] of value."""
    out = 0
    for position in table:
        out = (out << 1) | ((value >> (width - position)) & 1)
    return out


def _subkeys(key):
    cd = _permute(int.from_bytes(key, "big"), PC1, 64)
    c, d = cd >> 28, cd & 0xFFFFFFF
    keys = []
    for shift in SHIFTS:
        c = ((c << shift) | (c >> (28 - shift))) & 0xFFFFFFF
        d = ((d << shift) | (d >> (28 - shift))) & 0xFFFFFFF
        keys.append(_permute((c << 28) | d, PC2, 56))
    return keys


def _feistel(right, subkey):
    mixed = _permute(right, E, 32) ^ subkey
    out = 0
    for box in range(8):
        six = (mixed >> (42 - 6 * box)) & 0x3F
        out = (out << 4) | SBOXES[box][((six & 0x20) >> 4 | (six & 1)) * 16 + ((six >> 1) & 0xF)]
    return _permute(out, P, 32)


def des_block(key, block, decrypt=False):
    keys = _subkeys(key)
    if decrypt:
        keys.reverse()
    data = _permute(int.from_bytes(block, "big"), IP, 64)
    left, right = data >> 32, data & 0xFFFFFFFF
    for subkey in keys:
        left, right = right, left ^ _feistel(right, subkey)
    return _permute((right << 32) | left, FP, 64).to_bytes(8, "big")


def des_cbc_decrypt(key, iv, data):
    """DES-CBC with PKCS#5 padding removed; ValueError for a bad length or padding."""
    if not data or len(data) % 8:
        raise ValueError("DES-CBC data of %d bytes" % len(data))
    clear, previous = b"", iv
    for at in range(0, len(data), 8):
        block = data[at:at + 8]
        clear += bytes(a ^ b for a, b in zip(des_block(key, block, decrypt=True), previous))
        previous = block
    pad = clear[-1]
    if not 1 <= pad <= 8 or clear[-pad:] != bytes([pad]) * pad:
        raise ValueError("bad PKCS#5 padding")
    return clear[:-pad]


def des_cbc_encrypt(key, iv, data):
    """The inverse of des_cbc_decrypt (for tests)."""
    pad = 8 - len(data) % 8
    data += bytes([pad]) * pad
    out, previous = b"", iv
    for at in range(0, len(data), 8):
        previous = des_block(key, bytes(a ^ b for a, b in zip(data[at:at + 8], previous)))
        out += previous
    return out
