from x import X
import common
from common import R
CAT = "table"

# column spec: header -> marker producing the cell
def table(cols, nrows, fmt, region=None):
    hdr = [c[0] for c in cols]
    rows = [[c[1] for c in cols] for _ in range(nrows)]
    if fmt == "csv":
        return "\n".join([",".join(hdr)] + [",".join(r) for r in rows])
    if fmt == "csvq":
        return "\n".join([",".join(f'"{h}"' for h in hdr)] + [",".join(f'"{c}"' for c in r) for r in rows])
    if fmt == "tsv":
        return "\n".join(["\t".join(hdr)] + ["\t".join(r) for r in rows])
    if fmt == "md":
        return "\n".join(["| " + " | ".join(hdr) + " |", "|" + "|".join("---" for _ in hdr) + "|"] + ["| " + " | ".join(r) + " |" for r in rows])
    if fmt == "semi":
        return "\n".join([";".join(hdr)] + [";".join(r) for r in rows])
    if fmt == "pipe":
        return "\n".join(["|".join(hdr)] + ["|".join(r) for r in rows])


common.GENS["name"] = lambda c: (lambda q: q["first"] + " " + q["last"])(common.person(c["p"]["region"]))
common.GENS["name_us"] = lambda c: (lambda q: q["first"] + " " + q["last"])(common.person("us"))
common.GENS["email_row"] = lambda c: common.email_for(common.person(c["p"]["region"]))
common.GENS["dept"] = lambda c: R.choice(["Sales", "Finance", "Engineering", "Support", "Legal", "Ops", "HR"])
common.GENS["status"] = lambda c: R.choice(["active", "inactive", "pending", "closed", "open"])
common.GENS["qty"] = lambda c: str(R.randint(1, 500))
common.GENS["partno_phone"] = lambda c: common.us_phone("dash")
common.GENS["partno_phone10"] = lambda c: common.us_phone("plain")
common.GENS["state"] = lambda c: R.choice(list(common.STATE_NAME))
common.GENS["plan"] = lambda c: R.choice(["Basic", "Pro", "Enterprise", "Team"])
common.GENS["bool"] = lambda c: R.choice(["true", "false"])

