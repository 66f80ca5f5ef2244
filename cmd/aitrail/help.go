package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
)

// synopses are the usage lines of the commands and subcommands, by the
// name of their flag set, with a sentence saying what each does. A command
// without one gets "aitrail NAME [flags]".
var synopses = map[string]string{
	"serve":             "aitrail serve [--config FILE] [--listen ADDR] [--upstream URL] [--data DIR]\n\nRun the gateway: forward every model call to the upstream and record it in the audit log.",
	"demo":              "aitrail demo [--data DIR] [-v]\n\nRun the gateway in front of a built-in stand-in model, send calls of every kind through it, show what it records, and show verify catching a tampered copy.",
	"keys":              "aitrail keys create|list|revoke|log-key [flags]\n\nManage API keys. Run 'aitrail keys SUBCOMMAND --help' for each.",
	"keys create":       "aitrail keys create --actor ID [--role user|auditor|admin]\n\nMake an API key; it is printed once, and its creation is recorded in the log.",
	"keys list":         "aitrail keys list [--json]\n\nList the API keys (never the keys themselves).",
	"keys revoke":       "aitrail keys revoke KEY_ID\n\nRevoke an API key; the revocation is recorded in the log first.",
	"keys log-key":      "aitrail keys log-key\n\nPrint the log's checkpoint verifier key, for auditors and witnesses.",
	"query":             "aitrail query [--actor A] [--session S] [--model M] [--status S] [--since T] [--until T] [--on DATE] [--limit N] [--json]\n\nList the recorded interactions, every node's, in time order.",
	"stats":             "aitrail stats [--since T] [--until T] [--by actor|key|model|day] [--json]\n\nUsage figures from the log: calls, tokens in and out, errors, denials, latency.",
	"verify":            "aitrail verify [--key VKEY] [--json]\n\nCheck the log's integrity (exit 0 intact, 1 tampered, 2 cannot run, 3 intact but records lost in a restore).",
	"find":              "aitrail find --email X | --phone X | --ssn X | --card X | --iban X | --ip X | --value V [--type T] [--json]\n\nList every interaction that held a value.",
	"redact":            "aitrail redact [--jsonl]\n\nRedact standard input with the configured rules (to test them).",
	"raw":               "aitrail raw SEQ --reason TEXT [--part clear|raw] [--log ID]\n\nRead a raw body from the encrypted vault; the read is recorded first.",
	"retention":         "aitrail retention show|run [flags]\n\nPrint the retention policy in force, or run the purge now.",
	"retention show":    "aitrail retention show\n\nPrint the retention policy in force, layer by layer, and the holds.",
	"retention run":     "aitrail retention run [--dry-run] [--json]\n\nRun the retention purge now.",
	"hold":              "aitrail hold add|list|release [flags]\n\nLegal holds: what every purge must keep. Run 'aitrail hold SUBCOMMAND --help' for each.",
	"hold add":          "aitrail hold add --reason TEXT [--actor ID] [--session ID] [--model M] [--since T] [--until T] [--text Q] [--expires T]\n\nSet a legal hold; prints its id.",
	"hold list":         "aitrail hold list [--all] [--json]\n\nList the holds in force (with --all, also released and expired ones).",
	"hold release":      "aitrail hold release ID --reason TEXT\n\nRelease a legal hold.",
	"erase":             "aitrail erase --email X | --phone X | ... --reason TEXT\n\nErase a data subject's bodies ahead of schedule (the sealed records remain).",
	"vault":             "aitrail vault keygen|rotate [flags]\n\nThe raw vault's master key.",
	"vault keygen":      "aitrail vault keygen\n\nMake a vault master key file (never overwrites one).",
	"vault rotate":      "aitrail vault rotate --old-key FILE\n\nRe-wrap the data keys an old master key wrapped with the current one.",
	"prove":             "aitrail prove SEQ [-o proof.json] [--log ID]\n\nWrite a self-contained proof that record SEQ is in the signed log.",
	"verify-proof":      "aitrail verify-proof proof.json [--key VKEY] [--witness VKEY]\n\nCheck such a proof offline.",
	"witness":           "aitrail witness --state FILE --log VKEY [--log VKEY...] [--listen ADDR] [--key FILE] [--name NAME]\n\nRun a witness for other logs (aitrail witness vkey prints its key).",
	"witness vkey":      "aitrail witness vkey --state FILE | --key FILE\n\nPrint the verifier key of a witness.",
	"standin":           "aitrail standin [--listen ADDR] [--token-delay D]\n\nServe the stand-in model alone (for trying aitrail without Ollama).",
	"backup":            "aitrail backup -o DIR|FILE.tar [--log-key-out FILE] [--vault-key-out FILE]\n\nMake a consistent, verified backup while serve runs, with a manifest; the signing and vault keys go only to their own files.",
	"restore":           "aitrail restore FROM --data DIR --log-key FILE [--vault-key FILE]\n\nCheck a backup completely and put it into an empty data directory.",
	"fleet":             "aitrail fleet export-keys|join [flags]\n\nHand the fleet-wide keys to a new node of a PostgreSQL fleet.",
	"fleet export-keys": "aitrail fleet export-keys -o FILE\n\nWrite the fleet-wide keys (commitment and PII index) to a new file, mode 0600, for 'aitrail fleet join'.",
	"fleet join":        "aitrail fleet join --from FILE --data DIR\n\nInstall the fleet-wide keys in a new node's data directory.",
	"migrate":           "aitrail migrate [--dry-run]\n\nShow the database's schema version and this binary's, and migrate the database to it (every command does so when it opens an older database).",
	"version":           "aitrail version [--json]\n\nPrint the version, VCS revision and Go version of this binary.",
}

