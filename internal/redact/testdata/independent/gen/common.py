"""Value generators built from the real formats, plus the template filler.

Template syntax (markers use the brackets U+27E6/U+27E7 so they never clash
with JSON/TOML/INI brackets in the texts):
    ⟦TYPE:gen⟧        generated value, labelled TYPE
    ⟦TYPE:gen@k⟧      same, but value is remembered under key k (reuse: same marker again)
    ⟦TYPE=literal⟧    literal value, labelled TYPE
    ⟦gen⟧ / ⟦gen@k⟧   generated value, NOT labelled (names, order ids, hashes ...)
"""
import base64, binascii, hashlib, json, random, re, string, uuid, datetime

R = random.Random(15015)

# ---------------------------------------------------------------- names
FIRST_EN = ["James", "Mary", "Robert", "Linda", "Michael", "Jennifer", "David", "Susan", "Kevin", "Angela",
            "Brian", "Megan", "Tyler", "Rachel", "Marcus", "Tanya", "Ethan", "Olivia", "Noah", "Hannah",
            "Derek", "Crystal", "Howard", "Beatrice", "Gareth", "Siobhan", "Callum", "Imogen", "Rhys", "Fiona"]
LAST_EN = ["Johnson", "Williams", "Brown", "Garcia", "Miller", "Davis", "Wilson", "Anderson", "Thompson", "Moore",
           "Okafor", "Nguyen", "Kowalski", "O'Brien", "Fitzgerald", "Hughes", "Patel", "Reyes", "Holloway", "Pritchard",
           "Whitaker", "Castellano", "Lindqvist", "Abernathy", "McAllister", "Sutherland", "Baptiste", "Yamamoto"]
FIRST_DE = ["Jürgen", "Katrin", "Lukas", "Anja", "Matthias", "Sabine", "Florian", "Birgit", "Tobias", "Svenja", "Dieter", "Ulrike"]
LAST_DE = ["Müller", "Schneider", "Fischer", "Weber", "Becker", "Hoffmann", "Schäfer", "Koch", "Richter", "Wagner", "Krüger", "Zimmermann"]
FIRST_FR = ["Camille", "Julien", "Élodie", "Mathieu", "Sandrine", "Nicolas", "Aurélie", "Thibault", "Manon", "Guillaume"]
LAST_FR = ["Dubois", "Lefèvre", "Moreau", "Laurent", "Girard", "Rousseau", "Fontaine", "Chevalier", "Lambert", "Mercier"]
FIRST_ES = ["Alejandro", "Lucía", "Javier", "Carmen", "Pablo", "Marta", "Sergio", "Elena", "Diego", "Rocío"]
LAST_ES = ["García", "Fernández", "López", "Martínez", "Sánchez", "Romero", "Navarro", "Torres", "Ruiz", "Iglesias"]
FIRST_IN = ["Priya", "Rahul", "Ananya", "Vikram", "Sneha", "Arjun", "Kavya", "Rohan", "Deepika", "Sanjay", "Lakshmi", "Aditya"]
LAST_IN = ["Sharma", "Iyer", "Reddy", "Nair", "Gupta", "Menon", "Banerjee", "Kulkarni", "Chatterjee", "Subramanian", "Joshi", "Pillai"]

REGION_NAMES = {
    "us": (FIRST_EN, LAST_EN), "uk": (FIRST_EN, LAST_EN), "de": (FIRST_DE, LAST_DE),
    "fr": (FIRST_FR, LAST_FR), "es": (FIRST_ES, LAST_ES), "in": (FIRST_IN, LAST_IN),
}

MAILDOMAINS = {
    "us": ["gmail.com", "outlook.com", "yahoo.com", "icloud.com", "comcast.net", "northwindtraders.com",
           "brightpath-health.org", "veridian-capital.com", "lakeshore-logistics.com", "hollisterbank.com"],
    "uk": ["btinternet.com", "hotmail.co.uk", "gmail.com", "sky.com", "harrowgate-solicitors.co.uk", "nhs.net", "kestrel-insurance.co.uk"],
    "de": ["web.de", "gmx.de", "t-online.de", "posteo.de", "mueller-maschinenbau.de", "stadtwerke-ulm.de", "gmx.net"],
    "fr": ["orange.fr", "free.fr", "laposte.net", "sfr.fr", "cabinet-moreau.fr", "groupe-vignoble.fr"],
    "es": ["telefonica.net", "gmail.com", "hotmail.es", "construcciones-ibericas.es", "yahoo.es"],
    "in": ["gmail.com", "yahoo.co.in", "rediffmail.com", "infoway-tech.in", "sahyadri-pharma.co.in", "outlook.com"],
}
CORP = "meridianhq.com"  # the fictional company running the chatbot (a plausible, non-reserved domain)


def ascii_fold(s):
    tbl = str.maketrans({"ä": "ae", "ö": "oe", "ü": "ue", "ß": "ss", "é": "e", "è": "e", "ê": "e", "à": "a",
                         "í": "i", "ó": "o", "á": "a", "ú": "u", "ñ": "n", "ç": "c", "É": "E", "'": "", "Ü": "Ue"})
    return s.translate(tbl)


def person(region=None):
    region = region or R.choice(["us", "us", "us", "uk", "de", "fr", "es", "in"])
    f, l = REGION_NAMES[region]
    return {"region": region, "first": R.choice(f), "last": R.choice(l)}


def email_for(p, domain=None, style=None):
    f, l = ascii_fold(p["first"]).lower(), ascii_fold(p["last"]).lower().replace(" ", "")
    style = style or R.choice(["f.l", "fl", "f_l", "fl##", "initl", "l.f", "f"])
    loc = {"f.l": f"{f}.{l}", "fl": f"{f}{l}", "f_l": f"{f}_{l}", "fl##": f"{f}{l}{R.randint(2, 99)}",
           "initl": f"{f[0]}{l}", "l.f": f"{l}.{f}", "f": f"{f}.{l[0]}"}[style]
    domain = domain or R.choice(MAILDOMAINS[p["region"]])
    return f"{loc}@{domain}"


# ---------------------------------------------------------------- checksums
def luhn_ok(num):
    d = [int(c) for c in num if c.isdigit()]
    s = 0
    for i, x in enumerate(reversed(d)):
        if i % 2 == 1:
            x *= 2
            if x > 9:
                x -= 9
        s += x
    return s % 10 == 0


