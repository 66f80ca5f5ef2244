package gateway

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/aitrail/aitrail/internal/dialect"
	"github.com/aitrail/aitrail/internal/record"
	"github.com/aitrail/aitrail/internal/redact"
)

// follower follows a streamed answer frame by frame (dialect.Stream).
type follower interface {
	FrameLen(buf []byte) int
	Observe(frame []byte) (final bool)
	Result() dialect.Result
	Chunks() int
}

// maxFrame bounds a frame held while looking for its end; a longer run of
// bytes without a frame boundary is passed through unparsed.
const maxFrame = 16 << 20

var readBufs = sync.Pool{New: func() any { b := make([]byte, 32<<10); return &b }}

// outcome is what the gateway saw of the upstream's answer.
type outcome struct {
	status         string // record status
	upstreamStatus int
	result         dialect.Result
	errText        string // why the call failed, for Detail
	ttft           time.Duration
	rawLen         int64
	rawHash        record.Hash
	blocked        []redact.Type // types the policy blocks found in the answer
	rawBody        []byte        // a whole (non-streamed) answer, for the vault
	delivered      int64         // bytes of a stream the client got before its outcome was recorded
}

// forward sends the sealed request upstream and relays the answer.
func (s *Server) forward(w http.ResponseWriter, r *http.Request, c *call, raw []byte,
	newFollower func() follower, parse func(int, []byte) dialect.Result) {
	ctx, cancel := context.WithCancel(r.Context())
	defer cancel()
	resp, err := s.client.Do(s.upstreamRequest(ctx, r, raw))
	if err != nil {
		o := outcome{status: record.StatusError, errText: "upstream unreachable: " + upstreamErrText(err)}
		status := http.StatusBadGateway
		switch {
		case r.Context().Err() != nil:
			o.status, o.errText = record.StatusClientAborted, "client went away before the upstream answered"
		case errors.Is(err, context.DeadlineExceeded) || os.IsTimeout(err):
			status = http.StatusGatewayTimeout
			o.errText = "upstream did not answer within " + s.opts.Timeouts.UpstreamHeaders.String() + " (timeouts.upstream_headers)"
			s.metrics.UpstreamErrors.WithLabelValues("timeout").Inc()
		default:
			s.metrics.UpstreamErrors.WithLabelValues("connect").Inc()
		}
		msg := "aitrail: " + o.errText
		o.result.Error = o.errText
		o.rawHash, o.rawLen = s.commitBytes(c.nonce, []byte(msg))
		if err := s.recordResponse(r, c, &o); err != nil {
			msg, status = errAuditUnavailable, http.StatusServiceUnavailable
		}
		if o.status != record.StatusClientAborted {
			replyError(w, c.api, status, msg)
		}
		return
	}
	defer resp.Body.Close()
	ct, _, _ := mime.ParseMediaType(resp.Header.Get("Content-Type"))
	if resp.StatusCode/100 == 2 && (ct == "application/x-ndjson" || ct == "text/event-stream") {
		s.relayStream(w, r, c, resp, newFollower(), cancel)
		return
	}
	s.relayBuffered(w, r, c, resp, parse)
}

func (s *Server) commitBytes(nonce [16]byte, b []byte) (record.Hash, int64) {
	return s.committer.Commit(nonce, record.LabelRaw, b), int64(len(b))
}

