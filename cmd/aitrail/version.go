package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"runtime"
	"runtime/debug"
)

// version and revision may be set at build time with -ldflags "-X
// main.version=v1.2.3 -X main.revision=COMMIT"; when set, they win over
// the build information. scripts/release.sh sets both, because the Go
// toolchain stamps no VCS information when building in a git worktree.
var version, revision = "", ""

// buildVersion is what a binary knows about its own build.
type buildVersion struct {
	Version   string `json:"version"`               // module version (v1.2.3, a pseudo-version, or "(devel)")
	Revision  string `json:"revision,omitempty"`    // VCS commit
	Time      string `json:"commit_time,omitempty"` // VCS commit time
	Modified  bool   `json:"modified"`              // built from a working tree with uncommitted changes
	GoVersion string `json:"go_version"`
}

// currentVersion reads the build information the Go toolchain stamps into
// the binary (module version, VCS revision with -buildvcs).
func currentVersion() buildVersion {
	v := buildVersion{Version: "(devel)", GoVersion: runtime.Version()}
	if bi, ok := debug.ReadBuildInfo(); ok {
		if bi.Main.Version != "" {
			v.Version = bi.Main.Version
		}
		for _, s := range bi.Settings {
			switch s.Key {
			case "vcs.revision":
				v.Revision = s.Value
			case "vcs.time":
				v.Time = s.Value
			case "vcs.modified":
				v.Modified = s.Value == "true"
			}
		}
	}
	if version != "" {
		v.Version = version
	}
	if revision != "" {
		v.Revision = revision
	}
	return v
}

// runVersion prints the version: "aitrail VERSION" on the first line.
func runVersion(e *env, args []string) error {
	fs := flag.NewFlagSet("version", flag.ContinueOnError)
	asJSON := fs.Bool("json", false, "print it as a JSON object")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() != 0 {
		return usageError("version takes no arguments")
	}
	v := currentVersion()
	if *asJSON {
		return json.NewEncoder(e.stdout).Encode(v)
	}
	fmt.Fprintln(e.stdout, "aitrail", v.Version)
	if v.Revision != "" {
		mod := ""
		if v.Modified {
			mod = " (modified)"
		}
		at := ""
		if v.Time != "" {
			at = ", committed " + v.Time
		}
		fmt.Fprintf(e.stdout, "revision %s%s%s\n", v.Revision, mod, at)
	}
	fmt.Fprintln(e.stdout, "built with", v.GoVersion)
	return nil
}