def luhn_complete(prefix, length):
    body = prefix + "".join(R.choice(string.digits) for _ in range(length - len(prefix) - 1))
    for c in string.digits:
        if luhn_ok(body + c):
            return body + c


CARD_BRANDS = {
    "visa": (["4"], 16), "mc": (["51", "52", "53", "54", "55", "2221", "2300", "2720", "2610"], 16),
    "amex": (["34", "37"], 15), "discover": (["6011", "644", "65"], 16), "jcb": (["3528", "3566", "3589"], 16),
    "diners": (["36", "300", "305"], 14), "visa13": (["4"], 16), "maestro": (["6759"], 16), "rupay": (["6521", "6080"], 16),
}


def card(brand=None, fmt=None):
    brand = brand or R.choice(["visa", "visa", "mc", "mc", "amex", "discover", "jcb"])
    prefs, ln = CARD_BRANDS[brand]
    n = luhn_complete(R.choice(prefs), ln)
    fmt = fmt or R.choice(["space", "space", "dash", "plain"])
    if ln == 15:
        parts = [n[:4], n[4:10], n[10:]]
    elif ln == 14:
        parts = [n[:4], n[4:10], n[10:]]
    else:
        parts = [n[i:i + 4] for i in range(0, 16, 4)]
    return {"space": " ".join(parts), "dash": "-".join(parts), "plain": n}[fmt]


def iban_check(country, bban):
    s = bban + country + "00"
    n = int("".join(str(int(c, 36)) for c in s))
    return f"{98 - n % 97:02d}"


def iban_ok(iban):
    s = iban.replace(" ", "")
    s = s[4:] + s[:4]
    return int("".join(str(int(c, 36)) for c in s)) % 97 == 1


def dig(n):
    return "".join(R.choice(string.digits) for _ in range(n))


def up(n):
    return "".join(R.choice(string.ascii_uppercase) for _ in range(n))


def fr_rib_key(bank, branch, account):
    tr = {}
    for i, chars in enumerate(["AJ", "BKS", "CLT", "DMU", "ENV", "FOW", "GPX", "HQY", "IRZ"], 1):
        for c in chars:
            tr[c] = str(i)
    acc = "".join(tr.get(c, c) for c in account)
    return f"{97 - (89 * int(bank) + 15 * int(branch) + 3 * int(acc)) % 97:02d}"


def es_dc(bank, branch, acc):
    w = [1, 2, 4, 8, 5, 10, 9, 7, 3, 6]
    def c(ds):
        v = 11 - sum(int(d) * w[i] for i, d in enumerate(ds)) % 11
        return {10: 1, 11: 0}.get(v, v)
    return f"{c('00' + bank + branch)}{c(acc)}"


IBAN_BANKS = {"DE": ["10070000", "37040044", "50010517", "20041133", "70150000", "12030000"],
              "GB": ["NWBK", "BARC", "LOYD", "HBUK", "MIDL"], "NL": ["ABNA", "INGB", "RABO", "TRIO"],
              "IE": ["AIBK", "BOFI"], "FR": ["30004", "20041", "30003", "10278"], "ES": ["2100", "0049", "0182", "2080"]}


def iban(country=None, fmt=None):
    country = country or R.choice(["DE", "DE", "GB", "FR", "ES", "NL", "IT", "CH", "AT", "BE", "IE", "PL"])
    if country == "DE":
        bban = R.choice(IBAN_BANKS["DE"]) + dig(10)
    elif country == "GB":
        bban = R.choice(IBAN_BANKS["GB"]) + dig(6) + dig(8)
    elif country == "IE":
        bban = R.choice(IBAN_BANKS["IE"]) + dig(6) + dig(8)
    elif country == "NL":
        bban = R.choice(IBAN_BANKS["NL"]) + "0" + dig(9)
    elif country == "FR":
        b, g, a = R.choice(IBAN_BANKS["FR"]), dig(5), dig(11)
        bban = b + g + a + fr_rib_key(b, g, a)
    elif country == "ES":
        b, g, a = R.choice(IBAN_BANKS["ES"]), dig(4), dig(10)
        bban = b + g + es_dc(b, g, a) + a
    elif country == "IT":
        bban = R.choice(string.ascii_uppercase) + R.choice(["03069", "02008", "05034"]) + dig(5) + dig(12)
    elif country == "CH":
        bban = R.choice(["00762", "00235", "08390"]) + dig(12)
    elif country == "AT":
        bban = R.choice(["12000", "20111", "32000"]) + dig(11)
    elif country == "BE":
        a = dig(10)
        k = int(a) % 97 or 97
        bban = a + f"{k:02d}"
    elif country == "PL":
        bban = dig(24)
    ib = country + iban_check(country, bban) + bban
    assert iban_ok(ib)
    fmt = fmt or R.choice(["space", "space", "plain"])
    return " ".join(ib[i:i + 4] for i in range(0, len(ib), 4)) if fmt == "space" else ib


# ---------------------------------------------------------------- national ids
def ssn(fmt=None):
    while True:
        a = R.randint(1, 899)
        if a != 666:
            break
    g, s = R.randint(1, 99), R.randint(1, 9999)
    fmt = fmt or "dash"
    return {"dash": f"{a:03d}-{g:02d}-{s:04d}", "plain": f"{a:03d}{g:02d}{s:04d}", "space": f"{a:03d} {g:02d} {s:04d}"}[fmt]


def nino(fmt=None):
    bad1, bad2 = set("DFIQUV"), set("DFIQUVO")
    while True:
        a, b = R.choice(string.ascii_uppercase), R.choice(string.ascii_uppercase)
        if a not in bad1 and b not in bad2 and a + b not in {"BG", "GB", "NK", "KN", "TN", "NT", "ZZ"}:
            break
    d, s = dig(6), R.choice("ABCD")
    return f"{a}{b} {d[:2]} {d[2:4]} {d[4:]} {s}" if (fmt or R.choice(["sp", "pl"])) == "sp" else f"{a}{b}{d}{s}"


def de_taxid_check(d10):
    product = 10
    for ch in d10:
        s = (int(ch) + product) % 10
        if s == 0:
            s = 10
        product = (s * 2) % 11
    c = 11 - product
    return "0" if c == 10 else str(c)


def de_taxid(fmt=None):
    while True:
        digits = R.sample(string.digits, 9)
        digits.append(R.choice(digits))
        R.shuffle(digits)
        if digits[0] != "0":
            break
    d = "".join(digits)
    full = d + de_taxid_check(d)
    return f"{full[:2]} {full[2:5]} {full[5:8]} {full[8:]}" if (fmt or R.choice(["sp", "pl", "pl"])) == "sp" else full


