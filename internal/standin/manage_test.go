package standin

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
)

// listingWriter notes, at each status line written, whether the server
// lists the model.
type listingWriter struct {
	*httptest.ResponseRecorder
	s      *Server
	model  string
	listed []bool
}

func (w *listingWriter) Write(b []byte) (int, error) {
	w.listed = append(w.listed, slices.Contains(w.s.Models(), w.model))
	return w.ResponseRecorder.Write(b)
}

// TestCreateListsModelOnceWritten: as in Ollama, a model being created is
// listed (with its new digest) only once its manifest is written: every
// status before "success" sees the old state.
func TestCreateListsModelOnceWritten(t *testing.T) {
	s := New(Options{})
	w := &listingWriter{ResponseRecorder: httptest.NewRecorder(), s: s, model: "fresh:latest"}
	r := httptest.NewRequest(http.MethodPost, "/api/create", strings.NewReader(`{"model":"fresh","from":"tiny","system":"new"}`))
	s.ServeHTTP(w, r)
	lines := bytes.Split(bytes.TrimSpace(w.Body.Bytes()), []byte("\n"))
	if w.Code != 200 || len(lines) < 3 || !bytes.Contains(lines[len(lines)-1], []byte(`"success"`)) {
		t.Fatalf("create: %d %s", w.Code, w.Body)
	}
	for i, l := range w.listed {
		if want := i == len(w.listed)-1; l != want {
			t.Errorf("status %d (%s): listed %v, want %v", i, lines[min(i, len(lines)-1)], l, want)
		}
	}
}
