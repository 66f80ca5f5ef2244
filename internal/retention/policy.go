// Package retention enforces aitrail's layered retention policy: it purges
// each layer of the records that have passed their period (raw bodies in
// the vault, redacted bodies and PII index entries in the log's store),
// prunes sealed records from the start of the log, honours legal holds,
// and carries out erasure requests. Every deletion is preceded by an event
// in the log itself that names what is deleted and why, so that
// verification tells a deletion under the policy from tampering.
package retention

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/aitrail/aitrail/internal/config"
	"github.com/aitrail/aitrail/internal/record"
	"github.com/aitrail/aitrail/internal/store"
)

// Layers lists the layers purged record by record, in the order a purge
// runs them: the most sensitive first.
var Layers = []string{record.LayerRaw, record.LayerRedacted, record.LayerPII}

// A Policy is the retention configuration with what the purge derives from
// it.
type Policy struct {
	config.Retention
}

// period returns the period of layer for a record of role and model.
func (p Policy) period(layer, role, model string) config.Period {
	return pick(p.For(role, model), layer)
}

func pick(l config.Layers, layer string) config.Period {
	switch layer {
	case record.LayerSealed:
		return l.Sealed
	case record.LayerRedacted:
		return l.Redacted
	case record.LayerRaw:
		return l.Raw
	case record.LayerPII:
		return l.PII
	}
	panic("retention: unknown layer " + layer)
}

// shortest returns the shortest period of a layer among the default and the
// overrides: no record is due before that long.
func (p Policy) shortest(layer string) config.Period {
	best := pick(p.Layers, layer)
	for _, o := range p.Overrides {
		if q := pick(o.Layers, layer); !q.IsZero() && q.Approx() < best.Approx() {
			best = q
		}
	}
	return best
}

// longest returns the longest period of a layer.
func (p Policy) longest(layer string) config.Period {
	best := pick(p.Layers, layer)
	for _, o := range p.Overrides {
		if q := pick(o.Layers, layer); q.Approx() > best.Approx() {
			best = q
		}
	}
	return best
}

// LongestRaw is the longest any raw body is kept: the expiry the gateway
// writes on what it seals in the vault.
func (p Policy) LongestRaw() time.Duration { return p.longest(record.LayerRaw).Approx() }

// Describe states the policy of one layer in a line, as events record it:
// "raw bodies 90d; role admin 1y".
func (p Policy) Describe(layer string) string {
	var b strings.Builder
	b.WriteString(layerNoun[layer])
	b.WriteString(" ")
	b.WriteString(pick(p.Layers, layer).String())
	for _, o := range p.Overrides {
		if q := pick(o.Layers, layer); !q.IsZero() {
			fmt.Fprintf(&b, "; %s %s", config.Selector{Role: o.Role, Model: o.Model}, q)
		}
	}
	return b.String()
}

var layerNoun = map[string]string{
	record.LayerSealed:   "sealed records",
	record.LayerRedacted: "redacted bodies",
	record.LayerRaw:      "raw bodies",
	record.LayerPII:      "PII index entries",
}

var layerMeaning = map[string]string{
	record.LayerSealed: "The record itself: who, when, which model, status, token counts, and the " +
		"keyed hashes of the bodies. It is what proves that an interaction took place. When it passes " +
		"its period, records are pruned from the start of the log, up to a signed checkpoint, which " +
		"keeps the rest verifiable; the prune is an event in the log.",
	record.LayerRedacted: "The body as stored in the log, with personal data and secrets replaced by " +
		"typed placeholders. When it passes its period the body is deleted; an event in the log names " +
		"the records first, and verification reports their bodies as erased per policy.",
	record.LayerRaw: "The body exactly as exchanged, kept only encrypted in the vault, each record under " +
		"its own data key. When it passes its period its data key is destroyed, which makes the " +
		"ciphertext unreadable everywhere, backups included.",
	record.LayerPII: "The index that finds every record holding a given e-mail address, phone number " +
		"or other value, for data-subject requests. It holds keyed MACs, never the values. When it " +
		"passes its period a record's entries are deleted.",
}

