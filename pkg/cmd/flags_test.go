package cmd

import (
	"maps"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/eck-metrics/kubectl-eck-metrics/pkg/patches"
	"github.com/eck-metrics/kubectl-eck-metrics/pkg/steps"
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
	"k8s.io/cli-runtime/pkg/genericclioptions"
)

// validatingCommand is a command with what RunE validates, before Run.
type validatingCommand struct {
	cmd     *cobra.Command
	options commandOptions
	// settings are the validated options: what Run acts on, without the
	// raw flags (comparing those would find every flag "changes" them).
	settings func() any
}

func newValidatingCommand(t *testing.T, name string) validatingCommand {
	t.Helper()
	streams, _, _ := unitStreams()
	configFlags := genericclioptions.NewConfigFlags(true)
	color := &colorFlag{mode: "auto"}
	var c validatingCommand
	switch name {
	case "enable":
		cmd, o := newEnableCommand(configFlags, color, streams)
		c = validatingCommand{cmd, o, func() any { return enableSettings(o) }}
	case "use-cert":
		cmd, o := newUseCertCommand(configFlags, color, streams)
		c = validatingCommand{cmd, o, func() any {
			return struct {
				Enable      any
				Cert        CertOptions
				Issuer      steps.IssuerOptions
				CANamespace string
				ScrapeAuth  patches.ScrapeAuth
			}{enableSettings(o.EnableOptions), o.cert, o.issuer, o.caNamespace, o.scrapeAuth}
		}}
	case "disable":
		cmd, o := newDisableCommand(configFlags, color, streams)
		c = validatingCommand{cmd, o, func() any { return mutateSettings(&o.mutateCommand) }}
	case "status":
		cmd, o := newStatusCommand(configFlags, color, streams)
		c = validatingCommand{cmd, o, func() any { return statusSettings(o) }}
	case "version":
		cmd, o := newVersionCommand(configFlags, streams)
		c = validatingCommand{cmd, o, func() any {
			return struct {
				Name, Output string
				Client       bool
			}{o.Name, o.Output, o.Client}
		}}
	default:
		t.Fatalf("no command %s", name)
	}
	// kubectl's flags (-n) are the root's: here the command's own, so
	// that walking its local flags leaves them out.
	configFlags.AddFlags(c.cmd.PersistentFlags())
	return c
}

func mutateSettings(m *mutateCommand) any {
	o := m.MutateOptions
	o.printer = nil // made from Output and DryRun
	return struct {
		Name   string
		Mutate MutateOptions
	}{m.Name, o}
}

// statusSettings are what status's Run acts on: the options of each
// cluster's checks (without the clock and the REST config, which no flag
// sets), how the report is printed and judged, and which clusters.
func statusSettings(o *StatusOptions) any {
	checks := o.statusOptions(o.namespace, nil)
	checks.Now = time.Time{}
	return struct {
		Checks         any
		Output, FailOn string
		Printer        bool
		Wait           time.Duration
		Fleet          FleetFlags
	}{checks, o.Output, o.FailOn, o.printer != nil, o.Wait, o.FleetFlags}
}

func enableSettings(o *EnableOptions) any {
	return struct {
		Mutate        any
		Install       InstallOptions
		Monitor       steps.MonitorOptions
		NetworkPolicy NetworkPolicyOptions
		Local         *LocalOptions
	}{mutateSettings(&o.mutateCommand), o.install, o.monitor, o.networkPolicy, o.local}
}

// validate parses args as cobra does and validates them as RunE does,
// without Complete (which needs a kubeconfig for a cluster): the flag
// rules (PreRunE), cobra's own check of the flag groups, then Validate.
func (c validatingCommand) validate(args ...string) error {
	if err := c.cmd.ParseFlags(args); err != nil {
		return err
	}
	if c.cmd.PreRunE != nil { // version declares no flag rules
		if err := c.cmd.PreRunE(c.cmd, nil); err != nil {
			return err
		}
	}
	if err := c.cmd.ValidateFlagGroups(); err != nil {
		return err
	}
	return c.options.Validate()
}