// relayBuffered reads a whole answer, records it, then releases it.
func (s *Server) relayBuffered(w http.ResponseWriter, r *http.Request, c *call, resp *http.Response, parse func(int, []byte) dialect.Result) {
	o := outcome{upstreamStatus: resp.StatusCode}
	body, err := io.ReadAll(io.LimitReader(resp.Body, s.opts.MaxResponseBytes+1))
	status := resp.StatusCode
	switch {
	case err != nil && r.Context().Err() != nil:
		o.status, o.errText = record.StatusClientAborted, "client went away before the answer was complete"
	case err != nil:
		o.status, o.errText = record.StatusError, "upstream answer broken: "+err.Error()
		s.metrics.UpstreamErrors.WithLabelValues("body").Inc()
		status = http.StatusBadGateway
	case int64(len(body)) > s.opts.MaxResponseBytes:
		o.status, o.errText = record.StatusError, "upstream answer exceeds "+byteCount(s.opts.MaxResponseBytes)
		status = http.StatusBadGateway
	}
	if o.status == "" {
		o.result = parse(resp.StatusCode, body)
		o.status = record.StatusOK
		if resp.StatusCode/100 != 2 {
			o.status = record.StatusError
			s.metrics.UpstreamErrors.WithLabelValues("status").Inc()
		}
		o.rawHash, o.rawLen = s.commitBytes(c.nonce, body)
		o.rawBody = body
	} else {
		o.result.Error = o.errText
		body = dialect.ErrorBody(c.api, status, "aitrail: "+o.errText)
		o.rawHash, o.rawLen = s.commitBytes(c.nonce, body)
	}
	if err := s.recordResponse(r, c, &o); err != nil {
		replyError(w, c.api, http.StatusServiceUnavailable, errAuditUnavailable)
		return
	}
	if o.status == record.StatusClientAborted {
		return
	}
	if len(o.blocked) > 0 {
		replyError(w, c.api, http.StatusForbidden, "aitrail: the answer contains "+typesOf(o.blocked)+", which this gateway's policy does not let through")
		return
	}
	if o.errText != "" {
		replyError(w, c.api, status, "aitrail: "+o.errText)
		return
	}
	copyHeaders(w.Header(), resp.Header)
	w.Header().Set("Content-Length", itoa(int64(len(body))))
	w.WriteHeader(resp.StatusCode)
	w.Write(body)
}