_VD = [[0,1,2,3,4,5,6,7,8,9],[1,2,3,4,0,6,7,8,9,5],[2,3,4,0,1,7,8,9,5,6],[3,4,0,1,2,8,9,5,6,7],[4,0,1,2,3,9,5,6,7,8],
       [5,9,8,7,6,0,4,3,2,1],[6,5,9,8,7,1,0,4,3,2],[7,6,5,9,8,2,1,0,4,3],[8,7,6,5,9,3,2,1,0,4],[9,8,7,6,5,4,3,2,1,0]]
_VP = [[0,1,2,3,4,5,6,7,8,9],[1,5,7,6,2,8,3,0,9,4],[5,8,0,3,7,9,6,1,4,2],[8,9,1,6,0,4,3,5,2,7],[9,4,5,3,1,2,6,8,7,0],
       [4,2,8,6,5,7,3,9,0,1],[2,7,9,3,8,0,6,4,1,5],[7,0,4,6,9,1,3,2,5,8]]
_VINV = [0,4,3,2,1,5,6,7,8,9]


def verhoeff_ok(num):
    c = 0
    for i, ch in enumerate(reversed([x for x in num if x.isdigit()])):
        c = _VD[c][_VP[i % 8][int(ch)]]
    return c == 0


def verhoeff_digit(num):
    c = 0
    for i, ch in enumerate(reversed(num)):
        c = _VD[c][_VP[(i + 1) % 8][int(ch)]]
    return str(_VINV[c])


def aadhaar(fmt=None):
    b = str(R.randint(2, 9)) + dig(10)
    n = b + verhoeff_digit(b)
    assert verhoeff_ok(n)
    return f"{n[:4]} {n[4:8]} {n[8:]}" if (fmt or R.choice(["sp", "sp", "pl"])) == "sp" else n


def pan():
    return up(3) + R.choice("PPPPCH") + up(1) + dig(4) + up(1)


def insee(fmt=None, sex=None, yy=None, mm=None):
    sex = sex or R.choice("12")
    yy = yy or f"{R.randint(45, 99):02d}"
    mm = mm or f"{R.randint(1, 12):02d}"
    dept = R.choice(["75", "69", "13", "33", "59", "31", "44", "67", "06", "92", "93"])
    body = sex + yy + mm + dept + dig(3) + f"{R.randint(1, 999):03d}"
    key = 97 - int(body) % 97
    full = body + f"{key:02d}"
    if (fmt or R.choice(["sp", "pl"])) == "sp":
        return f"{full[0]} {full[1:3]} {full[3:5]} {full[5:7]} {full[7:10]} {full[10:13]} {full[13:]}"
    return full


def sin(fmt=None):
    n = luhn_complete(R.choice("1234567"), 9)
    return f"{n[:3]} {n[3:6]} {n[6:]}" if (fmt or R.choice(["sp", "sp", "dash", "pl"])) == "sp" else (
        f"{n[:3]}-{n[3:6]}-{n[6:]}" if fmt == "dash" else n)


def dni():
    n = R.randint(10000000, 79999999)
    return f"{n}{'TRWAGMYFPDXBNJZSQVHLCKE'[n % 23]}"


def nie():
    p = R.choice("XYZ")
    n = R.randint(1000000, 9999999)
    v = int(str("XYZ".index(p)) + str(n))
    return f"{p}{n}{'TRWAGMYFPDXBNJZSQVHLCKE'[v % 23]}"


# ---------------------------------------------------------------- phones
US_AREAS = ["212", "646", "718", "415", "650", "510", "312", "773", "617", "206", "512", "713", "214", "303", "404",
            "305", "602", "503", "919", "704", "612", "313", "215", "412", "702", "808", "907", "615", "504", "801"]
CA_AREAS = ["416", "647", "604", "514", "403", "613", "905"]


def us_phone(fmt=None, areas=US_AREAS):
    a = R.choice(areas)
    while True:
        ex = f"{R.randint(2, 9)}{R.randint(0, 9)}{R.randint(0, 9)}"
        if ex[1:] != "11" and ex != "555" and ex != "958" and ex != "959":
            break
    ln = dig(4)
    fmt = fmt or R.choice(["paren", "dash", "dot", "plain", "intl", "intl_dash", "paren"])
    return {"paren": f"({a}) {ex}-{ln}", "dash": f"{a}-{ex}-{ln}", "dot": f"{a}.{ex}.{ln}", "plain": f"{a}{ex}{ln}",
            "intl": f"+1 {a} {ex} {ln}", "intl_dash": f"+1-{a}-{ex}-{ln}", "space": f"{a} {ex} {ln}",
            "one": f"1-{a}-{ex}-{ln}"}[fmt]


def us_fict():
    a = R.choice(US_AREAS)
    return R.choice([f"({a}) 555-01{dig(2)}", f"{a}-555-01{dig(2)}", f"555-01{dig(2)}"])


def uk_phone(fmt=None):
    kind = fmt or R.choice(["london", "london", "drama", "mob", "mob", "manc", "leeds", "edin", "intl_lon", "intl_mob"])
    if kind == "london":
        return f"020 {R.choice('378')}{dig(3)} {dig(4)}"
    if kind == "drama":
        return f"020 7946 0{dig(3)}"
    if kind == "mob":
        return f"07{R.choice(['700', '723', '834', '911', '456', '588', '398'])} {dig(6)}"
    if kind == "manc":
        return f"0161 {R.choice('2345789')}{dig(2)} {dig(4)}"
    if kind == "leeds":
        return f"0113 {R.choice('2345')}{dig(2)} {dig(4)}"
    if kind == "edin":
        return f"0131 {R.choice('2345')}{dig(2)} {dig(4)}"
    if kind == "intl_lon":
        return f"+44 20 {R.choice('378')}{dig(3)} {dig(4)}"
    if kind == "intl_mob":
        return f"+44 7{R.choice(['700', '723', '834', '911'])} {dig(6)}"