// unitValidate validates a command line of command, returning its options.
func unitValidate(t *testing.T, command string, args ...string) (commandOptions, error) {
	t.Helper()
	c := newValidatingCommand(t, command)
	return c.options, c.validate(args...)
}

// flagSample sets a flag to a valid value that is not its default: with
// is ref with the flag (and what it needs to do something).
type flagSample struct {
	ref, with []string
}

// sampleFile is a file a flag reads.
func sampleFile(t *testing.T, name, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// A command that registers a flag Validate ignores fails here: each flag
// of each command, set to a valid value that is not its default, changes
// the validated options, or Validate refuses it in one line. A new flag
// needs a sample here that says what it changes.
func TestEveryFlagChangesTheOptionsOrIsRefused(t *testing.T) {
	pem := sampleFile(t, "x.pem", "-----BEGIN CERTIFICATE-----\nMA==\n-----END CERTIFICATE-----\n")
	eckYAML := sampleFile(t, "eck.yaml", "log-verbosity: 0\n")
	local := []string{"--local", "--operator-version", "3.5.0"}
	add := func(base []string, more ...string) []string { return append(append([]string{}, base...), more...) }
	// Samples by flag, on top of each command's base (use-cert needs a certificate).
	samples := func(base []string) map[string]flagSample {
		same := func(more ...string) flagSample { return flagSample{base, add(base, more...)} }
		withLocal := func(more ...string) flagSample {
			return flagSample{add(base, local...), add(add(base, local...), more...)}
		}
		return map[string]flagSample{
			"name":                        same("--name", "my-operator"),
			"output":                      same("-o", "json"),
			"template":                    flagSample{base, add(base, "--template", "{{.kind}}")},
			"allow-missing-template-keys": flagSample{add(base, "-o", "jsonpath={.kind}"), add(base, "-o", "jsonpath={.kind}", "--allow-missing-template-keys=false")},
			"dry-run":                     same("--dry-run=server"),
			"allow-helm":                  same("--allow-helm"),
			"allow-gitops":                same("--allow-gitops"),
			"force-conflicts":             same("--force-conflicts"),
			"wait":                        same("--wait"),
			"timeout":                     flagSample{add(base, "--wait"), add(base, "--wait", "--timeout", "1m")},
			"mode":                        same("--mode", "sidecar"),
			"port":                        same("--port", "9090"),
			"sidecar-image":               same("--sidecar-image", "example.com/proxy:1"),
			"monitor":                     same("--monitor", "podmonitor"),
			"service-monitor":             same("--service-monitor", "never"),
			"scrape-auth":                 same("--scrape-auth", "secret"),
			"monitor-label":               same("--monitor-label", "release=p"),
			"service-monitor-label":       same("--service-monitor-label", "release=p"),
			"monitor-annotation":          same("--monitor-annotation", "team=obs"),
			"interval":                    same("--interval", "1m"),
			"scrape-timeout":              same("--scrape-timeout", "10s"),
			"alerts":                      same("--alerts"),
			"network-policy":              same("--network-policy"),
			"prometheus-namespace":        flagSample{add(base, "--network-policy"), add(base, "--network-policy", "--prometheus-namespace", "monitoring")},
			"local":                       flagSample{base, add(base, local...)},
			"operator-version":            withLocal("--operator-version", "2.15.0"),
			"filename":                    withLocal("-f", eckYAML),
			"service-account":             withLocal("--service-account", "eck-sa"),
			"selector":                    withLocal("--selector", "app=eck"),
			"local-part":                  withLocal("--local-part", "patches"),
			"scrape-config":               withLocal("--scrape-config", "prometheus"),
			// use-cert's
			"secret":       same("--secret", "other-tls"),
			"cert":         same("--cert", pem, "--key", pem),
			"key":          same("--cert", pem, "--key", pem),
			"ca-secret":    same("--ca-secret", "ca"),
			"ca":           flagSample{add(base, "--ca-secret", "ca"), add(base, "--ca-secret", "ca", "--ca", pem)},
			"ca-mount-dir": flagSample{add(base, "--ca-secret", "ca"), add(base, "--ca-secret", "ca", "--ca-mount-dir", "/etc/ca")},
			"self-signed":  flagSample{[]string{"--secret", "tls"}, []string{"--self-signed"}},
			"issuer":       flagSample{[]string{"--self-signed"}, []string{"--issuer", "ca-issuer"}},
			"issuer-kind":  flagSample{[]string{"--issuer", "ca-issuer"}, []string{"--issuer", "ca-issuer", "--issuer-kind", "ClusterIssuer"}},
			"duration":     flagSample{[]string{"--issuer", "ca-issuer"}, []string{"--issuer", "ca-issuer", "--duration", "48h"}},
			"renew-before": flagSample{[]string{"--issuer", "ca-issuer"}, []string{"--issuer", "ca-issuer", "--renew-before", "2h"}},
		}
	}
	// status and version: their own flags, and those they share with enable.
	reads := map[string]flagSample{
		"prometheus-sa":        {nil, []string{"--prometheus-sa", "monitoring/prometheus-k8s"}},
		"prometheus-namespace": {nil, []string{"--prometheus-namespace", "monitoring"}},
		"probe":                {nil, []string{"--probe"}},
		"metrics-url":          {nil, []string{"--metrics-url", "https://127.0.0.1:8080/metrics"}},
		"check":                {nil, []string{"--check", "rbac"}},
		"fail-on":              {nil, []string{"--fail-on", "warning"}},
		"all-namespaces":       {nil, []string{"-A"}},
		"contexts":             {nil, []string{"--contexts", "a,b"}},
		"all-contexts":         {nil, []string{"--all-contexts"}},
		"context-selector":     {[]string{"--all-contexts"}, []string{"--all-contexts", "--context-selector", "prod-*"}},
		"parallel":             {[]string{"--all-contexts"}, []string{"--all-contexts", "--parallel", "2"}},
		"cluster-timeout":      {[]string{"--all-contexts"}, []string{"--all-contexts", "--cluster-timeout", "5s"}},
		"client":               {nil, []string{"--client"}},
		"prometheus-url":       {nil, []string{"--prometheus-url", "http://127.0.0.1:9090"}},
	}
	for command, base := range map[string][]string{"enable": nil, "use-cert": {"--secret", "tls"}, "disable": nil, "status": nil, "version": nil} {
		table := samples(base)
		if command == "status" || command == "version" {
			maps.Copy(table, reads)
		}
		newValidatingCommand(t, command).cmd.LocalNonPersistentFlags().VisitAll(func(f *pflag.Flag) {
			if f.Name == "help" {
				return
			}
			t.Run(command+"/--"+f.Name, func(t *testing.T) {
				sample, ok := table[f.Name]
				if !ok {
					t.Fatalf("--%s has no sample: add one that says what it changes", f.Name)
				}
				ref := newValidatingCommand(t, command)
				if err := ref.validate(sample.ref...); err != nil {
					t.Fatalf("%s %v: %v", command, sample.ref, err)
				}
				with := newValidatingCommand(t, command)
				err := with.validate(sample.with...)
				if !with.cmd.Flags().Changed(f.Name) {
					t.Fatalf("sample %v does not set --%s", sample.with, f.Name)
				}
				switch {
				case err != nil && strings.Contains(err.Error(), "\n"):
					t.Errorf("%s %v refused in more than one line: %q", command, sample.with, err)
				case err != nil:
					t.Logf("%s %v refused: %v", command, sample.with, err)
				case reflect.DeepEqual(ref.settings(), with.settings()):
					t.Errorf("%s: --%s is accepted and changes nothing: %v validates as %v", command, f.Name, sample.with, sample.ref)
				}
			})
		})
	}
}
