#!/usr/bin/env python3
"""Stdlib-only checker for the corpus15 JSONL files.

Checks: JSON shape, allowed types, every value is an exact substring of text,
no leftover template markers, and format validity of the checkable types:
CREDIT_CARD (Luhn + issuer prefix + length), IBAN (country length + mod-97),
US_SSN (area/group/serial rules), IN_AADHAAR (Verhoeff), DE_TAX_ID (ISO 7064
MOD 11,10 + digit-repetition rule), FR_INSEE (key = 97 - n mod 97), CA_SIN (Luhn),
ES_DNI (mod-23 letter), UK_NINO (prefix/suffix rules), JWT (base64url JSON header),
PRIVATE_KEY (BEGIN/END armour), PHONE (digit count 7-13, no US 555 exchange, no N11),
AWS_ACCESS_KEY (AKIA/ASIA + 16), GITHUB_TOKEN (gh?_ + crc32 checksum where applicable).
Prints counts per type and per file. Exit code 1 on any error.
"""
import base64, binascii, glob, json, os, re, string, sys
from collections import Counter, defaultdict

TYPES = {"EMAIL", "PHONE", "US_SSN", "CREDIT_CARD", "IBAN", "IP_ADDRESS", "DATE_OF_BIRTH", "MEDICAL_RECORD_NUMBER",
         "DRIVERS_LICENSE", "PASSPORT", "PASSWORD", "AWS_ACCESS_KEY", "AWS_SECRET_KEY", "GITHUB_TOKEN", "OPENAI_KEY",
         "SLACK_TOKEN", "JWT", "PRIVATE_KEY", "CONNECTION_STRING", "API_KEY",
         "UK_NINO", "DE_TAX_ID", "IN_AADHAAR", "IN_PAN", "FR_INSEE", "CA_SIN", "ES_DNI"}
IBAN_LEN = {"DE": 22, "GB": 22, "FR": 27, "ES": 24, "NL": 18, "IT": 27, "CH": 21, "AT": 20, "BE": 16, "IE": 22, "PL": 28,
            "PT": 25, "LU": 20, "SE": 24, "DK": 18, "NO": 15, "FI": 18}


def luhn(d):
    s = 0
    for i, x in enumerate(map(int, reversed(d))):
        if i % 2:
            x = x * 2 - 9 if x > 4 else x * 2
        s += x
    return s % 10 == 0


def card_ok(v):
    d = re.sub(r"[ -]", "", v)
    if not d.isdigit() or not luhn(d):
        return "luhn"
    n = len(d)
    if d[0] == "4" and n in (13, 16, 19): return None
    if (51 <= int(d[:2]) <= 55 or 2221 <= int(d[:4]) <= 2720) and n == 16: return None
    if d[:2] in ("34", "37") and n == 15: return None
    if (d.startswith("6011") or d.startswith("65") or 644 <= int(d[:3]) <= 649) and n == 16: return None
    if 3528 <= int(d[:4]) <= 3589 and n == 16: return None
    if (d[:2] == "36" or 300 <= int(d[:3]) <= 305) and n == 14: return None
    if d[:4] in ("6759",) and n == 16: return None
    if d[:4] in ("6521", "6080") and n == 16: return None
    return "prefix/length"


def iban_ok(v):
    s = v.replace(" ", "")
    if not re.fullmatch(r"[A-Z]{2}\d{2}[A-Z0-9]+", s): return "shape"
    if IBAN_LEN.get(s[:2]) != len(s): return "length"
    r = s[4:] + s[:4]
    return None if int("".join(str(int(c, 36)) for c in r)) % 97 == 1 else "mod97"


def ssn_ok(v):
    d = re.sub(r"[ -]", "", v)
    if not re.fullmatch(r"\d{9}", d): return "shape"
    a, g, s = d[:3], d[3:5], d[5:]
    if a in ("000", "666") or a[0] == "9" or g == "00" or s == "0000": return "rules"
    return None


