from x import X
from common import R
CAT = "hl7_v2"

APPS = [("EPIC", "SJH"), ("CERNER", "BMC"), ("MEDITECH", "LAKESIDE"), ("ATHENA", "NWCLINIC"), ("OPENEMR", "RIVERSIDE"), ("IMPRIVATA", "STMARY")]
RECV = [("LIS", "LAB"), ("RIS", "RAD"), ("PACS", "IMG"), ("BILLING", "FIN"), ("CDR", "HIE")]
SEX = ["F", "M", "F", "M", "U"]


def msh(ev, cid, ver):
    a, f = R.choice(APPS)
    b, g = R.choice(RECV)
    typ = {"A01": "ADT^A01^ADT_A01", "A03": "ADT^A03^ADT_A03", "A04": "ADT^A04^ADT_A01", "A08": "ADT^A08^ADT_A01",
           "A31": "ADT^A31^ADT_A05", "R01": "ORU^R01^ORU_R01", "O01": "ORM^O01^ORM_O01", "S12": "SIU^S12^SIU_S12"}[ev]
    if ver == "2.3":
        typ = "^".join(typ.split("^")[:2])
    return f"MSH|^~\\&|{a}|{f}|{b}|{g}|⟦hl7ts⟧||{typ}|{cid}|P|{ver}", f


def pid(fac, opts):
    f = [""] * 21
    f[1] = "1"
    ssn_m = "⟦US_SSN:" + R.choice(["ssn", "ssn_plain"]) + "@s⟧"
    mrn_type = R.choice(["mrn_bare7", "mrn_bare8", "mrn_pad", "mrn_pref", "mrn_pad10"])
    ids = f"⟦MEDICAL_RECORD_NUMBER:{mrn_type}⟧^^^{fac}^MR"
    if "ssn_in_3" in opts:
        ids += "~" + ssn_m + "^^^SSA^SS"
    if "enterprise" in opts:
        ids += "~⟦MEDICAL_RECORD_NUMBER:n10⟧^^^EMPI^PI"
    f[3] = ids
    f[5] = "⟦LAST⟧^⟦FIRST⟧^" + R.choice(["A", "J", "M", "", "L"]) + "^^^^L"
    if "mother" in opts:
        f[6] = R.choice(["SMITH", "GARCIA", "OKAFOR", "NGUYEN"])
    f[7] = "⟦DATE_OF_BIRTH:dob_hl7⟧"
    f[8] = R.choice(SEX)
    f[10] = R.choice(["2106-3", "2054-5", "2028-9", ""])
    f[11] = R.choice(["1420 LARKSPUR AVE", "88 HARBOR ST APT 2", "501 W 7TH ST", "17 ELM CT"]) + "^^" + R.choice(["CHICAGO^IL^60614", "BOSTON^MA^02118", "SEATTLE^WA^98109", "AUSTIN^TX^78701"]) + "^USA^H"
    if "phone" in opts:
        f[13] = "⟦PHONE:hl7phone⟧^PRN^PH"
    if "work" in opts:
        f[14] = "⟦PHONE:hl7phone⟧^WPN^PH"
    f[15] = R.choice(["ENG", "SPA", ""])
    f[16] = R.choice(["M", "S", "D", "W", ""])
    if "acct" in opts:
        f[18] = "⟦n8⟧^^^" + fac + "^AN"
    if "ssn19" in opts:
        f[19] = ssn_m
    if "dl" in opts:
        st = R.choice(["CA", "TX", "IL", "NY", "WA", "FL"])
        f[20] = f"⟦DRIVERS_LICENSE:dl_{st}⟧^{st}^{R.randint(2026, 2031)}0{R.randint(1, 9)}15"
    while f and f[-1] == "":
        f.pop()
    return "PID|" + "|".join(f[1:])


def pv1():
    return f"PV1|1|{R.choice(['I', 'O', 'E'])}|{R.choice(['4W', 'ICU', 'ED', 'MS3'])}^{R.randint(100, 499)}^{R.choice('AB')}^^^^^||||⟦npi⟧^{R.choice(['PATEL', 'KIM', 'OSEI', 'MURPHY'])}^{R.choice(['ANIL', 'GRACE', 'KOFI', 'SEAN'])}^^^DR^^^NPI|||{R.choice(['MED', 'SUR', 'CAR'])}||||||||{R.choice(['V', 'A'])}⟦n7⟧^^^^VN|||||||||||||||||||||||||⟦hl7ts⟧"


def obx(i):
    code, name, unit, val, rng = R.choice([("2345-7", "Glucose", "mg/dL", "182", "70-99"), ("718-7", "Hemoglobin", "g/dL", "11.2", "12.0-16.0"),
                                          ("2160-0", "Creatinine", "mg/dL", "1.31", "0.57-1.00"), ("6690-2", "WBC", "10*3/uL", "12.4", "3.4-10.8"),
                                          ("2951-2", "Sodium", "mmol/L", "133", "134-144"), ("4548-4", "Hemoglobin A1c", "%", "8.1", "4.8-5.6")])
    return f"OBX|{i}|NM|{code}^{name}^LN||{val}|{unit}|{rng}|{R.choice(['H', 'L', 'N'])}|||F|||⟦hl7ts⟧"


def nk1():
    return f"NK1|1|⟦LAST⟧^{R.choice(['MARIA', 'JOHN', 'ROSE', 'DAVID'])}|{R.choice(['SPO^Spouse', 'DAU^Daughter', 'SON^Son', 'MTH^Mother'])}||⟦PHONE:hl7phone⟧"


