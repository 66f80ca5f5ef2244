package standin

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
)

// The model-management endpoints: listing, showing, pulling, pushing,
// creating, copying and deleting models.

func (s *Server) handleTags(w http.ResponseWriter, r *http.Request, _ string) {
	s.list(nativeSink{w})
}

// list answers /api/tags.
func (s *Server) list(out sink) {
	resp := listResponse{Models: []listModel{}}
	for _, m := range s.sortedModels() {
		resp.Models = append(resp.Models, listModel{
			Name:       m.name.displayShortest(),
			Model:      m.name.displayShortest(),
			ModifiedAt: m.modified,
			Size:       m.size,
			Digest:     m.digest,
			Details:    details(""),
		})
	}
	out.reply(http.StatusOK, resp)
}

func (s *Server) handleShow(w http.ResponseWriter, r *http.Request, _ string) {
	var req showRequest
	if err := decodeJSON(r.Body, &req); err != nil {
		writeJSON(w, http.StatusBadRequest, errorBody{bindError(err)})
		return
	}
	s.show(&req, nativeSink{w})
}

// show answers /api/show.
func (s *Server) show(req *showRequest, out sink) {
	if req.Model == "" {
		req.Model = req.Name
	}
	if req.Model == "" {
		out.reply(http.StatusBadRequest, errorBody{"model is required"})
		return
	}
	name := parseName(req.Model)
	if !name.valid() {
		out.reply(http.StatusBadRequest, errorBody{"invalid model name"})
		return
	}
	m := s.lookup(name)
	if m == nil {
		out.reply(http.StatusNotFound, errorBody{fmt.Sprintf("model '%s' not found", req.Model)})
		return
	}
	out.reply(http.StatusOK, showResponse{
		Modelfile:    m.modelfile(),
		Parameters:   m.parameters(),
		Template:     m.template,
		System:       m.system,
		Details:      details(blobPath(tinyBlob)),
		ModelInfo:    modelInfo(),
		Tensors:      tensors(),
		Capabilities: m.capabilities(),
		ModifiedAt:   m.modified,
	})
}

func (s *Server) handlePs(w http.ResponseWriter, r *http.Request, _ string) {
	now := s.now()
	resp := struct {
		Models []processModel `json:"models"`
	}{Models: []processModel{}}
	s.mu.Lock()
	for key, exp := range s.loaded {
		m := s.models[key]
		if m == nil || exp.Before(now) {
			delete(s.loaded, key)
			continue
		}
		resp.Models = append(resp.Models, processModel{
			Name:          m.name.displayShortest(),
			Model:         m.name.displayShortest(),
			Size:          loadedSize,
			Digest:        m.digest,
			Details:       details(""),
			ExpiresAt:     exp,
			ContextLength: contextLength,
		})
	}
	s.mu.Unlock()
	slices.SortStableFunc(resp.Models, func(a, b processModel) int {
		if c := b.ExpiresAt.Compare(a.ExpiresAt); c != 0 {
			return c
		}
		return strings.Compare(a.Name, b.Name)
	})
	writeJSON(w, http.StatusOK, resp)
}

// failure is an error in a progress stream, with the status to give it if
// nothing was streamed before it.
type failure struct {
	status int
	msg    string
}

// A step is an effect of a model operation that takes place at its point in
// the progress, between the statuses around it; it writes nothing.
type step func()

// progress writes the progress of a model operation as Ollama does:
// streamed as NDJSON, or, if stream is false, only the last status.
func (s *Server) progress(ctx context.Context, items []any, stream bool, out sink) {
	d := s.opts.TokenDelay
	if !stream {
		out.header().Set("Content-Type", "application/json")
		var last progressResponse
		for i, it := range items {
			if f, ok := it.(step); ok {
				f()
				continue
			}
			if i > 0 && !pause(ctx, d) {
				out.reply(http.StatusInternalServerError, errorBody{errCanceled})
				return
			}
			switch it := it.(type) {
			case progressResponse:
				last = it
			case failure:
				out.reply(cmp.Or(it.status, http.StatusInternalServerError), errorBody{it.msg})
				return
			}
		}
		out.reply(http.StatusOK, last)
		return
	}
	out.header().Set("Content-Type", "application/x-ndjson")
	for i, it := range items {
		if f, ok := it.(step); ok {
			f()
			continue
		}
		if i > 0 && !pause(ctx, d) {
			return
		}
		if f, ok := it.(failure); ok {
			if i == 0 {
				out.header().Set("Content-Type", "application/json")
				out.reply(cmp.Or(f.status, http.StatusInternalServerError), errorBody{f.msg})
				return
			}
			out.frame(errorBody{f.msg})
			return
		}
		if !out.frame(it) {
			return
		}
	}
}

