from x import X
CAT = "chat"
E = [
X("""hey can you log into the staging admin for me? user is qa-admin and my password is ⟦PASSWORD:pw_word⟧, I'm stuck in a meeting"""),
X("""use ⟦PASSWORD:pw_sym⟧ to log in to the wifi in meeting room 3, the sticker fell off"""),
X("""temp pw: ⟦PASSWORD:pw_rand⟧ — change it on first login pls"""),
X("""The VPN password for the contractor account is ⟦PASSWORD:pw_phrase⟧ until Friday, then we disable it."""),
X("""Can you rewrite this message to sound less passive-aggressive? "As I mentioned in my last three emails, the report is late." """),
X("""what's a good name for a team offsite in Lisbon? something fun but not cringe"""),
X("""my new number is ⟦PHONE:us_phone⟧, old one is dead. can you update the on-call sheet?""", region="us"),
X("""lol the coffee machine on 3 is broken again. anyone know who to ping?"""),
X("""I'll be OOO tomorrow, dentist. Reach me on ⟦PHONE:uk_mob⟧ if something's on fire.""", region="uk"),
X("""Can you summarise the thread? TL;DR seems to be: migrate to Postgres 16 in Q3, freeze schema changes during the migration week, and Priya owns the rollback plan."""),
X("""here's the token for the bot, don't share: ⟦SLACK_TOKEN:xoxb⟧"""),
X("""pls check my github PAT works: ⟦GITHUB_TOKEN:gh_pat⟧"""),
X("""my openai key stopped working ⟦OPENAI_KEY:openai⟧ — is our org out of credits?"""),
X("""Translate to German: "Your order has shipped and should arrive within 3–5 business days." """),
X("""Does anyone have the login for the Figma team account? Never mind, found it in 1Password."""),
X("""FYI the wifi password for guests is now posted at reception — don't paste it in Slack."""),
X("""I changed my password to ⟦PASSWORD:pw_word⟧ but Outlook keeps asking for the old one on my phone. Help?"""),
X("""Write a haiku about on-call rotations."""),
X("""The printer's IP is ⟦IP_ADDRESS:ip_priv⟧ if you need to add it manually."""),
X("""who owns the billing-sync job? it failed 3 nights in a row. last error: 'deadlock detected'"""),
X("""Could you check if ⟦EMAIL:email⟧ is on the customer advisory board list? She says she never got the invite."""),
X("""Quick q: is it 'complementary' or 'complimentary' drinks at the event?"""),
X("""I accidentally pasted my AWS keys in #general 🤦 ⟦AWS_ACCESS_KEY:aws_ak⟧ / ⟦AWS_SECRET_KEY:aws_sk⟧ — deleting now, can someone revoke them?"""),
X("""Reminder: all-hands moved to Thursday 16:00 CET. Link in the calendar invite."""),
X("""my login is ⟦first⟧.⟦last⟧ and pw ⟦PASSWORD:pw_sym⟧ — can you see why the SAP portal says 'user locked'?"""),
X("""Can you draft a LinkedIn post announcing we hit 10,000 customers? Keep it humble."""),
X("""Customer is on the line, she wants us to call her back at ⟦PHONE:us_dash⟧ after 3pm Eastern.""", region="us"),
X("""plz explain kubernetes liveness vs readiness probes like I'm 5"""),
X("""the jenkins admin pass is literally ⟦PASSWORD:pw_word⟧ 😬 we need to fix that"""),
X("""Is there a way to bulk-export Jira tickets with comments to CSV?"""),
X("""this jwt keeps getting rejected, can you decode it? ⟦JWT:jwt⟧"""),
X("""What's the capital-gains tax treatment of ESPP shares sold after 18 months in the UK?"""),
X("""if you need me urgently: ⟦PHONE:in_mob⟧ (WhatsApp), I'm in Bangalore till the 20th""", region="in"),
X("""Can you proofread my out-of-office message? "I am currently out of office with limited access to e-mail. I will return on Monday." """),
X("""Passwort für den Testzugang lautet ⟦PASSWORD:pw_word⟧, bitte nach dem Login ändern.""", cat="chat_de"),
X("""Le mot de passe temporaire est ⟦PASSWORD:pw_sym⟧, il expire dans 24 h.""", cat="chat_fr"),
X("""La contraseña del portal es ⟦PASSWORD:pw_word⟧, no la compartas.""", cat="chat_es"),
X("""Ping me when the deploy is done. I'll be in the 2pm with Legal."""),
X("""Do we have a template for a data processing agreement? Customer in Germany is asking."""),
X("""sending you the key file contents since scp isn't working:\n⟦PRIVATE_KEY:pem_rsa⟧"""),
X("""How many story points is a 'small' ticket in our team? I keep estimating too high."""),
X("""Hey bot, what's the weather API we use? And is the key in Vault or in the repo?"""),
X("""Contact me at ⟦EMAIL:email_caps⟧ for the invoices (all caps is how it's printed on the card).""", note="Uppercase e-mail."),
X("""Send the pics to ⟦EMAIL:email_plus_photos⟧ — the +photos tag files them automatically.""", note="Subaddressed e-mail."),
X("""the password is the usual one, ask Marco if you don't know it"""),
X("""Password reset is done. You'll get an email with a link; it expires in 15 minutes."""),
X("""Tell me a fun fact about octopuses for the team newsletter."""),
X("""Can you generate 5 strong password *ideas* for me? I won't use them directly, just want the pattern."""),
]
import common
from common import R
def _caps(c):
    return common.email_for(common.person()).upper()
