from x import X
CAT = "international"
E = [
# --- German
X("""Hallo Herr ⟦last⟧, bitte rufen Sie mich unter ⟦PHONE:de_ber⟧ zurück, ich bin bis 17 Uhr im Berliner Büro erreichbar.""", region="de", cat="email_de"),
X("""Unsere Münchner Niederlassung erreichen Sie unter ⟦PHONE:de_muc⟧ (Zentrale) oder per Mail an ⟦EMAIL:email_p⟧.""", region="de", cat="email_de"),
X("""Kontakt: ⟦full⟧, Mobil ⟦PHONE:de_mob⟧, Festnetz ⟦PHONE:de_ham⟧ (Hamburg).""", region="de", cat="signature_de"),
X("""Mit freundlichen Grüßen\n⟦full⟧\nMeridian GmbH · Friedrichstraße 68 · 10117 Berlin\nTel. ⟦PHONE:de_ber⟧ · Fax ⟦PHONE:de_ber⟧\n⟦EMAIL:email_p⟧""", region="de", cat="signature_de"),
X("""Die Rechnung Nr. 2024-0815 über 1.249,00 € ist am 15.04. fällig. Bei Fragen wenden Sie sich bitte an die Buchhaltung.""", cat="email_de"),
X("""Bitte überweisen Sie den Betrag auf folgendes Konto: ⟦IBAN:iban_de⟧, Verwendungszweck: Mitgliedsbeitrag ⟦full⟧.""", region="de", cat="email_de"),
X("""Der Kunde aus Frankfurt hat angerufen (⟦PHONE:ffm⟧), er möchte den Termin auf nächste Woche verschieben.""", region="de", cat="note_de"),
X("""Steuerliche Identifikationsnummer: ⟦DE_TAX_ID:de_taxid⟧ — bitte in der Lohnabrechnung hinterlegen. Geburtsdatum ⟦DATE_OF_BIRTH:dob_de⟧.""", region="de", cat="hr_de"),
X("""Reisepassnummer ⟦PASSPORT:pp_de⟧, ausgestellt in Köln, gültig bis ⟦date_de⟧. Bitte für die Visumsbeantragung verwenden.""", region="de", cat="hr_de"),
X("""Wie funktioniert die Urlaubsübertragung ins nächste Jahr? Laut Tarifvertrag verfallen Resturlaubstage am 31. März.""", cat="hr_de"),
X("""Geboren am ⟦DATE_OF_BIRTH:dob_de_long⟧ in Stuttgart, wohnhaft in Köln. Telefon: ⟦PHONE:koeln⟧.""", region="de", cat="hr_de"),
# --- UK
X("""Hi both, I'm in the London office all week — best to ring me on ⟦PHONE:uk_lon⟧ rather than Teams.""", region="uk", cat="email_uk"),
X("""Cheers for sorting the invoice. My direct line is ⟦PHONE:uk_drama⟧ and mobile ⟦PHONE:uk_mob⟧ if you need anything else.""", region="uk", cat="email_uk", note="020 7946 0xxx is Ofcom's drama range; labelled PHONE as instructed (real-format UK London number)."),
X("""Manchester depot: ⟦PHONE:manc⟧. Leeds depot: ⟦PHONE:leeds⟧. Both open 7am–6pm Mon–Sat.""", cat="email_uk"),
X("""Could you sort out my P60? My NI number is ⟦UK_NINO:nino_sp⟧ and I moved to Bristol in the summer.""", region="uk", cat="hr_uk"),
X("""The patient's NHS number is recorded on the referral; the GP surgery is on ⟦PHONE:edin⟧ (Edinburgh).""", region="uk", cat="medical_uk"),
X("""UK passport ⟦PASSPORT:pp_uk⟧, expiry ⟦date_uk⟧, for the conference registration in Lisbon.""", region="uk", cat="travel_uk"),
X("""Date of birth: ⟦DATE_OF_BIRTH:dob_dmy_slash⟧ (that's day/month/year, I'm in the UK!)""", region="uk", cat="chat_uk"),
X("""Our Cardiff office has moved; the postcode is CF10 1EP and the reception number hasn't changed.""", cat="email_uk", note="Postcode not labelled."),
X("""Please can someone ring the customer back on ⟦PHONE:uk_intl⟧ — she's abroad at the moment.""", region="uk", cat="ticket_uk"),
# --- French
X("""Bonjour, pouvez-vous me rappeler au ⟦PHONE:fr_mob⟧ ? Je suis disponible après 14 h.""", region="fr", cat="email_fr"),
X("""Pour toute question, contactez notre agence de Lyon au ⟦PHONE:fr_lyon⟧ ou par courriel : ⟦EMAIL:email_p⟧.""", region="fr", cat="email_fr"),
X("""Cordialement,\n⟦full⟧\nResponsable comptable\nTél. : ⟦PHONE:fr_intl⟧\nPortable : ⟦PHONE:fr_dot⟧""", region="fr", cat="signature_fr"),
X("""Numéro de sécurité sociale : ⟦FR_INSEE:insee⟧, date de naissance ⟦DATE_OF_BIRTH:dob_dmy_slash⟧.""", region="fr", cat="hr_fr"),
X("""La réunion du comité d'entreprise est reportée au jeudi 14 mars, salle Voltaire, 10 h 30.""", cat="email_fr"),
X("""Le virement de 2 340,00 € a été effectué sur le compte ⟦IBAN:iban_fr⟧ le ⟦date_de⟧.""", region="fr", cat="finance_fr"),
X("""Mon passeport n° ⟦PASSPORT:pp_fr⟧ expire bientôt, est-ce que je peux quand même partir en mission au Canada ?""", region="fr", cat="hr_fr"),
X("""Quelle est la différence entre un CDD et un CDI pour la période d'essai ?""", cat="hr_fr"),
# --- Spanish
X("""Hola, mi móvil es ⟦PHONE:es_mob⟧, llámame cuando llegue el pedido a Madrid.""", region="es", cat="chat_es"),
X("""Oficina de Madrid: ⟦PHONE:mad⟧. Oficina de Barcelona: ⟦PHONE:bcn⟧.""", cat="email_es"),
X("""Datos del empleado: ⟦full⟧, NIE ⟦ES_DNI:nie⟧, nacido el ⟦DATE_OF_BIRTH:dob_es_long⟧, IBAN ⟦IBAN:iban_es⟧.""", region="es", cat="hr_es", note="NIE (foreigner id) labelled ES_DNI type."),
X("""¿Cuántos días de vacaciones me corresponden si empecé en septiembre? El convenio dice 23 días laborables.""", cat="hr_es"),
X("""Por favor, confirme su DNI (⟦ES_DNI:dni⟧) y su correo ⟦EMAIL:email_p⟧ para completar la reserva.""", region="es", cat="ticket_es"),
# --- India
X("""Hi, please call me on ⟦PHONE:in_mob⟧, I am available after 6 pm IST. Regards, ⟦full⟧, Pune.""", region="in", cat="email_in"),
X("""Kindly do the needful and update my mobile number to ⟦PHONE:in_intl⟧ in the HRMS. My employee code is ⟦n6⟧.""", region="in", cat="hr_in"),
X("""Our Bengaluru office landline is ⟦PHONE:blr⟧ and the Mumbai one is ⟦PHONE:mum⟧.""", cat="email_in"),
X("""Please find my details for the PF transfer: UAN ⟦n12⟧, Aadhaar ⟦IN_AADHAAR:aadhaar_sp⟧, PAN ⟦IN_PAN:pan⟧.""", region="in", cat="hr_in", note="UAN (EPFO universal account number) not a listed type; left unlabelled."),
X("""I have shared the revised quotation with the client; they have asked for 10% discount on the AMC. Please revert by EOD.""", cat="email_in"),
X("""Delhi office: ⟦PHONE:del⟧ (reception). For courier pickups call the security desk.""", cat="email_in"),
X("""Passport no. ⟦PASSPORT:pp_in⟧, date of birth ⟦DATE_OF_BIRTH:dob_dmy_slash⟧, place of issue Chennai — for the visa appointment.""", region="in", cat="travel_in"),
X("""Ten-digit number without a code: ⟦PHONE:in_plain⟧ — that's my Jio number, I'm in Hyderabad.""", region="in", cat="chat_in"),
X("""Please transfer the advance to my HDFC account ⟦acct⟧, IFSC ⟦ifsc⟧.""", region="in", cat="finance_in", note="Indian bank account + IFSC are not IBANs; left unlabelled."),
# --- US / Canada without country code
X("""Call me at ⟦PHONE:chi_plain⟧ — I'm at the Chicago office today.""", region="us", cat="chat_us"),
X("""Our Seattle team can be reached at ⟦PHONE:sea_dot⟧; the Portland team at ⟦PHONE:pdx_dash⟧.""", region="us", cat="email_us"),
X("""Toronto clinic: ⟦PHONE:ca_phone⟧. Please bring your health card and SIN (⟦CA_SIN:sin⟧) for the benefits form.""", region="us", cat="medical_ca"),
# --- mixed signals
X("""Numbers for the EU team (from abroad dial +49 and drop the leading 0): Berlin ⟦PHONE:de_ber⟧, Munich ⟦PHONE:de_muc⟧, Paris ⟦PHONE:fr_intl⟧.""", region="de", cat="email", note="+49 and German cities as regional signals; the Paris number is in international format."),
X("""Kontakt über ⟦EMAIL:email_de⟧ oder telefonisch: ⟦PHONE:de_ber_sp⟧.""", region="de", cat="email_de", note=".de address as a regional signal for a bare 030 number."),
X("""country,city,phone\nDE,Berlin,⟦PHONE:de_ber⟧\nFR,Paris,⟦PHONE:fr_paris⟧\nUK,London,⟦PHONE:uk_lon⟧\nIN,Mumbai,⟦PHONE:mum⟧""", cat="table", note="Country column gives the region."),
X("""Contact sheet — India team\nRohit: ⟦PHONE:in_mob⟧\nKavya: ⟦PHONE:in_mob⟧\nSales desk: ⟦PHONE:blr⟧""", cat="table"),
X("""Je suis à Paris la semaine prochaine, mon numéro français : ⟦PHONE:fr_mob⟧, sinon mon numéro allemand ⟦PHONE:de_intl⟧.""", region="fr", cat="chat_fr"),
X("""Welche Vorwahl hat Berlin? 030. Und München? 089. Hamburg ist 040.""", cat="chat_de", note="Area codes alone, no numbers."),
X("""Quel est l'indicatif de la France ? +33. Et les mobiles commencent par 06 ou 07.""", cat="chat_fr", note="Prefixes only."),
X("""Indian mobile numbers are 10 digits starting with 6, 7, 8 or 9; landlines have an STD code like 022 for Mumbai.""", cat="docs", note="Format description only."),
X("""UK numbers: London is 020, Manchester 0161, mobiles start 07. Ofcom reserves 020 7946 0000–0999 for drama.""", cat="docs", note="Format description only."),
X("""Gracias por su pedido. El plazo de entrega a Canarias es de 5 a 7 días laborables.""", cat="email_es"),
X("""Merci pour votre retour rapide, nous validons le devis n° D-2024-0311 pour un montant de 4 800 € HT.""", cat="email_fr"),
X("""Vielen Dank für Ihre Bestellung 1004-7789-22. Die Lieferung erfolgt per DHL, Sendungsnummer 00340434161234567890.""", cat="email_de", note="Order and DHL tracking numbers."),
X("""Namaste! The Diwali party is on the 1st at the Bengaluru office terrace, 7 pm onwards. Ethnic wear encouraged.""", cat="email_in"),
]
import common
from common import R, dig
common.GENS["ffm"] = lambda c: common.de_phone("ffm")
common.GENS["koeln"] = lambda c: common.de_phone("koeln")
common.GENS["manc"] = lambda c: common.uk_phone("manc")
common.GENS["leeds"] = lambda c: common.uk_phone("leeds")
common.GENS["edin"] = lambda c: common.uk_phone("edin")
common.GENS["mad"] = lambda c: common.es_phone("mad")
common.GENS["bcn"] = lambda c: common.es_phone("bcn")
common.GENS["blr"] = lambda c: common.in_phone("blr")
common.GENS["mum"] = lambda c: common.in_phone("mum")
common.GENS["del"] = lambda c: common.in_phone("del")
common.GENS["de_ber_sp"] = lambda c: common.de_phone("ber_sp")
common.GENS["email_de"] = lambda c: common.email_for(common.person("de"), R.choice(["web.de", "gmx.de", "t-online.de", "posteo.de"]))
common.GENS["fr_lyon"] = lambda c: "04 " + " ".join(dig(2) for _ in range(4))
common.GENS["fr_paris"] = lambda c: "01 " + " ".join(dig(2) for _ in range(4))
common.GENS["chi_plain"] = lambda c: common.us_phone("plain", ["312", "773", "872"])
common.GENS["sea_dot"] = lambda c: common.us_phone("dot", ["206"])
common.GENS["pdx_dash"] = lambda c: common.us_phone("dash", ["503", "971"])
