#!/usr/bin/env python3
"""Sanity checker for /work/sets (stdlib only).
- schema, unique ids, allowed categories/techniques/where
- answer_leak: the secret is really in the answer and is valid (AKIA+16, ghp_+36, Luhn, IBAN mod-97, SSN ranges, PEM header)
- placeholder hard negatives: any card/IBAN/AWS-looking value in a [] example must be a known public test/example value
- hidden-text techniques: the hiding mechanism is really present (tag chars, zero-width/bidi, hidden HTML, decodable base64/hex)
- no Unicode tag chars in normal examples except inside emoji flag sequences
- near-duplicate prompts (word 5-shingle Jaccard) reported
- search set: topics valid, counts, queries reference target topics
Exit status 1 on errors."""
import json, re, sys, os, base64, glob, collections, itertools

ROOT = os.path.dirname(os.path.abspath(__file__))
CATS = {'prompt_injection', 'answer_leak', 'off-topic', 'harassment', 'self-harm', 'weapons', 'data_exfiltration', 'refusal'}
PI_TECH = {'instruction_override', 'roleplay_jailbreak', 'system_prompt_extraction', 'hidden_text_unicode_tags', 'hidden_text_zero_width', 'hidden_text_html', 'encoded_payload', 'indirect_tool', 'delimiter_injection', 'multilingual_override'}
LEAK_TECH = {'api_key', 'password', 'private_key', 'ssn', 'credit_card', 'iban'}
WHERE = {'prompt', 'answer', 'tool', 'rag'}
errors, warns = [], []

def luhn_ok(num):
    d = [int(c) for c in num if c.isdigit()]
    s = 0
    for i, x in enumerate(reversed(d)):
        if i % 2: x = x * 2 - 9 if x * 2 > 9 else x * 2
        s += x
    return len(d) >= 13 and s % 10 == 0

def iban_ok(s):
    s = s.replace(' ', '').upper()
    if not re.fullmatch(r'[A-Z]{2}\d{2}[A-Z0-9]{11,30}', s): return False
    r = s[4:] + s[:4]
    return int(''.join(str(int(c, 36)) for c in r)) % 97 == 1

AWS = re.compile(r'\bAKIA[A-Z0-9]{16}\b')
GHP = re.compile(r'\bghp_[A-Za-z0-9]{36}\b')
CARD = re.compile(r'\b(?:\d[ -]?){12,18}\d\b')
IBAN = re.compile(r'\b[A-Z]{2}\d{2}(?: ?[A-Z0-9]{4}){2,7}(?: ?[A-Z0-9]{1,4})?\b')
SSN = re.compile(r'\b(\d{3})-(\d{2})-(\d{4})\b')
PEM = re.compile(r'-----BEGIN [A-Z ]*PRIVATE KEY-----\n[A-Za-z0-9+/=\n]{100,}-----END [A-Z ]*PRIVATE KEY-----')
KNOWN_EXAMPLES = {'AKIAIOSFODNN7EXAMPLE', '4242424242424242', '5555555555554444', '378282246310005', '4111111111111111', '4000002500003155', '4000000000009995', '4000000000000002', '4242424242424241',
                  'DE89370400440532013000', 'GB82WEST12345698765432', 'DE89370400440532013001'}
TAG = re.compile('[\U000E0000-\U000E007F]')
ZWB = re.compile('[\u200b\u200c\u200d\u2060\ufeff\u202a-\u202e\u2066-\u2069]')
HIDDEN_HTML = re.compile(r'display:\s*none|font-size:\s*0|visibility:\s*hidden|opacity:\s*0|color:\s*(#fff|#ffffff|#fefefe|white)|color="white"|<div hidden|<!--|left:\s*-9999px|font-size:\s*[12]px', re.I)
FLAG_SEQ = re.compile('\U0001F3F4[\U000E0061-\U000E007A]+\U000E007F')

def valid_card_values(text):
    out = []
    text = IBAN.sub(' ', text)
    for m in CARD.finditer(text):
        digits = re.sub(r'\D', '', m.group())
        if 13 <= len(digits) <= 19 and luhn_ok(digits) and len(set(digits)) > 1: out.append(digits)
    return out

def shingles(t, n=5):
    w = re.findall(r'\w+', t.lower())
    return {' '.join(w[i:i+n]) for i in range(max(1, len(w) - n + 1))}

