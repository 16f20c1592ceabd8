#!/usr/bin/env python3
"""An independent reference implementation of keyrotor's ciphertext format v1.

It is written from docs/ciphertext-format.md alone (not from the Java code) and produces the
known-answer vectors in server/src/test/resources/ciphertext-format-v1-vectors.json, which the
Java unit test CiphertextFormatVectorsTest checks in both directions. Needs the `cryptography`
package. Usage:

    python3 docs/ciphertext-format-reference.py > server/src/test/resources/ciphertext-format-v1-vectors.json
"""
import json
import struct
import sys

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

MAGIC = b"KR"
FORMAT_VERSION = 1


def encode_context(context):
    """uint32 count, then per pair sorted by the key's UTF-8 bytes: uint32 len, key, uint32 len, value."""
    pairs = sorted((k.encode("utf-8"), v.encode("utf-8")) for k, v in context.items())
    out = struct.pack(">I", len(pairs))
    for k, v in pairs:
        out += struct.pack(">I", len(k)) + k + struct.pack(">I", len(v)) + v
    return out


def header(key_name, key_version, nonce):
    name = key_name.encode("ascii")
    assert 1 <= len(name) <= 128 and len(nonce) == 12 and key_version >= 1
    return (MAGIC + bytes([FORMAT_VERSION]) + struct.pack(">H", len(name)) + name
            + struct.pack(">I", key_version) + nonce)


def seal(kek, key_name, key_version, context, nonce, plaintext):
    h = header(key_name, key_version, nonce)
    return h + AESGCM(kek).encrypt(nonce, plaintext, h + encode_context(context))


def open_(kek, blob, context):
    """Returns (key_name, key_version, plaintext); raises ValueError(problem) otherwise."""
    if len(blob) < 3 or blob[0:2] != MAGIC:
        raise ValueError("MALFORMED")
    if blob[2] != FORMAT_VERSION:
        raise ValueError("UNKNOWN_FORMAT_VERSION")
    if len(blob) < 5:
        raise ValueError("MALFORMED")
    n = struct.unpack(">H", blob[3:5])[0]
    if not 1 <= n <= 128 or len(blob) < 21 + n + 16:
        raise ValueError("MALFORMED")
    name = blob[5:5 + n].decode("ascii")
    version = struct.unpack(">I", blob[5 + n:9 + n])[0]
    if version == 0:
        raise ValueError("MALFORMED")
    h = blob[:21 + n]
    nonce = blob[9 + n:21 + n]
    try:
        plaintext = AESGCM(kek).decrypt(nonce, blob[21 + n:], h + encode_context(context))
    except InvalidTag:
        raise ValueError("AUTHENTICATION_FAILED")
    return name, version, plaintext


def hexs(b):
    return b.hex()


def main():
    kek1 = bytes(range(32))
    kek2 = bytes.fromhex("feffe9928665731c6d6a8f9467308308feffe9928665731c6d6a8f9467308308")
    dek = bytes.fromhex("5f2a1bc0d4e3f6a7b8c9d0e1f2031425364758697a8b9cadbecfd0e1f2a3b4c5")
    valid_inputs = [
        ("hello, empty context", kek1, "orders", 1, {}, bytes(12), b"hello"),
        ("worked example of docs/ciphertext-format.md", kek1, "orders", 2,
         {"tenant": "acme", "purpose": "invoice"},
         bytes.fromhex("000102030405060708090a0b"), b"card 4111"),
        ("empty plaintext", kek2, "k", 1, {"a": ""}, bytes.fromhex("cafebabefacedbaddecaf888"), b""),
        ("wrapped data key (GenerateDataKey)", kek2, "payments.eu-west_1", 7,
         {"table": "customers", "column": "iban", "row": "42"},
         bytes.fromhex("a1a2a3a4a5a6a7a8a9aaabac"), dek),
        # U+FF21 is EF BC A1 in UTF-8, U+1F600 is F0 9F 98 80: UTF-8 byte order puts U+FF21 first,
        # UTF-16 order (Java's String.compareTo) would put U+1F600 first.
        ("context sort order is UTF-8 byte order", kek1, "unicode-ctx", 3,
         {"\U0001F600": "grin", "\uFF21": "fullwidth A", "Z": "z", "a": "\u00e9t\u00e9"},
         bytes.fromhex("0f0e0d0c0b0a090807060504"), b"sorted by bytes"),
        ("largest key name and version", kek2, "K" * 128, 0xFFFFFFFF, {"x": "y"},
         bytes.fromhex("ffffffffffffffffffffffff"), bytes(range(256))),
    ]
    valid = []
    for name, kek, key_name, version, context, nonce, plaintext in valid_inputs:
        blob = seal(kek, key_name, version, context, nonce, plaintext)
        assert open_(kek, blob, context) == (key_name, version, plaintext)
        h = header(key_name, version, nonce)
        valid.append({
            "description": name,
            "kek_hex": hexs(kek),
            "key_name": key_name,
            "key_version": version,
            "context": context,
            "nonce_hex": hexs(nonce),
            "plaintext_hex": hexs(plaintext),
            "header_hex": hexs(h),
            "context_encoding_hex": hexs(encode_context(context)),
            "ciphertext_hex": hexs(blob),
        })

    base = valid_inputs[1]
    kek, key_name, version, context, nonce, plaintext = base[1:]
    good = seal(kek, key_name, version, context, nonce, plaintext)
    n = len(key_name)
    invalid_inputs = [
        ("another context", good, {"tenant": "acme", "purpose": "refund"}),
        ("context with a pair added", good, dict(context, extra="1")),
        ("empty context instead of the one used", good, {}),
        ("header: key version changed", good[:5 + n + 3] + bytes([good[5 + n + 3] ^ 1]) + good[9 + n:], context),
        ("header: key name changed (same length)", good[:5] + b"ordert" + good[5 + n:], context),
        ("nonce changed", good[:9 + n] + bytes([good[9 + n] ^ 0x80]) + good[10 + n:], context),
        ("ciphertext bit flipped", good[:21 + n] + bytes([good[21 + n] ^ 1]) + good[22 + n:], context),
        ("tag bit flipped", good[:-1] + bytes([good[-1] ^ 1]), context),
        ("truncated by one byte", good[:-1], context),
        ("truncated to the header", good[:21 + n], context),
        ("empty", b"", context),
        ("wrong magic", b"KS" + good[2:], context),
        ("unknown format version 2", good[:2] + b"\x02" + good[3:], context),
        ("key name length 0", good[:3] + b"\x00\x00" + good[5:], context),
        ("key version 0", good[:5 + n] + b"\x00\x00\x00\x00" + good[9 + n:], context),
        ("sealed under another KEK with this key's header", seal(kek2, key_name, version, context, nonce, plaintext), context),
    ]
    invalid = []
    for name, blob, ctx in invalid_inputs:
        try:
            open_(kek, blob, ctx)
            raise SystemExit("invalid vector decrypted: " + name)
        except ValueError as e:
            problem = str(e)
        invalid.append({
            "description": name,
            "kek_hex": hexs(kek),
            "context": ctx,
            "ciphertext_hex": hexs(blob),
            "problem": problem,
        })
    json.dump({
        "format": "keyrotor ciphertext format v1 (docs/ciphertext-format.md)",
        "generator": "docs/ciphertext-format-reference.py",
        "valid": valid,
        "invalid": invalid,
    }, sys.stdout, indent=2, ensure_ascii=True)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