def de_phone(fmt=None):
    kind = fmt or R.choice(["ber_slash", "muc_slash", "ber_sp", "ham", "ffm", "koeln", "mob", "mob", "intl", "intl_mob", "muc_dash"])
    if kind == "ber_slash":
        return f"030/{R.choice('2345689')}{dig(7)}"
    if kind == "muc_slash":
        return f"089/{R.choice('2345')}{dig(6)}"
    if kind == "muc_dash":
        return f"089 {R.choice('2345')}{dig(3)}-{dig(3)}"
    if kind == "ber_sp":
        return f"030 {R.choice('2345689')}{dig(3)} {dig(4)}"
    if kind == "ham":
        return f"040 {R.choice('23456')}{dig(2)} {dig(2)} {dig(2)}"
    if kind == "ffm":
        return f"069 {R.choice('2345')}{dig(3)} {dig(4)}"
    if kind == "koeln":
        return f"0221 {R.choice('2345')}{dig(2)} {dig(2)} {dig(2)}"
    if kind == "mob":
        return f"0{R.choice(['151', '160', '170', '171', '176', '152', '162'])} {dig(4)} {dig(4)}"
    if kind == "intl":
        return f"+49 {R.choice(['30', '89', '40', '69'])} {R.choice('2345')}{dig(3)} {dig(4)}"
    if kind == "intl_mob":
        return f"+49 {R.choice(['151', '170', '176'])} {dig(8)}"


def fr_phone(fmt=None):
    kind = fmt or R.choice(["mob", "mob", "mob_dot", "geo", "intl", "intl_mob"])
    def grp():
        return " ".join(dig(2) for _ in range(4))
    if kind == "mob":
        return f"0{R.choice('67')} {grp()}"
    if kind == "mob_dot":
        return f"0{R.choice('67')}.{'.'.join(dig(2) for _ in range(4))}"
    if kind == "geo":
        return f"0{R.choice('12345')} {grp()}"
    if kind == "intl":
        return f"+33 1 {grp()}"
    if kind == "intl_mob":
        return f"+33 {R.choice('67')} {grp()}"


def in_phone(fmt=None):
    kind = fmt or R.choice(["mob", "mob", "intl", "intl", "zero", "plain", "mum", "del", "blr"])
    m = R.choice("6789") + dig(4)
    n = dig(5)
    if kind == "mob":
        return f"{m} {n}"
    if kind == "intl":
        return f"+91 {m} {n}"
    if kind == "zero":
        return f"0{m}{n}"
    if kind == "plain":
        return f"{m}{n}"
    if kind == "mum":
        return f"022 {R.choice('2345')}{dig(3)} {dig(4)}"
    if kind == "del":
        return f"011-{R.choice('2346')}{dig(3)}-{dig(4)}"
    if kind == "blr":
        return f"080 {R.choice('2345')}{dig(3)} {dig(4)}"


def es_phone(fmt=None):
    kind = fmt or R.choice(["mob", "mad", "bcn", "intl"])
    if kind == "mob":
        return f"6{dig(2)} {dig(3)} {dig(3)}"
    if kind == "mad":
        return f"91 {dig(3)} {dig(2)} {dig(2)}"
    if kind == "bcn":
        return f"93 {dig(3)} {dig(2)} {dig(2)}"
    return f"+34 6{dig(2)} {dig(3)} {dig(3)}"


# ---------------------------------------------------------------- dates
MON = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
MONTH = ["January", "February", "March", "April", "May", "June", "July", "August", "September", "October", "November", "December"]
MONAT = ["Januar", "Februar", "März", "April", "Mai", "Juni", "Juli", "August", "September", "Oktober", "November", "Dezember"]
MOIS = ["janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août", "septembre", "octobre", "novembre", "décembre"]
MES = ["enero", "febrero", "marzo", "abril", "mayo", "junio", "julio", "agosto", "septiembre", "octubre", "noviembre", "diciembre"]


def rdate(y0=1938, y1=2004):
    y = R.randint(y0, y1)
    m = R.randint(1, 12)
    d = R.randint(1, 28)
    return y, m, d


def dob(fmt=None):
    y, m, d = rdate()
    fmt = fmt or R.choice(["dmy_mon", "us", "iso", "hl7", "d_month_y", "month_d_y", "dmy_slash", "us", "iso"])
    return fmtdate(y, m, d, fmt)


def fmtdate(y, m, d, fmt):
    return {"dmy_mon": f"{d:02d}-{MON[m-1]}-{y}", "us": f"{m:02d}/{d:02d}/{y}", "iso": f"{y}-{m:02d}-{d:02d}",
            "hl7": f"{y}{m:02d}{d:02d}", "d_month_y": f"{d} {MONTH[m-1]} {y}", "month_d_y": f"{MONTH[m-1]} {d}, {y}",
            "dmy_slash": f"{d:02d}/{m:02d}/{y}", "de": f"{d:02d}.{m:02d}.{y}", "de_long": f"{d}. {MONAT[m-1]} {y}",
            "fr_long": f"{d} {MOIS[m-1]} {y}", "es_long": f"{d} de {MES[m-1]} de {y}", "us_short": f"{m}/{d}/{y}",
            "mon_d_y": f"{MON[m-1]} {d}, {y}", "d_mon_y": f"{d} {MON[m-1]} {y}", "dmy_dash": f"{d:02d}-{m:02d}-{y}",
            "us_2y": f"{m:02d}/{d:02d}/{y % 100:02d}"}[fmt]


def recent(fmt="iso"):
    y, m, d = rdate(2023, 2025)
    return fmtdate(y, m, d, fmt)


def ts():
    y, m, d = rdate(2024, 2025)
    return f"{y}-{m:02d}-{d:02d}T{R.randint(0, 23):02d}:{R.randint(0, 59):02d}:{R.randint(0, 59):02d}Z"


def hl7ts():
    y, m, d = rdate(2024, 2025)
    return f"{y}{m:02d}{d:02d}{R.randint(0, 23):02d}{R.randint(0, 59):02d}{R.randint(0, 59):02d}"


# ---------------------------------------------------------------- licences / passports / MRN
def dl(state=None):
    state = state or R.choice(list(DL_FMT))
    return DL_FMT[state]()


def _wa_old():
    last = R.choice(["SMITHJ", "GARCIM", "NGUYEN", "OBRIEN", "PATELR"])[:5].ljust(5, "*")
    return f"{last}{R.choice(string.ascii_uppercase)}{R.choice(string.ascii_uppercase)}{dig(3)}{R.choice('ABCDEFGHJKLMNPQRSTWXYZ')}{R.choice(string.ascii_uppercase + string.digits)}"