def check_detect():
    rows, ids = [], set()
    for f in sorted(glob.glob(os.path.join(ROOT, 'detect', '*.jsonl'))):
        for ln, line in enumerate(open(f, encoding='utf-8'), 1):
            try: r = json.loads(line)
            except Exception as e: errors.append(f'{f}:{ln} bad json {e}'); continue
            r['_f'] = f'{os.path.basename(f)}:{ln}'
            rows.append(r)
    for r in rows:
        loc = r['_f']
        for k in ('id', 'prompt', 'answer', 'labels', 'genre', 'note'):
            if k not in r: errors.append(f'{loc} missing {k}')
        if r['id'] in ids: errors.append(f'{loc} duplicate id {r["id"]}')
        ids.add(r['id'])
        if not r['prompt'].strip() or not r['answer'].strip(): errors.append(f'{loc} empty prompt/answer')
        for l in r['labels']:
            if l['category'] not in CATS: errors.append(f'{loc} bad category {l["category"]}')
            if l['where'] not in WHERE: errors.append(f'{loc} bad where {l["where"]}')
            if l['category'] == 'prompt_injection' and l['technique'] not in PI_TECH: errors.append(f'{loc} bad PI technique {l["technique"]}')
            if l['category'] == 'answer_leak' and (l['technique'] not in LEAK_TECH or l['where'] != 'answer'): errors.append(f'{loc} bad leak label {l}')
            if l['category'] == 'refusal' and l['where'] != 'answer': errors.append(f'{loc} refusal where must be answer')
        cats = {l['category'] for l in r['labels']}
        techs = {l['technique'] for l in r['labels']}
        p, a = r['prompt'], r['answer']
        # --- leaks
        if 'answer_leak' in cats:
            t = [l['technique'] for l in r['labels'] if l['category'] == 'answer_leak'][0]
            ok = {'api_key': lambda: AWS.search(a) or GHP.search(a) or re.search(r'sk_live_[A-Za-z0-9]{24}|xoxb-\d+-\d+-[A-Za-z0-9]{24}|sk-proj-[A-Za-z0-9_-]{40,}', a),
                  'password': lambda: re.search(r'(password|pw|secret|root /|:)', a, re.I) and any(re.search(r'[A-Za-z]', t) and re.search(r'[\d!@#$%^&*_]', t) for t in re.findall(r'[A-Za-z0-9!@#$%^&*_\-]{8,}', a)),
                  'private_key': lambda: PEM.search(a),
                  'ssn': lambda: any(g[0] not in ('000', '666') and not g[0].startswith('9') and g[1] != '00' and g[2] != '0000' for g in SSN.findall(a)),
                  'credit_card': lambda: [c for c in valid_card_values(a) if c not in KNOWN_EXAMPLES],
                  'iban': lambda: [m for m in IBAN.findall(a) if iban_ok(m) and m.replace(' ', '') not in KNOWN_EXAMPLES]}[t]()
            if not ok: errors.append(f'{loc} answer_leak/{t}: no valid secret found in answer')
            for m in AWS.findall(a):
                if m in KNOWN_EXAMPLES: errors.append(f'{loc} leak uses documented example key')
        else:
            # answers without a leak label must not contain real-looking secrets
            for m in AWS.findall(a):
                if m not in KNOWN_EXAMPLES and 'XXXX' not in m: errors.append(f'{loc} unlabelled AWS key in answer {m}')
            for m in GHP.findall(a):
                if len(set(m[4:])) > 2: errors.append(f'{loc} unlabelled GitHub token in answer')
            for c in valid_card_values(a):
                if c not in KNOWN_EXAMPLES: errors.append(f'{loc} unlabelled Luhn-valid card {c} in answer')
            for m in IBAN.findall(a):
                if iban_ok(m) and m.replace(' ', '') not in KNOWN_EXAMPLES: errors.append(f'{loc} unlabelled valid IBAN {m}')
            if PEM.search(a): errors.append(f'{loc} unlabelled PEM key')
        # --- hidden text mechanisms really present
        if 'hidden_text_unicode_tags' in techs and not TAG.search(p): errors.append(f'{loc} tag technique without tag chars')
        if 'hidden_text_zero_width' in techs and not ZWB.search(p): errors.append(f'{loc} zero-width technique without ZW/bidi chars')
        if 'hidden_text_html' in techs and not HIDDEN_HTML.search(p): errors.append(f'{loc} html technique without hiding css')
        if 'encoded_payload' in techs:
            blobs = re.findall(r'[A-Za-z0-9+/=]{24,}|[0-9a-f]{24,}', p)
            dec = []
            for b in blobs:
                for fn in (lambda s: bytes.fromhex(s).decode(), lambda s: base64.b64decode(s, validate=True).decode()):
                    try: dec.append(fn(b))
                    except Exception: pass
            if not any(len(d) > 10 and d.isprintable() for d in dec): errors.append(f'{loc} encoded_payload without decodable blob')
        if not cats:
            stripped = FLAG_SEQ.sub('', p + a)
            if TAG.search(stripped): errors.append(f'{loc} normal example has tag chars outside flag sequences')
        if 'prompt_injection' in cats and 'indirect_tool' in techs:
            if not any(l['where'] in ('tool', 'rag') for l in r['labels']): errors.append(f'{loc} indirect_tool must be where tool/rag')
    # near duplicates
    global INVIS
    INVIS = {r['id']: bool(TAG.search(r['prompt']) or ZWB.search(r['prompt'])) for r in rows}
    sh = [(r['id'], shingles(r['prompt'])) for r in rows]
    dups = 0
    for (i1, s1), (i2, s2) in itertools.combinations(sh, 2):
        if s1 and s2:
            j = len(s1 & s2) / len(s1 | s2)
            if j > 0.8:
                if INVIS.get(i1) or INVIS.get(i2): continue
                dups += 1
                if dups <= 15: warns.append(f'near-duplicate prompts {i1} ~ {i2} (jaccard {j:.2f})')
    if dups > 15: warns.append(f'... {dups} near-duplicate pairs in total')
    # counts
    cnt = collections.Counter(); tcnt = collections.Counter(); where = collections.Counter()
    normal = 0
    for r in rows:
        if not r['labels']: normal += 1
        seen = set()
        for l in r['labels']:
            key = (l['category'], l['technique'])
            if key in seen: continue
            seen.add(key)
            tcnt[key] += 1; where[(l['category'], l['where'])] += 1
        for c in {l['category'] for l in r['labels']}: cnt[c] += 1
    notes = collections.Counter()
    for r in rows:
        if not r['labels']:
            n = r['note']
            if n.startswith('discusses') or 'discusses' in n: notes['discusses'] += 1
            if 'placeholder' in n: notes['placeholder_secret'] += 1
            if 'apology' in n: notes['apologise_but_help'] += 1
    return rows, normal, cnt, tcnt, where, notes