// relayStream passes a streamed answer to the client frame by frame as it
// arrives, holds the final frame and everything after it, records the
// outcome, and then releases what it held.
func (s *Server) relayStream(w http.ResponseWriter, r *http.Request, c *call, resp *http.Response, f follower, cancel context.CancelFunc) {
	o := outcome{upstreamStatus: resp.StatusCode}
	rc := http.NewResponseController(w)
	copyHeaders(w.Header(), resp.Header)
	w.Header().Del("Content-Length")
	w.WriteHeader(resp.StatusCode)
	if err := rc.Flush(); err != nil {
		cancel()
	}

	mac := hmac.New(sha256.New, s.committer.Salt(c.nonce))
	mac.Write([]byte(record.LabelRaw))
	mac.Write([]byte{0})

	var idle atomic.Bool
	timer := time.AfterFunc(s.opts.Timeouts.StreamIdle, func() { idle.Store(true); cancel() })
	defer timer.Stop()

	// trim, if set, takes out of each frame what the gateway's own request
	// for usage added to it (dialect.AskUsage), so that the caller receives
	// what it would have without aitrail.
	var trim func([]byte) []byte
	if t, ok := f.(interface{ Trim([]byte) []byte }); ok && c.trimUsage {
		trim = t.Trim
	}

	bp := readBufs.Get().(*[]byte)
	defer readBufs.Put(bp)
	tmp := *bp
	var pending, held []byte
	final, aborted := false, false
	var delivered int64
	var rerr error
	for !aborted {
		var n int
		n, rerr = resp.Body.Read(tmp)
		timer.Reset(s.opts.Timeouts.StreamIdle)
		if n > 0 {
			pending = append(pending, tmp[:n]...)
			// Frames before the final one go out now, in one write; the
			// final frame and all after it are held. A trimmed frame is
			// moved down in place, so what goes out stays contiguous.
			start, writeEnd := 0, 0
			for {
				l := f.FrameLen(pending[start:])
				frame := pending[start : start+l]
				if l == 0 {
					if len(pending)-start <= maxFrame {
						break
					}
					l = len(pending) - start // not a frame we understand: pass it on
					frame = pending[start:]
				} else {
					had := f.Chunks()
					if f.Observe(frame) {
						final = true
					}
					if had == 0 && f.Chunks() > 0 && o.ttft == 0 {
						o.ttft = time.Since(c.start)
					}
					if trim != nil {
						frame = trim(frame)
					}
				}
				switch {
				case final:
					held = append(held, frame...)
				case writeEnd == start:
					writeEnd += len(frame)
				default:
					writeEnd += copy(pending[writeEnd:], frame)
				}
				start += l
			}
			if writeEnd > 0 {
				out := pending[:writeEnd]
				rc.SetWriteDeadline(time.Now().Add(s.opts.Timeouts.ClientWrite))
				if _, err := w.Write(out); err != nil {
					aborted = true
				} else if err := rc.Flush(); err != nil {
					aborted = true
				} else {
					mac.Write(out)
					delivered += int64(len(out))
				}
			}
			pending = append(pending[:0], pending[start:]...)
		}
		if rerr != nil {
			break
		}
	}
	cancel()
	if len(pending) > 0 && !aborted {
		// The upstream ended without terminating its last frame: it is
		// still the end of the answer.
		f.Observe(pending)
		if trim != nil {
			pending = trim(pending)
		}
		held = append(held, pending...)
	}
	o.result = f.Result()
	switch {
	case aborted || r.Context().Err() != nil:
		o.status, o.errText = record.StatusClientAborted, "client went away mid-stream"
	case idle.Load():
		o.status, o.errText = record.StatusError, "upstream silent for "+s.opts.Timeouts.StreamIdle.String()+" mid-stream (timeouts.stream_idle)"
		s.metrics.UpstreamErrors.WithLabelValues("timeout").Inc()
	case rerr != nil && rerr != io.EOF:
		o.status, o.errText = record.StatusError, "upstream stream broken: "+rerr.Error()
		s.metrics.UpstreamErrors.WithLabelValues("stream").Inc()
	case o.result.Error != "":
		o.status, o.errText = record.StatusError, o.result.Error
		s.metrics.UpstreamErrors.WithLabelValues("stream").Inc()
	case o.result.Malformed > 0:
		// One rule for both dialects: a stream with a frame that is not
		// JSON is not a whole answer, even if an end marker ([DONE],
		// done:true) follows. The client got exactly what the upstream
		// sent; the record says what was wrong with it.
		o.status, o.errText = record.StatusError, fmt.Sprintf("upstream sent %d malformed frame(s) mid-stream (not JSON)", o.result.Malformed)
		o.result.Error = o.errText
		s.metrics.UpstreamErrors.WithLabelValues("stream").Inc()
	case !o.result.Done:
		// Ollama's OpenAI layer ends a stream this way when the model
		// fails mid-answer: no error frame, no [DONE]. The client gets
		// exactly what the upstream sent; the record says it is cut short.
		o.status, o.errText = record.StatusError, "upstream ended the stream before the end of the answer"
		o.result.Error = o.errText
		s.metrics.UpstreamErrors.WithLabelValues("stream").Inc()
	default:
		o.status = record.StatusOK
	}
	tail := held
	if o.status == record.StatusError && o.result.Error == "" {
		// Tell the client, in its dialect, why its stream ends here.
		tail = append(tail, dialect.StreamErrorFrame(c.api, "aitrail: "+o.errText)...)
		o.result.Error = o.errText
	}
	o.delivered = delivered
	if o.status != record.StatusClientAborted {
		mac.Write(tail)
		delivered += int64(len(tail))
	}
	mac.Sum(o.rawHash[:0])
	o.rawLen = delivered
	if err := s.recordResponse(r, c, &o); err != nil {
		if o.status != record.StatusClientAborted {
			rc.SetWriteDeadline(time.Now().Add(s.opts.Timeouts.ClientWrite))
			w.Write(dialect.StreamErrorFrame(c.api, errAuditUnavailable))
			rc.Flush()
		}
		return
	}
	if o.status == record.StatusClientAborted || len(tail) == 0 {
		return
	}
	rc.SetWriteDeadline(time.Now().Add(s.opts.Timeouts.ClientWrite))
	if _, err := w.Write(tail); err == nil {
		rc.Flush()
	}
}

