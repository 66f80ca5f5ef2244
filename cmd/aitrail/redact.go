package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/aitrail/aitrail/internal/redact"
)

// runRedact is "aitrail redact [--jsonl] [--config FILE]": it reads
// standard input and writes it redacted to standard output, as the gateway
// redacts what it records.
//
// Plain mode redacts all of the input as one text. With --jsonl each input
// line is a JSON object {"text": "..."} (blank lines are skipped) and each
// output line is
//
//	{"redacted": "...", "findings": [{"type": "EMAIL", "start": 5, "end": 22, "placeholder": "[EMAIL_1]"}]}
//
// with byte offsets into the line's text, and "blocked": ["TYPE", ...] when
// types whose action is block were found. Each line is its own scope.
// Neither mode ever writes an original value. If the input holds a type
// whose action is block, the output is still written, and the command
// exits with code 3.
func runRedact(ctx context.Context, e *env, args []string) error {
	fs := flag.NewFlagSet("redact", flag.ContinueOnError)
	jsonl := fs.Bool("jsonl", false, `read one {"text": ...} object per line and write one {"redacted": ..., "findings": [...]} per line`)
	load := configFlags(fs, e)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usageError("redact: unexpected argument %q: the text is read from standard input", fs.Arg(0))
	}
	cfg, err := load()
	if err != nil {
		return err
	}
	// The very redactor serve builds, from the same redact: section.
	r, err := newRedactor(cfg.Redact)
	if err != nil {
		return err
	}
	var blocked []redact.Type
	if *jsonl {
		blocked, err = redactLines(ctx, r, os.Stdin, e.stdout)
	} else {
		blocked, err = redactAll(r, os.Stdin, e.stdout)
	}
	if err != nil {
		return err
	}
	if len(blocked) > 0 {
		names := make([]string, len(blocked))
		for i, t := range blocked {
			names[i] = string(t)
		}
		return withHint(&exitError{code: 3, err: fmt.Errorf("the input contains %s, whose action is block", strings.Join(names, ", "))},
			"the gateway refuses such calls; the output above is redacted all the same")
	}
	return nil
}

// redactAll redacts all of in as one text.
func redactAll(r *redact.Redactor, in io.Reader, out io.Writer) ([]redact.Type, error) {
	b, err := io.ReadAll(in)
	if err != nil {
		return nil, fmt.Errorf("read standard input: %w", err)
	}
	s := r.Scope()
	text, _ := s.Redact(string(b))
	if _, err := io.WriteString(out, text); err != nil {
		return nil, fmt.Errorf("write the redacted text: %w", err)
	}
	return s.Blocked(), nil
}

// maxLine bounds one line of --jsonl input.
const maxLine = 64 << 20

type redactedLine struct {
	Redacted string        `json:"redacted"`
	Findings []findingJSON `json:"findings"`
	Blocked  []redact.Type `json:"blocked,omitempty"`
}

// findingJSON is a finding without its value.
type findingJSON struct {
	Type        redact.Type `json:"type"`
	Start       int         `json:"start"`
	End         int         `json:"end"`
	Placeholder string      `json:"placeholder"`
}

// redactLines redacts one {"text": ...} object per line, each in a scope
// of its own, and returns the blocked types found in any.
func redactLines(ctx context.Context, r *redact.Redactor, in io.Reader, out io.Writer) ([]redact.Type, error) {
	sc := bufio.NewScanner(in)
	sc.Buffer(nil, maxLine)
	w := bufio.NewWriter(out)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	seen := make(map[redact.Type]bool)
	var blocked []redact.Type
	for n := 1; sc.Scan(); n++ {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		line := bytes.TrimSpace(sc.Bytes())
		if len(line) == 0 {
			continue
		}
		var obj struct {
			Text *string `json:"text"`
		}
		if err := json.Unmarshal(line, &obj); err != nil || obj.Text == nil {
			if err == nil {
				err = errors.New(`no "text" member`)
			}
			w.Flush()
			// The message never quotes the line: it may hold secrets.
			return nil, withHint(fmt.Errorf("line %d is not a JSON object with a \"text\" string: %v", n, err),
				`with --jsonl each line must be like {"text": "..."}; without it the input is plain text`)
		}
		s := r.Scope()
		text, fs := s.Redact(*obj.Text)
		res := redactedLine{Redacted: text, Findings: make([]findingJSON, len(fs)), Blocked: s.Blocked()}
		for i, f := range fs {
			res.Findings[i] = findingJSON{Type: f.Type, Start: f.Start, End: f.End, Placeholder: f.Placeholder}
		}
		for _, t := range res.Blocked {
			if !seen[t] {
				seen[t] = true
				blocked = append(blocked, t)
			}
		}
		if err := enc.Encode(res); err != nil {
			return nil, fmt.Errorf("write line %d: %w", n, err)
		}
	}
	if err := sc.Err(); err != nil {
		w.Flush()
		if errors.Is(err, bufio.ErrTooLong) {
			return nil, fmt.Errorf("an input line is longer than %d MiB", maxLine>>20)
		}
		return nil, fmt.Errorf("read standard input: %w", err)
	}
	if err := w.Flush(); err != nil {
		return nil, fmt.Errorf("write the redacted lines: %w", err)
	}
	return blocked, nil
}
