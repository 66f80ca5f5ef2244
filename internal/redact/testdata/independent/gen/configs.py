from x import X
import common
from common import R, rs, B62, dig
CAT = "config"

def upw():
    return rs(R.randint(12, 22), B62 + "-_.~")

def dbuser():
    return R.choice(["app", "svc_billing", "analytics_ro", "admin", "etl_user", "webapp", "reporting", "django"])

def cs(kind=None):
    kind = kind or R.choice(["pg", "pg", "mysql", "mongo", "redis", "amqp", "ado", "jdbc", "azure", "mssql_url"])
    h = R.choice(["db01.prod.internal", "pg-main.c9xk2mfw1abc.eu-west-1.rds.amazonaws.com", "10.20.3.14", "mysql.ops.meridianhq.com",
                  "orders-db.svc.cluster.local", "reporting.cjq7rmk3o2xy.us-east-1.rds.amazonaws.com"])
    db = R.choice(["app", "orders", "billing", "analytics", "crm", "hr_prod"])
    if kind == "pg":
        return f"{R.choice(['postgres', 'postgresql'])}://{dbuser()}:{upw()}@{h}:5432/{db}" + R.choice(["", "?sslmode=require", ""])
    if kind == "mysql":
        return f"mysql://{dbuser()}:{upw()}@{h}:3306/{db}"
    if kind == "mongo":
        return f"mongodb+srv://{dbuser()}:{upw()}@cluster0.{rs(5, 'abcdefghijklmnopqrstuvwxyz0123456789')}.mongodb.net/{db}?retryWrites=true&w=majority"
    if kind == "redis":
        return f"redis://:{upw()}@{R.choice(['cache.prod.internal', 'redis-1.ops.meridianhq.com'])}:6379/0"
    if kind == "amqp":
        return f"amqps://{dbuser()}:{upw()}@rabbit.prod.internal:5671/%2F"
    if kind == "ado":
        return f"Server=tcp:{R.choice(['meridian-sql', 'crm-prod'])}.database.windows.net,1433;Initial Catalog={db};Persist Security Info=False;User ID={dbuser()};Password={common.password('rand').replace(';', '!')};MultipleActiveResultSets=False;Encrypt=True;TrustServerCertificate=False;Connection Timeout=30;"
    if kind == "jdbc":
        return f"jdbc:postgresql://{h}:5432/{db}?user={dbuser()}&password={upw()}&ssl=true"
    if kind == "azure":
        return f"DefaultEndpointsProtocol=https;AccountName=meridian{R.choice(['logs', 'backups', 'media'])};AccountKey={common.base64.b64encode(R.randbytes(64)).decode()};EndpointSuffix=core.windows.net"
    if kind == "mssql_url":
        return f"mssql+pyodbc://{dbuser()}:{upw()}@{h}:1433/{db}?driver=ODBC+Driver+18+for+SQL+Server"

for k in ["pg", "mysql", "mongo", "redis", "amqp", "ado", "jdbc", "azure", "mssql_url"]:
    common.GENS["cs_" + k] = (lambda k: lambda c: cs(k))(k)
common.GENS["cs"] = lambda c: cs()
common.GENS["upw"] = lambda c: upw()

