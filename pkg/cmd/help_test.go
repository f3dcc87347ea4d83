package cmd

import (
	"github.com/eck-metrics/kubectl-eck-metrics/pkg/status"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

// unitCommands are every command a user can ask help for, root first.
func unitCommands(t *testing.T) []*cobra.Command {
	t.Helper()
	streams, _, _ := unitStreams()
	var out []*cobra.Command
	var walk func(*cobra.Command)
	walk = func(c *cobra.Command) {
		if c.Hidden || c.Name() == "help" {
			return
		}
		out = append(out, c)
		for _, sub := range c.Commands() {
			walk(sub)
		}
	}
	walk(NewCmdRoot(streams))
	return out
}

// unitHelp renders the help page of the command at path (root: none).
func unitHelp(t *testing.T, path []string) string {
	t.Helper()
	out, errOut, err := unitExecute(t, append(append([]string{}, path...), "--help")...)
	if err != nil || errOut != "" {
		t.Fatalf("%v --help: %v %s", path, err, errOut)
	}
	return out
}

// commandPath is the arguments that reach cmd from the root.
func commandPath(cmd *cobra.Command) []string {
	if !cmd.HasParent() {
		return nil
	}
	return append(commandPath(cmd.Parent()), cmd.Name())
}

// flagsSection is the "Flags:" block of a help page.
func flagsSection(help string) string {
	_, after, ok := strings.Cut(help, "\nFlags:\n")
	if !ok {
		return ""
	}
	section, _, _ := strings.Cut(after, "\n\n")
	return section
}

// Each page lists the command's own flags only: the global (kubeconfig, -v,
// --color) flags are in "options", klog's others nowhere.
func TestHelpPagesListOnlyTheirOwnFlags(t *testing.T) {
	streams, _, _ := unitStreams()
	globals := NewCmdRoot(streams).PersistentFlags()
	for _, cmd := range unitCommands(t) {
		path := commandPath(cmd)
		help := unitHelp(t, path)
		if !strings.HasSuffix(help, "Use \"kubectl eck-metrics options\" for a list of global command-line options (applies to all commands).\n") {
			t.Errorf("%v --help does not end with the options line:\n%s", path, help)
		}
		for _, klog := range hiddenLogFlags {
			if strings.Contains(help, "--"+klog) {
				t.Errorf("%v --help shows klog's --%s", path, klog)
			}
		}
		flags := flagsSection(help)
		globals.VisitAll(func(f *pflag.Flag) {
			if strings.Contains(flags, "--"+f.Name+" ") || strings.Contains(flags, f.Usage) {
				t.Errorf("%v --help lists the global flag --%s:\n%s", path, f.Name, flags)
			}
		})
		cmd.LocalNonPersistentFlags().VisitAll(func(f *pflag.Flag) {
			if !f.Hidden && !strings.Contains(flags, "--"+f.Name+" ") && !strings.Contains(flags, "--"+f.Name+"[") {
				t.Errorf("%v --help lacks its flag --%s:\n%s", path, f.Name, flags)
			}
		})
		if cmd.Runnable() && cmd.HasParent() && !cmd.HasExample() {
			t.Errorf("%v has no examples", path)
		}
	}
}

func TestOptionsListsTheGlobalFlags(t *testing.T) {
	out, _, err := unitExecute(t, "options")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"--as ", "--as-group ", "--as-uid ", "--cache-dir ", "--certificate-authority ", "--client-certificate ", "--client-key ",
		"--cluster ", "--context ", "--disable-compression ", "--insecure-skip-tls-verify ", "--kubeconfig ", "--request-timeout ",
		"-s, --server ", "--tls-server-name ", "--token ", "--user ", "-n, --namespace ", "--color ", "-v, --v "} {
		if !strings.Contains(out, want) {
			t.Errorf("options lacks %q:\n%s", want, out)
		}
	}
	for _, klog := range hiddenLogFlags {
		if strings.Contains(out, "--"+klog) {
			t.Errorf("options shows klog's --%s", klog)
		}
	}
	// Hidden, not gone: a command line that used them still runs.
	if _, _, err := unitExecute(t, "version", "--client", "--vmodule=x=2", "--log-flush-frequency=2s", "-v=1"); err != nil {
		t.Errorf("klog's flags no longer parse: %v", err)
	}
}

// unitRender runs a --local render, which contacts no cluster, and returns
// stdout and stderr.
func unitRender(t *testing.T, args ...string) (string, string) {
	t.Helper()
	out, errOut, err := unitExecute(t, append(args, "--local", "--operator-version", "3.5.0")...)
	if err != nil {
		t.Fatalf("%v: %v\n%s", args, err, errOut)
	}
	return out, errOut
}

// statedDefault is the value a usage says a flag takes when not given:
// pflag's (default "X"), or the literal of the usage's "(default: ... X)".
func statedDefault(t *testing.T, f *pflag.Flag, literal *regexp.Regexp) string {
	t.Helper()
	if literal == nil {
		return f.DefValue
	}
	m := literal.FindStringSubmatch(f.Usage)
	if m == nil {
		t.Fatalf("--%s usage %q does not state its default as %s", f.Name, f.Usage, literal)
	}
	return m[1]
}