def _plus(c):
    e = common.email_for(common.person())
    l, d = e.split("@")
    return f"{l}+{R.choice(['photos', 'invoices', 'newsletter', 'jira', 'amazon'])}@{d}"
common.GENS["email_caps"] = _caps
common.GENS["email_plus"] = _plus

E += [
X("""can you charge my card instead, it's ⟦CREDIT_CARD:card_space⟧ exp 04/27, cvv on the back is 3 digits I'll tell you on the phone"""),
X("""Card number: ⟦CREDIT_CARD:card_dash⟧. Name on card: ⟦full⟧. Please book the hotel for the offsite.""", region="us"),
X("""I typed my card ⟦CREDIT_CARD:card_plain⟧ into the chat by mistake, can you delete this message?"""),
X("""here's the bearer I'm using: ⟦JWT:jwt⟧ — the API says 'signature verification failed'"""),
X("""the secret for the webhook is ⟦API_KEY:rs32⟧, put it in the Zapier config"""),
X("""Ok so the DB is at ⟦CONNECTION_STRING:cs_pg⟧ — can you write me a query that lists the 10 biggest tables?"""),
X("""new hire laptop: username ⟦first⟧, initial password ⟦PASSWORD:pw_word⟧, they'll be forced to change it"""),
X("""what does 'ERR_CERT_DATE_INVALID' mean? getting it on the intranet since this morning"""),
X("""Can you help me write a regex for German IBANs? They're 22 characters, DE + 2 check digits + 18 digits."""),
X("""pls remind everyone that timesheets are due by 5pm today 🙏"""),
X("""my aws secret is ⟦AWS_SECRET_KEY:aws_sk⟧ and key id ⟦AWS_ACCESS_KEY:aws_ak⟧, why does `aws sts get-caller-identity` say InvalidClientTokenId?"""),
X("""The code to the supply cupboard is 4471, don't tell the interns 😄""", note="A door code is not in the type list; left unlabelled."),
X("""Here's my id_rsa, can you tell me why ssh says 'invalid format'?\n⟦PRIVATE_KEY:pem_rsa⟧"""),
X("""my passport number is ⟦PASSPORT:pp_us⟧, can you fill in the ESTA form for me?""", region="us"),
X("""quick one: what's the Slack emoji for 'ship it'? :shipit: doesn't render"""),
X("""Dame un resumen de la reunión de ayer en tres puntos, por favor.""", cat="chat_es"),
X("""Kannst du mir helfen, eine höfliche Absage an einen Lieferanten zu formulieren?""", cat="chat_de"),
X("""pw for the shared drive = ⟦PASSWORD:pw_rand⟧ (same as last quarter)"""),
X("""Login: ⟦EMAIL:email_p⟧ / Passwort: ⟦PASSWORD:pw_word⟧ — bitte testen, ob der Zugang zum Kundenportal geht.""", cat="chat_de", region="de"),
X("""I rotated the key, the new one is ⟦OPENAI_KEY:openai⟧. Old one is dead."""),
]
common.GENS["email_plus_photos"] = lambda c: (lambda e: e.split("@")[0] + "+photos@" + e.split("@")[1])(common.email_for(common.person()))

E += [
X("""can u check if this slack bot token still works? ⟦SLACK_TOKEN:xoxb⟧ it's for the standup bot"""),
X("""new password for the test tenant: ⟦PASSWORD:pw_rand⟧ (username is admin@ the tenant domain)"""),
X("""Mein WLAN-Passwort ist ⟦PASSWORD:pw_word⟧ — falls du heute im Homeoffice-Setup hilfst.""", cat="chat_de"),
X("""the deploy key for the infra repo (sorry for pasting here):\n⟦PRIVATE_KEY:pem_ssh⟧""",),
X("""Here's the token the mobile app got after login, why is `exp` in the past? ⟦JWT:jwt⟧"""),
X("""I set the GitHub secret to ⟦GITHUB_TOKEN:ghp⟧ but the workflow still says 'Bad credentials'."""),
]