_VD = [[0,1,2,3,4,5,6,7,8,9],[1,2,3,4,0,6,7,8,9,5],[2,3,4,0,1,7,8,9,5,6],[3,4,0,1,2,8,9,5,6,7],[4,0,1,2,3,9,5,6,7,8],
       [5,9,8,7,6,0,4,3,2,1],[6,5,9,8,7,1,0,4,3,2],[7,6,5,9,8,2,1,0,4,3],[8,7,6,5,9,3,2,1,0,4],[9,8,7,6,5,4,3,2,1,0]]
_VP = [[0,1,2,3,4,5,6,7,8,9],[1,5,7,6,2,8,3,0,9,4],[5,8,0,3,7,9,6,1,4,2],[8,9,1,6,0,4,3,5,2,7],[9,4,5,3,1,2,6,8,7,0],
       [4,2,8,6,5,7,3,9,0,1],[2,7,9,3,8,0,6,4,1,5],[7,0,4,6,9,1,3,2,5,8]]


def aadhaar_ok(v):
    d = v.replace(" ", "")
    if not re.fullmatch(r"[2-9]\d{11}", d): return "shape"
    c = 0
    for i, ch in enumerate(reversed(d)):
        c = _VD[c][_VP[i % 8][int(ch)]]
    return None if c == 0 else "verhoeff"


def taxid_ok(v):
    d = v.replace(" ", "")
    if not re.fullmatch(r"[1-9]\d{10}", d): return "shape"
    cnt = Counter(d[:10])
    if not (max(cnt.values()) in (2, 3) and list(cnt.values()).count(max(cnt.values())) == 1): return "repetition"
    p = 10
    for ch in d[:10]:
        s = (int(ch) + p) % 10 or 10
        p = s * 2 % 11
    c = 11 - p
    return None if (0 if c == 10 else c) == int(d[10]) else "check"


def insee_ok(v):
    d = v.replace(" ", "")
    if not re.fullmatch(r"[12]\d{14}", d): return "shape"
    return None if 97 - int(d[:13]) % 97 == int(d[13:]) else "key"


def sin_ok(v):
    d = re.sub(r"[ -]", "", v)
    if not re.fullmatch(r"[1-79]\d{8}", d): return "shape"
    return None if luhn(d) else "luhn"


def dni_ok(v):
    m = re.fullmatch(r"([XYZ]?)(\d{7,8})([A-Z])", v)
    if not m: return "shape"
    n = int(str("XYZ".index(m.group(1))) + m.group(2)) if m.group(1) else int(m.group(2))
    return None if "TRWAGMYFPDXBNJZSQVHLCKE"[n % 23] == m.group(3) else "letter"


def nino_ok(v):
    d = v.replace(" ", "")
    if not re.fullmatch(r"[A-Z]{2}\d{6}[A-D]", d): return "shape"
    if d[0] in "DFIQUV" or d[1] in "DFIQUVO" or d[:2] in ("BG", "GB", "NK", "KN", "TN", "NT", "ZZ"): return "prefix"
    return None


def jwt_ok(v):
    parts = v.split(".")
    if len(parts) != 3: return "parts"
    try:
        h = json.loads(base64.urlsafe_b64decode(parts[0] + "=" * (-len(parts[0]) % 4)))
        json.loads(base64.urlsafe_b64decode(parts[1] + "=" * (-len(parts[1]) % 4)))
        return None if "alg" in h else "no alg"
    except Exception as e:
        return "decode"


def pem_ok(v):
    return None if re.match(r"-----BEGIN [A-Z ]*PRIVATE KEY-----(\n|\\n)", v) and re.search(r"(\n|\\n)-----END [A-Z ]*PRIVATE KEY-----$", v) else "armour"


def phone_ok(v):
    d = re.sub(r"\D", "", v)
    if not 7 <= len(d) <= 13: return "digits"
    us = re.fullmatch(r"(?:\+?1[ -.]?)?\(?([2-9]\d\d)\)?[ -.]?([2-9]\d\d)[ -.]?(\d{4})", v)
    if us and not v.startswith(("0", "+4", "+3", "+9")):
        a, e = us.group(1), us.group(2)
        if e == "555" or e[1:] == "11" or a[1:] == "11": return "US fictional/N11"
    return None


B62 = string.digits + string.ascii_uppercase + string.ascii_lowercase


