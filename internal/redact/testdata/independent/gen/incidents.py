from x import X
import common
from common import R
CAT = "security_incident"
common.GENS["jwt_user"] = lambda c: common.jwt({"sub": c["p"]["first"].lower() + "@" + common.CORP, "scope": "read write", "iat": 1718000000})
E = [
X("""INC-⟦n5⟧: GitHub secret scanning alert — token ⟦GITHUB_TOKEN:ghp⟧ found in public gist by ⟦first⟧. Token revoked at ⟦ts⟧. Scope: repo, workflow."""),
X("""Post-mortem summary: a misconfigured S3 bucket exposed build logs for 6 hours. No customer data; logs contained only dependency versions and timings. Bucket policy fixed, Config rule added."""),
X("""TruffleHog found these in the monorepo history:\n- AWS key ⟦AWS_ACCESS_KEY:aws_ak⟧ (commit ⟦sha7⟧)\n- Slack token ⟦SLACK_TOKEN:xoxp⟧ (commit ⟦sha7⟧)\n- Stripe key ⟦API_KEY:stripe⟧ (commit ⟦sha7⟧)"""),
X("""Phishing report: user received a mail from "IT Support" <⟦EMAIL:email⟧> asking to "validate" their password at hxxps://meridian-sso[.]top/login. Sender IP ⟦IP_ADDRESS:ip_pub⟧.""", note="Defanged URL not labelled."),
X("""Session cookie captured in the HAR file the customer sent: session=⟦JWT:jwt_user⟧; Path=/; HttpOnly. Invalidate it.""", region="us"),
X("""Tabletop exercise next Tuesday: ransomware on a file server. Roles: IC, comms, legal, IT ops. Duration 2 hours."""),
X("""The leaked GitHub App token ⟦GITHUB_TOKEN:ghs⟧ was short-lived (1 h) and had already expired when we found it."""),
X("""OAuth access token in the support transcript: ⟦GITHUB_TOKEN:gho⟧. Customer pasted it while asking about the integration."""),
X("""Key compromise: the following private key was posted in #dev-help. Revoke the cert and rotate.\n\n⟦PRIVATE_KEY:pem_p8⟧"""),
X("""We found the deploy user's password (⟦PASSWORD:pw_rand⟧) in plaintext in /etc/cron.d/backup on three hosts: ⟦IP_ADDRESS:ip_priv⟧, ⟦IP_ADDRESS:ip_priv⟧, ⟦IP_ADDRESS:ip_priv⟧."""),
X("""Vulnerability scan: 3 critical (⟦cve⟧, ⟦cve⟧, ⟦cve⟧), 12 high, 40 medium. Patch window Saturday 22:00–02:00."""),
X("""Suspicious login for ⟦EMAIL:email_corp⟧ from ⟦IP_ADDRESS:ipv6⟧ (ASN 9009, VPN provider) 4 minutes after a login from ⟦IP_ADDRESS:ip_pub⟧ in ⟦city⟧. Impossible travel rule triggered.""", region="us"),
X("""An engineer pasted the production DSN into ChatGPT: ⟦CONNECTION_STRING:cs_mongo⟧. Password rotated, user re-created with least privilege."""),
X("""Customer says their API key was exposed in a screenshot: ⟦API_KEY:mkey⟧. We revoked it and issued a new one.""", note="Generic-prefix API key."),
X("""DLP alert: outbound e-mail to ⟦EMAIL:email⟧ contained 14 card numbers in an attachment; first one ⟦CREDIT_CARD:card⟧. Mail quarantined.""", note="Only the card shown in text is labelled."),
X("""Incident timeline:\n09:02 alert fired (error rate > 5%)\n09:05 on-call acked\n09:20 rollback to ⟦ver⟧\n09:31 error rate normal\nRoot cause: null pointer in the new pricing path."""),
X("""Audit finding: Django SECRET_KEY ⟦API_KEY:django⟧ is identical in staging and prod. Split them and rotate prod."""),
X("""The OpenAI key ⟦OPENAI_KEY:openai⟧ hit its spend limit at 03:00; usage came from IP ⟦IP_ADDRESS:ip_pub⟧ which isn't ours. Revoked."""),
X("""Honeytoken triggered: canary AWS key ⟦AWS_ACCESS_KEY:aws_ak⟧ was used from ⟦IP_ADDRESS:ip_pub⟧ (user agent aws-cli/2.15). Someone has our laptop image.""", note="Canary keys are still real key material; labelled."),
X("""Security awareness: never share passwords over chat, even with IT. IT will never ask for your password."""),
X("""Slack webhook leaked in the public status page repo: ⟦SLACK_TOKEN:slack_hook⟧. Regenerated.""", note="Incoming webhook URL treated as SLACK_TOKEN."),
X("""Credentials found on a paste site matching our domain:\n⟦EMAIL:email_corp⟧:⟦PASSWORD:pw_word⟧\n⟦EMAIL:email_corp_o⟧:⟦PASSWORD:pw_sym⟧\nForce reset both.""", region="us"),
X("""A contractor's laptop was stolen in ⟦city⟧. Disk encrypted (BitLocker), MDM wipe sent, no evidence of access."""),
X("""The SSH host key fingerprint changed: SHA256:⟦urlsafe43⟧. Verified it's due to the rebuild, not MITM.""", note="Host key fingerprint, not a secret."),
X("""Bug bounty report #⟦n4⟧: IDOR on /api/v2/invoices/{id} lets any user read other tenants' invoices. Severity high, fixed in ⟦ver⟧."""),
X("""JWT secret in the mobile app bundle: HS256 key ⟦API_KEY:hex64⟧ extracted with apktool. Anyone can mint tokens.""", note="JWT signing secret labelled API_KEY."),
X("""Please rotate the service account key — the JSON was attached to the ticket:\n{"type": "service_account", "project_id": "meridian-prod", "private_key_id": "⟦hex40⟧", "private_key": "⟦PRIVATE_KEY:pem_p8_esc⟧\\n", "client_email": "⟦EMAIL=etl@meridian-prod.iam.gserviceaccount.com⟧"}""", note="private_key_id is a key identifier, not the key; the private key keeps the \\n escapes of real GCP JSON. Service-account address labelled EMAIL (policy: every real-domain address)."),
X("""Weekly security metrics: MFA coverage 98.7%, phishing sim click rate 3.1%, mean time to patch criticals 6.2 days."""),
X("""The attacker's C2 address was ⟦IP_ADDRESS:ip_pub⟧ on port 443; blocklisted at the firewall and in Zscaler.""", note="Attacker IP still labelled (IP_ADDRESS policy: every concrete host address)."),
X("""Lost YubiKey reported by ⟦full⟧. Key serial 1⟦n7⟧ disabled in Okta; temporary access code issued.""", n=1),
]
common.GENS["mkey"] = lambda c: "mk_live_" + common.rs(32)
common.GENS["pem_p8_esc"] = lambda c: common.pem("PKCS8").replace("\n", "\\n")

