package cmd

import (
	"strings"
	"testing"
)

// Bad flag values and combinations are refused in one line before any
// request (no API server here: Validate has no client). Moved down from
// test/integration, where they ran against a cluster; the rows that need
// one (what the cluster serves, an earlier run's interval) stayed there.
func TestFlagRefusals(t *testing.T) {
	local := []string{"--local", "--operator-version", "3.5.0"}
	monitorRows := []struct {
		name string
		args []string
		want string
	}{
		{"unknown monitor", []string{"--monitor", "foo"}, `invalid --monitor "foo": use servicemonitor, podmonitor or none`},
		{"monitor kind spelled as the Kind", []string{"--monitor", "ServiceMonitor"}, `invalid --monitor "ServiceMonitor"`},
		{"unknown scrape auth", []string{"--scrape-auth", "foo"}, `invalid --scrape-auth "foo": use file or secret`},
		{"file auth on a PodMonitor", []string{"--monitor", "podmonitor", "--scrape-auth", "file"}, "a PodMonitor has no bearerTokenFile field: use --scrape-auth secret"},
		{"secret auth without a monitor", []string{"--scrape-auth", "secret", "--monitor", "none"}, "--scrape-auth secret sets up the monitor's credentials, but --monitor none applies no monitor"},
		{"interval 0", []string{"--interval", "0"}, `invalid --interval "0": use a positive Prometheus duration`},
		{"interval -1s", []string{"--interval", "-1s"}, `invalid --interval "-1s"`},
		{"interval 1x", []string{"--interval", "1x"}, `invalid --interval "1x"`},
		{"interval without unit", []string{"--interval", "10"}, `invalid --interval "10"`},
		{"bad interval", []string{"--interval", "soon"}, `invalid --interval "soon"`},
		{"timeout 0s", []string{"--scrape-timeout", "0s"}, `invalid --scrape-timeout "0s"`},
		{"timeout over interval", []string{"--interval", "10s", "--scrape-timeout", "11s"}, "--scrape-timeout 11s is longer than the scrape interval 10s"},
		{"label without =", []string{"--monitor-label", "bad"}, `invalid --monitor-label "bad": use KEY=VALUE`},
		{"label without key", []string{"--monitor-label", "=v"}, `invalid --monitor-label key ""`},
		{"label value with a space", []string{"--monitor-label", "a=b c"}, `invalid --monitor-label value "b c"`},
		{"our managed-by label", []string{"--monitor-label", "app.kubernetes.io/managed-by=someone"}, "kubectl-eck-metrics sets app.kubernetes.io/managed-by=kubectl-eck-metrics on its monitor"},
		{"our managed-by label by the alias", []string{"--service-monitor-label", "app.kubernetes.io/managed-by=someone"}, `invalid --service-monitor-label "app.kubernetes.io/managed-by=someone"`},
		{"annotation without =", []string{"--monitor-annotation", "bad"}, `invalid --monitor-annotation "bad": use KEY=VALUE`},
		{"annotation without key", []string{"--monitor-annotation", "=x"}, `invalid --monitor-annotation key ""`},
		{"never against podmonitor", []string{"--service-monitor", "never", "--monitor", "podmonitor"}, "--service-monitor=never conflicts with --monitor podmonitor: drop --service-monitor"},
		{"always against none", []string{"--monitor", "none", "--service-monitor", "always"}, "--service-monitor=always conflicts with --monitor none"},
		{"label without a monitor", []string{"--monitor", "none", "--monitor-label", "a=b"}, "--monitor-label is for the monitor, but --monitor none applies no monitor"},
		{"alias label without a monitor", []string{"--service-monitor", "never", "--service-monitor-label", "a=b"}, "--service-monitor-label is for the monitor, but --service-monitor=never applies no monitor"},
		{"annotation without a monitor", []string{"--monitor", "none", "--monitor-annotation", "a=b"}, "--monitor-annotation is for the monitor, but --monitor none applies no monitor"},
		{"interval without a monitor", []string{"--monitor", "none", "--interval", "1m"}, "--interval is for the monitor, but --monitor none applies no monitor"},
		{"timeout with never", []string{"--service-monitor=never", "--scrape-timeout", "5s"}, "--scrape-timeout is for the monitor, but --service-monitor=never applies no monitor"},
		{"network policy without a monitor", []string{"--network-policy", "--monitor", "none"}, "--network-policy admits the namespaces of the Prometheus objects that select the monitor, which --monitor none leaves out: give --prometheus-namespace"},
		{"invalid prometheus namespace", []string{"--network-policy", "--prometheus-namespace", "Bad_NS"}, `invalid --prometheus-namespace "Bad_NS"`},
		{"scrape config without --local", []string{"--scrape-config", "prometheus"}, "--scrape-config is for --local rendering: add --local, or drop it"},
		{"unknown scrape config without --local", []string{"--scrape-config", "foo"}, "--scrape-config is for --local rendering"},
	}
	type row struct {
		name string
		args []string
		want string
	}
	var rows []row
	for _, command := range [][]string{{"enable"}, {"use-cert", "--secret", "eck-metrics-tls"}} {
		for _, r := range monitorRows {
			rows = append(rows, row{command[0] + "/" + r.name, append(append([]string{}, command...), r.args...), r.want})
		}
	}
	with := func(command string, args ...string) []string {
		return append(append([]string{command}, local...), args...)
	}
	rows = append(rows, []row{
		{"prometheus namespace without network policy", []string{"enable", "--prometheus-namespace", "monitoring"}, "--prometheus-namespace is the namespace --network-policy admits: add --network-policy, or drop it"},
		// use-cert: Prometheus's namespace is where the CA copy lives, or what --network-policy admits; alone it does nothing.
		{"use-cert prometheus namespace alone", []string{"use-cert", "--secret", "eck-metrics-tls", "--prometheus-namespace", "Bad_NS"}, "--prometheus-namespace is where --ca-secret lives (with --scrape-auth file) and what --network-policy admits: add one of them, or drop it"},
		{"use-cert invalid prometheus namespace", []string{"use-cert", "--secret", "eck-metrics-tls", "--ca-secret", "ca", "--prometheus-namespace", "Bad_NS"}, `invalid --prometheus-namespace "Bad_NS"`},
		// Every --local-only flag, without --local: nothing may reach a cluster.
		{"operator version without --local", []string{"enable", "--operator-version", "3.5.0"}, "--operator-version is for --local rendering: add --local, or drop it"},
		{"-f without --local", []string{"enable", "-f", "eck.yaml"}, "-f is for --local rendering: add --local, or drop it"},
		{"service account without --local", []string{"enable", "--service-account", "sa"}, "--service-account is for --local rendering: add --local, or drop it"},
		{"selector without --local", []string{"enable", "--selector", "a=b"}, "--selector is for --local rendering: add --local, or drop it"},
		{"local part without --local", []string{"enable", "--local-part", "patches", "--selector", "a=b"}, "is for --local rendering: add --local, or drop it"},
		{"local part alone", []string{"use-cert", "--secret", "s", "--local-part", "patches"}, "--local-part is for --local rendering: add --local, or drop it"},
		// --local
		{"local without version", []string{"enable", "--local"}, "--local needs --operator-version"},
		{"bad version", []string{"enable", "--local", "--operator-version", "banana"}, `invalid --operator-version: "banana" is not an ECK version: use MAJOR.MINOR[.PATCH], e.g. 3.5 or 3.5.0`},
		{"bad local part", with("enable", "--local-part", "some"), `invalid --local-part "some"`},
		{"local with server dry run", with("enable", "--dry-run=server"), "--local only renders: drop --dry-run"},
		{"local with wait", with("enable", "--wait"), "--local only renders: drop --dry-run and --wait"},
		{"local with allow-helm", with("enable", "--allow-helm"), "--local only renders, so --allow-helm has nothing to allow or bound: drop it"},
		{"unreadable -f", with("enable", "-f", "/nonexistent/eck.yaml"), "cannot read -f"},
		{"bad selector", with("enable", "--selector", "a"), `invalid --selector "a": use KEY=VALUE[,KEY=VALUE]`},
		{"network policy with --local", with("enable", "--network-policy", "--prometheus-namespace", "monitoring"), "--network-policy needs the cluster: it applies only where NetworkPolicies already isolate the operator pod, which --local cannot see; drop one of them"},
		{"local monitor label ours", with("enable", "--monitor-label", "app.kubernetes.io/managed-by=gitops"), "kubectl-eck-metrics sets app.kubernetes.io/managed-by=kubectl-eck-metrics on its monitor"},
		{"local interval without a monitor", with("enable", "--monitor", "none", "--interval", "1m"), "--interval is for the monitor, but --monitor none applies no monitor"},
		// --scrape-config
		{"unknown scrape config", with("enable", "--scrape-config", "foo"), `invalid --scrape-config "foo": use prometheus`},
		{"unknown scrape config alloy", with("enable", "--scrape-config", "alloy"), `invalid --scrape-config "alloy": use prometheus`},
		{"scrape config with local part", with("enable", "--scrape-config", "prometheus", "--local-part", "resources"), "--scrape-config renders only the scrape job, no manifests: drop --local-part"},
		{"scrape config -o json", with("enable", "--scrape-config", "prometheus", "-o", "json"), "--scrape-config renders Prometheus's YAML: drop -o json"},
		{"scrape config -o name", with("enable", "--scrape-config", "prometheus", "-o", "name"), "drop -o name"},
		{"scrape config secret auth", with("enable", "--scrape-config", "prometheus", "--scrape-auth", "secret"), "drop --scrape-auth secret"},
		{"scrape config dry run", with("enable", "--scrape-config", "prometheus", "--dry-run=server"), "--local only renders: drop --dry-run"},
		{"scrape config podmonitor", with("enable", "--scrape-config", "prometheus", "--monitor", "podmonitor"), "--scrape-config renders a scrape job instead of a monitor, so --monitor has nothing to shape: drop it"},
		{"scrape config monitor none", with("enable", "--scrape-config", "prometheus", "--monitor", "none"), "so --monitor has nothing to shape"},
		{"scrape config service monitor", with("enable", "--scrape-config", "prometheus", "--service-monitor", "never"), "so --service-monitor has nothing to shape"},
		{"scrape config label", with("enable", "--scrape-config", "prometheus", "--monitor-label", "release=p"), "so --monitor-label has nothing to shape"},
		{"scrape config annotation", with("enable", "--scrape-config", "prometheus", "--monitor-annotation", "a=b"), "so --monitor-annotation has nothing to shape"},
		{"scrape config port", with("enable", "--scrape-config", "prometheus", "--port", "9090"), "so --port has nothing to shape"},
		{"scrape config timeout over interval", with("enable", "--scrape-config", "prometheus", "--interval", "10s", "--scrape-timeout", "20s"), "--scrape-timeout 20s is longer than the scrape interval 10s"},
		{"use-cert scrape config podmonitor", with("use-cert", "--secret", "s", "--scrape-config", "prometheus", "--monitor", "podmonitor"), "so --monitor has nothing to shape"},
		// use-cert's certificate flags
		{"no certificate", []string{"use-cert"}, "give --secret NAME (a kubernetes.io/tls secret), --issuer NAME (cert-manager issues it), or --self-signed"},
		{"secret and self-signed", []string{"use-cert", "--secret", "a", "--self-signed"}, "--self-signed goes back to the generated certificate"},
		{"cert without key", []string{"use-cert", "--secret", "a", "--cert", "x.crt"}, "--cert and --key go together"},
		{"cert and key without secret", []string{"use-cert", "--cert", "x.crt", "--key", "x.key"}, "--cert and --key create or update the secret named by --secret: give --secret too"},
		{"ca without ca-secret", []string{"use-cert", "--secret", "a", "--ca", "ca.crt"}, "give --ca-secret too"},
		{"ca mount dir without ca-secret", []string{"use-cert", "--secret", "a", "--ca-mount-dir", "/etc/ca"}, "--ca-mount-dir is where Prometheus mounts --ca-secret: add --ca-secret, or drop it"},
		{"relative ca mount dir", []string{"use-cert", "--secret", "a", "--ca-secret", "ca", "--ca-mount-dir", "etc/ca"}, `invalid --ca-mount-dir "etc/ca": use an absolute path`},
		{"bad secret name", []string{"use-cert", "--secret", "Bad_Name"}, `invalid --secret "Bad_Name"`},
		{"unreadable cert", []string{"use-cert", "--secret", "a", "--cert", "/nonexistent.crt", "--key", "/nonexistent.key"}, "cannot read --cert"},
		{"secret auth with prometheus namespace", []string{"use-cert", "--secret", "tls", "--ca-secret", "ca", "--scrape-auth", "secret", "--prometheus-namespace", "monitoring"}, "drop --prometheus-namespace"},
		{"timeout without wait or issuer", []string{"use-cert", "--secret", "a", "--timeout", "1m"}, "--timeout bounds --wait and the wait for --issuer's certificate: add one of them, or drop it"},
		{"enable timeout without wait", []string{"enable", "--timeout", "1m"}, "--timeout is how long --wait waits: add --wait, or drop it"},
		{"disable timeout without wait", []string{"disable", "--timeout", "1m"}, "--timeout is how long --wait waits: add --wait, or drop it"},
		{"template keys without a template", []string{"disable", "-o", "yaml", "--allow-missing-template-keys=false"}, "--allow-missing-template-keys=false is for the template formats of -o"},
		{"bad jsonpath", []string{"enable", "--dry-run", "-o", "jsonpath={.kind"}, `invalid -o "jsonpath={.kind": `},
		{"sidecar image in native mode", []string{"enable", "--mode", "native", "--sidecar-image", "example.com/proxy:1"}, "--sidecar-image is the proxy of sidecar mode, which --mode native does not run: drop one of them"},
	}...)
	for _, r := range rows {
		t.Run(r.name, func(t *testing.T) {
			_, err := unitValidate(t, r.args[0], r.args[1:]...)
			if err == nil {
				t.Fatalf("%v: accepted, want %q", r.args, r.want)
			}
			if !strings.Contains(err.Error(), r.want) || strings.Contains(err.Error(), "\n") {
				t.Errorf("%v: %q, want one line with %q", r.args, err, r.want)
			}
		})
	}
}