E = [
X("""# .env.production\nNODE_ENV=production\nPORT=8080\nDATABASE_URL=⟦CONNECTION_STRING:cs_pg⟧\nREDIS_URL=⟦CONNECTION_STRING:cs_redis⟧\nSESSION_SECRET=⟦API_KEY:rs40⟧\nLOG_LEVEL=info"""),
X("""DB_HOST=⟦host⟧\nDB_PORT=5432\nDB_USER=svc_billing\nDB_PASSWORD=⟦PASSWORD:pw_rand⟧\nDB_NAME=billing"""),
X("""AWS_ACCESS_KEY_ID=⟦AWS_ACCESS_KEY:aws_ak⟧\nAWS_SECRET_ACCESS_KEY=⟦AWS_SECRET_KEY:aws_sk⟧\nAWS_DEFAULT_REGION=eu-central-1"""),
X("""[default]\naws_access_key_id = ⟦AWS_ACCESS_KEY:aws_ak⟧\naws_secret_access_key = ⟦AWS_SECRET_KEY:aws_sk⟧\nregion = us-east-1\n\n[profile readonly]\nrole_arn = arn:aws:iam::⟦n12⟧:role/ReadOnly\nsource_profile = default""", cat="config_ini", note="AWS account id inside the role ARN is not labelled."),
X("""# settings/production.py\nDEBUG = False\nALLOWED_HOSTS = ["app.meridianhq.com"]\nSECRET_KEY = "⟦API_KEY:django⟧"\nDATABASES = {"default": {"ENGINE": "django.db.backends.postgresql", "NAME": "app", "USER": "django", "PASSWORD": "⟦PASSWORD:pw_rand⟧", "HOST": "⟦host⟧"}}""", cat="config_python"),
X("""spring:\n  datasource:\n    url: jdbc:postgresql://⟦host⟧:5432/orders\n    username: orders_app\n    password: ⟦PASSWORD:pw_word⟧\n  jpa:\n    hibernate:\n      ddl-auto: validate""", cat="config_yaml", note="JDBC URL without credentials is not a connection-string secret; the password is."),
X("""apiVersion: v1\nkind: Secret\nmetadata:\n  name: payments-api\ntype: Opaque\nstringData:\n  STRIPE_SECRET_KEY: ⟦API_KEY:stripe⟧\n  WEBHOOK_SIGNING_SECRET: ⟦API_KEY:whsec⟧\n  DB_URL: ⟦CONNECTION_STRING:cs_mysql⟧""", cat="config_yaml"),
X("""{\n  "server": {"port": 3000, "host": "0.0.0.0"},\n  "auth": {\n    "jwtSecret": "⟦API_KEY:b64_48⟧",\n    "tokenTtlSeconds": 3600\n  },\n  "mongo": "⟦CONNECTION_STRING:cs_mongo⟧"\n}""", cat="config_json"),
X("""[database]\nhost = "⟦host⟧"\nport = 5432\nuser = "reporting"\npassword = "⟦PASSWORD:pw_rand⟧"\n\n[cache]\nurl = "redis://cache.prod.internal:6379/2"\nttl = 300""", cat="config_toml", note="Redis URL without credentials is not labelled."),
X("""<connectionStrings>\n  <add name="CrmDb" connectionString="⟦CONNECTION_STRING:cs_ado⟧" providerName="System.Data.SqlClient" />\n</connectionStrings>""", cat="config_xml"),
X("""appsettings.json:\n{\n  "ConnectionStrings": {\n    "Default": "⟦CONNECTION_STRING:cs_ado⟧"\n  },\n  "Logging": { "LogLevel": { "Default": "Warning" } }\n}""", cat="config_json"),
X("""# config.ini\n[smtp]\nserver = smtp.office365.com\nport = 587\nusername = noreply-alerts\npassword = ⟦PASSWORD:pw_sym⟧\nuse_tls = yes""", cat="config_ini"),
X("""GITHUB_TOKEN=⟦GITHUB_TOKEN:ghp⟧\nSLACK_BOT_TOKEN=⟦SLACK_TOKEN:xoxb⟧\nOPENAI_API_KEY=⟦OPENAI_KEY:openai⟧""", cat="config_env"),
X("""# docker-compose.yml\nservices:\n  db:\n    image: postgres:16\n    environment:\n      POSTGRES_USER: app\n      POSTGRES_PASSWORD: ⟦PASSWORD:pw_rand⟧\n      POSTGRES_DB: app\n    ports:\n      - "5432:5432\"""", cat="config_yaml"),
X("""# docker-compose.yml (template)\nservices:\n  db:\n    image: postgres:16\n    environment:\n      POSTGRES_USER: ${POSTGRES_USER}\n      POSTGRES_PASSWORD: ${POSTGRES_PASSWORD}\n      POSTGRES_DB: app""", cat="config_yaml", note="Variable references, no secret."),
X("""terraform.tfvars\nregion        = "eu-west-1"\ninstance_type = "t3.medium"\ndb_password   = "⟦PASSWORD:pw_rand⟧"\ndatadog_api_key = "⟦API_KEY:hex32⟧\"""", cat="config_hcl"),
X("""variable "db_password" {\n  type      = string\n  sensitive = true\n  description = "Master password, set via TF_VAR_db_password"\n}""", cat="config_hcl", note="Declaration only, no value."),
X("""# .npmrc\n//registry.npmjs.org/:_authToken=⟦API_KEY:npmtok⟧\nalways-auth=true""", cat="config_ini"),
X("""sentry:\n  dsn: https://⟦API_KEY:hex32⟧@o⟦n6⟧.ingest.sentry.io/⟦n7⟧\n  environment: production\n  traces_sample_rate: 0.1""", cat="config_yaml", note="Only the DSN public key is labelled (it is the credential); could also be argued as CONNECTION_STRING."),
X("""[client]\nuser=backup\npassword="⟦PASSWORD:pw_rand⟧"\nhost=⟦IP_ADDRESS:ip_priv⟧""", cat="config_ini", note="~/.my.cnf"),
X("""# Example .env (copy to .env and fill in)\nDATABASE_URL=postgres://USER:PASSWORD@localhost:5432/app\nSECRET_KEY=change-me\nSTRIPE_SECRET_KEY=sk_test_xxxxxxxxxxxxxxxxxxxxxxxx\nOPENAI_API_KEY=<your-key-here>""", cat="config_env", note="Template placeholders only."),
X("""KAFKA_BOOTSTRAP=b-1.msk.prod.internal:9092,b-2.msk.prod.internal:9092\nKAFKA_SASL_USERNAME=ingest\nKAFKA_SASL_PASSWORD=⟦PASSWORD:pw_rand⟧\nKAFKA_TOPIC=events.v2""", cat="config_env"),
X("""logging:\n  level: INFO\n  format: json\nretries: 3\ntimeout_ms: 2500\nfeature_flags:\n  new_checkout: true\n  dark_mode: false""", cat="config_yaml"),
X("""[mysqld]\ndatadir=/var/lib/mysql\nsocket=/var/lib/mysql/mysql.sock\nmax_connections=500\ninnodb_buffer_pool_size=8G\nbind-address=0.0.0.0""", cat="config_ini", note="0.0.0.0 is the wildcard bind address, not a host."),
X("""pyproject.toml\n[tool.poetry]\nname = "billing-service"\nversion = "⟦ver⟧"\n[tool.poetry.dependencies]\npython = "^3.11"\nfastapi = "^0.110"\nsqlalchemy = "^2.0\"""", cat="config_toml"),
X("""Here's my celery config, why does it hang?\nbroker_url = "⟦CONNECTION_STRING:cs_amqp⟧"\nresult_backend = "⟦CONNECTION_STRING:cs_redis⟧"\ntask_acks_late = True""", cat="config_question"),
X("""SQLALCHEMY_DATABASE_URI = "⟦CONNECTION_STRING:cs_mssql_url⟧\"""", cat="config_python"),
X("""// firebase config (client-side, public by design)\nconst firebaseConfig = {\n  apiKey: "⟦API_KEY:gapi⟧",\n  authDomain: "meridian-app.firebaseapp.com",\n  projectId: "meridian-app",\n  appId: "1:⟦n12⟧:web:⟦hex32⟧"\n};""", cat="config_js", note="Firebase web API keys are semi-public but still keys; labelled API_KEY. appId left unlabelled."),
X("""AZURE_STORAGE_CONNECTION_STRING="⟦CONNECTION_STRING:cs_azure⟧\"""", cat="config_env"),
X("""jdbc.url=⟦CONNECTION_STRING:cs_jdbc⟧\njdbc.driver=org.postgresql.Driver\npool.max=20""", cat="config_properties"),
X("""# application.properties\nserver.port=8443\nserver.ssl.key-store=classpath:keystore.p12\nserver.ssl.key-store-password=⟦PASSWORD:pw_rand⟧\nserver.ssl.key-alias=tomcat""", cat="config_properties"),
X("""# nginx.conf excerpt\nupstream api {\n  server ⟦IP_ADDRESS:ip_priv⟧:8080;\n  server ⟦IP_ADDRESS:ip_priv⟧:8080;\n}\nserver {\n  listen 443 ssl http2;\n  server_name api.meridianhq.com;\n  ssl_certificate /etc/ssl/certs/api.pem;\n}""", cat="config_nginx", note="Private upstream IPs labelled (policy: RFC1918 addresses count as IP_ADDRESS)."),
X("""secrets.toml\n[twilio]\nauth_token = "⟦API_KEY:hex32⟧"\n[mailgun]\napi_key = "⟦API_KEY:mailgun⟧\"""", cat="config_toml", note="Twilio auth token and Mailgun key."),
X("""JWT_SIGNING_KEY=⟦API_KEY:hex64⟧\nJWT_ISSUER=https://auth.meridianhq.com\nJWT_AUDIENCE=meridian-api""", cat="config_env"),
X("""ldap:\n  url: ldaps://ldap.corp.internal:636\n  bind_dn: cn=svc-gateway,ou=services,dc=corp,dc=internal\n  bind_password: ⟦PASSWORD:pw_word⟧\n  base_dn: dc=corp,dc=internal""", cat="config_yaml"),
X("""MAIL_MAILER=smtp\nMAIL_HOST=smtp.sendgrid.net\nMAIL_PORT=587\nMAIL_USERNAME=apikey\nMAIL_PASSWORD=⟦API_KEY:sendgrid⟧\nMAIL_FROM_ADDRESS=⟦EMAIL=no-reply@meridianhq.com⟧""", cat="config_env", note="SendGrid key used as SMTP password: labelled API_KEY (it is an API key)."),
X("""APP_KEY=base64:⟦API_KEY:b64_32⟧\nAPP_DEBUG=false\nAPP_URL=https://portal.meridianhq.com""", cat="config_env", note="Laravel APP_KEY; only the key after 'base64:' labelled."),
X("""How do I pass a password containing '@' in a postgres URL? Do I need to percent-encode it as %40, and does psycopg2 decode it?""", cat="config_question"),
X("""config/credentials.yml.enc is encrypted; the master key lives in config/master.key which must never be committed. Rotate with `bin/rails credentials:edit`.""", cat="docs"),
X("""vault kv put secret/payments stripe_key=⟦API_KEY:stripe⟧ webhook_secret=⟦API_KEY:rs32⟧""", cat="config_cli"),
X("""export PGPASSWORD='⟦PASSWORD:pw_sym⟧'\npsql -h ⟦host⟧ -U analytics_ro -d analytics -c 'select count(*) from events'""", cat="config_cli"),
X("""cassandra.yaml:\ncluster_name: 'Prod Cluster'\nnum_tokens: 16\nseed_provider:\n  - class_name: org.apache.cassandra.locator.SimpleSeedProvider\n    parameters:\n      - seeds: "⟦IP_ADDRESS:ip_priv⟧,⟦IP_ADDRESS:ip_priv⟧\"""", cat="config_yaml"),
X("""[credentials]\ngcs_service_account = /etc/keys/sa.json\ntoken_uri = https://oauth2.googleapis.com/token\nscopes = https://www.googleapis.com/auth/cloud-platform""", cat="config_ini", note="Path to a key file, no secret."),
X("""client_id: 3f1c6e0a-8d5b-4a9e-9c1f-2b7d4e6a8c90\nclient_secret: ⟦API_KEY:azsecret⟧\ntenant_id: 7a2b9c4d-1e3f-4a5b-8c6d-0e1f2a3b4c5d""", cat="config_yaml", note="Azure AD client secret labelled; client/tenant GUIDs are identifiers, not secrets."),
X("""grafana.ini\n[security]\nadmin_user = admin\nadmin_password = ⟦PASSWORD:pw_word⟧\nsecret_key = ⟦API_KEY:rs24⟧""", cat="config_ini"),
X("""ENCRYPTION_KEY=⟦API_KEY:hex64⟧\nHMAC_SECRET=⟦API_KEY:urlsafe43⟧""", cat="config_env"),
X("""# .pypirc\n[pypi]\nusername = __token__\npassword = ⟦API_KEY:pypi⟧""", cat="config_ini"),
X("""webhooks:\n  slack: ⟦SLACK_TOKEN:slack_hook⟧\n  pagerduty_routing_key: ⟦API_KEY:hex32⟧""", cat="config_yaml", note="Slack incoming-webhook URL treated as SLACK_TOKEN."),
X("""Our INI has:\n[db]\npassword = ********\nIs it ok to leave the masked value in the repo?""", cat="config_question", note="Masked value."),
X("""redis.conf\nbind 127.0.0.1 ::1\nport 6379\nrequirepass ⟦PASSWORD:pw_rand⟧\nmaxmemory 2gb""", cat="config", note="Loopback addresses not labelled."),
X("""~/.netrc\nmachine api.heroku.com\n  login ⟦EMAIL:email_corp⟧\n  password ⟦API_KEY:uuidkey⟧""", cat="config", region="us", note="Heroku API token (UUID-shaped) used as netrc password: labelled API_KEY."),
]