E = []
specs = [
    ("Employee export", [("emp_id", "E⟦n6⟧"), ("full_name", "⟦name_us⟧"), ("ssn", "⟦US_SSN:ssn_plain⟧"), ("dob", "⟦DATE_OF_BIRTH:dob_iso⟧"), ("dept", "⟦dept⟧")], "csv", "us"),
    ("", [("Name", "⟦name_us⟧"), ("Social Security", "⟦US_SSN:ssn⟧"), ("Date of Birth", "⟦DATE_OF_BIRTH:dob_us⟧"), ("State", "⟦state⟧")], "md", "us"),
    ("Attendee list for the offsite", [("name", "⟦name⟧"), ("email", "⟦EMAIL:email_row⟧"), ("dietary", "vegetarian"), ("room", "⟦n3⟧")], "csv", "uk"),
    ("", [("customer_id", "C-⟦n6⟧"), ("plan", "⟦plan⟧"), ("mrr", "⟦price⟧"), ("status", "⟦status⟧"), ("created_at", "⟦ts⟧")], "tsv", "us"),
    ("Inventory (from the ERP)", [("Part No.", "⟦partno_phone⟧"), ("Description", "Hex bolt M8x40"), ("Qty", "⟦qty⟧"), ("Bin", "A-⟦n2⟧")], "md", "us"),
    ("", [("SKU", "⟦partno_phone10⟧"), ("Product", "USB-C cable 2m"), ("Price", "⟦price⟧"), ("Stock", "⟦qty⟧")], "csv", "us"),
    ("Patients seen today", [("MRN", "⟦MEDICAL_RECORD_NUMBER:mrn_bare7⟧"), ("Patient", "⟦name_us⟧"), ("DOB", "⟦DATE_OF_BIRTH:dob_us⟧"), ("Provider", "Dr ⟦last⟧"), ("Visit", "follow-up")], "tsv", "us"),
    ("", [("Kunde", "⟦name⟧"), ("Telefon", "⟦PHONE:de_ber⟧"), ("E-Mail", "⟦EMAIL:email_row⟧"), ("Ort", "Berlin")], "semi", "de"),
    ("Contact sheet", [("Name", "⟦name⟧"), ("Mobile", "⟦PHONE:fr_mob⟧"), ("Ville", "Lyon")], "csv", "fr"),
    ("", [("Order #", "⟦partno_phone⟧"), ("Date", "⟦date⟧"), ("Total", "⟦price⟧"), ("Status", "shipped")], "md", "us"),
    ("Refund queue", [("txn_id", "⟦n12⟧"), ("card_number", "⟦CREDIT_CARD:card_plain⟧"), ("amount", "⟦price⟧"), ("reason", "duplicate")], "csv", "us"),
    ("", [("vendor", "Vendor ⟦n3⟧"), ("iban", "⟦IBAN:iban_plain⟧"), ("currency", "EUR"), ("terms", "NET30")], "csvq", "de"),
    ("Driver roster", [("driver", "⟦name_us⟧"), ("state", "CA"), ("license_no", "⟦DRIVERS_LICENSE:dl_CA⟧"), ("exp", "⟦date⟧")], "md", "us"),
    ("", [("host", "⟦host⟧"), ("ip", "⟦IP_ADDRESS:ip_priv⟧"), ("os", "Ubuntu 22.04"), ("owner", "platform")], "tsv", "us"),
    ("Build matrix", [("job", "test-⟦n3⟧"), ("commit", "⟦sha⟧"), ("duration_s", "⟦ms⟧"), ("result", "pass")], "md", "us"),
    ("", [("Mitarbeiter", "⟦name⟧"), ("Steuer-ID", "⟦DE_TAX_ID:de_taxid⟧"), ("Geburtsdatum", "⟦DATE_OF_BIRTH:dob_de⟧"), ("Abteilung", "⟦dept⟧")], "semi", "de"),
    ("", [("employee", "⟦name⟧"), ("ni_number", "⟦UK_NINO:nino_pl⟧"), ("tax_code", "1257L"), ("site", "Leeds")], "csv", "uk"),
    ("Travel roster", [("traveller", "⟦name_us⟧"), ("passport_no", "⟦PASSPORT:pp_us⟧"), ("flight", "UA⟦n3⟧"), ("seat", "⟦n2⟧C")], "md", "us"),
    ("", [("zip", "⟦zip⟧"), ("city", "⟦city⟧"), ("population", "⟦n5nz⟧"), ("median_income", "⟦n5nz⟧")], "csv", "us"),
    ("Students", [("roll_no", "⟦n6⟧"), ("name", "⟦name⟧"), ("mobile", "⟦PHONE:in_mob⟧"), ("city", "Pune")], "tsv", "in"),
    ("", [("tracking", "⟦ups⟧"), ("carrier", "UPS"), ("weight_kg", "⟦n2⟧"), ("eta", "⟦date⟧")], "csv", "us"),
    ("Lab inventory", [("Lot", "⟦lot⟧"), ("Reagent", "Tris-HCl pH 8.0"), ("Exp", "⟦date⟧"), ("Qty", "⟦qty⟧")], "md", "us"),
    ("", [("user", "⟦name_us⟧"), ("email", "⟦EMAIL:email_row⟧"), ("last_login_ip", "⟦IP_ADDRESS:ipv4⟧"), ("mfa", "⟦bool⟧")], "csv", "us"),
    ("", [("isbn", "⟦isbn⟧"), ("title", "Designing Data-Intensive Applications"), ("copies", "⟦n2⟧")], "tsv", "us"),
    ("Call list", [("name", "⟦name_us⟧"), ("phone", "⟦PHONE:us_plain⟧"), ("best_time", "evening")], "csv", "us"),
    ("", [("Name", "⟦name⟧"), ("Aadhaar", "⟦IN_AADHAAR:aadhaar⟧"), ("PAN", "⟦IN_PAN:pan⟧"), ("Branch", "Chennai")], "md", "in"),
    ("", [("CVE", "⟦cve⟧"), ("package", "openssl"), ("fixed_in", "⟦ver⟧"), ("severity", "high")], "md", "us"),
    ("Chart audit", [("chart", "⟦MEDICAL_RECORD_NUMBER:mrn_pref⟧"), ("admit", "⟦date⟧"), ("dx", "I50.9"), ("los_days", "⟦n2⟧")], "csv", "us"),
    ("", [("Teléfono", "⟦PHONE:es_mob⟧"), ("Nombre", "⟦name⟧"), ("DNI", "⟦ES_DNI:dni⟧")], "semi", "es"),
    ("", [("color", "⟦color⟧"), ("token_name", "brand-primary"), ("usage", "buttons")], "csv", "us"),
]
for title, cols, fmt, region in specs:
    nrows = R.randint(2, 5)
    t = table(cols, nrows, fmt)
    if title:
        t = title + ":\n\n" + t
    note = None
    if any(h in ("Part No.", "SKU", "Order #") for h, _ in cols):
        note = "Phone-shaped values in a Part No./SKU/Order # column are product codes, not phones."
    E.append(X(t, region=region, note=note))

