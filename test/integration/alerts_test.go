package integration

import (
	"strings"
	"testing"

	"github.com/eck-metrics/kubectl-eck-metrics/pkg/patches"
	"github.com/eck-metrics/kubectl-eck-metrics/pkg/promselect"
	"github.com/eck-metrics/kubectl-eck-metrics/pkg/status"
	"github.com/eck-metrics/kubectl-eck-metrics/test/framework"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

// getRule reads our PrometheusRule; nil when absent.
func getRule(t *testing.T, ns string) *unstructured.Unstructured {
	t.Helper()
	obj, err := cluster.Dynamic.Resource(patches.PrometheusRuleGVR).Namespace(ns).Get(cluster.Context(t), patches.PrometheusRuleName("elastic-operator"), metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return nil
	}
	if err != nil {
		t.Fatal(err)
	}
	return obj
}

// ruleAlerts are the alert names and expressions of a PrometheusRule.
func ruleAlerts(t *testing.T, rule *unstructured.Unstructured) map[string]string {
	t.Helper()
	groups, _, _ := unstructured.NestedSlice(rule.Object, "spec", "groups")
	out := map[string]string{}
	for _, g := range groups {
		rules, _, _ := unstructured.NestedSlice(g.(map[string]any), "rules")
		for _, r := range rules {
			r := r.(map[string]any)
			out[r["alert"].(string)], _ = r["expr"].(string)
		}
	}
	return out
}

// enable --alerts: both dry runs write nothing and show the rule; the
// apply creates it next to the monitor with the monitor's labels (the
// real CRD's schema accepts it); a rerun changes nothing; status judges
// whether the Prometheus that selects the monitor loads it; disable
// deletes it.
func TestAlertsEnableStatusDisable(t *testing.T) {
	cluster.InstallMonitoringCRDs(t, "servicemonitors", "podmonitors", "prometheuses", "prometheusagents", "prometheusrules")
	ns := cluster.NewNamespace(t, "alerts")
	f := cluster.InstallFixture(t, "eck-3.5.0-all-in-one.yaml", ns)
	t.Cleanup(func() { cluster.RemoveInstall(t, f) })
	args := []string{"enable", "-n", ns, "--alerts", "--monitor-label", "release=prometheus"}

	for _, dryRun := range []string{"--dry-run=client", "--dry-run=server"} {
		before := cluster.Snapshot(t, ns)
		r := mustSucceed(t, cluster.Run(t, append(args, dryRun)...))
		framework.AssertUnchanged(t, before, cluster.Snapshot(t, ns))
		if !strings.Contains(r.Stdout, "kind: PrometheusRule") || !strings.Contains(r.Stdout, patches.AlertScrapeRejected) {
			t.Errorf("enable --alerts %s does not print the PrometheusRule:\n%s", dryRun, r.Stdout)
		}
		if getRule(t, ns) != nil {
			t.Fatalf("enable --alerts %s created the PrometheusRule", dryRun)
		}
	}

	r := mustSucceed(t, cluster.Run(t, args...))
	if want := "[6/6] PrometheusRule: PrometheusRule " + ns + "/elastic-operator created: alerts on job elastic-operator-metrics"; !strings.Contains(r.Stdout, want) {
		t.Errorf("enable --alerts does not say %q:\n%s", want, r.Stdout)
	}
	rule := getRule(t, ns)
	if rule == nil {
		t.Fatal("no PrometheusRule after enable --alerts")
	}
	if l := rule.GetLabels(); !patches.CreatedByUs(l) || l["release"] != "prometheus" {
		t.Errorf("PrometheusRule labels %v, want ours and the monitor's release=prometheus", l)
	}
	alerts := ruleAlerts(t, rule)
	if len(alerts) != 3 || !strings.Contains(alerts[patches.AlertTargetAbsent], `absent(up{job="elastic-operator-metrics",namespace="`+ns+`"})`) {
		t.Errorf("alerts of an enable without cert-manager: %v", alerts)
	}
	rv := rule.GetResourceVersion()
	mustSucceed(t, cluster.Run(t, args...))
	if got := getRule(t, ns).GetResourceVersion(); got != rv {
		t.Errorf("a rerun rewrote the PrometheusRule (resourceVersion %s -> %s)", rv, got)
	}

	// Selects the ServiceMonitor; loads the rule only with the label.
	createPrometheus(t, "Prometheus", ns, "k8s", "{serviceMonitorSelector: {matchLabels: {release: prometheus}}, ruleSelector: {matchLabels: {release: prometheus}}}")
	rep, _ := statusOf(t, cluster.Kubeconfig, "-n", ns, "--check", string(status.SelectionRules))
	expectOutcome(t, rep, status.SelectionRules, status.Pass, "Prometheus "+ns+"/k8s selects PrometheusRule "+ns+"/elastic-operator with ServiceMonitor "+ns+"/elastic-operator")
	createPrometheus(t, "Prometheus", ns, "team", "{serviceMonitorSelector: {}, ruleSelector: {matchLabels: {role: alerts}}}")
	_ = cluster.Dynamic.Resource(promselect.PrometheusGVR).Namespace(ns).Delete(cluster.Context(t), "k8s", metav1.DeleteOptions{})
	rep, _ = statusOf(t, cluster.Kubeconfig, "-n", ns, "--check", string(status.SelectionRules))
	expectOutcome(t, rep, status.SelectionRules, status.Fail, "spec.ruleSelector role=alerts of Prometheus "+ns+"/team does not match the labels of PrometheusRule "+ns+"/elastic-operator")

	r = mustSucceed(t, cluster.Run(t, "disable", "-n", ns))
	if !strings.Contains(r.Stdout, "PrometheusRule "+ns+"/elastic-operator deleted") {
		t.Errorf("disable does not say it deleted the PrometheusRule:\n%s", r.Stdout)
	}
	if getRule(t, ns) != nil {
		t.Error("disable left our PrometheusRule")
	}
}

// A PrometheusRule of our name that someone else made is refused by
// enable --alerts (nothing changed) and left by disable.
func TestAlertsLeavesOthersRule(t *testing.T) {
	cluster.InstallMonitoringCRDs(t, "servicemonitors", "podmonitors", "prometheusrules")
	ns := cluster.NewNamespace(t, "alertsother")
	f := cluster.InstallFixture(t, "eck-3.5.0-all-in-one.yaml", ns)
	t.Cleanup(func() { cluster.RemoveInstall(t, f) })
	theirs := &unstructured.Unstructured{Object: map[string]any{"apiVersion": "monitoring.coreos.com/v1", "kind": "PrometheusRule",
		"metadata": map[string]any{"name": "elastic-operator", "namespace": ns},
		"spec":     map[string]any{"groups": []any{map[string]any{"name": "theirs", "rules": []any{map[string]any{"alert": "Theirs", "expr": "vector(1)"}}}}}}}
	if _, err := cluster.Dynamic.Resource(patches.PrometheusRuleGVR).Namespace(ns).Create(cluster.Context(t), theirs, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	before := cluster.Snapshot(t, ns)
	framework.ExpectOneLineRefusal(t, cluster.Run(t, "enable", "-n", ns, "--alerts"),
		"PrometheusRule "+ns+"/elastic-operator exists and was not created by kubectl-eck-metrics")
	framework.AssertUnchanged(t, before, cluster.Snapshot(t, ns))
	framework.ExpectOneLineRefusal(t, cluster.Run(t, "enable", "-n", ns, "--alerts", "--monitor", "none"),
		"--alerts watches the monitor's scrape target, but --monitor none applies no monitor")

	mustSucceed(t, cluster.Run(t, "enable", "-n", ns))
	r := mustSucceed(t, cluster.Run(t, "disable", "-n", ns))
	if !strings.Contains(r.Stdout, "left PrometheusRule "+ns+"/elastic-operator: not created by kubectl-eck-metrics") {
		t.Errorf("disable does not say it left their PrometheusRule:\n%s", r.Stdout)
	}
	if getRule(t, ns) == nil {
		t.Error("disable deleted a PrometheusRule not ours")
	}
}

// --local renders the rule: with a ServiceMonitor's job, with a
// PodMonitor's, and with the cert-manager Certificate of use-cert --issuer.
func TestAlertsLocalRender(t *testing.T) {
	local := []string{"--local", "--operator-version", "3.5.0", "-n", "eck", "--alerts"}
	sm := mustSucceed(t, cluster.Run(t, append([]string{"enable", "--local-part", "resources"}, local...)...)).Stdout
	pm := mustSucceed(t, cluster.Run(t, append([]string{"enable", "--monitor", "podmonitor"}, local...)...)).Stdout
	issued := mustSucceed(t, cluster.Run(t, append([]string{"use-cert", "--issuer", "ca-issuer", "--renew-before", "48h"}, local...)...)).Stdout
	for _, tc := range []struct {
		name, render string
		want         []string
		not          string
	}{
		{"ServiceMonitor", sm, []string{"kind: PrometheusRule", `up{job="elastic-operator-metrics",namespace="eck"}`}, patches.AlertCertificateExpires},
		{"PodMonitor", pm, []string{"kind: PodMonitor", `up{job="eck/elastic-operator",namespace="eck"}`}, patches.AlertCertificateExpires},
		{"use-cert --issuer", issued, []string{"kind: Certificate", patches.AlertCertificateExpires, `name="elastic-operator-metrics",namespace="eck"`, "< 172800"}, ""},
	} {
		for _, want := range tc.want {
			if !strings.Contains(tc.render, want) {
				t.Errorf("%s: the render has no %q:\n%s", tc.name, want, tc.render)
			}
		}
		if tc.not != "" && strings.Contains(tc.render, tc.not) {
			t.Errorf("%s: the render has %s, but no cert-manager Certificate:\n%s", tc.name, tc.not, tc.render)
		}
	}
	framework.ExpectOneLineRefusal(t, cluster.Run(t, "enable", "--local", "--operator-version", "3.5.0", "--alerts", "--scrape-config", "prometheus"),
		"--alerts renders a PrometheusRule, which only prometheus-operator loads")
}

// use-cert --issuer --alerts adds the Certificate's expiry alert with the
// renewal window of its --renew-before (a dry run too, before anything is
// issued); a later enable --alerts finds the live Certificate and keeps
// the alert; disable deletes the rule.
func TestAlertsCertManagerCertificate(t *testing.T) {
	cluster.InstallCertManagerCRDs(t)
	cluster.InstallMonitoringCRDs(t, "servicemonitors", "podmonitors", "prometheusrules")
	ns := cluster.NewNamespace(t, "alertscert")
	f := cluster.InstallFixture(t, "eck-3.5.0-all-in-one.yaml", ns)
	t.Cleanup(func() { cluster.RemoveInstall(t, f) })
	ca := newTestCA(t)
	createIssuer(t, ns, "ca-issuer", ca, true)
	args := []string{"use-cert", "-n", ns, "--issuer", "ca-issuer", "--renew-before", "48h", "--alerts", "--timeout", "1m"}
	expiry := patches.AlertCertificateExpires

	r := mustSucceed(t, cluster.Run(t, append(args, "--dry-run=client")...))
	if !strings.Contains(r.Stdout, expiry) || !strings.Contains(r.Stdout, "< 172800") {
		t.Errorf("use-cert --issuer --alerts --dry-run=client prints no %s with the 48h window:\n%s", expiry, r.Stdout)
	}
	if getRule(t, ns) != nil {
		t.Fatal("the dry run created the PrometheusRule")
	}

	issued := issueWhenApplied(t, ns, "elastic-operator-metrics", ca)
	r = cluster.Run(t, args...)
	<-issued
	mustSucceed(t, r)
	if want := "[7/7] PrometheusRule: PrometheusRule " + ns + "/elastic-operator created: alerts on job elastic-operator-metrics and Certificate elastic-operator-metrics"; !strings.Contains(r.Stdout, want) {
		t.Errorf("use-cert --issuer --alerts does not say %q:\n%s", want, r.Stdout)
	}
	alerts := ruleAlerts(t, getRule(t, ns))
	want := `certmanager_certificate_expiration_timestamp_seconds{name="elastic-operator-metrics",namespace="` + ns + `"}`
	if !strings.Contains(alerts[expiry], want) || !strings.HasSuffix(alerts[expiry], "< 172800") {
		t.Errorf("%s = %q, want %s within 48h", expiry, alerts[expiry], want)
	}

	// enable reads the live Certificate: the rule is unchanged.
	rv := getRule(t, ns).GetResourceVersion()
	mustSucceed(t, cluster.Run(t, "enable", "-n", ns, "--alerts"))
	if got := getRule(t, ns); got.GetResourceVersion() != rv || ruleAlerts(t, got)[expiry] != alerts[expiry] {
		t.Errorf("enable --alerts after use-cert --issuer changed the rule: %v", ruleAlerts(t, got))
	}

	mustSucceed(t, cluster.Run(t, "disable", "-n", ns))
	if getRule(t, ns) != nil {
		t.Error("disable left the PrometheusRule")
	}
}

// enable --alerts of an operator Argo CD syncs: refused, nothing changed,
// and the printed --local commands render the PrometheusRule with the
// rest of what the run would apply.
func TestAlertsGitOpsRefusalRendersTheRule(t *testing.T) {
	cluster.InstallMonitoringCRDs(t, "servicemonitors", "podmonitors", "prometheusrules")
	c := gitOpsControllers[0]
	_, f := installByGitOps(t, c, "alerts-gitops")
	ns := f.Namespace
	before := cluster.Snapshot(t, ns)
	args := []string{"enable", "-n", ns, "--alerts", "--monitor-label", "release=prometheus"}
	r := cluster.Run(t, args...)
	framework.AssertUnchanged(t, before, cluster.Snapshot(t, ns))
	if r.Err == nil {
		t.Fatalf("enable --alerts of a GitOps-managed operator succeeded:\n%s", r.Stdout)
	}
	commands := printedCommands(t, r.Err)
	if !strings.Contains(strings.Join(commands, "\n"), "--alerts") {
		t.Errorf("the printed commands do not render the alerts:\n%s", strings.Join(commands, "\n"))
	}
	assertRendersWhatIsApplied(t, commands, append(args, "--allow-gitops")...)
}
