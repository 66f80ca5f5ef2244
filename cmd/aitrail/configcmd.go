package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"text/tabwriter"

	"github.com/aitrail/aitrail/internal/config"
)

// runConfig runs "aitrail config check": it validates the configuration
// every command would use and prints each setting with where it came from.
func runConfig(ctx context.Context, e *env, args []string) error {
	if len(args) == 0 || args[0] != "check" {
		return usageError("usage: aitrail config check [--config FILE] [--json]")
	}
	fs := flag.NewFlagSet("config check", flag.ContinueOnError)
	load := configFlags(fs, e)
	fs.String("listen", "", "`address` serve would listen on")
	fs.String("upstream", "", "model server `URL`")
	asJSON := fs.Bool("json", false, "print the settings as JSON")
	if err := parseFlags(fs, args[1:]); err != nil {
		return err
	}
	cfg, err := load()
	if err != nil {
		return err
	}
	if _, err := newRedactor(cfg.Redact); err != nil {
		return err
	}
	settings := cfg.Settings()
	vaultKey := ""
	if v, ok := e.lookupEnv("AITRAIL_VAULT_KEY"); ok && v != "" {
		vaultKey = config.Redacted
	}
	if *asJSON {
		out := map[string]any{"valid": true, "sha256": cfg.Hash(), "file": cfg.File, "settings": settings}
		if vaultKey != "" {
			out["vault_key"] = map[string]any{"value": vaultKey, "source": config.Source{Kind: config.SourceEnv, Name: "AITRAIL_VAULT_KEY"}}
		}
		enc := json.NewEncoder(e.stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(out)
	}
	file := cfg.File
	if file == "" {
		file = "none"
	}
	fmt.Fprintf(e.stdout, "configuration valid (config file: %s)\nsha256 %s\n\n", file, cfg.Hash())
	tw := tabwriter.NewWriter(e.stdout, 2, 8, 2, ' ', 0)
	fmt.Fprintln(tw, "SETTING\tVALUE\tSOURCE")
	for _, s := range settings {
		fmt.Fprintf(tw, "%s\t%s\t%s\n", s.Key, s.Value, s.Source)
	}
	if vaultKey != "" {
		fmt.Fprintf(tw, "vault key\t%s\tenv AITRAIL_VAULT_KEY (vault.key_file is not read)\n", vaultKey)
	}
	return tw.Flush()
}
