package main

import (
	"fmt"

	"github.com/aitrail/aitrail/internal/config"
	"github.com/aitrail/aitrail/internal/redact"
)

// newRedactor builds the redactor the configuration describes.
func newRedactor(c config.Redact) (*redact.Redactor, error) {
	rc := redact.Config{Actions: map[redact.Type]redact.Action{}, DefaultRegion: c.DefaultRegion}
	for t, a := range c.Actions {
		act, err := redact.ParseAction(a)
		if err != nil {
			return nil, withHint(fmt.Errorf("redact.actions.%s: %w", t, err), "use redact, block or allow")
		}
		rc.Actions[redact.Type(t)] = act
	}
	for _, r := range c.Rules {
		rc.Rules = append(rc.Rules, redact.Rule{Type: redact.Type(r.Type), Pattern: r.Pattern})
	}
	for _, d := range c.Dictionaries {
		rc.Dictionaries = append(rc.Dictionaries, redact.Dictionary{Type: redact.Type(d.Type), Terms: d.Terms, CaseSensitive: d.CaseSensitive})
	}
	r, err := redact.New(rc)
	if err != nil {
		return nil, withHint(fmt.Errorf("redact: %w", err), "check the redact section of the configuration")
	}
	return r, nil
}
