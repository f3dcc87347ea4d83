package cmd

import (
	"errors"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

// ruleKind is how the flags of a flagRule go together.
type ruleKind int

const (
	// excludes: flag with any of others is refused (cobra's
	// MarkFlagsMutuallyExclusive, one pair each).
	excludes ruleKind = iota
	// together: all of others, or none (MarkFlagsRequiredTogether).
	together
	// oneOf: at least one of others (MarkFlagsOneRequired).
	oneOf
	// needs: flag only with one of others, which cobra cannot express.
	needs
)

// flagRule is one declared combination of flags. Rules are checked in
// order, on whether a flag was given (not its value), before Validate;
// the first broken rule is the error. message is one line that says what
// to do; in it {flag} is the flag (the flags given, for together) and
// {other} the other flag given (those missing, for together and needs).
type flagRule struct {
	kind    ruleKind
	flag    string
	others  []string
	message string
}

// addFlagRules declares rules on cmd: to cobra where it can express them
// (so completion knows the groups), and all of them as cmd's PreRunE,
// which cobra runs before its own check of the groups, so that the
// refusal says what to do.
func addFlagRules(cmd *cobra.Command, rules []flagRule) {
	for _, r := range rules {
		switch r.kind {
		case excludes:
			for _, other := range r.others {
				// kubectl's flags (--context, -n) are the root's: a command
				// not yet added to it cannot mark them; PreRunE checks them.
				if cmd.Flags().Lookup(r.flag) == nil || cmd.Flags().Lookup(other) == nil {
					continue
				}
				cmd.MarkFlagsMutuallyExclusive(r.flag, other)
			}
		case together:
			cmd.MarkFlagsRequiredTogether(r.others...)
		case oneOf:
			cmd.MarkFlagsOneRequired(r.others...)
		}
	}
	cmd.PreRunE = func(cmd *cobra.Command, _ []string) error {
		return checkFlagRules(cmd.Flags(), rules)
	}
}

// checkFlagRules returns the first rule the given flags break.
func checkFlagRules(fs *pflag.FlagSet, rules []flagRule) error {
	given := func(names []string) (set, unset []string) {
		for _, n := range names {
			if f := fs.Lookup(n); f != nil && f.Changed {
				set = append(set, flagName(f))
			} else {
				unset = append(unset, "--"+n)
			}
		}
		return set, unset
	}
	for _, r := range rules {
		switch r.kind {
		case excludes:
			if set, _ := given([]string{r.flag}); len(set) == 0 {
				continue
			}
			if set, _ := given(r.others); len(set) > 0 {
				return ruleError(r.message, flagName(fs.Lookup(r.flag)), set[0])
			}
		case together:
			if set, unset := given(r.others); len(set) > 0 && len(unset) > 0 {
				return ruleError(r.message, strings.Join(set, ", "), strings.Join(unset, ", "))
			}
		case oneOf:
			if set, _ := given(r.others); len(set) == 0 {
				return ruleError(r.message, "", "")
			}
		case needs:
			if set, _ := given([]string{r.flag}); len(set) == 0 {
				continue
			}
			if set, unset := given(r.others); len(set) == 0 {
				return ruleError(r.message, flagName(fs.Lookup(r.flag)), strings.Join(unset, " or "))
			}
		}
	}
	return nil
}

func ruleError(message, flag, other string) error {
	return errors.New(strings.NewReplacer("{flag}", flag, "{other}", other).Replace(message))
}

// flagName is how the refusal names a given flag: -f for --filename, as it
// is usually typed.
func flagName(f *pflag.Flag) string {
	if f.Name == "filename" {
		return "-f"
	}
	return "--" + f.Name
}

// needsLocal are the rules of the flags that only shape a --local render.
func needsLocal(flags ...string) []flagRule {
	rules := make([]flagRule, 0, len(flags))
	for _, f := range flags {
		rules = append(rules, flagRule{kind: needs, flag: f, others: []string{"local"},
			message: "{flag} is for --local rendering: add --local, or drop it"})
	}
	return rules
}
