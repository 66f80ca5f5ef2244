from x import X
import common
from common import R
CAT = "email_message"

NEW_TLD = ["hartmann.consulting", "northbridge.engineering", "sunrise.health", "firstcoastal.bank", "pixelfarm.xyz",
           "lumen.photography", "brightlane.agency", "ortega.law", "tandem.studio", "ridge.capital", "kiwi.dev",
           "cafe-noir.paris", "alpine.ski", "verde.earth", "hollis.realty", "mcbride.accountants", "nova.solutions", "orbit.app"]


def e_new(c):
    return common.email_for(c["p"], R.choice(NEW_TLD), R.choice(["f.l", "f", "fl"]))


def e_plus(c):
    l, d = common.email_for(c["p"]).split("@")
    return f"{l}+{R.choice(['billing', 'news', 'github', 'shop', 'tickets', 'q3'])}@{d}"


def e_enc(c):
    return common.email_for(c["p"]).replace("@", "%40")


def e_enc_plus(c):
    return e_plus(c).replace("@", "%40").replace("+", "%2B")


def e_upper(c):
    return common.email_for(c["p"]).upper()


def e_mixed(c):
    l, d = common.email_for(c["p"], style="f.l").split("@")
    return l.title() + "@" + d.upper()


for n, f in [("e_new", e_new), ("e_plus", e_plus), ("e_enc", e_enc), ("e_enc_plus", e_enc_plus), ("e_upper", e_upper), ("e_mixed", e_mixed)]:
    common.GENS[n] = f

E = [
X("""From: ⟦full⟧ <⟦EMAIL:e_new⟧>\nTo: ⟦EMAIL=accounts@meridianhq.com⟧\nSubject: Engagement letter\n\nPlease find the signed engagement letter attached."""),
X("""<a href="mailto:⟦EMAIL:e_new⟧?subject=Quote%20request">Email us</a>""", cat="html"),
X("""Unsubscribe: https://news.meridianhq.com/u?e=⟦EMAIL:e_enc⟧&list=product-updates""", cat="newsletter_footer", note="URL-encoded e-mail."),
X("""Redirect after login: https://portal.meridianhq.com/sso/callback?login_hint=⟦EMAIL:e_enc_plus⟧&state=⟦hex32⟧""", cat="url", note="URL-encoded subaddressed e-mail (%2B for +, %40 for @)."),
X("""Please reply to ⟦EMAIL:e_plus⟧ — I filter everything with that tag into a folder.""", note="Subaddressing."),
X("""CONTACT: ⟦EMAIL:e_upper⟧ (PRINTED IN CAPITALS ON THE FORM)""", note="Uppercase address."),
X("""Hi! Our new clinic domain is live, you can write to ⟦EMAIL:e_new⟧ for appointments.""", region="us"),
X("""Thanks for the referral. I've moved to ⟦EMAIL:e_new⟧; the old gmail still forwards for a month.""", region="uk"),
X("""My address is ⟦EMAIL:e_mixed⟧ — not sure why the form says it's invalid, maybe the capitals?""", note="Mixed-case address."),
X("""From: "⟦last⟧, ⟦first⟧" <⟦EMAIL:email_p⟧>\nDate: Tue, 12 Mar 2024 08:15:02 +0000\nMessage-ID: <⟦hex32⟧@mail.gmail.com>\nSubject: Re: contract renewal""", note="Message-ID not labelled."),
X("""-----Original Message-----\nFrom: ⟦full⟧ [mailto:⟦EMAIL:email_p⟧]\nSent: Monday, March 11, 2024 4:02 PM\nTo: ⟦oname⟧\nSubject: RE: timesheet""", region="us"),
X("""Obfuscated on our website to stop spam: ⟦EMAIL:e_obf⟧. Does your scraper still find it?""", note="Obfuscated address written with (at)/(dot); labelled because it is a real personal address."),
X("""Cc: ⟦EMAIL:email⟧; ⟦EMAIL:email⟧; ⟦EMAIL:email⟧\nBcc: ⟦EMAIL:email_corp⟧""", cat="email_headers", region="us"),
X("""Hi all, a reminder that the quarterly business review is on Thursday. Agenda: pipeline, churn, hiring. Slides due Wednesday noon."""),
X("""Dear customer, your subscription renews on ⟦date_long⟧. No action is needed if you'd like to continue. Manage your plan in Settings."""),
X("""Out of office until 24 March. For urgent matters contact my colleague ⟦oname⟧ at ⟦EMAIL:email_corp_o⟧.""", region="us"),
X("""Bounce: 550 5.1.1 <⟦EMAIL:email⟧>: Recipient address rejected: User unknown in virtual mailbox table""", cat="mail_log"),
X("""Received: from mail-ed1-f49.google.com (mail-ed1-f49.google.com [⟦IP_ADDRESS:ip_pub⟧])\n\tby mx1.meridianhq.com (Postfix) with ESMTPS id 4Tv8Xk2Hx9z\n\tfor <⟦EMAIL:email_corp⟧>; Tue, 12 Mar 2024 08:15:04 +0000 (UTC)""", cat="email_headers", region="us"),
X("""Signature:\n⟦full⟧ | Principal\nNorthbridge Engineering\nm: ⟦PHONE:us_phone⟧ | e: ⟦EMAIL:e_new⟧""", region="us"),
X("""Hello, the newsletter sign-up fails for addresses like mine on the .photography TLD: ⟦EMAIL:e_photo⟧. Is your validator limiting TLD length?"""),
X("""List-Unsubscribe: <https://us21.list-manage.com/unsubscribe?u=⟦hex32⟧&id=⟦hex32⟧>\nList-Unsubscribe-Post: List-Unsubscribe=One-Click""", cat="email_headers", note="Unsubscribe URL with opaque ids."),
X("""Can you write a follow-up email to a prospect who went quiet after the demo? Friendly, not pushy, under 100 words."""),
X("""Bonjour, vous pouvez m'écrire à ⟦EMAIL:e_fr⟧ pour le devis.""", region="fr", cat="email_fr"),
X("""Reply-To: ⟦EMAIL:e_plus⟧\nX-Original-To: ⟦EMAIL:email_corp⟧""", cat="email_headers", region="us"),
X("""Guten Tag, ich habe keine Bestätigung erhalten. Meine Adresse: ⟦EMAIL:e_de_up⟧""", region="de", cat="email_de"),
X("""Meeting invite: "Roadmap sync" Thursday 15:00–15:45 CET, Room Nile / Teams link in invite. Optional attendees welcome."""),
X("""Sorry, typo in my address earlier! It's ⟦EMAIL:e_new⟧, not the .com one.""", region="in"),
X("""Sent from a shared inbox: ⟦EMAIL=accounts-payable@meridianhq.com⟧. Please don't reply to individual staff addresses.""", note="Role address labelled EMAIL (policy)."),
]

common.GENS["e_obf"] = lambda c: (lambda e: e.split("@")[0] + " (at) " + e.split("@")[1].replace(".", " (dot) "))(common.email_for(c["p"], "gmail.com"))
common.GENS["e_photo"] = lambda c: common.email_for(c["p"], "lumen.photography", "f")
common.GENS["e_fr"] = lambda c: common.email_for(c["p"], R.choice(["cafe-noir.paris", "orange.fr", "cabinet-moreau.fr"]))
common.GENS["e_de_up"] = lambda c: common.email_for(c["p"], "WEB.DE", "f.l").upper()
