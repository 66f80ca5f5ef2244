"""Assemble /work/sets/detect/*.jsonl from the hand-written pools and small generators."""
import json, os, random, collections, sys
sys.path.insert(0, os.path.dirname(__file__))
import normal_code, normal_biz, normal_support, normal_ctx, normal_gen, normal_quick, normal_more, inject, other
from carriers import C

R = random.Random(2026)
OUTDIR = os.path.join(os.path.dirname(__file__), '..', 'detect')

def trim_injection(rows, per=26):
    byt = collections.defaultdict(list)
    for r in rows: byt[r['labels'][0]['technique']].append(r)
    out = []
    for t, lst in byt.items():
        # keep order diversity: keep refusals and embedded ones proportionally (deterministic drop of the tail)
        # tag-char technique: keep the two tool-output cases that are generated last
        out += (lst[:per - 2] + lst[-2:]) if t == 'hidden_text_unicode_tags' else lst[:per]
    return out

normals = []
for mod in (normal_code, normal_biz, normal_support, normal_ctx, normal_gen, normal_quick, normal_more):
    for r in mod.N:
        normals.append(dict(prompt=r['prompt'], answer=r['answer'], labels=[], genre=r['genre'], note=r.get('note', '')))
for g, p, a in C:   # clean twins of the injection carriers
    normals.append(dict(prompt=p.replace('\n{X}', '').replace('{X} ', '').replace(' {X}', '').replace('{X}', ''), answer=a, labels=[], genre=g, note='clean twin of an injection carrier'))
for pr, a in inject.CLEAN_RAG:
    normals.append(dict(prompt=pr, answer=a, labels=[], genre='rag_qa', note='clean twin of an indirect-injection context'))
normals += other.NEG

inj = trim_injection(inject.OUT)
labelled = inj + other.OUT

files = {
  'normal.jsonl': normals,
  'prompt_injection.jsonl': [r for r in labelled if r['labels'][0]['category'] == 'prompt_injection'],
}
rest = [r for r in labelled if r['labels'][0]['category'] != 'prompt_injection']
for r in rest:
    files.setdefault(r['labels'][0]['category'].replace('-', '_') + '.jsonl', []).append(r)

os.makedirs(OUTDIR, exist_ok=True)
for f in os.listdir(OUTDIR):
    if f.endswith('.jsonl'): os.remove(os.path.join(OUTDIR, f))
prefix = {'normal.jsonl': 'n', 'prompt_injection.jsonl': 'pi'}
for fname, rows in files.items():
    pre = prefix.get(fname, fname.split('.')[0][:4])
    with open(os.path.join(OUTDIR, fname), 'w', encoding='utf-8') as fh:
        for i, r in enumerate(rows):
            rec = dict(id=f'{pre}-{i+1:04d}', prompt=r['prompt'], answer=r['answer'], labels=r['labels'], genre=r['genre'], note=r.get('note', ''))
            fh.write(json.dumps(rec, ensure_ascii=False) + '\n')
tot = sum(len(v) for v in files.values())
print('normal', len(normals), 'labelled', len(labelled), 'total', tot, 'normal share %.1f%%' % (100 * len(normals) / tot))
