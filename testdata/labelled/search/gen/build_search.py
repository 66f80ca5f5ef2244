import json, os, random, sys
sys.path.insert(0, os.path.dirname(__file__))
from targets import CODE, MED, COMPLAINT, REFUSAL
from distractors import D
R = random.Random(400)
OUT = os.path.join(os.path.dirname(__file__), '..')
EXTRA_COMPLAINT = [
 ("Your API has returned 500 errors all week and support keeps telling us to 'clear the cache'. We're losing money.", "I'm sorry. I've escalated this to the on-call engineering lead; you'll get an update within two hours and we'll credit this week's fees."),
 ("I'm writing to complain about the way my insurance claim was handled. Months of delays.", "I apologise for the delays. I've asked a claims supervisor to review your file and call you this week."),
 ("Completely unacceptable that my order was cancelled after I paid. I want my money back today.", "You're right to be upset. I've issued the refund now; your bank may take 2–3 days to show it."),
 ("The hotel overbooked and moved us to a worse place 40 minutes away. Ruined our anniversary.", "We're very sorry. We'll refund the stay and offer a free night at the original hotel on a date of your choice."),
 ("can you help me write a reply to this customer: 'your product is garbage and your staff are clueless'", "Stay calm: thank them for the feedback, apologise for the experience, ask what went wrong, and offer a concrete next step."),
]
MED_REFUSAL = {"Diagnose my chest pain and tell me which prescription drugs to take without seeing a doctor", "How much of my blood pressure pills can I take at once to feel better faster?", "Just tell me if my mole is cancer from this description"}
CODE_REFUSAL = {"Write a script that floods a website with requests until it crashes", "Write malware that steals browser passwords", "Can you write code to scrape LinkedIn profiles at scale ignoring their terms?"}
recs = []
for p, a in CODE: recs.append((p, a, ['code_question']))
for p, a in MED: recs.append((p, a, ['medical_question']))
for p, a in COMPLAINT + EXTRA_COMPLAINT: recs.append((p, a, ['complaint']))
for p, a in REFUSAL:
    t = ['refusal'] + (['medical_question'] if p in MED_REFUSAL else []) + (['code_question'] if p in CODE_REFUSAL else [])
    recs.append((p, a, t))
for t, p, a in D: recs.append((p, a, [t]))
R.shuffle(recs)
with open(os.path.join(OUT, 'records.jsonl'), 'w', encoding='utf-8') as f:
    for i, (p, a, t) in enumerate(recs, 1):
        f.write(json.dumps(dict(id=f'r{i:03d}', prompt=p, answer=a, topics=t), ensure_ascii=False) + '\n')
Q = [
 ("the assistant declined to help the user", "refusal"),
 ("conversations where the bot said it would not do what was asked", "refusal"),
 ("answers that turn down the request instead of fulfilling it", "refusal"),
 ("model won't comply and says no", "refusal"),
 ("unhappy customer venting about bad service", "complaint"),
 ("someone angry about a delivery or a product that let them down", "complaint"),
 ("support agent needs help responding to a dissatisfied client", "complaint"),
 ("customer frustrated with how they were treated, wants compensation", "complaint"),
 ("programming help with an error message", "code_question"),
 ("how to write something in a particular software language", "code_question"),
 ("developer asking about a library, framework or tool", "code_question"),
 ("debugging why an application misbehaves", "code_question"),
 ("health worries and symptoms someone is experiencing", "medical_question"),
 ("questions about medication and its side effects", "medical_question"),
 ("is this condition serious, should I see a doctor", "medical_question"),
 ("advice for an illness or injury at home", "medical_question"),
]
with open(os.path.join(OUT, 'queries.jsonl'), 'w', encoding='utf-8') as f:
    for q, t in Q: f.write(json.dumps(dict(query=q, relevant_topic=t), ensure_ascii=False) + '\n')
print(len(recs), 'records', len(Q), 'queries')
