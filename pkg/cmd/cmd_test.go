package cmd

// Unit tests of the commands' pure parts: no cluster, no envtest, no
// kubeconfig. Complete and Run need a cluster and are covered by
// test/integration.

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/eck-metrics/kubectl-eck-metrics/pkg/kube"
	"github.com/eck-metrics/kubectl-eck-metrics/pkg/operator"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/cli-runtime/pkg/genericiooptions"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
)

const unitKubeconfigHint = ": check --kubeconfig, --context and that the cluster is up"

func unitURLError() *url.Error {
	return &url.Error{
		Op:  "Get",
		URL: "https://10.96.0.1:6443/apis/apps/v1/namespaces/elastic-system/statefulsets/elastic-operator?timeout=32s",
		Err: errors.New("dial tcp 10.96.0.1:6443: connect: connection refused"),
	}
}

func TestExplainURLError(t *testing.T) {
	short := "cannot reach the Kubernetes API server at https://10.96.0.1:6443 (dial tcp 10.96.0.1:6443: connect: connection refused)"
	tests := []struct {
		name string
		err  error
		want string
	}{
		{
			name: "top level",
			err:  unitURLError(),
			want: short + unitKubeconfigHint,
		},
		{
			name: "wrapped once",
			err:  fmt.Errorf("step 4/5 (StatefulSet) failed, steps 1-3 are applied; fix this and rerun to complete: %w", unitURLError()),
			want: "step 4/5 (StatefulSet) failed, steps 1-3 are applied; fix this and rerun to complete: " + short + unitKubeconfigHint,
		},
		{
			name: "wrapped twice, context on both sides",
			err:  fmt.Errorf("step 4/5 (StatefulSet) failed: %w", fmt.Errorf("StatefulSet elastic-system/elastic-operator: %w", unitURLError())),
			want: "step 4/5 (StatefulSet) failed: StatefulSet elastic-system/elastic-operator: " + short + unitKubeconfigHint,
		},
		{
			name: "no port, userinfo not shown",
			err:  &url.Error{Op: "Post", URL: "https://admin:secret@api.example.com/api/v1/namespaces", Err: errors.New("context deadline exceeded")},
			want: "cannot reach the Kubernetes API server at https://api.example.com (context deadline exceeded)" + unitKubeconfigHint,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Explain(tt.err)
			if got != tt.want {
				t.Errorf("Explain() =\n  %s\nwant\n  %s", got, tt.want)
			}
			if strings.Contains(got, "?timeout=") || strings.Contains(got, `Get "`) || strings.Contains(got, "secret") {
				t.Errorf("Explain() kept the raw url.Error text: %s", got)
			}
			if strings.Contains(got, "\n") {
				t.Errorf("Explain() is not one line: %q", got)
			}
		})
	}
}

