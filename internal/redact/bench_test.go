package redact

import (
	"strings"
	"testing"
)

// benchTexts returns prompts built from the corpus: "dense" joins every
// text (about one sensitive value per 120 bytes, far more than real
// traffic), "typical" joins one labelled text to nine look-alike ones (one
// value per 1.2 KB), each prompt about 4 KB.
func benchTexts(b *testing.B) (dense, typical []string) {
	var pos, neg []string
	for _, ex := range loadCorpus(b) {
		if len(ex.Entities) > 0 {
			pos = append(pos, ex.Text)
		} else {
			neg = append(neg, ex.Text)
		}
	}
	pack := func(texts []string) []string {
		var out []string
		var cur strings.Builder
		for _, t := range texts {
			cur.WriteString(t)
			cur.WriteString("\n\n")
			if cur.Len() >= 4096 {
				out = append(out, cur.String())
				cur.Reset()
			}
		}
		return out
	}
	var all []string
	all = append(all, pos...)
	all = append(all, neg...)
	dense = pack(all)
	var mixed []string
	for i, p := 0, 0; i < len(neg); i++ {
		if i%9 == 0 && p < len(pos) {
			mixed = append(mixed, pos[p])
			p++
		}
		mixed = append(mixed, neg[i])
	}
	return dense, pack(append(mixed, mixed...))
}

func BenchmarkRedact(b *testing.B) {
	r, err := New(Config{})
	if err != nil {
		b.Fatal(err)
	}
	dense, typical := benchTexts(b)
	for _, bc := range []struct {
		name  string
		texts []string
	}{{"typical", typical}, {"dense", dense}} {
		n := 0
		for _, t := range bc.texts {
			n += len(t)
		}
		b.Run(bc.name, func(b *testing.B) {
			b.SetBytes(int64(n))
			b.ReportAllocs()
			for b.Loop() {
				for _, t := range bc.texts {
					r.Redact(t)
				}
			}
			b.ReportMetric(float64(len(bc.texts)), "prompts/op")
		})
	}
}