// Document writes the policy in force as a one-page document an auditor can
// file: the periods, the overrides, how and when deletion happens, the
// legal holds in force and how deletions are evidenced.
func (p Policy) Document(w io.Writer, logID string, holds []store.Hold, now time.Time) error {
	var b strings.Builder
	fmt.Fprintf(&b, "AITRAIL RETENTION POLICY\n\n")
	fmt.Fprintf(&b, "Log:        %s\n", logID)
	fmt.Fprintf(&b, "In force:   %s\n", now.UTC().Format(time.RFC3339))
	if p.Interval > 0 {
		fmt.Fprintf(&b, "Purge:      automatic, every %s, by the gateway (aitrail serve)\n", p.Interval)
	} else {
		fmt.Fprintf(&b, "Purge:      by hand only (aitrail retention run); the gateway does not purge\n")
	}
	fmt.Fprintf(&b, "\nPeriods, counted from the time each record was logged:\n\n")
	tw := tabwriter.NewWriter(&b, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "  Layer\tKept for\n")
	for _, layer := range []string{record.LayerSealed, record.LayerRedacted, record.LayerRaw, record.LayerPII} {
		q := pick(p.Layers, layer)
		fmt.Fprintf(tw, "  %s\t%s (%s)\n", layerNoun[layer], q.Words(), q)
	}
	tw.Flush()
	if len(p.Overrides) > 0 {
		fmt.Fprintf(&b, "\nOverrides (the first that matches a record applies; unset layers keep the default):\n\n")
		tw := tabwriter.NewWriter(&b, 0, 0, 2, ' ', 0)
		fmt.Fprintf(tw, "  Records of\tSealed\tRedacted\tRaw\tPII\n")
		for _, o := range p.Overrides {
			l := p.Layers.With(o.Layers)
			fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\t%s\n", config.Selector{Role: o.Role, Model: o.Model}, l.Sealed, l.Redacted, l.Raw, l.PII)
		}
		tw.Flush()
	}
	fmt.Fprintf(&b, "\nWhat each layer is, and how it is deleted:\n\n")
	for _, layer := range []string{record.LayerSealed, record.LayerRedacted, record.LayerRaw, record.LayerPII} {
		fmt.Fprintf(&b, "%s\n", wrap("- "+capitalise(layerNoun[layer])+": "+layerMeaning[layer], 78, "  "))
	}
	fmt.Fprintf(&b, "\n%s\n", wrap("Evidence. Every purge first appends an event to the log (body.erased for "+
		"a layer, log.pruned for sealed records) stating the layer, the policy, the cut-off time, the "+
		"records and their count; only then is anything deleted. Deletion is automatic and cannot be "+
		"undone; there is no command that deletes a chosen record.", 78, ""))
	fmt.Fprintf(&b, "\n%s\n", wrap("Legal holds. A record matched by an open hold is kept by every purge, "+
		"in every layer, until the hold is released or expires; records logged after the hold was set "+
		"are held too when they match. Setting and releasing a hold are events in the log.", 78, ""))
	open := 0
	for _, h := range holds {
		if Open(h, now) {
			open++
		}
	}
	fmt.Fprintf(&b, "\nLegal holds in force: %d\n", open)
	for _, h := range holds {
		if Open(h, now) {
			fmt.Fprintf(&b, "  %s  since %s by %s: %s\n    matching %s\n", h.ID,
				time.Unix(0, h.CreatedAt).UTC().Format(time.RFC3339), h.CreatedBy, h.Reason, Criteria(h))
		}
	}
	fmt.Fprintf(&b, "\n%s\n", wrap("Erasure requests (aitrail erase) delete the raw and redacted bodies and "+
		"the index entries of the records holding a data subject's value ahead of schedule, unless a legal "+
		"hold covers them; each request is an event in the log.", 78, ""))
	_, err := io.WriteString(w, b.String())
	return err
}

func capitalise(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

// wrap breaks s into lines of at most width, indenting lines after the
// first.
func wrap(s string, width int, indent string) string {
	var b strings.Builder
	line := 0
	for i, word := range strings.Fields(s) {
		if i > 0 && line+1+len(word) > width {
			b.WriteString("\n" + indent)
			line = len(indent)
		} else if i > 0 {
			b.WriteByte(' ')
			line++
		}
		b.WriteString(word)
		line += len(word)
	}
	return b.String()
}
