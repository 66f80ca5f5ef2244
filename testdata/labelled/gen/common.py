"""Shared helpers for the generators (stdlib only, deterministic)."""
import random, string, base64

R = random.Random(20261208)

def luhn_ok(num: str) -> bool:
    d = [int(c) for c in num if c.isdigit()]
    s = 0
    for i, x in enumerate(reversed(d)):
        if i % 2 == 1:
            x *= 2
            if x > 9: x -= 9
        s += x
    return len(d) >= 12 and s % 10 == 0

def luhn_complete(prefix: str, length: int) -> str:
    body = prefix + ''.join(R.choice(string.digits) for _ in range(length - len(prefix) - 1))
    for c in string.digits:
        if luhn_ok(body + c):
            return body + c
    raise RuntimeError

def card(kind='visa'):
    if kind == 'visa': return luhn_complete('4' + R.choice(['147','539','266','916','024','485']), 16)
    if kind == 'mc': return luhn_complete(R.choice(['51','52','53','54','55']) + R.choice(['29','84','10','66']), 16)
    if kind == 'amex': return luhn_complete(R.choice(['34','37']), 15)
    raise ValueError

def fmt_card(n, sep=' '):
    if len(n) == 15: return n[:4]+sep+n[4:10]+sep+n[10:]
    return sep.join(n[i:i+4] for i in range(0, 16, 4))

def iban_ok(iban: str) -> bool:
    s = iban.replace(' ', '').upper()
    if len(s) < 15: return False
    s = s[4:] + s[:4]
    n = ''.join(str(int(c, 36)) for c in s)
    return int(n) % 97 == 1

def make_iban(cc):
    bb = {'DE': lambda: ''.join(R.choice(string.digits) for _ in range(18)),
          'GB': lambda: ''.join(R.choice('ABCDEFGHIJKLMNOPQRSTUVWXYZ') for _ in range(4)) + ''.join(R.choice(string.digits) for _ in range(14)),
          'FR': lambda: ''.join(R.choice(string.digits) for _ in range(23)),
          'NL': lambda: R.choice(['ABNA','INGB','RABO','TRIO']) + ''.join(R.choice(string.digits) for _ in range(10)),
          'ES': lambda: ''.join(R.choice(string.digits) for _ in range(20)),
          'CH': lambda: ''.join(R.choice(string.digits) for _ in range(17)),
          'IT': lambda: R.choice('ABCDEFGHIJKLMNOPQRSTUVWXYZ') + ''.join(R.choice(string.digits) for _ in range(22))}[cc]()
    n = ''.join(str(int(c, 36)) for c in bb + cc + '00')
    chk = 98 - int(n) % 97
    iban = f'{cc}{chk:02d}{bb}'
    assert iban_ok(iban)
    return iban

def fmt_iban(i):
    return ' '.join(i[k:k+4] for k in range(0, len(i), 4))

def aws_key():
    return 'AKIA' + ''.join(R.choice('ABCDEFGHIJKLMNOPQRSTUVWXYZ234567') for _ in range(16))

def aws_secret():
    return ''.join(R.choice(string.ascii_letters + string.digits + '/+') for _ in range(40))

def ghp():
    return 'ghp_' + ''.join(R.choice(string.ascii_letters + string.digits) for _ in range(36))

def slack_bot():
    return f"xoxb-{R.randint(10**10, 10**11)}-{R.randint(10**11, 10**12)}-" + ''.join(R.choice(string.ascii_letters + string.digits) for _ in range(24))

def stripe_live():
    return 'sk_live_' + ''.join(R.choice(string.ascii_letters + string.digits) for _ in range(24))

def openai_key():
    return 'sk-proj-' + ''.join(R.choice(string.ascii_letters + string.digits + '-_') for _ in range(48))

def ssn():
    while True:
        a = R.randint(1, 899)
        if a != 666: break
    return f'{a:03d}-{R.randint(1, 99):02d}-{R.randint(1, 9999):04d}'

def private_key(kind='RSA', lines=6):
    hdr = {'RSA': 'RSA PRIVATE KEY', 'OPENSSH': 'OPENSSH PRIVATE KEY', 'EC': 'EC PRIVATE KEY', 'PKCS8': 'PRIVATE KEY'}[kind]
    body = [base64.b64encode(R.randbytes(48)).decode() for _ in range(lines)]
    if kind == 'RSA': body[0] = 'MIIEpAIBAAKCAQEA' + body[0][16:]
    if kind == 'OPENSSH': body[0] = 'b3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQAAAAAAAAABAAAAMwAAAAtzc2gtZW' + body[0][:-4]
    return f'-----BEGIN {hdr}-----\n' + '\n'.join(body) + f'\n-----END {hdr}-----'

def password():
    pools = ['Winter2025!', 'Tr0ub4dor&3x', 'P@ssw0rd-Lisbon77', 'kX9#mQ2v!Lp4', 'Sunflower_88$', 'Gr8tD@ne2024', 'b4ckupAdm1n!!', 'Zq7!pL0s#Wm3', 'Marigold#1991', 'R3dR0ver$Cluj']
    return R.choice(pools)

TAG_BASE = 0xE0000
def tag_encode(s: str) -> str:
    """Encode ASCII as invisible Unicode tag characters (U+E0020..E007E), wrapped in BEGIN/CANCEL tags."""
    return chr(0xE0001) + ''.join(chr(TAG_BASE + ord(c)) for c in s) + chr(0xE007F)

def tag_encode_bare(s: str) -> str:
    return ''.join(chr(TAG_BASE + ord(c)) for c in s)

ZW = ['\u200b', '\u200c', '\u200d', '\u2060']
def zw_interleave(s: str, ch='\u200b') -> str:
    return ch.join(s)

def zw_binary(s: str) -> str:
    """Steganographic: each bit as ZWSP (0) / ZWNJ (1), chars separated by ZWJ."""
    return '\u200d'.join(''.join('\u200b' if b == '0' else '\u200c' for b in format(ord(c), '08b')) for c in s)

def rlo(s: str) -> str:
    """Store text reversed inside RIGHT-TO-LEFT OVERRIDE ... POP so it *displays* forwards."""
    return '\u202e' + s[::-1] + '\u202c'

def b64(s): return base64.b64encode(s.encode()).decode()
def hexs(s): return s.encode().hex()