// A default that help states is the one the code uses: each stated default
// is checked against what a --local render (which runs the same planning
// as the cluster commands) makes of the flag left out. A flag whose help
// states a default must be listed here, or among those whose default only
// a cluster shows (checked by the integration tests named).
func TestHelpStatesTheDefaultsTheCodeUses(t *testing.T) {
	type check struct {
		literal *regexp.Regexp // nil: pflag's default
		verify  func(t *testing.T, def string)
	}
	contains := func(args []string, want func(def string) string) func(*testing.T, string) {
		return func(t *testing.T, def string) {
			out, errOut := unitRender(t, args...)
			if w := want(def); !strings.Contains(out+errOut, w) {
				t.Errorf("%v does not render %q, the default help states:\n%s", args, w, out)
			}
		}
	}
	lacks := func(args []string, field string) func(*testing.T, string) {
		return func(t *testing.T, _ string) {
			if out, _ := unitRender(t, args...); strings.Contains(out, field) {
				t.Errorf("%v renders %s, which help leaves to cert-manager or Prometheus:\n%s", args, field, out)
			}
		}
	}
	enableChecks := map[string]check{
		"port":           {regexp.MustCompile(`default: (\d+) when free`), contains([]string{"enable"}, func(d string) string { return "metrics-port: " + d })},
		"interval":       {regexp.MustCompile(`else (\w+)\)`), contains([]string{"enable"}, func(d string) string { return "interval: " + d })},
		"sidecar-image":  {nil, contains([]string{"enable", "--mode", "sidecar"}, func(d string) string { return "image: " + d })},
		"selector":       {nil, contains([]string{"enable"}, func(d string) string { k, v, _ := strings.Cut(d, "="); return k + ": " + v })},
		"name":           {regexp.MustCompile(`else ([a-z-]+)\)`), contains([]string{"enable"}, func(d string) string { return "kind: StatefulSet\nmetadata:\n  name: " + d })},
		"local-part":     {nil, contains([]string{"enable"}, func(string) string { return "kind: ConfigMap" })},
		"monitor":        {regexp.MustCompile(`else a (\w+) where`), contains([]string{"enable"}, func(d string) string { return "kind: " + d })},
		"scrape-timeout": {regexp.MustCompile(`default: (Prometheus's)`), lacks([]string{"enable"}, "scrapeTimeout")},
		"mode": {regexp.MustCompile(`default: (chosen by the operator's version)`), func(t *testing.T, _ string) {
			for version, mode := range map[string]string{"3.5.0": "native", "2.14.0": "sidecar"} {
				if _, errOut, err := unitExecute(t, "enable", "--local", "--operator-version", version); err != nil || !strings.Contains(errOut, "in "+mode+" mode") {
					t.Errorf("enable --local for ECK %s: %v, want %s mode:\n%s", version, err, mode, errOut)
				}
			}
		}},
		"scrape-auth": {regexp.MustCompile(`else (file); secret for a PodMonitor`), func(t *testing.T, def string) {
			if out, _ := unitRender(t, "enable"); !strings.Contains(out, "bearerTokenFile:") {
				t.Errorf("the default scrape auth is not %s (the token file):\n%s", def, out)
			}
			if out, _ := unitRender(t, "enable", "--monitor", "podmonitor"); !strings.Contains(out, "kind: ServiceAccount") || strings.Contains(out, "bearerTokenFile:") {
				t.Errorf("a PodMonitor's default scrape auth is not secret (a reader ServiceAccount):\n%s", out)
			}
		}},
		"service-account": {regexp.MustCompile(`default: (--name), else`), func(t *testing.T, _ string) {
			if out, _ := unitRender(t, "enable", "--name", "my-operator"); !strings.Contains(out, "- kind: ServiceAccount\n  name: my-operator") {
				t.Errorf("the default ServiceAccount is not --name:\n%s", out)
			}
		}},
	}
	useCertChecks := map[string]check{
		"ca-mount-dir": {nil, contains([]string{"use-cert", "--secret", "s", "--ca-secret", "ca", "--prometheus-namespace", "monitoring"}, func(d string) string { return "caFile: " + d + "/ca/ca.crt" })},
		"issuer-kind":  {nil, contains([]string{"use-cert", "--issuer", "ca-issuer"}, func(d string) string { return "kind: " + d + "\n    name: ca-issuer" })},
		"duration":     {regexp.MustCompile(`default: (cert-manager's), 90 days`), lacks([]string{"use-cert", "--issuer", "ca-issuer"}, "duration:")},
		"renew-before": {regexp.MustCompile(`default: (cert-manager's)`), lacks([]string{"use-cert", "--issuer", "ca-issuer"}, "renewBefore:")},
	}
	// Defaults only a cluster shows (test/integration checks them), and
	// what each depends on.
	byCluster := map[string]string{
		"name":                        "operator.Find: the labelled StatefulSets, else elastic-operator",
		"monitor-label":               "an earlier run's labels",
		"monitor-annotation":          "an earlier run's annotations",
		"prometheus-namespace":        "the Prometheus objects that select the monitor",
		"prometheus-sa":               "the Prometheus objects that select the monitor",
		"timeout":                     "how long a rollout or cert-manager takes",
		"dry-run":                     "what is sent to the API server",
		"allow-missing-template-keys": "cli-runtime's printer, as kubectl's",
		"output":                      "status's table of checks",
		"fail-on":                     "the outcomes of a report (test/integration's exit-code tests)",
		"parallel":                    "how many clusters answer at once (test/integration's fleet tests)",
		"cluster-timeout":             "how long a cluster takes to answer (test/integration's fleet tests)",
	}
	for _, cmd := range unitCommands(t) {
		checks := map[string]check{}
		switch cmd.Name() {
		case "enable", "use-cert":
			for k, v := range enableChecks {
				checks[k] = v
			}
			if cmd.Name() == "use-cert" {
				for k, v := range useCertChecks {
					checks[k] = v
				}
			}
		}
		cmd.LocalNonPersistentFlags().VisitAll(func(f *pflag.Flag) {
			zero := map[string]bool{"": true, "false": true, "[]": true, "0": true, "0s": true}[f.DefValue]
			if f.Hidden || (zero && !strings.Contains(f.Usage, "default")) {
				return
			}
			c, ok := checks[f.Name]
			if !ok {
				if _, ok := byCluster[f.Name]; !ok {
					t.Errorf("%s --%s states a default (%q, %q) that no test checks: add it to this test", cmd.Name(), f.Name, f.DefValue, f.Usage)
				}
				return
			}
			t.Run(cmd.Name()+"/"+f.Name, func(t *testing.T) { c.verify(t, statedDefault(t, f, c.literal)) })
		})
	}
}

