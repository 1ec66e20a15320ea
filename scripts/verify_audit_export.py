#!/usr/bin/env python3
"""Verify an exported copy of jinpin's audit log without jinpin: python3 verify_audit_export.py audit.jsonl

Each line is {"seq": n, "hash": h, "entry": {...}}. The chain holds when, from prev = 64 zeros,
every line has seq = previous seq + 1 and h = SHA-256(prev + "\\n" + canonical(entry)) in hex, where
canonical is the entry as JSON with sorted keys, no spaces and UTF-8 characters as themselves.
Compare the last hash printed with the one jinpin showed (or gave you) at that position.
"""

import hashlib
import json
import sys

prev, expected, n = "0" * 64, 1, 0
with open(sys.argv[1], encoding="utf-8") as f:
    for line in f:
        link = json.loads(line)
        canonical = json.dumps(link["entry"], sort_keys=True, ensure_ascii=False, separators=(",", ":"))
        digest = hashlib.sha256((prev + "\n" + canonical).encode("utf-8")).hexdigest()
        if link["seq"] != expected or digest != link["hash"]:
            sys.exit(f"BROKEN at position {expected}: entry {link['entry'] and link['entry'].get('id')}")
        prev, expected, n = link["hash"], expected + 1, n + 1
print(f"intact: {n} entries; last position {expected - 1}, last hash {prev}")