def gh_ok(v):
    m = re.fullmatch(r"(gh[pousr])_([A-Za-z0-9]{36})", v)
    if m:
        body, chk = m.group(2)[:30], m.group(2)[30:]
        n = binascii.crc32(body.encode())
        s = ""
        while n:
            n, r = divmod(n, 62)
            s = B62[r] + s
        return None if s.rjust(6, "0") == chk else "crc32"
    return None if re.fullmatch(r"github_pat_\w{82}", v) else "shape"


def aws_ok(v):
    return None if re.fullmatch(r"(AKIA|ASIA)[A-Z2-7]{16}", v) else "shape"


CHECK = {"CREDIT_CARD": card_ok, "IBAN": iban_ok, "US_SSN": ssn_ok, "IN_AADHAAR": aadhaar_ok, "DE_TAX_ID": taxid_ok,
         "FR_INSEE": insee_ok, "CA_SIN": sin_ok, "ES_DNI": dni_ok, "UK_NINO": nino_ok, "JWT": jwt_ok, "PRIVATE_KEY": pem_ok,
         "PHONE": phone_ok, "GITHUB_TOKEN": gh_ok, "AWS_ACCESS_KEY": aws_ok}


def main(d):
    errors, warns = [], []
    per_type, per_file, per_file_empty = Counter(), Counter(), Counter()
    per_file_type = defaultdict(Counter)
    texts = Counter()
    for path in sorted(glob.glob(os.path.join(d, "*.jsonl"))):
        fn = os.path.basename(path)
        for ln, line in enumerate(open(path, encoding="utf-8"), 1):
            where = f"{fn}:{ln}"
            try:
                r = json.loads(line)
            except Exception as e:
                errors.append(f"{where}: bad JSON {e}"); continue
            if set(r) - {"text", "entities", "category", "note"} or not isinstance(r.get("text"), str) or not isinstance(r.get("entities"), list) or not r.get("category"):
                errors.append(f"{where}: bad record shape")
                continue
            t = r["text"]
            texts[t] += 1
            if "⟦" in t or "⟧" in t:
                errors.append(f"{where}: leftover marker")
            per_file[fn] += 1
            if not r["entities"]:
                per_file_empty[fn] += 1
            for e in r["entities"]:
                ty, v = e.get("type"), e.get("value")
                if ty not in TYPES:
                    errors.append(f"{where}: unknown type {ty}")
                if not v or v not in t:
                    errors.append(f"{where}: value not substring: {v!r}")
                    continue
                if v != v.strip():
                    errors.append(f"{where}: value has surrounding whitespace: {v!r}")
                if t.count(v) > 1:
                    warns.append(f"{where}: {ty} value occurs {t.count(v)}x: {v[:40]!r}")
                f = CHECK.get(ty)
                if f:
                    res = f(v)
                    if res:
                        errors.append(f"{where}: {ty} {v!r} invalid ({res})")
                per_type[ty] += 1
                per_file_type[fn][ty] += 1
            # overlapping entity values (one inside another) are suspicious
            vals = [e["value"] for e in r["entities"] if e.get("value")]
            for a in vals:
                for b in vals:
                    if a != b and a in b:
                        warns.append(f"{where}: value {a[:30]!r} is inside {b[:30]!r}")
    for t, c in texts.items():
        if c > 1:
            warns.append(f"duplicate text x{c}: {t[:60]!r}")
    total = sum(per_file.values())
    empty = sum(per_file_empty.values())
    print(f"texts: {total}, with no entity: {empty} ({100 * empty / max(total, 1):.1f}%), entities: {sum(per_type.values())}")
    print("\nper file (texts / empty / entities):")
    for fn in sorted(per_file):
        print(f"  {fn:22s} {per_file[fn]:4d} {per_file_empty[fn]:4d} {sum(per_file_type[fn].values()):5d}")
    print("\nper type:")
    for ty, c in per_type.most_common():
        print(f"  {ty:24s} {c}")
    for w in warns:
        print("WARN", w)
    for e in errors:
        print("ERROR", e)
    print(f"\n{len(errors)} errors, {len(warns)} warnings")
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1] if len(sys.argv) > 1 else os.path.dirname(os.path.abspath(__file__))))
