//go:build e2e

package e2e

import (
	"encoding/json"
	"os/exec"
	"strings"
	"testing"

	"sigs.k8s.io/yaml"
)

// renderedRule is the PrometheusRule of a --local render with --alerts.
func renderedRule(t *testing.T, render string) map[string]any {
	t.Helper()
	for _, doc := range strings.Split(render, "\n---\n") {
		var obj map[string]any
		if err := yaml.Unmarshal([]byte(doc), &obj); err != nil {
			t.Fatalf("the render is not YAML: %v\n%s", err, doc)
		}
		if obj["kind"] == "PrometheusRule" {
			return obj
		}
	}
	t.Fatalf("the render has no PrometheusRule:\n%s", render)
	return nil
}

// promAlert is one alert promtool expects: its labels and its annotations
// with the templates expanded as Prometheus expands them.
type promAlert struct {
	ExpLabels      map[string]string `json:"exp_labels"`
	ExpAnnotations map[string]string `json:"exp_annotations"`
}

type promAlertTest struct {
	EvalTime  string      `json:"eval_time"`
	Alertname string      `json:"alertname"`
	ExpAlerts []promAlert `json:"exp_alerts"`
}

type promSeries struct {
	Series string `json:"series"`
	Values string `json:"values"`
}

type promTestGroup struct {
	Name       string          `json:"name"`
	Interval   string          `json:"interval"`
	Series     []promSeries    `json:"input_series"`
	AlertTests []promAlertTest `json:"alert_rule_test"`
}