def message():
    ev = R.choice(["A01", "A04", "A08", "A03", "R01", "R01", "O01", "A31", "S12"])
    ver = R.choice(["2.3", "2.5.1", "2.5.1", "2.4"])
    cid = R.choice(["MSG", "CTRL", "ADT", ""]) + str(R.randint(10000, 9999999))
    sep = R.choice(["\r", "\n", "\n"])
    m, fac = msh(ev, cid, ver)
    opts = set(R.sample(["phone", "work", "acct", "ssn19", "dl", "ssn_in_3", "mother", "enterprise", "nk1"], R.randint(1, 4)))
    segs = [m]
    if ev.startswith("A") or ev == "S12":
        segs.append(f"EVN|{ev}|⟦hl7ts⟧")
    segs.append(pid(fac, opts))
    if "nk1" in opts or R.random() < 0.3:
        segs.append(nk1())
    segs.append(pv1())
    if ev == "R01":
        segs.append(f"OBR|1|⟦n8⟧|⟦n8⟧|80053^COMPREHENSIVE METABOLIC PANEL^CPT4|||⟦hl7ts⟧")
        for i in range(1, R.randint(2, 5)):
            segs.append(obx(i))
    if ev == "O01":
        segs.append(f"ORC|NW|⟦n8⟧|||||^^^⟦hl7ts⟧^^R")
        segs.append("OBR|1|⟦n8⟧||71046^XR CHEST 2 VIEWS^CPT4")
    if ev == "A03":
        segs.append("DG1|1||J18.9^Pneumonia, unspecified organism^I10||⟦hl7ts⟧|A")
    return sep.join(segs)


import common
def _hp(c):
    p = common.us_phone("dash")
    a, e, l = p.split("-")
    return R.choice(["(%s)%s-%s", "%s-%s-%s", "%s%s%s"]) % (a, e, l)
common.GENS["hl7phone"] = _hp
common.GENS["npi"] = lambda c: common.luhn_complete("80840" + R.choice("12"), 15)[5:]

E = []
for _ in range(26):
    E.append(X(message(), region="us"))
    # avoid 555 exchanges etc: hl7phone uses 201-989 exchange; 555 excluded below
E += [
X("""MSH|^~\\&|LIS|LAB|EPIC|SJH|⟦hl7ts⟧||ACK^R01^ACK|ACK⟦n6⟧|P|2.5.1\rMSA|AA|MSG⟦n6⟧|Message accepted""", note="ACK without patient data."),
X("""MSH|^~\\&|EPIC|SJH|PHARM|SJH|⟦hl7ts⟧||MFN^M01|MF⟦n5⟧|P|2.4\nMFI|CDM^Charge Description Master|||⟦hl7ts⟧|AL\nMFE|MAD|||⟦n6⟧^LISINOPRIL 10MG TAB\nMFE|MAD|||⟦n6⟧^METFORMIN 500MG TAB""", note="Master-file update, no patient."),
X("""Why does our interface engine reject messages where PID-7 carries hours, minutes and seconds? The spec says DTM allows up to seconds, so YYYYMMDDHHMMSS should be fine.""", cat="hl7_question"),
X("""In HL7 v2.5.1, PID-3 is the patient identifier list (CX), PID-18 is the account number, PID-19 the SSN (deprecated since 2.7), and PID-20 the driver's license number. Which of these should the gateway mask?""", cat="hl7_question"),
X("""Mirth channel keeps failing on this segment, any idea?\n\nPID|1||⟦MEDICAL_RECORD_NUMBER:mrn_bare7⟧^^^BMC^MR||⟦LAST⟧^⟦FIRST⟧||⟦DATE_OF_BIRTH:dob_hl7⟧|F||||||||||||\n\nError: 'Field PID-5.2 exceeds max length'""", cat="hl7_question", region="us"),
X("""Can you map these HL7 fields into FHIR Patient? PID-3 → identifier, PID-5 → name, PID-7 → birthDate, PID-8 → gender. No real data, just the mapping table please.""", cat="hl7_question"),
X("""ADT feed down since 03:10. Queue depth 4,182 messages on channel ADT_IN (port 6661). Last successful control ID MSG⟦n7⟧. Restarted the listener at 03:55.""", cat="hl7_ops"),
X("""OBX|1|NM|2345-7^Glucose^LN||182|mg/dL|70-99|H|||F\nOBX|2|NM|2160-0^Creatinine^LN||1.31|mg/dL|0.57-1.00|H|||F\nOBX|3|ST|8867-4^Heart rate^LN||96|/min|||N|||F""", note="Result segments only, no patient identifiers."),
X("""Patient merge (A40):\nMSH|^~\\&|EPIC|SJH|CDR|HIE|⟦hl7ts⟧||ADT^A40^ADT_A39|MRG⟦n6⟧|P|2.5.1\nEVN|A40|⟦hl7ts⟧\nPID|1||⟦MEDICAL_RECORD_NUMBER:mrn_bare8⟧^^^SJH^MR||⟦LAST⟧^⟦FIRST⟧||⟦DATE_OF_BIRTH:dob_hl7⟧|M\nMRG|⟦MEDICAL_RECORD_NUMBER:mrn_bare8⟧^^^SJH^MR""", region="us", note="MRG-1 holds the prior (merged) MRN."),
X("""IN1 question: is IN1-36 (policy number) considered PHI? Sample: IN1|1|BCBS^Blue Cross|⟦n5⟧|BLUE CROSS IL||||GRP⟦n5⟧""", cat="hl7_question", note="Insurance plan/group ids; not a listed type."),
]