DL_FMT = {
    "CA": lambda: up(1) + dig(7),
    "NY": lambda: R.choice([f"{dig(3)} {dig(3)} {dig(3)}", dig(9)]),
    "FL": lambda: R.choice([f"{up(1)}{dig(3)}-{dig(3)}-{dig(2)}-{dig(3)}-{dig(1)}", up(1) + dig(12)]),
    "TX": lambda: dig(8),
    "IL": lambda: R.choice([f"{up(1)}{dig(3)}-{dig(4)}-{dig(4)}", up(1) + dig(11)]),
    "WA": lambda: R.choice(["WDL" + "".join(R.choice(string.ascii_uppercase + string.digits) for _ in range(9)), _wa_old()]),
    "PA": lambda: R.choice([f"{dig(2)} {dig(3)} {dig(3)}", dig(8)]),
    "NJ": lambda: R.choice([f"{up(1)}{dig(4)} {dig(5)} {dig(5)}", up(1) + dig(14)]),
    "MI": lambda: R.choice([f"{up(1)} {dig(3)} {dig(3)} {dig(3)} {dig(3)}", up(1) + dig(12)]),
    "OH": lambda: up(2) + dig(6),
    "MA": lambda: "S" + dig(8),
    "MD": lambda: f"{up(1)}-{dig(3)}-{dig(3)}-{dig(3)}-{dig(3)}",
    "WI": lambda: f"{up(1)}{dig(3)}-{dig(4)}-{dig(4)}-{dig(2)}",
    "AZ": lambda: up(1) + dig(8),
    "CO": lambda: f"{dig(2)}-{dig(3)}-{dig(4)}",
    "GA": lambda: dig(9),
    "VA": lambda: up(1) + dig(8),
    "MN": lambda: up(1) + dig(12),
}
STATE_NAME = {"CA": "California", "NY": "New York", "FL": "Florida", "TX": "Texas", "IL": "Illinois", "WA": "Washington",
              "PA": "Pennsylvania", "NJ": "New Jersey", "MI": "Michigan", "OH": "Ohio", "MA": "Massachusetts",
              "MD": "Maryland", "WI": "Wisconsin", "AZ": "Arizona", "CO": "Colorado", "GA": "Georgia", "VA": "Virginia", "MN": "Minnesota"}


def passport(country=None):
    country = country or R.choice(["US", "US", "UK", "DE", "IN", "FR", "CA"])
    if country == "US":
        return R.choice([R.choice("123456789") + dig(8), R.choice("ABCDEFGHJKLMNPRSTUVWXYZ") + dig(8)])
    if country == "UK":
        return R.choice("1253") + dig(8)
    if country == "DE":
        al = "CFGHJKLMNPRTVWXYZ"
        return R.choice("CFGHJK") + "".join(R.choice(al + "0123456789") for _ in range(8))
    if country == "IN":
        return R.choice("JKLMNPRSTUVWZ") + str(R.randint(1, 9)) + dig(6)
    if country == "FR":
        return f"{R.randint(10, 24)}{up(2)}{dig(5)}"
    if country == "CA":
        return up(2) + dig(6)


def mrn(style=None):
    style = style or R.choice(["bare7", "bare8", "pad", "pref", "pref_dash", "bare6", "pad10"])
    if style == "bare7":
        return str(R.randint(1000000, 9999999))
    if style == "bare8":
        return str(R.randint(10000000, 99999999))
    if style == "bare6":
        return str(R.randint(100000, 999999))
    if style == "pad":
        return "00" + dig(6)
    if style == "pad10":
        return "000" + dig(7)
    if style == "pref":
        return R.choice(["M", "E", "MRN", "H", "P"]) + dig(7)
    if style == "pref_dash":
        return R.choice(["MR-", "SJH-", "BMC-", "K"]) + dig(7)


# ---------------------------------------------------------------- secrets
B62 = string.ascii_letters + string.digits


def rs(n, alphabet=B62):
    return "".join(R.choice(alphabet) for _ in range(n))


def b62enc(n):
    s = ""
    al = string.digits + string.ascii_uppercase + string.ascii_lowercase
    while n:
        n, r = divmod(n, 62)
        s = al[r] + s
    return s.rjust(6, "0")


def gh(prefix="ghp_"):
    body = rs(30)
    return prefix + body + b62enc(binascii.crc32(body.encode()))


def gh_pat():
    return "github_pat_11" + rs(20, string.ascii_uppercase + string.digits) + "_" + rs(59)


def aws_ak(prefix="AKIA"):
    return prefix + rs(16, string.ascii_uppercase + "234567")


def aws_sk():
    return rs(40, B62 + "+/")


def slack(kind="xoxb"):
    if kind == "xoxb":
        return f"xoxb-{dig(11)}-{dig(13)}-{rs(24)}"
    if kind == "xoxp":
        return f"xoxp-{dig(11)}-{dig(11)}-{dig(13)}-{rs(32, '0123456789abcdef')}"
    if kind == "hook":
        return f"https://hooks.slack.com/services/T{rs(8, string.ascii_uppercase + string.digits)}/B{rs(10, string.ascii_uppercase + string.digits)}/{rs(24)}"


def openai(kind=None):
    kind = kind or R.choice(["old", "proj", "proj"])
    if kind == "old":
        return "sk-" + rs(20) + "T3BlbkFJ" + rs(20)
    return "sk-proj-" + rs(40, B62 + "-_") + "T3BlbkFJ" + rs(40, B62 + "-_")


def b64u(b):
    return base64.urlsafe_b64encode(b).rstrip(b"=").decode()


def jwt(payload=None):
    h = {"alg": R.choice(["HS256", "RS256", "HS512"]), "typ": "JWT"}
    p = payload or {"sub": str(R.randint(10000, 99999)), "name": R.choice(FIRST_EN) + " " + R.choice(LAST_EN),
                    "iat": R.randint(1700000000, 1740000000), "role": R.choice(["admin", "user", "support"])}
    p.setdefault("exp", p.get("iat", 1720000000) + 3600)
    sig = b64u(R.randbytes(32 if h["alg"] == "HS256" else 64))
    return f"{b64u(json.dumps(h, separators=(',', ':')).encode())}.{b64u(json.dumps(p, separators=(',', ':')).encode())}.{sig}"