// The helper that completion prints is the one make install installs.
func TestCompletionPrintsTheInstalledHelper(t *testing.T) {
	script, err := os.ReadFile(filepath.Join("..", "..", "scripts", CompletionHelperName))
	if err != nil {
		t.Fatal(err)
	}
	out, _, err := unitExecute(t, "completion")
	if err != nil || out != string(script) {
		t.Errorf("completion printed (%v)\n%s\nwant scripts/%s:\n%s", err, out, CompletionHelperName, script)
	}
	if out, _, err := unitExecute(t, "completion", "cmd"); err != nil || !strings.Contains(out, "kubectl-eck_metrics.exe __complete %*") {
		t.Errorf("completion cmd = (%v) %q", err, out)
	}
	// A shell's name gets what to run instead: sourcing the helper would
	// exec the plugin in place of the shell.
	_, _, err = unitExecute(t, "completion", "bash")
	if err == nil || !strings.Contains(err.Error(), "source <(kubectl completion bash)") || strings.Contains(err.Error(), "\n") {
		t.Errorf("completion bash = %v, want one line naming kubectl completion bash", err)
	}
}

// Flag values that the plugin alone knows complete without a cluster.
func TestCompletesPluginValues(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want []string
	}{
		{[]string{"status", "--check", ""}, []string{"rbac", "rbac.binding", "live-endpoint", "live-endpoint.token"}},
		{[]string{"status", "--check", "rb"}, []string{"rbac", "rbac.role"}},
		{[]string{"enable", "--scrape-auth", ""}, []string{"file", "secret"}},
		{[]string{"enable", "-o", ""}, []string{"yaml", "json", "name", "jsonpath", "go-template"}},
		{[]string{"disable", "-o", ""}, []string{"yaml", "json", "name"}},
		{[]string{"use-cert", "--issuer-kind", ""}, []string{"Issuer", "ClusterIssuer"}},
		{[]string{"completion", ""}, []string{"sh", "cmd"}},
	} {
		out, _, err := unitExecute(t, append([]string{cobra.ShellCompRequestCmd}, tc.args...)...)
		if err != nil {
			t.Fatalf("%v: %v", tc.args, err)
		}
		lines := strings.Split(out, "\n")
		for _, w := range tc.want {
			found := false
			for _, l := range lines {
				found = found || l == w || strings.HasPrefix(l, w+"\t")
			}
			if !found {
				t.Errorf("completing %v does not offer %q:\n%s", tc.args, w, out)
			}
		}
		if tc.args[len(tc.args)-1] == "rb" && strings.Contains(out, "live-endpoint") {
			t.Errorf("completing %v offers values without its prefix:\n%s", tc.args, out)
		}
	}
}

// status's help names every category of the catalogue: a new category
// shows there without an edit of the text.
func TestStatusHelpNamesEveryCategory(t *testing.T) {
	out, _, err := unitExecute(t, "status", "--help")
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range status.Categories() {
		if !strings.Contains(out, string(c)) {
			t.Errorf("status help lacks category %s", c)
		}
	}
}
