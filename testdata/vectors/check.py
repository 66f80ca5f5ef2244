#!/usr/bin/env python3
"""An independent verifier of aitrail's test vectors, written from
docs/FORMAT.md alone (no aitrail code): record encoding, entry and leaf
hashes, the hash chain, Merkle roots, the commitment scheme, and the
checkpoint text. Exits 0 when every vector checks."""
import base64, hashlib, hmac, json, sys, os

here = os.path.dirname(os.path.abspath(__file__))
def path(n): return os.path.join(here, n)
fail = []

def decode(b):
    if not b.startswith(b"aitrail.record.v1\n"): raise ValueError("header")
    b, fields = b[18:], {}
    for tag in range(1, 32):
        if b[0] != tag: raise ValueError("tag order")
        n = int.from_bytes(b[1:5], "big")
        fields[tag], b = b[5:5 + n], b[5 + n:]
    if b: raise ValueError("trailing bytes")
    return fields

def root(leaves):
    if len(leaves) == 1: return leaves[0]
    k = 1
    while k * 2 < len(leaves): k *= 2
    return hashlib.sha256(b"\x01" + root(leaves[:k]) + root(leaves[k:])).digest()

prev, leaves = b"\0" * 32, []
for line in open(path("log.jsonl")):
    r = json.loads(line)
    enc = bytes.fromhex(r["encoding"])
    f = decode(enc)
    if int.from_bytes(f[3], "big") != r["seq"]: fail.append("seq %d" % r["seq"])
    if f[31] != prev: fail.append("chain at %d" % r["seq"])
    if hashlib.sha256(enc).hexdigest() != r["entry_hash"]: fail.append("entry hash %d" % r["seq"])
    leaf = hashlib.sha256(b"\0" + enc).digest()
    if leaf.hex() != r["leaf_hash"]: fail.append("leaf hash %d" % r["seq"])
    prev = bytes.fromhex(r["entry_hash"]); leaves.append(leaf)

for line in open(path("roots.txt")):
    n, h = line.split()
    if root(leaves[:int(n)]).hex() != h: fail.append("root %s" % n)

kv = dict(l.split(" ", 1) for l in open(path("commitment.txt")).read().splitlines())
salt = hmac.new(bytes.fromhex(kv["key"]), b"aitrail.salt.v1" + bytes.fromhex(kv["nonce"]), hashlib.sha256).digest()
com = hmac.new(salt, kv["label"].encode() + b"\0" + bytes.fromhex(kv["data"]), hashlib.sha256).hexdigest()
if salt.hex() != kv["salt"] or com != kv["commitment"]: fail.append("commitment")

text = open(path("checkpoint.note")).read().split("\n\n")[0] + "\n"
origin, size, b64 = text.splitlines()
if base64.b64decode(b64) != root(leaves[:int(size)]): fail.append("checkpoint root")
if not origin.startswith("aitrail/"): fail.append("checkpoint origin")

print("FAIL: " + ", ".join(fail) if fail else "all vectors check")
sys.exit(1 if fail else 0)