E += [
X("""Q: how do I pivot this?\n\nregion,q1,q2,q3,q4\nEMEA,1.2,1.4,1.1,1.9\nAPAC,0.8,0.9,1.3,1.2\nAMER,2.1,2.2,2.6,2.8""", cat="table_question"),
X("""id\tcreated\tamount\tcurrency\n⟦uuid⟧\t⟦ts⟧\t⟦price⟧\tUSD\n⟦uuid⟧\t⟦ts⟧\t⟦price⟧\tEUR"""),
X("""| Date of birth | Count |\n|---|---|\n| 1950–1959 | 112 |\n| 1960–1969 | 240 |\n| 1970–1979 | 318 |""", note="Aggregated DOB buckets, not a person's DOB."),
X("""first_name,last_name,phone_number,country\n⟦first⟧,⟦last⟧,⟦PHONE:uk_lon⟧,UK\n⟦ofirst⟧,Chowdhury,⟦PHONE:uk_mob⟧,UK""", region="uk"),
X("""emp,bank_iban,salary\n1001,⟦IBAN:iban_de⟧,5400\n1002,⟦IBAN:iban_de⟧,6100\n1003,⟦IBAN:iban_at⟧,4900""", region="de"),
X("""| Server | Version | Patch level |\n|---|---|---|\n| app-01 | 10.3.20.67 | 5 |\n| app-02 | 10.3.20.71 | 5 |\n| app-03 | 10.4.0.12 | 6 |""", note="Four-part version numbers are not IP addresses."),
X("""week,signups,churned,net\n2024-W01,312,41,271\n2024-W02,298,39,259\n2024-W03,355,52,303"""),
X("""name\tdl_state\tdl_number\n⟦name_us⟧\tNY\t⟦DRIVERS_LICENSE:dl_NY⟧\n⟦name_us⟧\tTX\t⟦DRIVERS_LICENSE:dl_TX⟧\n⟦name_us⟧\tWA\t⟦DRIVERS_LICENSE:dl_WA⟧""", region="us"),
X("""Order #,Customer,Phone\n⟦partno_phone⟧,⟦name_us⟧,⟦PHONE:us_paren⟧\n⟦partno_phone⟧,⟦name_us⟧,⟦PHONE:us_paren⟧""", region="us", note="Order # column is phone-shaped but not a phone; Phone column is."),
X("""ssn_last4,count\n1234,3\n5678,1\n9012,2""", note="Last four digits only, not an SSN."),
]

