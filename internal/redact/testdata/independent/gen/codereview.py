from x import X
import common
from common import R
CAT = "code_review"

E = [
X("""diff --git a/config/settings.py b/config/settings.py\nindex ⟦sha7⟧..⟦sha7⟧ 100644\n--- a/config/settings.py\n+++ b/config/settings.py\n@@ -12,7 +12,7 @@ DEBUG = False\n-SECRET_KEY = os.environ["DJANGO_SECRET_KEY"]\n+SECRET_KEY = "⟦API_KEY:django⟧"\n ALLOWED_HOSTS = ["*"]\n\nReviewer: please don't hardcode the key, revert to the env var.""", cat="diff"),
X("""@@ -3,6 +3,8 @@ import boto3\n \n-s3 = boto3.client("s3")\n+s3 = boto3.client("s3",\n+    aws_access_key_id="⟦AWS_ACCESS_KEY:aws_ak⟧",\n+    aws_secret_access_key="⟦AWS_SECRET_KEY:aws_sk⟧")\n \n def upload(path):""", cat="diff"),
X("""Review comment on PR #⟦n4⟧: the retry loop in `fetch_orders()` never resets `attempt`, so after the first failure every call waits the max backoff. Suggest moving `attempt = 0` inside the loop.""", n=1),
X("""commit ⟦sha⟧\nAuthor: ⟦full⟧ <⟦EMAIL:email_corp⟧>\nDate:   Tue Mar 12 08:15:02 2024 +0100\n\n    Fix off-by-one in pagination cursor\n\n    Reviewed-by: ⟦oname⟧ <⟦EMAIL:email_corp_o⟧>""", cat="git_log", region="de"),
X("""commit ⟦sha⟧\nAuthor: ⟦full⟧ <⟦EMAIL:ghnoreply⟧>\nDate:   Mon Apr 1 06:02:11 2024 +0000\n\n    Bump lodash from 4.17.20 to 4.17.21""", cat="git_log", note="GitHub noreply address still identifies a user; labelled EMAIL."),
X("""+const client = new WebClient("⟦SLACK_TOKEN:xoxb⟧");\n-const client = new WebClient(process.env.SLACK_BOT_TOKEN);""", cat="diff"),
X("""Can you review this function? It validates card numbers with Luhn.\n\n```python\ndef luhn_ok(num: str) -> bool:\n    digits = [int(d) for d in num if d.isdigit()]\n    odd = digits[-1::-2]\n    even = [sum(divmod(2 * d, 10)) for d in digits[-2::-2]]\n    return (sum(odd) + sum(even)) % 10 == 0\n```""", cat="code_question"),
X("""```js\n// test fixture\nconst user = { email: "jane.doe@example.com", phone: "+1 555 0100", password: "password123" };\n```\nWhy does the signup test fail on CI only?""", cat="code_question", note="Fixture uses RFC 2606 example.com and fictional 555-0100; password is an obvious test literal in a fixture — treated as not sensitive."),
X("""-    token = "⟦GITHUB_TOKEN:ghp⟧"\n+    token = os.environ["GH_TOKEN"]\n\nGood catch removing it, but the token is still in history — rotate it too.""", cat="diff"),
X("""```go\nfunc hashFile(path string) (string, error) {\n\tf, err := os.Open(path)\n\tif err != nil { return "", err }\n\tdefer f.Close()\n\th := sha256.New()\n\tif _, err := io.Copy(h, f); err != nil { return "", err }\n\treturn hex.EncodeToString(h.Sum(nil)), nil\n}\n```\nIs this fine for 10 GB files?""", cat="code_question"),
X("""+    headers = {"Authorization": "Bearer ⟦OPENAI_KEY:openai⟧"}\n\nNit: this will leak in the repo. Use the secret manager.""", cat="diff"),
X("""The test asserts `sha256("hello") == "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824"`; that's correct, so the failure must be a trailing newline.""", cat="code_question", note="Hash of a public string."),
X("""PR #⟦n4⟧ adds a new file `deploy/id_deploy` (mode 600). Contents:\n\n```\n⟦PRIVATE_KEY:pem_ssh⟧\n```\n\nBlocking: private keys must not be committed.""", cat="diff"),
X("""```sql\nSELECT customer_id, COUNT(*) AS orders\nFROM orders\nWHERE created_at >= DATE '2024-01-01'\nGROUP BY customer_id\nHAVING COUNT(*) > 5;\n```\nHow do I make this use the index on created_at?""", cat="sql_question"),
X("""```sql\nINSERT INTO customers (id, name, email, phone, dob) VALUES\n  (⟦n5⟧, '⟦oname⟧', '⟦EMAIL:email⟧', '⟦PHONE:us_dash⟧', '⟦DATE_OF_BIRTH:dob_iso⟧'),\n  (⟦n5⟧, '⟦oname⟧', '⟦EMAIL:email⟧', '⟦PHONE:us_dash⟧', '⟦DATE_OF_BIRTH:dob_iso⟧');\n```\nThis seed file is from prod, is that OK for the staging DB?""", cat="sql_dump", region="us"),
X("""```python\nconn = psycopg2.connect("⟦CONNECTION_STRING:cs_pg⟧")\ncur = conn.cursor()\n```\nwhy am I getting 'SSL SYSCALL error: EOF detected'?""", cat="code_question"),
X("""Review: LGTM overall. Two nits: (1) `MAX_RETRIES = 5` should come from config, (2) the regex `\\d{3}-\\d{2}-\\d{4}` in the SSN validator doesn't reject 000 or 666 area numbers.""", n=1),
X("""```yaml\n# .github/workflows/deploy.yml\n- name: Deploy\n  env:\n    AWS_ACCESS_KEY_ID: ${{ secrets.AWS_ACCESS_KEY_ID }}\n    AWS_SECRET_ACCESS_KEY: ${{ secrets.AWS_SECRET_ACCESS_KEY }}\n  run: ./deploy.sh\n```""", cat="ci_config", note="Secret references, no values."),
X("""+JWT_TEST_TOKEN = "⟦JWT:jwt⟧"\n\nIs this token from a real user? The `sub` claim looks like a production id.""", cat="diff"),
X("""```java\n@Test\nvoid rejectsInvalidIban() {\n    assertFalse(IbanValidator.isValid("DE00 0000 0000 0000 0000 00"));\n}\n```""", cat="code_question", note="Deliberately invalid IBAN in a test."),
X("""Blame shows this line was added in ⟦sha7⟧ by ⟦full⟧ three years ago: `password = os.getenv("DB_PASS", "")`. Empty default is the bug.""", n=1),
X("""```bash\ncurl -u admin:⟦PASSWORD:pw_rand⟧ https://jenkins.ops.meridianhq.com/job/deploy/build\n```\nworks locally but 403 from the CI runner?""", cat="code_question"),
X("""```typescript\nexport const PHONE_RE = /^\\+?[1-9]\\d{1,14}$/; // E.164\nexport const EMAIL_RE = /^[^@\\s]+@[^@\\s]+\\.[^@\\s]+$/;\n```\nAre these good enough for form validation?""", cat="code_question"),
X("""-    "stripe_key": "sk_test_4eC39HqLyjWDarjtT1zdp7dc",\n+    "stripe_key": "⟦API_KEY:stripe⟧",\n\nWhy is a live key in the fixture file?!""", cat="diff", note="sk_test_4eC39HqLyjWDarjtT1zdp7dc is Stripe's published documentation test key (not labelled); the live key is."),
X("""```python\n# settings for local dev only\nDATABASES = {"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": BASE_DIR / "db.sqlite3"}}\nCACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}\n```""", cat="code"),
X("""Pull request #⟦n4⟧ — Add rate limiting\n\nFiles changed: 7, +312 −41\nReviewers: @⟦first⟧, @platform-team\nCI: ✅ unit (⟦ms⟧s) ✅ lint ❌ e2e (flaky: checkout.spec.ts)""", n=1),
X("""```dockerfile\nFROM python:3.12-slim\nENV PIP_NO_CACHE_DIR=1\nARG NPM_TOKEN\nRUN echo "//registry.npmjs.org/:_authToken=${NPM_TOKEN}" > ~/.npmrc\n```""", cat="code", note="Build-arg reference, no value."),
X("""+ENV SENTRY_AUTH_TOKEN=sntrys_⟦rs40⟧⟦rs32⟧\n\nThis bakes the token into the image layer. Use a build secret.""", cat="diff", note="See: value labelled as whole token via fix."),
X("""```csharp\nvar cs = "⟦CONNECTION_STRING:cs_ado⟧";\nusing var conn = new SqlConnection(cs);\n```""", cat="code"),
X("""Code review: `user_id = int(request.args["id"])` will 500 on non-numeric input; wrap in try/except and return 400. Also the SQL on line 44 is built with f-strings — SQL injection risk.""", n=1),
X("""```\n$ git log --format='%h %an <%ae>' -3\n⟦sha7⟧ ⟦full⟧ <⟦EMAIL:email_p⟧>\n⟦sha7⟧ ⟦oname⟧ <⟦EMAIL:email⟧>\n⟦sha7⟧ ⟦oname⟧ <⟦EMAIL:email⟧>\n```""", cat="git_log"),
X("""```python\nopenai.api_key = "⟦OPENAI_KEY:openai_old⟧"\nresp = openai.ChatCompletion.create(model="gpt-3.5-turbo", messages=msgs)\n```\nGetting 'You exceeded your current quota'.""", cat="code_question"),
X("""```rust\nlet re = Regex::new(r"(?i)\\b[A-Z0-9._%+-]+@[A-Z0-9.-]+\\.[A-Z]{2,}\\b").unwrap();\n```\nDoes this catch addresses whose domain has a two-part suffix like .co.uk or .com.au?""", cat="code_question"),
X("""```ini\n; tox.ini\n[testenv]\ndeps = pytest\ncommands = pytest -q --maxfail=1\nsetenv =\n    DATABASE_URL = sqlite:///:memory:\n```""", cat="code"),
X("""```\n-----BEGIN CERTIFICATE-----\nMIIDdzCCAl+gAwIBAgIEAgAAuTANBgkqhkiG9w0BAQUFADBaMQswCQYDVQQGEwJJ\n...\n-----END CERTIFICATE-----\n```\nIs it safe to paste our public cert here?""", cat="code_question", note="Certificate (public), not a private key."),
X("""```python\nkey = \"\"\"⟦PRIVATE_KEY:pem_ec⟧\"\"\"\nsigner = ec.derive_private_key(...)\n```\nwhy does load_pem_private_key fail with 'Could not deserialize key data'?""", cat="code_question"),
]
common.GENS["sntrys"] = lambda c: "sntrys_" + common.rs(72)
for i, e in enumerate(E):
    if "sntrys_" in e["t"]:
        e["t"] = e["t"].replace("sntrys_⟦rs40⟧⟦rs32⟧", "⟦API_KEY:sntrys⟧")
        e["note"] = "Sentry auth token baked into a Dockerfile."