// pullItems returns the progress of pulling m.
func pullItems(m *model) []any {
	items := []any{progressResponse{Status: "pulling manifest"}}
	for _, l := range m.layers() {
		items = append(items, progressResponse{Status: "pulling " + l.digest[:12], Digest: "sha256:" + l.digest, Total: l.size, Completed: l.size})
	}
	return append(items,
		progressResponse{Status: "verifying sha256 digest"},
		progressResponse{Status: "writing manifest"},
		progressResponse{Status: "success"})
}

// errPullManifest is what pulling a model the registry lacks gives.
const errPullManifest = "pull model manifest: file does not exist"

func (s *Server) handlePull(w http.ResponseWriter, r *http.Request, _ string) {
	var req pullRequest
	if err := decodeJSON(r.Body, &req); err != nil {
		writeJSON(w, http.StatusBadRequest, errorBody{bindError(err)})
		return
	}
	name := parseName(cmp.Or(req.Model, req.Name))
	if !name.valid() {
		writeJSON(w, http.StatusBadRequest, errorBody{"invalid model name"})
		return
	}
	items := []any{progressResponse{Status: "pulling manifest"}, failure{msg: errPullManifest}}
	if m := s.lookup(name); m != nil {
		items = pullItems(m)
	}
	s.progress(r.Context(), items, req.Stream == nil || *req.Stream, nativeSink{w})
}

func (s *Server) handlePush(w http.ResponseWriter, r *http.Request, _ string) {
	var req pushRequest
	if err := decodeJSON(r.Body, &req); err != nil {
		writeJSON(w, http.StatusBadRequest, errorBody{bindError(err)})
		return
	}
	mname := cmp.Or(req.Model, req.Name)
	if mname == "" {
		writeJSON(w, http.StatusBadRequest, errorBody{"model is required"})
		return
	}
	name := parseName(mname)
	items := []any{progressResponse{Status: "retrieving manifest"}}
	if m := s.lookup(name); m != nil {
		for _, l := range m.layers() {
			items = append(items, progressResponse{Status: "pushing " + l.digest[:12], Digest: "sha256:" + l.digest, Total: l.size, Completed: l.size})
		}
		items = append(items, progressResponse{Status: "pushing manifest"}, progressResponse{Status: "success"})
	} else {
		path := fmt.Sprintf("%s/manifests/%s/%s/%s/%s", modelsDir, name.host, name.namespace, name.model, name.tag)
		items = append(items, progressResponse{Status: "couldn't retrieve manifest"},
			failure{msg: fmt.Sprintf("open %s: no such file or directory", path)})
	}
	s.progress(r.Context(), items, req.Stream == nil || *req.Stream, nativeSink{w})
}