def check_search():
    rec = [json.loads(l) for l in open(os.path.join(ROOT, 'search', 'records.jsonl'), encoding='utf-8')]
    qs = [json.loads(l) for l in open(os.path.join(ROOT, 'search', 'queries.jsonl'), encoding='utf-8')]
    ids = [r['id'] for r in rec]
    if len(ids) != len(set(ids)): errors.append('search: duplicate record ids')
    tc = collections.Counter(t for r in rec for t in r['topics'])
    targets = {'refusal', 'complaint', 'code_question', 'medical_question'}
    distract = sum(1 for r in rec if not (set(r['topics']) & targets))
    for q in qs:
        if q['relevant_topic'] not in targets: errors.append(f'search: query topic {q["relevant_topic"]}')
        # paraphrase check: query should not share many content words with records of its topic
    for t in targets:
        if tc[t] < 40: errors.append(f'search: only {tc[t]} records for {t}')
    if distract < 160: errors.append(f'search: only {distract} distractors')
    qt = collections.Counter(q['relevant_topic'] for q in qs)
    return len(rec), tc, distract, qt, len(qs)

if __name__ == '__main__':
    rows, normal, cnt, tcnt, where, notes = check_detect()
    print(f'detect: {len(rows)} examples, normal {normal} ({100*normal/len(rows):.1f}%)')
    for c, n in sorted(cnt.items()): print(f'  {c}: {n}')
    print('  by technique:')
    for (c, t), n in sorted(tcnt.items()): print(f'    {c}/{t}: {n}')
    print('  where:', dict(sorted(where.items())))
    print('  hard negatives by note:', dict(notes))
    if os.path.exists(os.path.join(ROOT, 'search', 'records.jsonl')):
        n, tc, d, qt, nq = check_search()
        print(f'search: {n} records, distractors {d}, topics {dict(tc)}, queries {nq} {dict(qt)}')
    for w in warns: print('WARN', w)
    for e in errors: print('ERROR', e)
    print('OK' if not errors else f'{len(errors)} errors')
    sys.exit(1 if errors else 0)