// The url.Error as client-go really returns it, from a port nothing listens
// on (no cluster, no kubeconfig: a hand-made rest.Config).
func TestExplainRealClientGoError(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Skipf("cannot open a local port: %v", err)
	}
	addr := l.Addr().String()
	_ = l.Close()
	client, err := kubernetes.NewForConfig(&rest.Config{Host: "https://" + addr, Timeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	_, getErr := client.CoreV1().ConfigMaps("elastic-system").Get(context.Background(), "elastic-operator", metav1.GetOptions{})
	if getErr == nil {
		t.Fatalf("something answered on %s", addr)
	}
	err = fmt.Errorf("step 1/5 (ConfigMap eck.yaml) failed: %w", kube.ReadError("ConfigMap elastic-system/elastic-operator", getErr))
	got := Explain(err)
	wantPrefix := "step 1/5 (ConfigMap eck.yaml) failed: cannot read ConfigMap elastic-system/elastic-operator: cannot reach the Kubernetes API server at https://" + addr + " ("
	if !strings.HasPrefix(got, wantPrefix) || !strings.HasSuffix(got, ")"+unitKubeconfigHint) {
		t.Errorf("Explain() =\n  %s\nwant\n  %s...)%s", got, wantPrefix, unitKubeconfigHint)
	}
	if strings.Contains(got, "/api/v1/namespaces") {
		t.Errorf("Explain() kept the request URL: %s", got)
	}
}

func TestExplainOtherErrorsUnchanged(t *testing.T) {
	for _, err := range []error{
		errors.New("boom"),
		fmt.Errorf("step 2/5 (RBAC) failed: %w", errors.New(`clusterroles.rbac.authorization.k8s.io "x" is forbidden`)),
		fmt.Errorf("unknown flag: --bogus"),
	} {
		if got := Explain(err); got != err.Error() {
			t.Errorf("Explain(%q) = %q, want it unchanged", err, got)
		}
	}
}

func TestParseLabels(t *testing.T) {
	got, err := parseLabels("service-monitor-label", []string{"release=prometheus", "example.com/team=obs", "empty=", "a=1", "a=2"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"release": "prometheus", "example.com/team": "obs", "empty": "", "a": "2"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("parseLabels() = %v, want %v", got, want)
	}

	// No flag given: nil, so an earlier run's labels are kept.
	got, err = parseLabels("service-monitor-label", nil, nil)
	if err != nil || got != nil {
		t.Errorf("parseLabels(nil) = (%v, %v), want nil", got, err)
	}

	bad := []struct {
		in, wantPrefix string
	}{
		{"release", `invalid --service-monitor-label "release": use KEY=VALUE`},
		{"=prometheus", `invalid --service-monitor-label key "": `},
		{"bad key=x", `invalid --service-monitor-label key "bad key": `},
		{"-release=x", `invalid --service-monitor-label key "-release": `},
		{"release=not valid", `invalid --service-monitor-label value "not valid": `},
		{"release=" + strings.Repeat("v", 64), `invalid --service-monitor-label value "` + strings.Repeat("v", 64) + `": `},
	}
	for _, tt := range bad {
		got, err := parseLabels("service-monitor-label", []string{"ok=1", tt.in}, nil)
		if err == nil {
			t.Errorf("parseLabels(%q) = %v, want an error", tt.in, got)
			continue
		}
		if got != nil {
			t.Errorf("parseLabels(%q) returned %v with its error", tt.in, got)
		}
		if !strings.HasPrefix(err.Error(), tt.wantPrefix) {
			t.Errorf("parseLabels(%q) error = %q, want prefix %q", tt.in, err, tt.wantPrefix)
		}
		if tt.wantPrefix[len(tt.wantPrefix)-2:] == ": " && len(err.Error()) == len(tt.wantPrefix) {
			t.Errorf("parseLabels(%q) error %q does not say why", tt.in, err)
		}
	}
}

func unitStreams() (genericiooptions.IOStreams, *bytes.Buffer, *bytes.Buffer) {
	streams, _, out, errOut := genericiooptions.NewTestIOStreams()
	return streams, out, errOut
}

func unitExecute(t *testing.T, args ...string) (string, string, error) {
	t.Helper()
	streams, out, errOut := unitStreams()
	root := NewCmdRoot(streams)
	root.SetArgs(args)
	err := root.Execute()
	return out.String(), errOut.String(), err
}

func TestRootHelp(t *testing.T) {
	out, _, err := unitExecute(t, "--help")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"kubectl eck-metrics [command]",
		"enable",
		"version",
		"options",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("root help lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "\n  eck-metrics ") {
		t.Errorf("root help uses the bare command name instead of kubectl eck-metrics:\n%s", out)
	}
}

func TestEnableHelpAndFlags(t *testing.T) {
	out, _, err := unitExecute(t, "enable", "--help")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out, "kubectl eck-metrics enable [flags]") {
		t.Errorf("enable help lacks the usage line %q:\n%s", "kubectl eck-metrics enable [flags]", out)
	}
	local := []string{"mode", "port", "dry-run", "monitor", "scrape-auth", "monitor-label", "monitor-annotation", "interval", "scrape-timeout", "allow-helm", "force-conflicts", "wait", "timeout", "name"}
	for _, f := range local {
		if !strings.Contains(out, "--"+f+" ") && !strings.Contains(out, "--"+f+"[") {
			t.Errorf("enable help lacks --%s", f)
		}
	}
	// The old aliases still parse (TestEveryFlagChangesTheOptionsOrIsRefused) but help shows only the new names.
	for _, alias := range []string{"--service-monitor-label", "--service-monitor "} {
		if strings.Contains(out, alias) {
			t.Errorf("enable help shows the old alias %s", alias)
		}
	}
	// The global flags are in "options" (TestOptionsListsTheGlobalFlags).
	if !strings.Contains(out, "-o, --output") {
		t.Errorf("enable help lacks %q", "-o, --output")
	}

	streams, _, _ := unitStreams()
	root := NewCmdRoot(streams)
	enable, _, err := root.Find([]string{"enable"})
	if err != nil || enable.Name() != "enable" {
		t.Fatalf("root.Find(enable) = (%v, %v)", enable, err)
	}
	for _, f := range local {
		if enable.LocalFlags().Lookup(f) == nil {
			t.Errorf("enable has no local flag --%s", f)
		}
	}
	// --service-monitor still parses, hidden and marked deprecated with its replacement.
	if f := enable.LocalFlags().Lookup("service-monitor"); f == nil || !strings.Contains(f.Deprecated, "--monitor") {
		t.Errorf("--service-monitor is %+v, want it deprecated in favour of --monitor", f)
	}
	inherited := enable.InheritedFlags()
	for _, f := range []string{"kubeconfig", "context", "namespace"} {
		if inherited.Lookup(f) == nil {
			t.Errorf("enable does not inherit the global flag --%s", f)
		}
	}
	if n := inherited.ShorthandLookup("n"); n == nil || n.Name != "namespace" {
		t.Errorf("-n is %v, want --namespace", n)
	}
	if v := inherited.ShorthandLookup("v"); v == nil || v.Name != "v" {
		t.Errorf("-v is %v, want klog's --v as kubectl has it", v)
	}
	// No fixed default port: enable picks 8081 when free, else the next free one.
	if usage := enable.Flags().Lookup("port").Usage; !strings.Contains(usage, "8081 when free, else the next free port") {
		t.Errorf("--port usage %q does not say how the port is chosen", usage)
	}
	defaults := map[string]string{"port": "", "dry-run": "none", "service-monitor": "auto", "timeout": "5m0s", "wait": "false", "mode": ""}
	for name, want := range defaults {
		if got := enable.Flags().Lookup(name).DefValue; got != want {
			t.Errorf("--%s default = %q, want %q", name, got, want)
		}
	}
	if got := enable.Flags().Lookup("dry-run").NoOptDefVal; got != "client" {
		t.Errorf("--dry-run without a value means %q, want client", got)
	}
}

func TestVersionClient(t *testing.T) {
	out, errOut, err := unitExecute(t, "version", "--client")
	if err != nil {
		t.Fatal(err)
	}
	if out != "kubectl-eck-metrics dev\n" {
		t.Errorf("version --client printed %q, want %q", out, "kubectl-eck-metrics dev\n")
	}
	if errOut != "" {
		t.Errorf("version --client wrote to stderr: %q", errOut)
	}
	for format, want := range map[string]string{
		"json": "{\n    \"clientVersion\": \"dev\"\n}\n",
		"yaml": "clientVersion: dev\n",
	} {
		out, _, err := unitExecute(t, "version", "--client", "-o", format)
		if err != nil || out != want {
			t.Errorf("version --client -o %s = %q, %v; want %q", format, out, err, want)
		}
	}
}

// unreachable is a server on loopback where nothing listens: port 1 is
// privileged and unassigned, so the dial is refused at once.
var unreachable = []string{"--kubeconfig", "/dev/null", "--server", "https://127.0.0.1:1"}

func TestRunExitCodes(t *testing.T) {
	streams, out, _ := unitStreams()
	if code := Run([]string{"version", "--client"}, streams); code != 0 || out.String() != "kubectl-eck-metrics dev\n" {
		t.Errorf("Run(version --client) = %d, stdout %q", code, out.String())
	}

	// Bad usage: cobra's errors and Validate's exit 2 with one line.
	for _, args := range [][]string{
		{"enable", "--bogus"},
		{"version", "extra"},
		{"status", "-o", "xml"},
		{"status", "--fail-on", "never"},
		{"version", "-o", "name"},
		{"bogus"},
	} {
		streams, _, errOut := unitStreams()
		code := Run(args, streams)
		if code != 2 || !strings.HasPrefix(errOut.String(), "error: ") || strings.Count(errOut.String(), "\n") != 1 {
			t.Errorf("Run(%s) = %d, stderr %q; want 2 and one error line", strings.Join(args, " "), code, errOut.String())
		}
	}
	streams, _, errOut := unitStreams()
	if code := Run([]string{"enable", "--bogus"}, streams); errOut.String() != "error: unknown flag: --bogus\n" {
		t.Errorf("Run(enable --bogus) = %d, stderr %q, want one error line", code, errOut.String())
	}

	// Could not look: every command that reads the cluster exits 2 with one
	// line naming the server; version prints the plugin's version first.
	for _, args := range [][]string{{"status"}, {"enable"}, {"use-cert", "--secret", "tls"}, {"disable"}, {"version"}} {
		streams, out, errOut := unitStreams()
		code := Run(append(args, unreachable...), streams)
		stderr := errOut.String()
		if code != 2 || !strings.HasPrefix(stderr, "error: cannot reach the Kubernetes API server at https://127.0.0.1:1") || strings.Count(stderr, "\n") != 1 {
			t.Errorf("Run(%s) against a closed port = %d, stderr %q; want 2 and one line", args[0], code, stderr)
		}
		wantOut := ""
		if args[0] == "version" {
			wantOut = "kubectl-eck-metrics dev\n"
		}
		if out.String() != wantOut {
			t.Errorf("Run(%s) against a closed port printed %q, want %q", args[0], out.String(), wantOut)
		}
	}
}

func TestExitCode(t *testing.T) {
	forbidden := apierrors.NewForbidden(schema.GroupResource{Group: "apps", Resource: "statefulsets"}, "", errors.New("no"))
	for _, tt := range []struct {
		name string
		err  error
		want int
	}{
		{"success", nil, 0},
		{"status: a check failed", &ExitError{Code: 1}, 1},
		{"a change was refused", &runFailure{errors.New("refused")}, 1},
		{"forbidden to write, after the operator was found", &runFailure{forbidden}, 1},
		{"bad usage", errors.New("unknown flag: --bogus"), 2},
		{"unreachable", &runFailure{fmt.Errorf("step 1: %w", unitURLError())}, 2},
		{"credentials refused", &runFailure{apierrors.NewUnauthorized("Unauthorized")}, 2},
		{"operator's StatefulSet forbidden", &runFailure{&operator.LookupError{Err: forbidden}}, 2},
		{"explained", &explained{"x", &runFailure{errors.New("refused")}}, 1},
	} {
		if got := ExitCode(tt.err); got != tt.want {
			t.Errorf("%s: ExitCode(%v) = %d, want %d", tt.name, tt.err, got, tt.want)
		}
	}
}

func TestExplainNamesTheTarget(t *testing.T) {
	at := target{context: "kind-prod", server: "https://10.0.0.1:6443"}
	for _, tt := range []struct {
		name string
		err  error
		want string
	}{
		{"unreachable", unitURLError(), "cannot reach the Kubernetes API server at https://10.96.0.1:6443 (context \"kind-prod\") (dial tcp 10.96.0.1:6443: connect: connection refused)" + unitKubeconfigHint},
		{"unauthorized", apierrors.NewUnauthorized("Unauthorized"), "the Kubernetes API server at https://10.0.0.1:6443 (context \"kind-prod\") refused the credentials (Unauthorized): check the user of the context in --kubeconfig (an expired token or certificate?) and log in again"},
		{"forbidden", &operator.LookupError{Err: apierrors.NewForbidden(schema.GroupResource{Group: "apps", Resource: "statefulsets"}, "", errors.New(`User "bob" cannot list resource "statefulsets"`))},
			`cannot look for the ECK operator at https://10.0.0.1:6443 (context "kind-prod"): statefulsets.apps is forbidden: User "bob" cannot list resource "statefulsets": ask for get and list on statefulsets.apps, or run as a user who has them`},
	} {
		if got := (&lookError{err: tt.err, target: at}).Error(); got != tt.want {
			t.Errorf("%s:\n got %q\nwant %q", tt.name, got, tt.want)
		}
	}
}

func TestValidateDefaults(t *testing.T) {
	o, err := unitValidate(t, "enable")
	if err != nil {
		t.Fatalf("Validate() with the defaults = %v", err)
	}
	e := o.(*EnableOptions)
	if e.printer != nil {
		t.Error("without -o and --dry-run nothing should be printed")
	}
	if e.install.Mode != "" || e.DryRun != "none" || e.monitor.Kind != "" || e.monitor.Labels != nil || e.monitor.Auth != "" {
		t.Errorf("parsed mode=%q dryRun=%q monitor=%+v", e.install.Mode, e.DryRun, e.monitor)
	}

	o, err = unitValidate(t, "enable", "--mode", "sidecar", "--port", "9090", "--dry-run=client", "--service-monitor", "always", "--service-monitor-label", "release=prometheus")
	if err != nil {
		t.Fatalf("Validate() = %v", err)
	}
	e = o.(*EnableOptions)
	if e.install.Mode != "sidecar" || e.DryRun != "client" || e.monitor.Kind != "servicemonitor" || e.monitor.KindFlag != "--service-monitor=always" || e.monitor.Labels["release"] != "prometheus" {
		t.Errorf("parsed mode=%q dryRun=%q monitor=%+v", e.install.Mode, e.DryRun, e.monitor)
	}
	if e.Output != "yaml" || e.printer == nil {
		t.Errorf("--dry-run=client without -o: format %q printer %v, want yaml and a printer", e.Output, e.printer)
	}

	o, err = unitValidate(t, "enable", "--wait", "-o", "name")
	if err != nil {
		t.Fatalf("Validate(--wait -o name) = %v", err)
	}
	if o.(*EnableOptions).printer == nil {
		t.Error("-o name: no printer")
	}
}

func TestValidateErrors(t *testing.T) {
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"port 0", []string{"--port", "0"}, "invalid --port 0: use a port between 1 and 65535"},
		{"port 70000", []string{"--port", "70000"}, "invalid --port 70000: use a port between 1 and 65535"},
		{"port -1", []string{"--port=-1"}, "invalid --port -1: use a port between 1 and 65535"},
		{"mode", []string{"--mode", "proxy"}, `unknown --mode "proxy": use native or sidecar`},
		{"dry-run", []string{"--dry-run=true"}, `invalid --dry-run value "true": use "none", "client" or "server"`},
		{"service-monitor", []string{"--service-monitor", "yes"}, `invalid --service-monitor "yes": use auto, always or never`},
		{"label without =", []string{"--service-monitor-label", "release"}, `invalid --service-monitor-label "release": use KEY=VALUE`},
		{"monitor", []string{"--monitor", "probe"}, `invalid --monitor "probe": use servicemonitor, podmonitor or none`},
		{"scrape-auth", []string{"--scrape-auth", "token"}, `invalid --scrape-auth "token": use file or secret`},
		{"secret auth without a monitor", []string{"--monitor", "none", "--scrape-auth", "secret"},
			"--scrape-auth secret sets up the monitor's credentials, but --monitor none applies no monitor: drop one of them"},
		{"secret auth with --service-monitor=never", []string{"--service-monitor", "never", "--scrape-auth", "secret"},
			"--scrape-auth secret sets up the monitor's credentials, but --service-monitor=never applies no monitor: drop one of them"},
		{"file auth with a PodMonitor", []string{"--monitor", "podmonitor", "--scrape-auth", "file"},
			"--scrape-auth file with --monitor podmonitor: a PodMonitor has no bearerTokenFile field: use --scrape-auth secret (the default for a PodMonitor)"},
		{"both monitor flags", []string{"--monitor", "podmonitor", "--service-monitor", "always"},
			"--service-monitor=always conflicts with --monitor podmonitor: drop --service-monitor (deprecated: use --monitor)"},
		{"monitor label", []string{"--monitor-label", "release"}, `invalid --monitor-label "release": use KEY=VALUE`},
		{"monitor annotation", []string{"--monitor-annotation", "a b=c"}, `invalid --monitor-annotation key "a b": name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')`},
		{"interval", []string{"--interval", "30"}, `invalid --interval "30": use a positive Prometheus duration such as 30s, 1m or 1h30m`},
		{"interval 0", []string{"--interval", "0s"}, `invalid --interval "0s": use a positive Prometheus duration such as 30s, 1m or 1h30m`},
		{"scrape-timeout", []string{"--scrape-timeout", "1.5s"}, `invalid --scrape-timeout "1.5s": use a positive Prometheus duration such as 30s, 1m or 1h30m`},
		{"timeout over interval", []string{"--interval", "15s", "--scrape-timeout", "20s"},
			"--scrape-timeout 20s is longer than the scrape interval 15s: Prometheus refuses it; give a shorter --scrape-timeout or a longer --interval"},
		// A render knows no earlier run's interval: the default counts (on a
		// cluster, steps.ResolveMonitor weighs the kept one).
		{"timeout over the default interval", []string{"--scrape-timeout", "1m", "--local", "--operator-version", "3.5.0"},
			"--scrape-timeout 1m is longer than the scrape interval 30s: Prometheus refuses it; give a shorter --scrape-timeout or a longer --interval"},
		{"sidecar image", []string{"--sidecar-image", "  "}, "--sidecar-image is empty: give a kube-rbac-proxy image, e.g. quay.io/brancz/kube-rbac-proxy:v0.19.1"},
		{"wait with dry-run=server", []string{"--wait", "--dry-run=server"}, "--wait waits for a rollout, which a --dry-run never starts: drop one of them"},
		{"wait with dry-run=client", []string{"--wait", "--dry-run"}, "--wait waits for a rollout, which a --dry-run never starts: drop one of them"},
		{"timeout 0", []string{"--wait", "--timeout", "0s"}, "invalid --timeout 0s: use a positive duration such as 5m"},
		{"timeout negative", []string{"--wait", "--timeout=-1s"}, "invalid --timeout -1s: use a positive duration such as 5m"},
		{"-o xml", []string{"-o", "xml"}, `invalid -o "xml": use one of json, yaml, kyaml, name, go-template, go-template-file, template, templatefile, jsonpath, jsonpath-as-json, jsonpath-file`},
		{"-o xml with dry-run", []string{"--dry-run", "-o", "xml"}, `invalid -o "xml": use one of json, yaml, kyaml, name, go-template, go-template-file, template, templatefile, jsonpath, jsonpath-as-json, jsonpath-file`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := unitValidate(t, "enable", tt.args...)
			if err == nil {
				t.Fatalf("Validate() = nil, want %q", tt.want)
			}
			if err.Error() != tt.want {
				t.Errorf("Validate() =\n  %q\nwant\n  %q", err, tt.want)
			}
			if strings.Contains(err.Error(), "\n") {
				t.Errorf("Validate() error is not one line: %q", err)
			}
		})
	}
}