common.GENS["npmtok"] = lambda c: "npm_" + rs(36)
common.GENS["gapi"] = lambda c: "AIza" + rs(35, B62 + "-_")
common.GENS["mailgun"] = lambda c: "key-" + common.hexs(32)
common.GENS["sendgrid"] = lambda c: "SG." + rs(22, B62 + "-_") + "." + rs(43, B62 + "-_")
common.GENS["azsecret"] = lambda c: rs(3, B62) + "8Q~" + rs(34, B62 + "~._-")
common.GENS["md5pw"] = lambda c: "md5" + common.hexs(32)
common.GENS["uuidkey"] = lambda c: common.GENS["uuid"](c)
common.GENS["whsec"] = lambda c: "whsec_" + rs(32)
common.GENS["pypi"] = lambda c: "pypi-AgEIcHlwaS5vcmc" + rs(60, B62 + "-_")

E += [
X("""odbc.ini\n[ReportingDSN]\nDriver=ODBC Driver 18 for SQL Server\nServer=⟦host⟧\nDatabase=reporting\nUID=rpt_reader\nPWD=⟦PASSWORD:pw_rand⟧""", cat="config_ini"),
X("""conn_str = "⟦CONNECTION_STRING:cs_odbc⟧\"""", cat="config_python"),
X("""ORACLE_CONN=⟦CONNECTION_STRING:cs_oracle⟧""", cat="config_env"),
X("""git remote -v\norigin\t⟦CONNECTION_STRING:cs_git@g⟧ (fetch)\norigin\t⟦CONNECTION_STRING:cs_git@g⟧ (push)""", cat="config_cli", note="HTTPS remote with embedded token: the whole credential-bearing URL is CONNECTION_STRING."),
X("""backup:\n  target: ⟦CONNECTION_STRING:cs_sftp⟧\n  schedule: "0 2 * * *"\n  retention_days: 35""", cat="config_yaml"),
X("""CELERY_BROKER_URL=⟦CONNECTION_STRING:cs_amqp⟧\nCELERY_RESULT_BACKEND=⟦CONNECTION_STRING:cs_redis⟧""", cat="config_env"),
X("""# Prometheus remote write\nremote_write:\n  - url: https://prometheus-prod-10.grafana.net/api/prom/push\n    basic_auth:\n      username: ⟦n6⟧\n      password: ⟦API_KEY:glc⟧""", cat="config_yaml", note="Grafana Cloud token used as basic-auth password: an API token, labelled API_KEY."),
X("""[server]\nhttp_port = 3000\ndomain = grafana.ops.meridianhq.com\nroot_url = %(protocol)s://%(domain)s/\n[auth.anonymous]\nenabled = false""", cat="config_ini"),
X("""provider "aws" {\n  region     = "us-west-2"\n  access_key = "⟦AWS_ACCESS_KEY:aws_ak⟧"\n  secret_key = "⟦AWS_SECRET_KEY:aws_sk⟧"\n}""", cat="config_hcl"),
X("""# Cargo config for the private registry\n[registries.meridian]\nindex = "sparse+https://crates.meridianhq.com/index/"\ntoken = "⟦API_KEY:rs40⟧\"""", cat="config_toml"),
X("""{\n  "name": "billing-ui",\n  "version": "⟦ver⟧",\n  "scripts": {"build": "vite build", "test": "vitest run"},\n  "dependencies": {"react": "^18.2.0", "zod": "^3.22.4"}\n}""", cat="config_json"),
X("""OPENAI_API_KEY=⟦OPENAI_KEY:openai⟧\nANTHROPIC_API_KEY=sk-ant-api03-⟦rs40⟧⟦rs40⟧-⟦rs24⟧AA""", cat="config_env", note="See fix: Anthropic key labelled API_KEY as whole."),
X("""cloudflare:\n  zone_id: ⟦hex32⟧\n  api_token: ⟦API_KEY:rs40⟧""", cat="config_yaml", note="Zone id is an identifier, not a secret."),
X("""ssh config:\nHost bastion\n  HostName ⟦IP_ADDRESS:ip_pub⟧\n  User deploy\n  IdentityFile ~/.ssh/id_ed25519\n  ForwardAgent no""", cat="config_ssh"),
]
common.GENS["cs_odbc"] = lambda c: f"Driver={{ODBC Driver 18 for SQL Server}};Server=tcp:{R.choice(['sql01.prod.internal', 'crm-prod.database.windows.net'])},1433;Database=crm;Uid=crm_app;Pwd={common.password('rand').replace(';', '#')};Encrypt=yes;"
common.GENS["cs_oracle"] = lambda c: f"{R.choice(['hr_app', 'scott', 'erp'])}/{upw()}@//ora-prod.internal:1521/ORCLPDB1"
common.GENS["cs_git"] = lambda c: f"https://{R.choice(['x-access-token', 'oauth2', 'ci-bot'])}:{common.gh('ghp_')}@github.com/meridian/{R.choice(['billing', 'infra', 'web'])}.git"
common.GENS["cs_sftp"] = lambda c: f"sftp://backup:{upw()}@{R.choice(['nas01.corp.internal', 'files.meridianhq.com'])}:22/srv/backups"
common.GENS["glc"] = lambda c: "glc_" + common.rs(80, B62 + "=")
for e in E:
    if "sk-ant-api03-" in e["t"]:
        e["t"] = e["t"].replace("sk-ant-api03-⟦rs40⟧⟦rs40⟧-⟦rs24⟧AA", "⟦API_KEY:anth⟧")
        e["note"] = "Anthropic key has no dedicated type: API_KEY."
common.GENS["anth"] = lambda c: "sk-ant-api03-" + common.rs(93, B62 + "-_") + "AA"
