package patches

import (
	"strings"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

func TestScrapeJobFollowsPrometheusOperator(t *testing.T) {
	// prometheus-operator v0.85.0: the Service's name for a ServiceMonitor,
	// "<namespace>/<name>" for a PodMonitor (no jobLabel set).
	if got := ScrapeJob(MonitorServiceMonitor, "elastic-system", "elastic-operator"); got != "elastic-operator-metrics" {
		t.Errorf("ServiceMonitor job = %q, want the Service name elastic-operator-metrics", got)
	}
	if got := ScrapeJob(MonitorPodMonitor, "elastic-system", "elastic-operator"); got != "elastic-system/elastic-operator" {
		t.Errorf("PodMonitor job = %q, want elastic-system/elastic-operator", got)
	}
}

func TestRenewalWindowFollowsCertManager(t *testing.T) {
	for _, tc := range []struct {
		c    CertificateParams
		want time.Duration
	}{
		{CertificateParams{RenewBefore: 48 * time.Hour, Duration: 2160 * time.Hour}, 48 * time.Hour},
		{CertificateParams{Duration: 90 * time.Hour}, 30 * time.Hour},
		{CertificateParams{}, 720 * time.Hour},
	} {
		if got := RenewalWindow(tc.c); got != tc.want {
			t.Errorf("RenewalWindow(%+v) = %s, want %s", tc.c, got, tc.want)
		}
	}
}

func TestPrometheusRuleAlerts(t *testing.T) {
	p := params("native")
	without, err := PrometheusRule(p, Alerts{Kind: MonitorServiceMonitor})
	if err != nil {
		t.Fatal(err)
	}
	with, err := PrometheusRule(p, Alerts{Kind: MonitorServiceMonitor, Certificate: &CertificateParams{Namespace: p.Namespace, Name: p.Name, Issuer: "ca", IssuerKind: "Issuer"}})
	if err != nil {
		t.Fatal(err)
	}
	rules := func(u *unstructured.Unstructured) []map[string]any {
		groups, _, _ := unstructured.NestedSlice(u.Object, "spec", "groups")
		if len(groups) != 1 {
			t.Fatalf("groups = %v, want one", groups)
		}
		var out []map[string]any
		for _, r := range groups[0].(map[string]any)["rules"].([]any) {
			out = append(out, r.(map[string]any))
		}
		return out
	}
	var names []string
	for _, r := range rules(without) {
		names = append(names, r["alert"].(string))
	}
	if strings.Join(names, ",") != AlertTargetAbsent+","+AlertTargetDown+","+AlertScrapeRejected {
		t.Errorf("alerts without a Certificate = %v", names)
	}
	withRules := rules(with)
	if len(withRules) != 4 || withRules[3]["alert"] != AlertCertificateExpires {
		t.Errorf("alerts with a cert-manager Certificate = %v, want the expiry alert last", withRules)
	}
	want := "Run: kubectl eck-metrics status -n " + p.Namespace + " --name " + p.Name
	for _, r := range withRules {
		if d, _, _ := unstructured.NestedString(r, "annotations", "description"); !strings.Contains(d, want) {
			t.Errorf("the description of %s does not say to run %q: %s", r["alert"], want, d)
		}
	}
	if !CreatedByUs(with.GetLabels()) || with.GetNamespace() != p.Namespace {
		t.Errorf("the rule is not ours or not next to the monitor: %v %s", with.GetLabels(), with.GetNamespace())
	}
	if _, err := PrometheusRule(p, Alerts{Kind: MonitorNone}); err == nil {
		t.Error("a rule without a monitor was built")
	}
}

// The rule carries the monitor's labels as given: a label with an empty
// value (canary=) is the user's, and a ruleSelector on it must match.
func TestPrometheusRuleKeepsEmptyLabelValues(t *testing.T) {
	p := params("native")
	rule, err := PrometheusRule(p, Alerts{Kind: MonitorServiceMonitor, Labels: map[string]string{"canary": "", "release": "prometheus"}})
	if err != nil {
		t.Fatal(err)
	}
	labels := rule.GetLabels()
	if v, ok := labels["canary"]; !ok || v != "" {
		t.Errorf("label canary= was dropped: %v", labels)
	}
	if labels["release"] != "prometheus" || !CreatedByUs(labels) {
		t.Errorf("labels = %v, want the monitor's and ours", labels)
	}
}