func TestValidateLabelKeyAndValue(t *testing.T) {
	for _, tt := range []struct{ label, wantPrefix string }{
		{"bad key=x", `invalid --service-monitor-label key "bad key": `},
		{"release=not valid", `invalid --service-monitor-label value "not valid": `},
	} {
		_, err := unitValidate(t, "enable", "--service-monitor-label", tt.label)
		if err == nil || !strings.HasPrefix(err.Error(), tt.wantPrefix) || strings.Contains(err.Error(), "\n") {
			t.Errorf("Validate(--service-monitor-label %q) = %v, want one line starting %q", tt.label, err, tt.wantPrefix)
		}
	}
}

// The flags reach the options NewCmdEnable validates: parse a command line
// into a fresh command and validate its options the way RunE does, without
// Complete (which needs a kubeconfig).
func TestEnableFlagsBindOptions(t *testing.T) {
	o, err := unitValidate(t, "enable", "--mode=sidecar", "--port", "9090", "--dry-run", "--service-monitor=always",
		"--service-monitor-label", "a=1", "--service-monitor-label", "b=2", "--allow-helm", "--force-conflicts",
		"--monitor-label", "c=3", "--monitor-annotation", "d=4", "--interval", "1m", "--scrape-timeout", "20s", "--scrape-auth", "secret",
		"--name", "my-operator", "-o", "json")
	if err != nil {
		t.Fatalf("Validate() = %v", err)
	}
	e := o.(*EnableOptions)
	if e.install.Mode != "sidecar" || e.install.Port != 9090 || e.DryRun != "client" || !e.AllowHelm || !e.ForceConflicts || e.Name != "my-operator" || e.Output != "json" {
		t.Errorf("flags did not reach the options: %+v", e)
	}
	want := map[string]string{"a": "1", "b": "2", "c": "3"}
	if m := e.monitor; m.Kind != "servicemonitor" || m.Auth != "secret" || !reflect.DeepEqual(m.Labels, want) || m.Annotations["d"] != "4" || m.Interval != "1m" || m.ScrapeTimeout != "20s" {
		t.Errorf("monitor flags parsed as %+v", m)
	}
	if e.progress() != e.ErrOut {
		t.Error("with -o, progress must go to stderr so stdout carries only objects")
	}
	o, err = unitValidate(t, "enable", "--wait", "--timeout", "30s")
	if err != nil || !o.(*EnableOptions).Wait || o.(*EnableOptions).Timeout != 30*time.Second {
		t.Errorf("--wait --timeout 30s: %v, %+v", err, o)
	}
}