E += [
X("""Customer support transcript included an Authorization header: `Authorization: Bearer ⟦JWT:jwt⟧`. The token was valid for 1 hour; session revoked.""", cat="security_incident"),
X("""Found a GitHub fine-grained PAT in a Confluence page ("Release how-to"): ⟦GITHUB_TOKEN:gh_pat⟧. Owner notified, token deleted.""", cat="security_incident"),
X("""GitLab CI variable was printed by `env` in the job log: CI_DEPLOY_TOKEN=⟦API_KEY:glpat⟧. Mask the variable and rotate.""", cat="security_incident"),
X("""User-to-server token ⟦GITHUB_TOKEN:ghu⟧ showed up in the Sentry breadcrumb for the GitHub integration.""", cat="security_incident"),
X("""Slack user token leaked via browser extension logs: ⟦SLACK_TOKEN:xoxp⟧. Token belongs to a workspace admin.""", cat="security_incident"),
X("""An intern committed `.env` with:\nDB_PASS=⟦PASSWORD:pw_word⟧\nJWT_SECRET=⟦API_KEY:urlsafe43⟧\nBoth rotated; repo history rewritten with git filter-repo.""", cat="security_incident"),
X("""The STS temporary credentials in the crash dump were ⟦AWS_ACCESS_KEY:aws_asia⟧ / ⟦AWS_SECRET_KEY:aws_sk⟧ (session token omitted). They expire after 1 h but we revoked the role session anyway.""", cat="security_incident", note="ASIA prefix = temporary STS key id."),
X("""Phishing kit logs recovered from the attacker's server listed 3 of our users: ⟦EMAIL:email_corp⟧ (pw ⟦PASSWORD:pw_sym⟧), and two others whose passwords were blank.""", region="us", cat="security_incident"),
X("""Leaked in a screenshot on Twitter: the admin panel URL and the shared password "⟦PASSWORD:pw_phrase⟧". Changed within 10 minutes.""", cat="security_incident"),
X("""We received an OpenSSH key through the support portal (customer wanted help with SFTP). Deleted from the ticket; customer advised to regenerate.\n\n⟦PRIVATE_KEY:pem_ssh⟧""", cat="security_incident"),
X("""Red-team finding: the WordPress wp-config.php on the marketing site is world-readable and contains DB_PASSWORD '⟦PASSWORD:pw_rand⟧' and AUTH_KEY '⟦API_KEY:wpkey⟧'.""", cat="security_incident"),
X("""Postmortem action items: (1) enable secret scanning push protection on all repos, (2) move CI secrets to OIDC, (3) quarterly rotation drill. Owners assigned.""", cat="security_incident"),
]
common.GENS["glpat"] = lambda c: "glpat-" + common.rs(20, common.B62 + "-_")
common.GENS["wpkey"] = lambda c: common.rs(64, common.B62 + "!@#$%^&*()-_[]{}<>~+=,.;:/?|")