common.GENS["sql_name"] = lambda c: (lambda q: (q["first"] + " " + q["last"]).replace("'", "''"))(common.person("us"))
E += [
X("""-- dump of public.customers (excerpt)\nINSERT INTO public.customers (id, full_name, email, phone, ssn) VALUES\n(⟦n5⟧, '⟦sql_name⟧', '⟦EMAIL:email_row⟧', '⟦PHONE:us_dash⟧', '⟦US_SSN:ssn⟧'),\n(⟦n5⟧, '⟦sql_name⟧', '⟦EMAIL:email_row⟧', '⟦PHONE:us_dash⟧', '⟦US_SSN:ssn⟧');""", cat="sql_dump", region="us"),
X("""COPY public.patients (mrn, dob, sex, zip) FROM stdin;\n⟦MEDICAL_RECORD_NUMBER:mrn_bare8⟧\t⟦DATE_OF_BIRTH:dob_iso⟧\tF\t⟦zip⟧\n⟦MEDICAL_RECORD_NUMBER:mrn_bare8⟧\t⟦DATE_OF_BIRTH:dob_iso⟧\tM\t⟦zip⟧\n\\.""", cat="sql_dump", region="us"),
X(""" id  |   sku    | qty | unit_price\n-----+----------+-----+-----------\n ⟦n3⟧ | ⟦sku⟧ |  ⟦n2⟧ |     ⟦price⟧\n ⟦n3⟧ | ⟦sku⟧ |   ⟦n2⟧ |      ⟦price⟧\n(2 rows)""", cat="psql_output"),
X(""" user_id |          email           |   last_ip\n---------+--------------------------+---------------\n   ⟦n5⟧ | ⟦EMAIL:email_row⟧ | ⟦IP_ADDRESS:ip_pub⟧\n   ⟦n5⟧ | ⟦EMAIL:email_row⟧ | ⟦IP_ADDRESS:ip_pub⟧\n(2 rows)""", cat="psql_output", region="us"),
X("""[\n  {"patient_id": "⟦MEDICAL_RECORD_NUMBER:mrn_pref⟧", "birth_date": "⟦DATE_OF_BIRTH:dob_iso⟧", "phone": "⟦PHONE:us_intl⟧"},\n  {"patient_id": "⟦MEDICAL_RECORD_NUMBER:mrn_pref⟧", "birth_date": "⟦DATE_OF_BIRTH:dob_iso⟧", "phone": "⟦PHONE:us_intl⟧"}\n]""", cat="json_records", region="us"),
X("""- name: ⟦name_us⟧\n  card: "⟦CREDIT_CARD:card_space⟧"\n  exp: 08/27\n- name: ⟦name_us⟧\n  card: "⟦CREDIT_CARD:card_space⟧"\n  exp: 02/28""", cat="yaml_records", region="us"),
X("""{"order_id": "⟦order⟧", "sku": "⟦sku⟧", "qty": 2, "unit_price": ⟦price⟧, "currency": "USD", "shipped_at": "⟦ts⟧"}""", cat="json_records"),
X("""SELECT department, AVG(salary) FROM employees GROUP BY department ORDER BY 2 DESC;\n\n department  |    avg\n-------------+-----------\n Engineering | 148213.55\n Sales       | 121004.10\n Support     |  71288.00""", cat="psql_output"),
X("""customer_id;iban;mandate_date\nK-⟦n5⟧;⟦IBAN:iban_de⟧;⟦date_de⟧\nK-⟦n5⟧;⟦IBAN:iban_nl⟧;⟦date_de⟧\nK-⟦n5⟧;⟦IBAN:iban_be⟧;⟦date_de⟧""", cat="csv_de", region="de"),
X("""ts,level,service,message\n⟦ts⟧,INFO,api,request ok\n⟦ts⟧,WARN,api,slow query 1240ms\n⟦ts⟧,ERROR,worker,job failed: timeout""", cat="csv"),
X("""| Employee | Passport | Nationality | Expiry |\n|---|---|---|---|\n| ⟦name⟧ | ⟦PASSPORT:pp_in⟧ | IN | ⟦date⟧ |\n| ⟦name⟧ | ⟦PASSPORT:pp_uk⟧ | GB | ⟦date⟧ |\n| ⟦name⟧ | ⟦PASSPORT:pp_de⟧ | DE | ⟦date⟧ |""", cat="table", region="in"),
X("""Name,DOB,Member ID,Plan\n⟦name_us⟧,⟦DATE_OF_BIRTH:dob_us⟧,W⟦n8⟧,PPO\n⟦name_us⟧,⟦DATE_OF_BIRTH:dob_us⟧,W⟦n8⟧,HMO""", cat="table", region="us", note="Insurance member ids are not a listed type; left unlabelled."),
]
common.GENS["bcrypt1"] = lambda c: common.rs(53, common.B62 + "./")
common.GENS["n5nz"] = lambda c: str(R.randint(10000, 99999))