// Through the real command line: the rules run before cobra's own check of
// the flag groups, so the refusal is ours (it says what to do), in one
// line, with no kubeconfig needed; disable and status have none of
// enable's monitor or network-policy flags.
func TestFlagRefusalsOnTheCommandLine(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"enable", "--local-part", "patches", "--selector", "a=b"}, "error: --selector is for --local rendering: add --local, or drop it\n"},
		{[]string{"use-cert", "--secret", "a", "--self-signed"}, "error: --self-signed goes back to the generated certificate: drop --secret, --cert, --key, --ca-secret and --ca\n"},
		{[]string{"use-cert", "--secret", "a", "--key", "k"}, "error: --cert and --key go together: give both, or neither to use the secret as it is\n"},
		{[]string{"enable", "--local", "--operator-version", "3.5.0", "--network-policy"}, "error: --network-policy needs the cluster: it applies only where NetworkPolicies already isolate the operator pod, which --local cannot see; drop one of them\n"},
		{[]string{"disable", "--monitor", "podmonitor"}, "error: unknown flag: --monitor\n"},
		{[]string{"disable", "--network-policy"}, "error: unknown flag: --network-policy\n"},
		{[]string{"disable", "--scrape-auth", "file"}, "error: unknown flag: --scrape-auth\n"},
		{[]string{"disable", "--show-managed-fields"}, "error: unknown flag: --show-managed-fields\n"},
		{[]string{"status", "--monitor", "podmonitor"}, "error: unknown flag: --monitor\n"},
		{[]string{"status", "--scrape-auth", "secret"}, "error: unknown flag: --scrape-auth\n"},
		{[]string{"status", "-A", "--wait"}, "error: --wait re-checks one operator until it is ready: drop --all-namespaces, or check that operator alone\n"},
		{[]string{"status", "--all-contexts", "--prometheus-url", "http://127.0.0.1:9090"}, "error: --prometheus-url is one cluster's Prometheus: drop --all-contexts, or check that cluster alone with --context\n"},
	} {
		streams, out, errOut := unitStreams()
		if code := Run(append(tc.args, "--kubeconfig", "/nonexistent"), streams); code != 2 || errOut.String() != tc.want || out.Len() != 0 {
			t.Errorf("%v: exit %d, stdout %q, stderr %q; want 2 and %q", tc.args, code, out.String(), errOut.String(), tc.want)
		}
	}
}