func (s *Server) handleCreate(w http.ResponseWriter, r *http.Request, _ string) {
	var req createRequest
	if err := decodeJSON(r.Body, &req); err != nil {
		writeJSON(w, http.StatusBadRequest, errorBody{bindError(err)})
		return
	}
	for f := range req.Files {
		if strings.HasPrefix(f, "/") || strings.Contains("/"+f+"/", "/../") || f == "" {
			writeJSON(w, http.StatusBadRequest, errorBody{"file path must be relative"})
			return
		}
	}
	name := parseName(cmp.Or(req.Model, req.Name))
	if !name.valid() {
		writeJSON(w, http.StatusBadRequest, errorBody{"invalid model name"})
		return
	}
	stream := req.Stream == nil || *req.Stream
	var src *model
	var items []any
	switch {
	case req.From != "":
		from := parseName(req.From)
		if !from.valid() {
			items = []any{failure{http.StatusBadRequest, "invalid model name"}}
			break
		}
		if src = s.lookup(from); src == nil {
			items = []any{progressResponse{Status: "pulling manifest"}, failure{msg: errPullManifest}}
		}
	case len(req.Files) > 0:
		// The stand-in has only the tiny weights: every GGUF is those.
		src = s.lookup(parseName("tiny"))
		if src == nil {
			src = builtinModels()[0]
		}
		items = []any{progressResponse{Status: "parsing GGUF"}}
	default:
		items = []any{failure{http.StatusBadRequest, "neither 'from' or 'files' was specified"}}
	}
	if src == nil {
		s.progress(r.Context(), items, stream, nativeSink{w})
		return
	}

	m := &model{name: name, kind: src.kind, size: src.size, modified: s.now(),
		template: cmp.Or(req.Template, src.template), system: cmp.Or(req.System, src.system), params: src.params}
	if len(req.Parameters) > 0 {
		m.params = nil
		keys := make([]string, 0, len(req.Parameters))
		for k := range req.Parameters {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		for _, k := range keys {
			m.params = append(m.params, [2]string{k, paramText(req.Parameters[k])})
		}
	}
	m.digest = src.digest
	if m.template != src.template || m.system != src.system || !slices.Equal(m.params, src.params) {
		m.digest = madeUpDigest(src.digest, m.template, m.system, m.parameters())
	}
	m.size += int64(len(m.system) - len(src.system) + len(m.template) - len(src.template))
	srcLayers := src.layers()
	for i, l := range m.layers() {
		status := "using existing layer sha256:"
		if i >= len(srcLayers) || srcLayers[i].digest != l.digest {
			status = "creating new layer sha256:"
		}
		items = append(items, progressResponse{Status: status + l.digest})
	}
	// As in Ollama, the model exists (and /api/tags lists it, digest and
	// all) once its manifest is written, at the end of the progress.
	items = append(items, progressResponse{Status: "writing manifest"}, step(func() {
		s.mu.Lock()
		s.models[m.key()] = m
		s.mu.Unlock()
	}), progressResponse{Status: "success"})
	s.progress(r.Context(), items, stream, nativeSink{w})
}

// paramText formats a parameter value as a Modelfile does.
func paramText(v any) string {
	switch v := v.(type) {
	case string:
		return v
	case []any:
		var parts []string
		for _, p := range v {
			parts = append(parts, paramText(p))
		}
		return strings.Join(parts, " ")
	default:
		b, _ := json.Marshal(v)
		return string(bytes.Trim(b, `"`))
	}
}

func (s *Server) handleCopy(w http.ResponseWriter, r *http.Request, _ string) {
	var req copyRequest
	if err := decodeJSON(r.Body, &req); err != nil {
		writeJSON(w, http.StatusBadRequest, errorBody{bindError(err)})
		return
	}
	src := parseName(req.Source)
	if !src.valid() {
		writeJSON(w, http.StatusBadRequest, errorBody{fmt.Sprintf("source %q is invalid", req.Source)})
		return
	}
	dst := parseName(req.Destination)
	if !dst.valid() {
		writeJSON(w, http.StatusBadRequest, errorBody{fmt.Sprintf("destination %q is invalid", req.Destination)})
		return
	}
	m := s.lookup(src)
	if m == nil {
		writeJSON(w, http.StatusNotFound, errorBody{fmt.Sprintf("model %q not found", req.Source)})
		return
	}
	c := *m
	c.name = dst
	c.modified = s.now()
	s.mu.Lock()
	s.models[c.key()] = &c
	s.mu.Unlock()
}

func (s *Server) handleDelete(w http.ResponseWriter, r *http.Request, _ string) {
	var req deleteRequest
	if err := decodeJSON(r.Body, &req); err != nil {
		writeJSON(w, http.StatusBadRequest, errorBody{bindError(err)})
		return
	}
	given := cmp.Or(req.Model, req.Name)
	name := parseName(given)
	if !name.valid() {
		writeJSON(w, http.StatusBadRequest, errorBody{fmt.Sprintf("name %q is invalid", given)})
		return
	}
	s.mu.Lock()
	_, ok := s.models[name.key()]
	delete(s.models, name.key())
	delete(s.loaded, name.key())
	s.mu.Unlock()
	if !ok {
		writeJSON(w, http.StatusNotFound, errorBody{fmt.Sprintf("model '%s' not found", given)})
	}
}