def pem(kind=None, lines=None):
    kind = kind or R.choice(["RSA", "PKCS8", "EC", "OPENSSH"])
    if kind == "EC":
        body = base64.b64encode(bytes.fromhex("30770201010420") + R.randbytes(32) + bytes.fromhex("a00a06082a8648ce3d030107a144034200") + R.randbytes(65)).decode()
        hdr = "EC PRIVATE KEY"
    elif kind == "OPENSSH":
        body = base64.b64encode(b"openssh-key-v1\x00\x00\x00\x00\x04none\x00\x00\x00\x04none\x00\x00\x00\x00\x00\x00\x00\x01\x00\x00\x003\x00\x00\x00\x0bssh-ed25519\x00\x00\x00 " + R.randbytes(180)).decode()
        hdr = "OPENSSH PRIVATE KEY"
    elif kind == "RSA":
        body = base64.b64encode(bytes.fromhex("308204a30201000282010100") + R.randbytes((lines or 12) * 48)).decode()
        hdr = "RSA PRIVATE KEY"
    else:
        body = base64.b64encode(bytes.fromhex("308204bd020100300d06092a864886f70d0101010500048204a7308204a30201000282010100") + R.randbytes((lines or 12) * 48)).decode()
        hdr = "PRIVATE KEY"
    w = 70 if kind == "OPENSSH" else 64
    blines = [body[i:i + w] for i in range(0, len(body), w)]
    return f"-----BEGIN {hdr}-----\n" + "\n".join(blines) + f"\n-----END {hdr}-----"


def stripe():
    return R.choice(["sk_live_", "rk_live_"]) + "51" + rs(22) + rs(70)


def django_key():
    return rs(50, string.ascii_lowercase + string.digits + "!@#$%^&*(-_=+)")


def hexs(n):
    return "".join(R.choice("0123456789abcdef") for _ in range(n))


def api_generic():
    return R.choice([lambda: rs(32), lambda: hexs(40), lambda: rs(44, B62 + "+/") + "=", lambda: hexs(64),
                     lambda: "AIza" + rs(35, B62 + "-_"), lambda: "SG." + rs(22, B62 + "-_") + "." + rs(43, B62 + "-_"),
                     lambda: "npm_" + rs(36), lambda: "glpat-" + rs(20, B62 + "-_"), lambda: "SK" + hexs(32),
                     lambda: "key-" + hexs(32), lambda: rs(24) + "." + rs(16)])()


PW_WORDS = ["Tr0ub4dor", "Sunflower", "Kestrel", "Marmalade", "Blauwal", "Zugspitze", "Papillon", "Girasol", "Monsoon", "Copperfield", "Winterberg", "Baobab"]


def password(kind=None):
    kind = kind or R.choice(["word", "word", "rand", "rand", "phrase", "sym"])
    if kind == "word":
        return R.choice(PW_WORDS) + R.choice(["!", "#", "$", "%", "&", "*", "@"]) + str(R.randint(10, 2025))
    if kind == "rand":
        return rs(R.randint(14, 24), B62 + "!#%&*+-=?@^_~")
    if kind == "phrase":
        return "-".join(R.sample(["correct", "horse", "battery", "staple", "orbit", "lantern", "maple", "quartz", "violet", "anchor", "tundra"], 4))
    if kind == "sym":
        return rs(4) + R.choice("!@#$%") + rs(5) + R.choice("!@#$%") + dig(2)


# ---------------------------------------------------------------- network
def ipv4(kind=None):
    kind = kind or R.choice(["pub", "pub", "priv10", "priv192", "priv172", "cgn"])
    if kind == "pub":
        while True:
            a = R.choice([23, 34, 35, 44, 52, 54, 62, 78, 81, 84, 91, 103, 104, 142, 151, 176, 185, 188, 212, 213, 217])
            return f"{a}.{R.randint(0, 255)}.{R.randint(0, 255)}.{R.randint(1, 254)}"
    if kind == "priv10":
        return f"10.{R.randint(0, 255)}.{R.randint(0, 255)}.{R.randint(1, 254)}"
    if kind == "priv192":
        return f"192.168.{R.randint(0, 255)}.{R.randint(1, 254)}"
    if kind == "priv172":
        return f"172.{R.randint(16, 31)}.{R.randint(0, 255)}.{R.randint(1, 254)}"
    if kind == "cgn":
        return f"100.{R.randint(64, 127)}.{R.randint(0, 255)}.{R.randint(1, 254)}"


def ipv6(kind=None):
    kind = kind or R.choice(["full", "comp", "comp", "ll"])
    pre = R.choice(["2a02:8108", "2600:1f18", "2a01:4f8", "2001:67c", "2607:f8b0", "2406:da18", "2a00:1450"])
    if kind == "full":
        return pre + ":" + ":".join(f"{R.randint(0, 65535):x}" for _ in range(6))
    if kind == "comp":
        return pre + ":" + f"{R.randint(0, 65535):x}" + "::" + f"{R.randint(1, 65535):x}"
    return "fe80::" + ":".join(f"{R.randint(0, 65535):x}" for _ in range(4))


def ipv4_doc():
    return R.choice(["192.0.2.", "198.51.100.", "203.0.113."]) + str(R.randint(1, 254))


# ---------------------------------------------------------------- look-alike fillers
def isbn13():
    b = "978" + dig(9)
    s = sum(int(c) * (1 if i % 2 == 0 else 3) for i, c in enumerate(b))
    c = (10 - s % 10) % 10
    n = b + str(c)
    return f"{n[:3]}-{n[3]}-{n[4:7]}-{n[7:12]}-{n[12]}"


def ups():
    return "1Z" + rs(6, string.ascii_uppercase + string.digits) + dig(10)


CITY = {"us": ["Chicago", "Austin", "Seattle", "Denver", "Boston", "Atlanta", "Phoenix", "Portland"],
        "uk": ["London", "Manchester", "Leeds", "Bristol", "Edinburgh", "Cardiff"],
        "de": ["Berlin", "München", "Hamburg", "Frankfurt", "Köln", "Stuttgart"],
        "fr": ["Paris", "Lyon", "Marseille", "Toulouse", "Nantes", "Lille"],
        "in": ["Bengaluru", "Mumbai", "Pune", "Hyderabad", "Chennai", "New Delhi"],
        "es": ["Madrid", "Barcelona", "Valencia", "Sevilla", "Bilbao"]}

GENS = {}


def G(name):
    def deco(f):
        GENS[name] = f
        return f
    return deco


def _reg(ctx):
    return ctx["p"]["region"]