// TestAlertRulesPromtool: the rules of `use-cert --local --issuer --alerts`
// (a ServiceMonitor's target, a cert-manager Certificate renewed 240h
// before expiry) pass the real `promtool test rules` (Prometheus 3.16.0's)
// on series that reproduce each case: each alert fires on its own case,
// after its for:, and on no other; the descriptions name the status
// command.
func TestAlertRulesPromtool(t *testing.T) {
	const ns, name = "elastic-system", "elastic-operator"
	render := mustPlugin(t, "use-cert", "--local", "--operator-version", "3.5.0", "-n", ns, "--name", name,
		"--issuer", "ca-issuer", "--issuer-kind", "ClusterIssuer", "--renew-before", "240h", "--alerts").stdout
	rule := renderedRule(t, render)
	spec := rule["spec"].(map[string]any)
	rulesFile := writeFile(t, t.TempDir(), "rules.yaml", mustYAML(t, map[string]any{"groups": spec["groups"]}))

	// The annotations as rendered, with the templates Prometheus expands.
	annotations := map[string]map[string]string{}
	for _, g := range spec["groups"].([]any) {
		for _, r := range g.(map[string]any)["rules"].([]any) {
			r := r.(map[string]any)
			a := map[string]string{}
			for k, v := range r["annotations"].(map[string]any) {
				a[k] = v.(string)
			}
			annotations[r["alert"].(string)] = a
		}
	}
	status := "kubectl eck-metrics status -n " + ns + " --name " + name
	for alert, a := range annotations {
		if !strings.Contains(a["description"], "Run: "+status) {
			t.Errorf("the description of %s does not say to run %s: %q", alert, status, a["description"])
		}
	}
	expand := func(alert string, replace ...string) map[string]string {
		out := map[string]string{}
		r := strings.NewReplacer(replace...)
		for k, v := range annotations[alert] {
			out[k] = r.Replace(v)
		}
		return out
	}

	const (
		job      = "elastic-operator-metrics" // the Service's name: prometheus-operator's job of a ServiceMonitor
		pod      = "elastic-operator-0"
		instance = "10.0.0.7:8081"
	)
	up := `up{job="` + job + `",namespace="` + ns + `",pod="` + pod + `",instance="` + instance + `"}`
	targetLabels := map[string]string{"job": job, "namespace": ns, "pod": pod, "instance": instance, "severity": "warning"}
	target := []string{"{{ $labels.instance }}", instance, "{{ $labels.pod }}", pod}
	ready := `kube_pod_status_ready{namespace="` + ns + `",pod="` + pod + `",condition="true"}`
	notReady := `kube_pod_status_ready{namespace="` + ns + `",pod="` + pod + `",condition="false"}`
	none := []promAlert{}
	// quiet says that alert does not fire at t.
	quiet := func(t, alert string) promAlertTest {
		return promAlertTest{EvalTime: t, Alertname: alert, ExpAlerts: none}
	}
	groups := []promTestGroup{
		{
			Name: "healthy target: nothing fires", Interval: "1m",
			Series: []promSeries{{up, "1x30"}, {ready, "1x30"}},
			AlertTests: []promAlertTest{quiet("20m", "EckOperatorMetricsTargetAbsent"), quiet("20m", "EckOperatorMetricsTargetDown"),
				quiet("20m", "EckOperatorMetricsScrapeRejected"), quiet("20m", "EckOperatorMetricsCertificateNotRenewed")},
		},
		{
			// The monitor is not selected: no up series of its job; another job's is.
			Name: "target absent", Interval: "1m",
			Series: []promSeries{{`up{job="other",namespace="` + ns + `",pod="x",instance="10.0.0.9:80"}`, "1x30"}},
			AlertTests: []promAlertTest{
				quiet("9m", "EckOperatorMetricsTargetAbsent"),
				{EvalTime: "11m", Alertname: "EckOperatorMetricsTargetAbsent", ExpAlerts: []promAlert{{
					ExpLabels:      map[string]string{"job": job, "namespace": ns, "severity": "warning"},
					ExpAnnotations: expand("EckOperatorMetricsTargetAbsent")}}},
				quiet("11m", "EckOperatorMetricsTargetDown"),
			},
		},
		{
			// Connection refused or the pod gone: up is 0 and the pod is not Ready.
			Name: "target down", Interval: "1m",
			Series: []promSeries{{up, "0x30"}, {notReady, "1x30"}},
			AlertTests: []promAlertTest{
				quiet("9m", "EckOperatorMetricsTargetDown"),
				{EvalTime: "11m", Alertname: "EckOperatorMetricsTargetDown", ExpAlerts: []promAlert{{
					ExpLabels: targetLabels, ExpAnnotations: expand("EckOperatorMetricsTargetDown", target...)}}},
				quiet("11m", "EckOperatorMetricsScrapeRejected"),
				quiet("11m", "EckOperatorMetricsTargetAbsent"),
			},
		},
		{
			// Without kube-state-metrics a failing scrape is reported as down.
			Name: "target down, no kube-state-metrics", Interval: "1m",
			Series: []promSeries{{up, "0x30"}},
			AlertTests: []promAlertTest{
				{EvalTime: "11m", Alertname: "EckOperatorMetricsTargetDown", ExpAlerts: []promAlert{{
					ExpLabels: targetLabels, ExpAnnotations: expand("EckOperatorMetricsTargetDown", target...)}}},
				quiet("11m", "EckOperatorMetricsScrapeRejected"),
			},
		},
		{
			// 401/403: the pod is Ready (it answers its probes) yet every
			// scrape fails; it started failing at 5m (a revoked grant).
			Name: "scrape rejected", Interval: "1m",
			Series: []promSeries{{up, "1x4 0x30"}, {ready, "1x35"}},
			AlertTests: []promAlertTest{
				quiet("14m", "EckOperatorMetricsScrapeRejected"),
				{EvalTime: "16m", Alertname: "EckOperatorMetricsScrapeRejected", ExpAlerts: []promAlert{{
					ExpLabels: targetLabels, ExpAnnotations: expand("EckOperatorMetricsScrapeRejected", target...)}}},
				quiet("16m", "EckOperatorMetricsTargetDown"),
			},
		},
		{
			// Expires at 5d, inside the 10d window from the start: cert-manager
			// did not renew it. Scraped without honorLabels, the Certificate's
			// namespace is exported_namespace.
			Name: "certificate not renewed", Interval: "1m",
			Series: []promSeries{
				{`certmanager_certificate_expiration_timestamp_seconds{name="elastic-operator-metrics",namespace="` + ns + `",issuer_name="ca-issuer",issuer_kind="ClusterIssuer",issuer_group="cert-manager.io"}`, "432000x70"},
				{`certmanager_certificate_expiration_timestamp_seconds{name="elastic-operator-metrics",exported_namespace="` + ns + `",namespace="cert-manager",issuer_name="ca-issuer",issuer_kind="ClusterIssuer",issuer_group="cert-manager.io"}`, "432000x70"},
				// Another operator's Certificate, and ours renewed elsewhere: no alert.
				{`certmanager_certificate_expiration_timestamp_seconds{name="elastic-operator-metrics",namespace="other",issuer_name="ca-issuer",issuer_kind="ClusterIssuer",issuer_group="cert-manager.io"}`, "432000x70"},
			},
			AlertTests: []promAlertTest{
				quiet("59m", "EckOperatorMetricsCertificateNotRenewed"),
				{EvalTime: "61m", Alertname: "EckOperatorMetricsCertificateNotRenewed", ExpAlerts: []promAlert{
					{ExpLabels: map[string]string{"name": "elastic-operator-metrics", "namespace": ns, "issuer_name": "ca-issuer", "issuer_kind": "ClusterIssuer", "issuer_group": "cert-manager.io", "severity": "warning"},
						ExpAnnotations: expand("EckOperatorMetricsCertificateNotRenewed", "{{ $value | humanizeDuration }}", "4d 22h 59m 0s")},
					{ExpLabels: map[string]string{"name": "elastic-operator-metrics", "exported_namespace": ns, "namespace": "cert-manager", "issuer_name": "ca-issuer", "issuer_kind": "ClusterIssuer", "issuer_group": "cert-manager.io", "severity": "warning"},
						ExpAnnotations: expand("EckOperatorMetricsCertificateNotRenewed", "{{ $value | humanizeDuration }}", "4d 22h 59m 0s")},
				}},
			},
		},
		{
			Name: "certificate far from its window", Interval: "1m",
			Series:     []promSeries{{`certmanager_certificate_expiration_timestamp_seconds{name="elastic-operator-metrics",namespace="` + ns + `"}`, "2592000x70"}},
			AlertTests: []promAlertTest{quiet("61m", "EckOperatorMetricsCertificateNotRenewed")},
		},
	}
	dir := t.TempDir()
	testFile := writeFile(t, dir, "rules_test.yaml", mustYAML(t, map[string]any{"rule_files": []string{rulesFile}, "evaluation_interval": "1m", "tests": groups}))
	out, err := exec.CommandContext(cluster.Context(t), binary("promtool"), "test", "rules", testFile).CombinedOutput()
	if err != nil || !strings.Contains(string(out), "SUCCESS") {
		t.Fatalf("promtool test rules: %v\n%s", err, out)
	}
	t.Logf("promtool test rules: %s", strings.TrimSpace(string(out)))

	// The check can fail: a rule that names the wrong job never fires.
	raw, err := json.Marshal(map[string]any{"groups": spec["groups"]})
	if err != nil {
		t.Fatal(err)
	}
	broken := strings.ReplaceAll(string(raw), `job=\"`+job+`\"`, `job=\"`+ns+`/`+name+`\"`)
	if broken == string(raw) {
		t.Fatalf("no job=%q in the rules to break:\n%s", job, raw)
	}
	writeFile(t, dir, "broken.yaml", []byte(broken))
	brokenTest := writeFile(t, dir, "broken_test.yaml", mustYAML(t, map[string]any{"rule_files": []string{dir + "/broken.yaml"}, "evaluation_interval": "1m", "tests": groups[2:3]}))
	if out, err := exec.CommandContext(cluster.Context(t), binary("promtool"), "test", "rules", brokenTest).CombinedOutput(); err == nil {
		t.Errorf("promtool test rules passed rules on the wrong job:\n%s\n%s", out, broken)
	}
}

func mustYAML(t *testing.T, v any) []byte {
	t.Helper()
	out, err := yaml.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return out
}