// recordResponse appends the response record of c with outcome o. On
// failure it logs, counts, and returns the error: the caller must not
// release the answer.
func (s *Server) recordResponse(r *http.Request, c *call, o *outcome) error {
	if c.req.Kind == record.KindAdmin {
		// The upstream is through with the model: calls from now on,
		// including the caller's next one, resolve its digest again.
		s.models.Forget()
	}
	res := o.result
	rec := &record.Record{
		Kind:           record.KindResponse,
		Endpoint:       c.req.Endpoint,
		Model:          c.req.Model,
		ModelDigest:    c.req.ModelDigest,
		Stream:         c.req.Stream,
		Status:         o.status,
		UpstreamStatus: int64(o.upstreamStatus),
		DoneReason:     record.CleanString(res.DoneReason),
		RequestSeq:     c.req.Seq,
		TokensIn:       res.TokensIn,
		TokensOut:      res.TokensOut,
		LatencyUS:      time.Since(c.start).Microseconds(),
		TTFTUS:         o.ttft.Microseconds(),
		// A response has its own nonce, so that its commitments cannot be
		// linked to the request's.
		Nonce:   c.nonce,
		RawHash: o.rawHash,
		RawLen:  o.rawLen,
	}
	if res.TokensIn == 0 && res.TokensOut == 0 && res.DoneReason == "" && res.Text == "" {
		rec.TokensIn, rec.TokensOut = -1, -1
	}
	c.attribute(rec)
	if o.errText != "" {
		rec.Detail = mustJSON(map[string]string{"error": o.errText})
	}
	rb := record.ResponseBody{Text: res.Text, Thinking: res.Thinking, ToolCalls: res.ToolCalls,
		Embeddings: res.Embeddings, Error: res.Error}
	var clear []byte
	if s.opts.Vault != nil {
		clear = mustJSON(rb) // before redaction: only the vault keeps it
	}
	var found []redact.Finding
	if c.scope != nil {
		found = redactResponse(c.scope, &rb)
		if blocked := c.scope.Blocked(); len(blocked) > 0 {
			o.blocked = blocked
			if !c.req.Stream {
				// A whole answer not yet released is withheld.
				rec.Status = record.StatusBlocked
			}
			rec.Detail = mustJSON(map[string]any{"error": o.errText, "blocked_types": blocked, "released": c.req.Stream})
		}
	}
	vaultErr, err := s.keep(context.WithoutCancel(r.Context()), rec, mustJSON(rb), clear, o.rawBody, found)
	if err == nil && vaultErr != nil {
		// The outcome is recorded but its raw text could not be kept: the
		// answer is not released, as when the log cannot record it.
		s.log.Error("raw vault seal failed; refusing calls", "err", vaultErr)
		return vaultErr
	}
	if err != nil {
		s.logAppendFailure(err)
		s.metrics.Requests.WithLabelValues(c.endpoint, record.StatusError).Inc()
		s.noteUnrecorded(c, o, rec, err, o.delivered)
		return err
	}
	s.metrics.Requests.WithLabelValues(c.endpoint, o.status).Inc()
	s.metrics.Latency.WithLabelValues(c.endpoint).Observe(time.Since(c.start).Seconds())
	s.metrics.Usage.Observe(c.id.Actor, c.id.KeyID, c.req.Model, rec.Status, rec.TokensIn, rec.TokensOut)
	return nil
}

// statusStream follows Ollama's model management streams: NDJSON status
// lines, ending with {"status":"success"} or an error line.
type statusStream struct {
	res    dialect.Result
	chunks int
}

func (s *statusStream) FrameLen(buf []byte) int {
	for i, b := range buf {
		if b == '\n' {
			return i + 1
		}
	}
	return 0
}

func (s *statusStream) Observe(frame []byte) bool {
	s.chunks++
	st := parseStatusResponse(http.StatusOK, frame)
	if st.Error != "" {
		s.res.Error = st.Error
		return true
	}
	if st.DoneReason != "" {
		s.res.DoneReason = st.DoneReason
	}
	s.res.Done = s.res.Done || st.Done
	return st.Done
}

func (s *statusStream) Result() dialect.Result { return s.res }
func (s *statusStream) Chunks() int            { return s.chunks }

// parseStatusResponse reads a model management answer.
func parseStatusResponse(status int, b []byte) dialect.Result {
	var v struct {
		Status string `json:"status"`
		Error  string `json:"error"`
	}
	res := dialect.Result{TokensIn: -1, TokensOut: -1}
	if json.Unmarshal(b, &v) == nil {
		res.Error = v.Error
		res.DoneReason = v.Status
		res.Done = v.Status == "success"
	}
	if status/100 != 2 && res.Error == "" {
		res.Error = http.StatusText(status)
	}
	return res
}