// subcommands are the subcommands of the commands that have them.
var subcommands = map[string][]string{
	"keys":      {"create", "list", "revoke", "log-key"},
	"hold":      {"add", "list", "release"},
	"retention": {"show", "run"},
	"vault":     {"keygen", "rotate"},
	"fleet":     {"export-keys", "join"},
}

// parseFlags parses args, printing usage errors the aitrail way. Flags may
// come before, between and after positional arguments ("keys revoke ID
// --data DIR"); everything after "--" is positional. --help prints the
// command's usage line and its flags, and returns flag.ErrHelp.
func parseFlags(fs *flag.FlagSet, args []string) error {
	fs.SetOutput(discard{})
	var pos []string
	for {
		if i := slices.Index(args, "--"); i >= 0 {
			pos = append(pos, args[i+1:]...)
			args = args[:i]
		}
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				printUsage(os.Stdout, fs)
				return err
			}
			return withHint(usageError("%s: %v", fs.Name(), err), "run 'aitrail "+fs.Name()+" --help' for its flags")
		}
		args = fs.Args()
		if len(args) == 0 {
			break
		}
		pos = append(pos, args[0])
		args = args[1:]
	}
	// Parse again with only the positional arguments, so that fs.Args
	// returns them.
	return fs.Parse(append([]string{"--"}, pos...))
}

// printUsage prints a command's usage line and a sentence per flag.
func printUsage(w io.Writer, fs *flag.FlagSet) {
	syn, ok := synopses[fs.Name()]
	if !ok {
		syn = "aitrail " + fs.Name() + " [flags]"
	}
	fmt.Fprintf(w, "Usage: %s\n", syn)
	first := true
	fs.VisitAll(func(f *flag.Flag) {
		if first {
			fmt.Fprintln(w, "\nFlags:")
			first = false
		}
		name, text := flag.UnquoteUsage(f)
		arg := "--" + f.Name
		if name != "" {
			arg += " " + strings.ToUpper(name)
		}
		if f.DefValue != "" && f.DefValue != "false" && f.DefValue != "0" && f.DefValue != "[]" {
			text += " (default " + f.DefValue + ")"
		}
		fmt.Fprintf(w, "  %s\n        %s\n", arg, text)
	})
}

// subcommand splits args into a subcommand of cmd and its arguments.
// "--help" (or "help", or nothing) prints the command's usage; a mistyped
// subcommand is refused with the closest one.
func subcommand(cmd string, args []string) (string, []string, error) {
	subs := subcommands[cmd]
	if len(args) == 0 {
		return "", nil, withHint(usageError("%s needs a subcommand: %s", cmd, strings.Join(subs, ", ")),
			"run 'aitrail "+cmd+" --help' for what each does")
	}
	switch args[0] {
	case "-h", "-help", "--help", "help":
		if len(args) > 1 && slices.Contains(subs, args[1]) {
			return args[1], []string{"--help"}, nil
		}
		fmt.Fprintf(os.Stdout, "Usage: %s\n\nSubcommands:\n", synopses[cmd])
		for _, s := range subs {
			line, _, _ := strings.Cut(synopses[cmd+" "+s], "\n")
			fmt.Fprintf(os.Stdout, "  %s\n", line)
		}
		return "", nil, flag.ErrHelp
	}
	if !slices.Contains(subs, args[0]) {
		err := usageError("unknown %s subcommand %q: use %s", cmd, args[0], strings.Join(subs, ", "))
		if s := suggest(args[0], subs); s != "" {
			return "", nil, withHint(err, fmt.Sprintf("did you mean 'aitrail %s %s'?", cmd, s))
		}
		return "", nil, err
	}
	return args[0], args[1:], nil
}

// suggest returns the name closest to a mistyped one, or "" if none is
// close: within two edits, or one that starts with it.
func suggest(typed string, names []string) string {
	best, bestD := "", 3
	for _, n := range names {
		d := editDistance(typed, n)
		if len(typed) >= 3 && strings.HasPrefix(n, typed) {
			d = min(d, 1)
		}
		if d < bestD || (d == bestD && best != "" && n < best) {
			best, bestD = n, d
		}
	}
	if bestD > 2 || bestD >= len(typed) {
		return ""
	}
	return best
}

// editDistance is the Damerau–Levenshtein distance (optimal string
// alignment) between a and b: insertions, deletions, substitutions and
// transpositions of adjacent letters each count one.
func editDistance(a, b string) int {
	if len(a) > 64 || len(b) > 64 {
		return max(len(a), len(b))
	}
	d := make([][]int, len(a)+1)
	for i := range d {
		d[i] = make([]int, len(b)+1)
		d[i][0] = i
	}
	for j := range d[0] {
		d[0][j] = j
	}
	for i := 1; i <= len(a); i++ {
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			d[i][j] = min(d[i-1][j]+1, d[i][j-1]+1, d[i-1][j-1]+cost)
			if i > 1 && j > 1 && a[i-1] == b[j-2] && a[i-2] == b[j-1] {
				d[i][j] = min(d[i][j], d[i-2][j-2]+1)
			}
		}
	}
	return d[len(a)][len(b)]
}

// unknownCommandHint suggests the command closest to a mistyped one.
func unknownCommandHint(typed string, cmds map[string]func(context.Context, *env, []string) error) string {
	names := make([]string, 0, len(cmds))
	for n := range cmds {
		names = append(names, n)
	}
	if s := suggest(typed, names); s != "" {
		return fmt.Sprintf("did you mean 'aitrail %s'? ('aitrail help' lists the commands)", s)
	}
	return "run 'aitrail help' for the commands"
}
