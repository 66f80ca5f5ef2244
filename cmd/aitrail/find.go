package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"slices"

	"github.com/aitrail/aitrail/internal/query"
	"github.com/aitrail/aitrail/internal/store"
)

// piiValueFlags defines the flags that name one value of the PII index
// (--email, --phone, ... or --value with --type), and returns a function
// that reads them once parsed: the value's type and the value.
func piiValueFlags(fs *flag.FlagSet) func() (typ, value string, err error) {
	byType := map[string]*string{
		"EMAIL": fs.String("email", "", "the data subject's e-mail `address`"), "PHONE": fs.String("phone", "", "the data subject's phone `number`"),
		"US_SSN": fs.String("ssn", "", "the data subject's US social security `number`"), "CREDIT_CARD": fs.String("card", "", "the data subject's card `number`"),
		"IBAN": fs.String("iban", "", "the data subject's `IBAN`"), "IP_ADDRESS": fs.String("ip", "", "the data subject's IP `address`"),
	}
	value := fs.String("value", "", "any other `value` of the data subject (with --type, as that type)")
	typ := fs.String("type", "", "the `type` of --value (e.g. PASSPORT, or a custom type)")
	return func() (string, string, error) {
		var t, v string
		for name, p := range byType {
			if *p != "" {
				if v != "" {
					return "", "", usageError("%s takes one value at a time", fs.Name())
				}
				t, v = name, *p
			}
		}
		if *value != "" {
			if v != "" {
				return "", "", usageError("%s takes one value at a time", fs.Name())
			}
			t, v = *typ, *value
		}
		if v == "" {
			return "", "", usageError("%s needs a value: --email, --phone, --ssn, --card, --iban, --ip or --value", fs.Name())
		}
		return t, v, nil
	}
}

// runFind lists every interaction that held a given value (an e-mail
// address, a phone number...), for data-subject access and erasure
// requests. It looks the value up in the PII index by its keyed HMAC: the
// database never holds the value in clear.
func runFind(ctx context.Context, e *env, args []string) error {
	fs := flag.NewFlagSet("find", flag.ContinueOnError)
	load := configFlags(fs, e)
	value := piiValueFlags(fs)
	asJSON := fs.Bool("json", false, "one JSON object per interaction")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	t, v, err := value()
	if err != nil {
		return err
	}
	al, err := loadLog(ctx, load)
	if err != nil {
		return err
	}
	defer al.Close()
	if al.pii == nil {
		return withHint(errors.New("this log has no PII index key"), "the index is kept from the first start of a gateway that redacts")
	}
	// The MAC does not depend on the type, so a value is found whatever
	// type it was recognised as; --type only normalises it.
	refs, err := al.store.FindPII(ctx, "", al.pii.MAC(t, v))
	if err != nil {
		return err
	}
	// Interactions are named by their request record.
	byLog := map[string][]int64{}
	for _, r := range refs {
		recs, err := al.store.Search(ctx, store.Filter{LogID: r.LogID, Seqs: []int64{r.Seq}})
		if err != nil {
			return err
		}
		for _, rec := range recs {
			seq := rec.Seq
			if rec.RequestSeq >= 0 {
				seq = rec.RequestSeq
			}
			if !slices.Contains(byLog[r.LogID], seq) {
				byLog[r.LogID] = append(byLog[r.LogID], seq)
			}
		}
	}
	var its []query.Interaction
	for logID, seqs := range byLog {
		got, err := query.Run(ctx, al.store, query.Filter{LogID: logID, Seqs: seqs})
		if err != nil {
			return err
		}
		its = append(its, got...)
	}
	slices.SortFunc(its, func(a, b query.Interaction) int {
		if a.LogID != b.LogID {
			return map[bool]int{true: -1, false: 1}[a.LogID < b.LogID]
		}
		return int(a.Seq - b.Seq)
	})
	if *asJSON {
		enc := json.NewEncoder(e.stdout)
		for i := range its {
			if err := enc.Encode(&its[i]); err != nil {
				return err
			}
		}
		return nil
	}
	fmt.Fprintf(e.stderr, "%d interactions held that value\n", len(its))
	for i := range its {
		printInteraction(e.stdout, &its[i], len(byLog) > 1)
	}
	return nil
}