BASIC = {
    # labelled value gens
    "email": lambda c: email_for(person()), "email_p": lambda c: email_for(c["p"]),
    "email_corp": lambda c: email_for(c["p"], CORP, R.choice(["f.l", "f.l", "initl"])),
    "email_any": lambda c: email_for(person()),
    "ssn": lambda c: ssn("dash"), "ssn_plain": lambda c: ssn("plain"), "ssn_space": lambda c: ssn("space"),
    "card": lambda c: card(), "visa": lambda c: card("visa"), "mc": lambda c: card("mc"), "amex": lambda c: card("amex"),
    "card_plain": lambda c: card(fmt="plain"), "card_space": lambda c: card(fmt="space"), "card_dash": lambda c: card(fmt="dash"),
    "discover": lambda c: card("discover"), "jcb": lambda c: card("jcb"), "diners": lambda c: card("diners"), "rupay": lambda c: card("rupay"),
    "iban": lambda c: iban(), "iban_de": lambda c: iban("DE"), "iban_gb": lambda c: iban("GB"), "iban_fr": lambda c: iban("FR"),
    "iban_es": lambda c: iban("ES"), "iban_nl": lambda c: iban("NL"), "iban_it": lambda c: iban("IT"), "iban_ch": lambda c: iban("CH"),
    "iban_plain": lambda c: iban(fmt="plain"), "iban_ie": lambda c: iban("IE"), "iban_at": lambda c: iban("AT"), "iban_be": lambda c: iban("BE"),
    "iban_pl": lambda c: iban("PL"),
    "us_phone": lambda c: us_phone(), "us_plain": lambda c: us_phone("plain"), "us_paren": lambda c: us_phone("paren"),
    "us_dash": lambda c: us_phone("dash"), "us_dot": lambda c: us_phone("dot"), "us_intl": lambda c: us_phone("intl"),
    "ca_phone": lambda c: us_phone(R.choice(["paren", "dash", "intl"]), CA_AREAS),
    "uk_phone": lambda c: uk_phone(), "uk_lon": lambda c: uk_phone("london"), "uk_drama": lambda c: uk_phone("drama"),
    "uk_mob": lambda c: uk_phone("mob"), "uk_intl": lambda c: uk_phone(R.choice(["intl_lon", "intl_mob"])),
    "de_phone": lambda c: de_phone(), "de_ber": lambda c: de_phone("ber_slash"), "de_muc": lambda c: de_phone("muc_slash"),
    "de_mob": lambda c: de_phone("mob"), "de_intl": lambda c: de_phone(R.choice(["intl", "intl_mob"])), "de_ham": lambda c: de_phone("ham"),
    "fr_phone": lambda c: fr_phone(), "fr_mob": lambda c: fr_phone("mob"), "fr_intl": lambda c: fr_phone(R.choice(["intl", "intl_mob"])),
    "fr_geo": lambda c: fr_phone("geo"), "fr_dot": lambda c: fr_phone("mob_dot"),
    "in_phone": lambda c: in_phone(), "in_mob": lambda c: in_phone("mob"), "in_intl": lambda c: in_phone("intl"),
    "in_plain": lambda c: in_phone("plain"), "in_land": lambda c: in_phone(R.choice(["mum", "del", "blr"])),
    "es_phone": lambda c: es_phone(), "es_mob": lambda c: es_phone("mob"),
    "phone": lambda c: {"us": us_phone, "uk": uk_phone, "de": de_phone, "fr": fr_phone, "in": in_phone, "es": es_phone}[_reg(c)](),
    "dob": lambda c: dob(), **{f"dob_{k}": (lambda k: lambda c: dob(k))(k) for k in
                                ["dmy_mon", "us", "iso", "hl7", "d_month_y", "month_d_y", "dmy_slash", "de", "de_long", "fr_long",
                                 "es_long", "us_short", "mon_d_y", "d_mon_y", "dmy_dash", "us_2y"]},
    "mrn": lambda c: mrn(), **{f"mrn_{k}": (lambda k: lambda c: mrn(k))(k) for k in ["bare7", "bare8", "pad", "pref", "pref_dash", "bare6", "pad10"]},
    "dl": lambda c: dl(), **{f"dl_{s}": (lambda s: lambda c: dl(s))(s) for s in DL_FMT},
    "pp": lambda c: passport(), **{f"pp_{s.lower()}": (lambda s: lambda c: passport(s))(s) for s in ["US", "UK", "DE", "IN", "FR", "CA"]},
    "nino": lambda c: nino(), "nino_sp": lambda c: nino("sp"), "nino_pl": lambda c: nino("pl"),
    "de_taxid": lambda c: de_taxid(), "aadhaar": lambda c: aadhaar(), "aadhaar_sp": lambda c: aadhaar("sp"), "pan": lambda c: pan(),
    "insee": lambda c: insee(), "insee_sp": lambda c: insee("sp"), "sin": lambda c: sin(), "dni": lambda c: dni(), "nie": lambda c: nie(),
    "ipv4": lambda c: ipv4(), "ip_pub": lambda c: ipv4("pub"), "ip_priv": lambda c: ipv4(R.choice(["priv10", "priv192", "priv172"])),
    "ipv6": lambda c: ipv6(), "ipv6_full": lambda c: ipv6("full"),
    "pw": lambda c: password(), "pw_word": lambda c: password("word"), "pw_rand": lambda c: password("rand"),
    "pw_phrase": lambda c: password("phrase"), "pw_sym": lambda c: password("sym"),
    "aws_ak": lambda c: aws_ak(), "aws_asia": lambda c: aws_ak("ASIA"), "aws_sk": lambda c: aws_sk(),
    "ghp": lambda c: gh("ghp_"), "gho": lambda c: gh("gho_"), "ghs": lambda c: gh("ghs_"), "ghu": lambda c: gh("ghu_"), "gh_pat": lambda c: gh_pat(),
    "xoxb": lambda c: slack("xoxb"), "xoxp": lambda c: slack("xoxp"), "slack_hook": lambda c: slack("hook"),
    "openai": lambda c: openai(), "openai_old": lambda c: openai("old"), "jwt": lambda c: jwt(),
    "pem": lambda c: pem(), "pem_rsa": lambda c: pem("RSA"), "pem_ec": lambda c: pem("EC"), "pem_p8": lambda c: pem("PKCS8"),
    "pem_ssh": lambda c: pem("OPENSSH"), "stripe": lambda c: stripe(), "django": lambda c: django_key(), "api": lambda c: api_generic(),
    "hex32": lambda c: hexs(32), "hex40": lambda c: hexs(40), "hex64": lambda c: hexs(64), "b64_32": lambda c: base64.b64encode(R.randbytes(32)).decode(),
    "b64_48": lambda c: base64.b64encode(R.randbytes(48)).decode(), "rs32": lambda c: rs(32), "rs40": lambda c: rs(40), "rs24": lambda c: rs(24),
    "urlsafe43": lambda c: b64u(R.randbytes(32)),
    # unlabelled fillers
    "first": lambda c: c["p"]["first"], "last": lambda c: c["p"]["last"], "full": lambda c: c["p"]["first"] + " " + c["p"]["last"],
    "FIRST": lambda c: ascii_fold(c["p"]["first"]).upper(), "LAST": lambda c: ascii_fold(c["p"]["last"]).upper().replace(" ", ""),
    "oname": lambda c: (lambda q: q["first"] + " " + q["last"])(person()), "ofirst": lambda c: person()["first"],
    "city": lambda c: R.choice(CITY[_reg(c)]),
    "date": lambda c: recent("iso"), "date_us": lambda c: recent("us"), "date_long": lambda c: recent("month_d_y"),
    "date_de": lambda c: recent("de"), "date_uk": lambda c: recent("dmy_slash"), "date_dmon": lambda c: recent("d_mon_y"),
    "ts": lambda c: ts(), "hl7ts": lambda c: hl7ts(), "uuid": lambda c: str(uuid.UUID(bytes=R.randbytes(16), version=4)),
    "sha": lambda c: hexs(40), "sha7": lambda c: hexs(7), "sha256": lambda c: hexs(64), "md5": lambda c: hexs(32),
    "order": lambda c: f"{R.randint(100, 999)}-{dig(7)}-{dig(7)}", "inv": lambda c: f"INV-{R.randint(2023, 2025)}-{dig(5)}",
    "ticket": lambda c: f"{R.choice(['SUP', 'IT', 'HR', 'OPS', 'FIN'])}-{R.randint(1000, 99999)}", "zip": lambda c: dig(5),
    "price": lambda c: f"{R.randint(5, 4999)}.{dig(2)}", "n2": lambda c: str(R.randint(2, 99)), "n3": lambda c: str(R.randint(100, 999)),
    "n4": lambda c: str(R.randint(1000, 9999)), "n5": lambda c: dig(5), "n6": lambda c: dig(6), "n7": lambda c: dig(7), "n8": lambda c: dig(8),
    "n10": lambda c: dig(10), "n12": lambda c: dig(12),
    "ver": lambda c: f"{R.randint(1, 12)}.{R.randint(0, 30)}.{R.randint(0, 60)}",
    "ver4": lambda c: f"{R.randint(1, 12)}.{R.randint(0, 9)}.{R.randint(0, 40)}.{R.randint(1, 999)}",
    "isbn": lambda c: isbn13(), "ups": lambda c: ups(), "fedex": lambda c: dig(12),
    "cve": lambda c: f"CVE-{R.randint(2019, 2025)}-{R.randint(1000, 49999)}", "color": lambda c: "#" + hexs(6),
    "host": lambda c: R.choice(["db01", "db02", "api", "cache", "queue", "web", "auth", "etl", "pg-replica"]) + R.choice(["", "-a", "-3"]) + "." + R.choice(["prod", "staging", "dev", "eu-west"]) + ".internal",
    "port": lambda c: str(R.choice([5432, 3306, 6379, 27017, 8080, 8443, 9092, 1433, 5672])),
    "pod": lambda c: R.choice(["api", "worker", "billing", "gateway", "ingest"]) + "-" + hexs(9)[:9] + "-" + rs(5, string.ascii_lowercase + string.digits),
    "ms": lambda c: str(R.randint(2, 2500)), "pid": lambda c: str(R.randint(1000, 65000)),
    "lat": lambda c: f"{R.uniform(-60, 65):.5f}", "lon": lambda c: f"{R.uniform(-120, 150):.5f}",
    "npi": lambda c: luhn_complete("80840" + R.choice("12"), 15)[5:],
    "sku": lambda c: f"{up(3)}-{dig(4)}-{up(1)}{dig(1)}", "lot": lambda c: f"{up(1)}{dig(2)}{up(1)}{dig(4)}",
    "ipdoc": lambda c: ipv4_doc(), "fict": lambda c: us_fict(), "acct": lambda c: dig(R.choice([8, 10, 12])),
    "sortcode": lambda c: f"{dig(2)}-{dig(2)}-{dig(2)}", "routing": lambda c: R.choice(["021000021", "026009593", "121000358", "011401533", "322271627"]),
    "bic": lambda c: R.choice(["DEUTDEFF", "COBADEFFXXX", "BNPAFRPP", "BARCGB22", "NWBKGB2L", "INGBNL2A", "CAIXESBBXXX", "HDFCINBB"]),
    "ifsc": lambda c: R.choice(["HDFC", "ICIC", "SBIN", "UTIB"]) + "0" + dig(6),
}
GENS.update(BASIC)