common.GENS["email_corp_o"] = lambda c: common.email_for(common.person(), common.CORP, "f.l")
common.GENS["ghnoreply"] = lambda c: common.dig(8) + "+" + common.ascii_fold(c["p"]["first"]).lower() + common.ascii_fold(c["p"]["last"]).lower()[:3] + "@users.noreply.github.com"

E += [
X("""```python\n# tests/test_auth.py\nVALID_TOKEN = "⟦JWT:jwt⟧"\n\ndef test_decode():\n    assert decode(VALID_TOKEN)["role"] == "admin"\n```\nIs committing a real signed token here a problem if the signing key is also only for tests?""", cat="code_question", note="Labelled: a structurally valid signed JWT regardless of intent."),
X("""Reviewer: this PR adds `terraform.tfstate` to the repo — the state file contains the RDS master password in plain text. Please remove it and add `*.tfstate` to .gitignore.""", n=1),
X("""```diff\n-aws_secret_access_key = os.environ["AWS_SECRET_ACCESS_KEY"]\n+aws_secret_access_key = "⟦AWS_SECRET_KEY:aws_sk⟧"\n```""", cat="diff"),
X("""```\n$ cat ~/.ssh/id_ecdsa\n⟦PRIVATE_KEY:pem_ec⟧\n```\nIs this the right format for GitHub deploy keys?""", cat="code_question"),
X("""```go\nconst dsn = "⟦CONNECTION_STRING:cs_pg⟧"\ndb, err := sql.Open("pgx", dsn)\n```\nThe linter didn't flag this, should it?""", cat="code_question"),
X("""```kotlin\nval phone = PhoneNumberUtil.getInstance().parse(raw, "DE")\nval e164 = util.format(phone, PhoneNumberFormat.E164)\n```\nHow do I handle German numbers that users type with a slash after the area code (030/…, 089/…)?""", cat="code_question"),
]