// --prometheus-url that is not a base URL of Prometheus is refused in one
// line before any request (the server is a closed port).
func TestStatusPrometheusURLRefused(t *testing.T) {
	for _, value := range []string{"prometheus:9090", "ftp://prometheus", "http://", "http://prometheus:9090/api/v1/targets?state=any"} {
		streams, out, errOut := unitStreams()
		code := Run(append([]string{"status", "--prometheus-url", value}, unreachable...), streams)
		want := fmt.Sprintf("error: invalid --prometheus-url %q: use the base URL of Prometheus's web UI, as http://HOST:9090\n", value)
		if code != 2 || errOut.String() != want || out.Len() != 0 {
			t.Errorf("status --prometheus-url %s: exit %d, stdout %q, stderr %q; want 2 and %q", value, code, out.String(), errOut.String(), want)
		}
	}
}

// A negative --wait is refused in one line before any request.
func TestStatusWaitRefused(t *testing.T) {
	streams, out, errOut := unitStreams()
	code := Run(append([]string{"status", "--wait=-1s"}, unreachable...), streams)
	want := "error: invalid --wait -1s: use a positive duration, e.g. --wait=5m\n"
	if code != 2 || errOut.String() != want || out.Len() != 0 {
		t.Errorf("status --wait=-1s: exit %d, stdout %q, stderr %q; want 2 and %q", code, out.String(), errOut.String(), want)
	}
}