MARK = re.compile(r"⟦([^⟧]+)⟧")
TYPES = {"EMAIL", "PHONE", "US_SSN", "CREDIT_CARD", "IBAN", "IP_ADDRESS", "DATE_OF_BIRTH", "MEDICAL_RECORD_NUMBER",
         "DRIVERS_LICENSE", "PASSPORT", "PASSWORD", "AWS_ACCESS_KEY", "AWS_SECRET_KEY", "GITHUB_TOKEN", "OPENAI_KEY",
         "SLACK_TOKEN", "JWT", "PRIVATE_KEY", "CONNECTION_STRING", "API_KEY",
         "UK_NINO", "DE_TAX_ID", "IN_AADHAAR", "IN_PAN", "FR_INSEE", "CA_SIN", "ES_DNI"}


def fill(tpl, region=None, p=None):
    ctx = {"p": p or person(region), "mem": {}}
    ents = []

    def rep(m):
        body = m.group(1)
        typ = None
        mm = re.match(r"^([A-Z_]+)=(.*)$", body, re.S)
        if mm and mm.group(1) in TYPES:
            typ, val = mm.group(1), mm.group(2)
        else:
            mm = re.match(r"^([A-Z_]+):(.*)$", body, re.S)
            if mm and mm.group(1) in TYPES:
                typ, gen = mm.group(1), mm.group(2)
            else:
                gen = body
            key = None
            if "@" in gen:
                gen, key = gen.split("@", 1)
            if key and key in ctx["mem"]:
                val = ctx["mem"][key]
            else:
                val = GENS[gen](ctx)
                if key:
                    ctx["mem"][key] = val
        if typ:
            if (typ, val) not in [(e["type"], e["value"]) for e in ents]:
                ents.append({"type": typ, "value": val})
        return val

    text = MARK.sub(rep, tpl)
    return text, ents
