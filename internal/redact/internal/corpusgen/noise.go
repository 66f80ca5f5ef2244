package corpusgen

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// noise generates a value that is not sensitive but may look it.
func (g *gen) noise(kind, variant string) string {
	switch kind {
	case "first":
		return g.first()
	case "last":
		return g.last()
	case "name":
		return g.first() + " " + g.last()
	case "company":
		return g.pick(companies...)
	case "city":
		return g.pick(cities...)
	case "product":
		return g.pick("Pro Plan", "Starter", "Enterprise", "Widget X200", "Cloud Backup", "Team seats", "API credits")
	case "int":
		return strconv.Itoa(g.n(1, 99999))
	case "small":
		return strconv.Itoa(g.n(1, 99))
	case "int6":
		return g.digits(6)
	case "digits":
		n, _ := strconv.Atoi(variant)
		return strconv.Itoa(g.n(1, 9)) + g.digits(n-1)
	case "uuid":
		h := g.chars(32, hexSet)
		return h[:8] + "-" + h[8:12] + "-4" + h[13:16] + "-" + g.pick("8", "9", "a", "b") + h[17:20] + "-" + h[20:]
	case "githash":
		return g.chars(40, hexSet)
	case "shorthash":
		return g.chars(7, hexSet)
	case "sha256":
		return g.chars(64, hexSet)
	case "hex16":
		return g.chars(16, hexSet)
	case "semver":
		return fmt.Sprintf("%d.%d.%d", g.n(0, 20), g.n(0, 40), g.n(0, 30))
	case "version4":
		return fmt.Sprintf("%d.%d.%d.%d", g.n(1, 12), g.n(0, 9), g.n(0, 255), g.n(0, 200))
	case "chromever":
		return fmt.Sprintf("%d.0.%d.%d", g.n(100, 130), g.n(5000, 6999), g.n(10, 250))
	case "order":
		switch g.r.IntN(5) {
		case 0:
			return "#" + g.digits(7)
		case 1:
			return "ORD-" + strconv.Itoa(g.n(2019, 2026)) + "-" + g.digits(6)
		case 2:
			return g.chars(8, upper+digitSet)
		case 3:
			return g.digits(3) + "-" + g.digits(7) + "-" + g.digits(7)
		}
		return strconv.Itoa(g.n(1, 9)) + g.digits(9)
	case "isbn13":
		body := g.pick("978", "979") + g.digits(9)
		sum := 0
		for i := 0; i < 12; i++ {
			v := int(body[i] - '0')
			if i%2 == 1 {
				v *= 3
			}
			sum += v
		}
		num := body + strconv.Itoa((10-sum%10)%10)
		a := g.n(1, 2)
		b := g.n(2, 5)
		return num[:3] + "-" + num[3:3+a] + "-" + num[3+a:3+a+b] + "-" + num[3+a+b:12] + "-" + num[12:]
	case "isbn10":
		for {
			body := g.digits(9)
			sum := 0
			for i := 0; i < 9; i++ {
				sum += (10 - i) * int(body[i]-'0')
			}
			c := (11 - sum%11) % 11
			if c == 10 {
				continue
			}
			num := body + strconv.Itoa(c)
			return num[:1] + "-" + num[1:4] + "-" + num[4:9] + "-" + num[9:]
		}
	case "luhnbad16":
		for {
			body := g.pick("4", "5", "37", "6011") + g.digits(15)
			body = body[:16]
			if luhnDigit(body[:15]) != body[15] {
				if g.chance(0.5) {
					return body[:4] + " " + body[4:8] + " " + body[8:12] + " " + body[12:]
				}
				return body
			}
		}
	case "noissuer16":
		body := g.pick("9", "1", "8", "0") + g.digits(14)
		return body + string(luhnDigit(body))
	case "badssn":
		return g.pick("000", "666", strconv.Itoa(g.n(900, 999))) + "-" + g.digits(2) + "-" + g.digits(4)
	case "famousssn":
		return g.pick("078-05-1120", "123-45-6789", "219-09-9999")
	case "timestamp":
		t := g.time()
		switch g.r.IntN(6) {
		case 0:
			return t.Format("2006-01-02T15:04:05Z")
		case 1:
			return t.Format("2006-01-02 15:04:05")
		case 2:
			return t.Format("2006-01-02T15:04:05.000-07:00")
		case 3:
			return t.Format("[02/Jan/2006:15:04:05 -0700]")
		case 4:
			return strconv.FormatInt(t.Unix(), 10)
		}
		return t.Format(time.RFC1123)
	case "unixms":
		return strconv.FormatInt(g.time().UnixMilli(), 10)
	case "date":
		t := g.time()
		return t.Format(g.pick("01/02/2006", "2006-01-02", "January 2, 2006", "02.01.2006", "2 Jan 2006", "2006/01/02", "Mon, 02 Jan 2006"))
	case "time":
		return fmt.Sprintf("%02d:%02d", g.n(0, 23), g.n(0, 59))
	case "duration":
		return fmt.Sprintf("%02d:%02d:%02d", g.n(0, 3), g.n(0, 59), g.n(0, 59))
	case "invoice":
		return g.pick("INV-", "RE-", "F", "INV") + strconv.Itoa(g.n(2020, 2026)) + g.pick("-", "/", "") + g.digits(g.n(4, 6))
	case "tracking":
		switch g.r.IntN(4) {
		case 0:
			return "1Z" + g.chars(6, upper+digitSet) + g.digits(10)
		case 1:
			return g.digits(12)
		case 2:
			n := g.pick("9400", "9205", "9361", "9270") + g.digits(18)
			return n[:4] + " " + n[4:8] + " " + n[8:12] + " " + n[12:16] + " " + n[16:20] + " " + n[20:]
		}
		return g.digits(10)
	case "hexcolor":
		if g.chance(0.2) {
			return "#" + g.chars(3, hexSet)
		}
		return "#" + g.chars(6, hexSet)
	case "port":
		if g.chance(0.5) {
			return g.pick("80", "443", "5432", "6379", "8080", "3000", "27017", "9090", "3306", "8443")
		}
		return strconv.Itoa(g.n(1024, 65535))
	case "math":
		a, b := g.n(2, 999), g.n(2, 999)
		switch g.r.IntN(6) {
		case 0:
			return fmt.Sprintf("%d + %d = %d", a, b, a+b)
		case 1:
			return fmt.Sprintf("%d * %d = %d", a, b, a*b)
		case 2:
			return fmt.Sprintf("%d/%d", a, b)
		case 3:
			return fmt.Sprintf("x^2 - %dx + %d = 0", a, b)
		case 4:
			return fmt.Sprintf("%d.%d", a, g.n(10000, 99999))
		}
		return fmt.Sprintf("(%d - %d) / %d", a, b, g.n(2, 9))
	case "amount":
		switch g.r.IntN(4) {
		case 0:
			return fmt.Sprintf("$%d,%03d.%02d", g.n(1, 99), g.n(0, 999), g.n(0, 99))
		case 1:
			return fmt.Sprintf("€ %d,%02d", g.n(1, 9999), g.n(0, 99))
		case 2:
			return fmt.Sprintf("%d %03d,%02d €", g.n(1, 99), g.n(0, 999), g.n(0, 99))
		}
		return fmt.Sprintf("USD %d,%03d", g.n(1, 999), g.n(0, 999))
	case "mmyy":
		return fmt.Sprintf("%02d/%02d", g.n(1, 12), g.n(26, 31))
	case "host":
		return g.pick("db.internal", "api.example.com", "prod-db-01.corp.internal", "cache.svc.cluster.local",
			"mq.example.net", "localhost", "db-replica.eu-west-1.rds.amazonaws.com")
	case "user":
		return g.pick("app", "svc_orders", "admin", "root", "reporting", "etl_user", "postgres", "sa")
	case "db":
		return g.pick("orders", "ledger", "app", "analytics", "crm", "billing")
	case "handle":
		return "@" + strings.ToLower(ascii.Replace(g.first())) + g.pick("_dev", "42", "", "_ops")
	case "percent":
		return strconv.Itoa(g.n(1, 100)) + "%"
	case "mac":
		h := g.chars(12, "0123456789ABCDEF")
		return h[:2] + ":" + h[2:4] + ":" + h[4:6] + ":" + h[6:8] + ":" + h[8:10] + ":" + h[10:]
	case "coords":
		return fmt.Sprintf("%d.%04d, %d.%04d", g.n(-60, 70), g.n(0, 9999), g.n(-150, 150), g.n(0, 9999))
	case "zip":
		return g.digits(5)
	case "resolution":
		return g.pick("1920x1080", "2560x1440", "3840x2160", "1280x720")
	case "badiban":
		v := strings.ReplaceAll(g.iban("compact"), " ", "")
		c, _ := strconv.Atoi(v[2:4])
		c = (c+g.n(1, 50))%97 + 2
		return fmt.Sprintf("%s%02d%s", v[:2], c, v[4:])
	case "badphone":
		return g.pick("(123) 456-7890", "000-000-0000", "555-555-5555", "(012) 345-6789", "111-111-1111", "123-456-7890")
	case "loopback":
		return g.pick("127.0.0.1", "0.0.0.0", "localhost", "::1")
	case "mask":
		return g.pick("255.255.255.0", "255.255.0.0", "255.255.255.255", "255.255.252.0")
	case "npm":
		return g.pick("lodash", "react", "express", "@types/node", "typescript", "vite") + "@" + g.noise("semver", "")
	case "img":
		return g.pick("logo", "icon", "avatar", "hero", "btn-close") + "@" + g.pick("2x", "3x") + "." + g.pick("png", "jpg", "webp")
	case "line":
		return g.pick("main.go", "server.py", "App.java", "index.ts", "handler.rs") + ":" + strconv.Itoa(g.n(1, 2000))
	case "float":
		return fmt.Sprintf("%d.%d", g.n(0, 999), g.n(0, 999999))
	case "sku":
		return g.chars(3, upper) + "-" + g.digits(4) + "-" + g.chars(2, upper)
	}
	panic("unknown noise " + kind)
}

func (g *gen) time() time.Time {
	return time.Date(2019, 1, 1, 0, 0, 0, 0, time.UTC).Add(time.Duration(g.r.Int64N(int64(7 * 365 * 24 * time.Hour))))
}
