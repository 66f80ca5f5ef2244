package dialect

import (
	"encoding/json"
	"reflect"
	"testing"
)

var jsonSamples = []string{
	``, ` `, `{}`, `[]`, `""`, `0`, `-0`, `01`, `1.`, `1.5e`, `1e+5`, `-`, `.5`, `1.5E-3`,
	`true`, `tru`, `false`, `null`, `nul`, `nullx`, `{"a":1,}`, `[1,]`, `[1 2]`, `{"a" 1}`,
	`{"a":1}{}`, `{"a":[1,{"b":"c"}],"d":null}`, "\"a\x01\"", `"\u12"`, `"\u00e9\ud83d\ude00"`,
	`"\x"`, `"\/\b\f\n\r\t\\\""`, "\"\xff\xfe\"", "\t{ \"a\" : [ ] }\r\n", `{1:2}`, `"abc`,
	`[[[[[[[[[[]]]]]]]]]]`, `{"a":"\\"}`, `{"a":"\\\""}`,
}

func TestValidJSON(t *testing.T) {
	for _, s := range jsonSamples {
		if got, want := validJSON([]byte(s)), json.Valid([]byte(s)); got != want {
			t.Errorf("validJSON(%q) = %v, want %v", s, got, want)
		}
	}
	deep := make([]byte, 0, 2*maxDepth+2)
	for i := 0; i <= maxDepth; i++ {
		deep = append(deep, '[')
	}
	for i := 0; i <= maxDepth; i++ {
		deep = append(deep, ']')
	}
	if got, want := validJSON(deep), json.Valid(deep); got != want {
		t.Errorf("validJSON(%d nested arrays) = %v, want %v", maxDepth+1, got, want)
	}
	if got, want := validJSON(deep[1:len(deep)-1]), json.Valid(deep[1:len(deep)-1]); got != want {
		t.Errorf("validJSON(%d nested arrays) = %v, want %v", maxDepth, got, want)
	}
}

func TestUnquote(t *testing.T) {
	for _, s := range []string{
		`""`, `"plain"`, `"a\"b\\c\/d"`, `"\b\f\n\r\t"`, `"\u00e9"`, `"\ud83d\ude00"`,
		`"\ud83d"`, `"\ude00"`, `"\ud83dx"`, `"\ud83d\u0041"`, `"\ud83d\ud83d\ude00"`, "\"\xff\"", "\"a\xe2\x82\"",
		`"\u0000"`, `"\uFFFD"`,
	} {
		var want string
		if err := json.Unmarshal([]byte(s), &want); err != nil {
			t.Fatalf("json.Unmarshal(%q): %v", s, err)
		}
		if got := unquote([]byte(s)); got != want {
			t.Errorf("unquote(%q) = %q, want %q", s, got, want)
		}
	}
}

func TestJSONInt(t *testing.T) {
	tests := []struct {
		in   string
		want int64
		ok   bool
	}{
		{"0", 0, true}, {"42", 42, true}, {"-7", -7, true}, {"3.0", 3, true}, {"1e3", 1000, true},
		{"1.5", 0, false}, {"", 0, false}, {`"4"`, 0, false}, {"null", 0, false},
		{"123456789012345678", 123456789012345678, true}, {"9223372036854775807", 0, false}, {"1e400", 0, false},
	}
	for _, tt := range tests {
		got, ok := jsonInt([]byte(tt.in))
		if got != tt.want || ok != tt.ok {
			t.Errorf("jsonInt(%q) = %d, %v, want %d, %v", tt.in, got, ok, tt.want, tt.ok)
		}
	}
}

func TestIterators(t *testing.T) {
	obj := []byte(` { "a" : 1 , "b\u0063" : "x,}\"" , "d" : { "e" : [ 1 , "]" ] } , "f":[] } `)
	var keys, vals []string
	var kb keyBuf
	m := objectMembers(obj)
	for k, v, ok := m.next(); ok; k, v, ok = m.next() {
		keys = append(keys, string(kb.name(k)))
		vals = append(vals, string(v))
	}
	if want := []string{"a", "bc", "d", "f"}; !reflect.DeepEqual(keys, want) {
		t.Errorf("keys = %q, want %q", keys, want)
	}
	if want := []string{"1", `"x,}\""`, `{ "e" : [ 1 , "]" ] }`, "[]"}; !reflect.DeepEqual(vals, want) {
		t.Errorf("values = %q, want %q", vals, want)
	}
	var els []string
	e := arrayElements([]byte(`[ 1, "a\\", [2,3] ,{"x":"]"}, null ]`))
	for v, ok := e.next(); ok; v, ok = e.next() {
		els = append(els, string(v))
	}
	if want := []string{"1", `"a\\"`, "[2,3]", `{"x":"]"}`, "null"}; !reflect.DeepEqual(els, want) {
		t.Errorf("elements = %q, want %q", els, want)
	}
	// On unchecked input the iterators must still end (the fuzzer once
	// found "[}" spinning forever).
	for _, v := range []string{"[}", "[]]", "[,", "[\"", "{\"a\":}", "{\"a\"", "[1 2}"} {
		e := arrayElements([]byte(v))
		for i := 0; ; i++ {
			if _, ok := e.next(); !ok {
				break
			}
			if i > len(v) {
				t.Fatalf("arrayElements(%q) does not end", v)
			}
		}
		m := objectMembers([]byte(v))
		for i := 0; ; i++ {
			if _, _, ok := m.next(); !ok {
				break
			}
			if i > len(v) {
				t.Fatalf("objectMembers(%q) does not end", v)
			}
		}
	}
	for _, v := range []string{"", "[]", "5", `"s"`} {
		m := objectMembers([]byte(v))
		if _, _, ok := m.next(); ok {
			t.Errorf("objectMembers(%q) yielded a member", v)
		}
	}
}
