from x import X
import common
from common import R
CAT = "app_log"

common.GENS["method"] = lambda c: R.choice(["GET", "POST", "PUT", "DELETE", "PATCH"])
common.GENS["path"] = lambda c: R.choice(["/api/v2/orders", "/login", "/api/v1/users/me", "/healthz", "/static/app.js", "/api/v2/invoices/export", "/graphql"])
common.GENS["code"] = lambda c: R.choice(["200", "200", "201", "204", "301", "400", "401", "403", "404", "500", "502"])
common.GENS["ua"] = lambda c: R.choice(['"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36"',
                                         '"curl/8.5.0"', '"python-requests/2.31.0"', '"Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15"'])
common.GENS["clf"] = lambda c: R.choice(["12/Mar/2024:08:15:02 +0000", "03/Jan/2025:23:59:11 +0100", "27/Jul/2024:14:40:37 -0400"])

E = [
X("""⟦IP_ADDRESS:ip_pub⟧ - - [⟦clf⟧] "⟦method⟧ ⟦path⟧ HTTP/1.1" ⟦code⟧ ⟦n4⟧ "-" ⟦ua⟧\n⟦IP_ADDRESS:ip_pub⟧ - - [⟦clf⟧] "⟦method⟧ ⟦path⟧ HTTP/1.1" ⟦code⟧ ⟦n3⟧ "-" ⟦ua⟧""", cat="access_log", n=4),
X("""⟦ts⟧ INFO  auth.service  login succeeded user=⟦EMAIL:email⟧ ip=⟦IP_ADDRESS:ipv4⟧ mfa=totp""", n=3),
X("""⟦ts⟧ WARN  auth.service  login failed user=⟦EMAIL:email⟧ ip=⟦IP_ADDRESS:ipv6⟧ reason=bad_password attempts=4""", n=2),
X("""⟦ts⟧ INFO  worker  job=reindex batch=⟦n4⟧ duration_ms=⟦ms⟧ status=ok""", n=3),
X("""{"level":"error","ts":"⟦ts⟧","msg":"payment declined","order_id":"⟦order⟧","amount":⟦price⟧,"gateway":"adyen","code":"05","trace_id":"⟦hex32⟧"}""", cat="json_log", n=2),
X("""{"level":"debug","ts":"⟦ts⟧","msg":"outgoing request","url":"https://api.partner.io/v1/charges","headers":{"Authorization":"Bearer ⟦JWT:jwt⟧","Content-Type":"application/json"}}""", cat="json_log", note="Bearer JWT leaked in debug log."),
X("""⟦ts⟧ ERROR db  could not connect to ⟦CONNECTION_STRING:cs_pg⟧: connection refused (is the server running on that host and accepting TCP/IP connections?)""", note="DSN with password leaked in error message."),
X("""Mar 12 08:15:02 bastion-1 sshd[⟦pid⟧]: Accepted publickey for deploy from ⟦IP_ADDRESS:ip_pub⟧ port ⟦eport⟧ ssh2: ED25519 SHA256:⟦urlsafe43⟧""", cat="syslog", note="SSH key fingerprint (SHA256) is not a secret."),
X("""Mar 12 08:17:44 bastion-1 sshd[⟦pid⟧]: Failed password for invalid user oracle from ⟦IP_ADDRESS:ip_pub⟧ port ⟦eport⟧ ssh2\nMar 12 08:17:46 bastion-1 sshd[⟦pid⟧]: Failed password for invalid user test from ⟦IP_ADDRESS:ip_pub⟧ port ⟦eport⟧ ssh2""", cat="syslog"),
X("""⟦ts⟧ level=info msg="pod scheduled" pod=⟦pod⟧ node=ip-⟦n2⟧-⟦n2⟧-⟦n2⟧-⟦n2⟧.ec2.internal""", cat="k8s_log", note="EC2 hostname encodes an IP with dashes; not labelled (host name)."),
X("""⟦ts⟧ INFO  mailer  sent template=password_reset to=⟦EMAIL:email⟧ message_id=<⟦hex32⟧@mail.meridianhq.com>""", note="Message-ID is not an e-mail address."),
X("""⟦ts⟧ DEBUG sms  dispatch to=⟦PHONE:us_intl⟧ body="Your code is 482913" provider=twilio sid=SM⟦hex32⟧""", note="OTP code and message SID not labelled."),
X("""⟦ts⟧ INFO  api  GET /api/v2/users?email=⟦EMAIL:email_urlenc⟧&include=orders 200 ⟦ms⟧ms""", note="URL-encoded e-mail in query string."),
X("""[⟦ts⟧] production.ERROR: SQLSTATE[28000] [1045] Access denied for user 'shop'@'⟦IP_ADDRESS:ip_priv⟧' (using password: YES)""", cat="php_log"),
X("""⟦ts⟧ WARN  config  env var STRIPE_SECRET_KEY=⟦API_KEY:stripe⟧ looks like a live key in staging""", note="Secret echoed in a log line."),
X("""⟦ts⟧ INFO  healthcheck  all 14 upstreams healthy, p99=⟦ms⟧ms, error_rate=0.02%""", n=2),
X("""2024-03-12 08:15:02,113 ERROR [celery.worker] Task billing.sync[⟦uuid⟧] raised: TimeoutError('timed out after 30s')""", n=2),
X("""⟦ts⟧ audit  user=⟦EMAIL:email_corp⟧ action=export_report report=customers_full rows=18220 src_ip=⟦IP_ADDRESS:ip_priv⟧""", region="us"),
X("""kernel: [⟦n6⟧.⟦n6⟧] eth0: Link is Up - 10Gbps Full Duplex, Flow Control: RX/TX\nkernel: [⟦n6⟧.⟦n6⟧] IPv6: ADDRCONF(NETDEV_CHANGE): eth0: link becomes ready""", cat="syslog"),
X("""⟦ts⟧ INFO  dhcpd: DHCPACK on ⟦IP_ADDRESS:ip_priv⟧ to 3c:22:fb:8a:1e:07 (LAPTOP-⟦n4⟧) via eth1""", cat="syslog", note="MAC address not in the type list; left unlabelled."),
X("""⟦ts⟧ ERROR checkout  card validation failed pan=⟦CREDIT_CARD:card_plain⟧ reason=expired""", note="PAN in logs (PCI violation)."),
X("""⟦ts⟧ ERROR checkout  card validation failed pan=************4417 reason=expired""", note="Masked PAN."),
X("""time="⟦ts⟧" level=warning msg="retrying" attempt=3 backoff=2s err="dial tcp ⟦IP_ADDRESS:ip_priv⟧:5432: i/o timeout\"""", cat="go_log"),
X("""⟦ts⟧ INFO  gateway  upstream=openai model=gpt-4o tokens_in=⟦n4⟧ tokens_out=⟦n3⟧ latency_ms=⟦ms⟧ user_hash=⟦sha256⟧""", note="Hashed user id is not sensitive here."),
X("""⟦ts⟧ DEBUG http  > POST /v1/chat/completions\n> Authorization: Bearer ⟦OPENAI_KEY:openai⟧\n> Content-Type: application/json""", cat="http_debug"),
X("""⟦ts⟧ INFO  release  deployed version ⟦ver⟧ (build ⟦ver4⟧, commit ⟦sha⟧) to 12/12 nodes""", note="Four-part build number is not an IP."),
X("""⟦ts⟧ WARN  ratelimit  client ⟦IP_ADDRESS:ipv6_full⟧ exceeded 600 req/min on /api/v2/search, throttled for 60s"""),
X("""⟦ts⟧ INFO  crm.sync  updated contact id=⟦n7⟧ phone=⟦PHONE:uk_phone⟧ email=⟦EMAIL:email_p⟧""", region="uk"),
X("""⟦ts⟧ INFO  web  Started GET "/" for 127.0.0.1 at ⟦ts⟧\n⟦ts⟧ INFO  web  Completed 200 OK in ⟦ms⟧ms (Views: 12.4ms | ActiveRecord: 3.1ms)""", cat="rails_log", note="Loopback address not labelled."),
X("""Traceback (most recent call last):\n  File "/app/sync.py", line 88, in push\n    resp.raise_for_status()\nrequests.exceptions.HTTPError: 401 Client Error: Unauthorized for url: https://api.hubapi.com/crm/v3/objects/contacts?hapikey=⟦API_KEY:uuidkey2⟧""", cat="traceback"),
X("""⟦ts⟧ INFO  backup  snapshot snap-⟦hex32⟧ completed, size=⟦n3⟧GiB, sha256=⟦sha256⟧""", n=2),
X("""⟦ts⟧ NOTICE pg  connection authorized: user=app database=orders host=⟦IP_ADDRESS:ip_priv⟧ SSL enabled (protocol=TLSv1.3)""", cat="postgres_log"),
X("""⟦ts⟧ ERROR slack-notifier  failed to post: invalid_auth token=⟦SLACK_TOKEN:xoxb⟧"""),
X("""⟦ts⟧ INFO  vpn  session up user=⟦first⟧.⟦last⟧ assigned=⟦IP_ADDRESS:cgn⟧ public=⟦IP_ADDRESS:ip_pub⟧ client=⟦ver⟧"""),
X("""⟦ts⟧ INFO  scheduler  cron "0 3 * * *" next run ⟦ts⟧; last run took 00:04:12""", n=2),
X("""⟦ts⟧ WARN  fraud  velocity rule R12 hit: 5 cards in 10 min from device fp=⟦hex40⟧, ip=⟦IP_ADDRESS:ip_pub⟧"""),
]
common.GENS["email_urlenc"] = lambda c: common.email_for(common.person()).replace("@", "%40")
common.GENS["uuidkey2"] = lambda c: common.GENS["uuid"](c)
common.GENS["cgn"] = lambda c: common.ipv4("cgn")
common.GENS["eport"] = lambda c: str(R.randint(1024, 65535))
