package promselect

import (
	"maps"
	"slices"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/yaml"
)

// prometheus reads a Prometheus of this kind from its spec in YAML, as
// listed from the API server.
func prometheus(t *testing.T, kind, ns, name, specYAML string) Prometheus {
	t.Helper()
	spec := map[string]any{}
	if err := yaml.Unmarshal([]byte(specYAML), &spec); err != nil {
		t.Fatal(err)
	}
	u := &unstructured.Unstructured{Object: map[string]any{"kind": kind,
		"metadata": map[string]any{"name": name, "namespace": ns}, "spec": spec}}
	return FromUnstructured(kind, u)
}

var (
	ourSM = Monitor{Kind: KindServiceMonitor, Namespace: "elastic-system", Name: "elastic-operator",
		Labels: map[string]string{"app.kubernetes.io/managed-by": "kubectl-eck-metrics", "release": "prometheus", "tier": "dev"}}
	ourPM   = Monitor{Kind: KindPodMonitor, Namespace: ourSM.Namespace, Name: ourSM.Name, Labels: ourSM.Labels}
	ourRule = Monitor{Kind: KindPrometheusRule, Namespace: ourSM.Namespace, Name: ourSM.Name, Labels: ourSM.Labels}
	ourNS   = map[string]string{"kubernetes.io/metadata.name": "elastic-system", "monitoring": "enabled"}
	byName  = NamespaceLabelsByName("elastic-system")
)

// prometheus-operator v0.85.0's rules, case by case.
func TestJudge(t *testing.T) {
	for _, tc := range []struct {
		name     string
		kind, ns string
		spec     string
		monitor  Monitor
		nsLabels map[string]string
		want     []Problem
		reason   string
	}{
		{"{} selects every monitor in every namespace", KindPrometheus, "monitoring", "{serviceMonitorSelector: {}, serviceMonitorNamespaceSelector: {}}", ourSM, ourNS, nil, ""},
		{"a PrometheusAgent selects the same way", KindPrometheusAgent, "agents", "{serviceMonitorSelector: {matchLabels: {release: prometheus}}, serviceMonitorNamespaceSelector: {matchLabels: {monitoring: enabled}}}", ourSM, ourNS, nil, ""},
		{"no selector selects nothing", KindPrometheus, "monitoring", "{serviceMonitorNamespaceSelector: {}}", ourSM, ourNS, []Problem{NoSelector},
			"Prometheus monitoring/k8s has no spec.serviceMonitorSelector: it selects no ServiceMonitor"},
		{"a label the monitor lacks", KindPrometheus, "monitoring", "{serviceMonitorSelector: {matchLabels: {release: kube-prometheus-stack}}, serviceMonitorNamespaceSelector: {}}", ourSM, ourNS, []Problem{LabelsMismatch},
			"spec.serviceMonitorSelector release=kube-prometheus-stack of Prometheus monitoring/k8s does not match the labels of ServiceMonitor elastic-system/elastic-operator (app.kubernetes.io/managed-by=kubectl-eck-metrics,release=prometheus,tier=dev)"},
		{"no namespace selector: its own namespace only", KindPrometheus, "monitoring", "{serviceMonitorSelector: {}}", ourSM, ourNS, []Problem{OwnNamespaceOnly},
			"Prometheus monitoring/k8s has no spec.serviceMonitorNamespaceSelector: it selects ServiceMonitors of its own namespace monitoring only"},
		{"no namespace selector, same namespace", KindPrometheus, "elastic-system", "{serviceMonitorSelector: {}}", ourSM, ourNS, nil, ""},
		{"a namespace label missing", KindPrometheus, "monitoring", "{serviceMonitorSelector: {}, serviceMonitorNamespaceSelector: {matchLabels: {monitoring: enabled}}}", ourSM, byName, []Problem{NamespaceMismatch},
			"spec.serviceMonitorNamespaceSelector monitoring=enabled of Prometheus monitoring/k8s does not match namespace elastic-system (kubernetes.io/metadata.name=elastic-system)"},
		{"both selectors miss", KindPrometheus, "monitoring", "{serviceMonitorSelector: {matchLabels: {team: x}}}", ourSM, ourNS, []Problem{LabelsMismatch, OwnNamespaceOnly}, ""},
		{"invalid selector", KindPrometheus, "monitoring", "{serviceMonitorSelector: {matchExpressions: [{key: team, operator: Bogus}]}, serviceMonitorNamespaceSelector: {}}", ourSM, ourNS, []Problem{InvalidSelector},
			"Prometheus monitoring/k8s has an invalid spec.serviceMonitorSelector"},
		{"a PodMonitor is judged by the PodMonitor selectors", KindPrometheus, "monitoring", "{serviceMonitorSelector: {}, serviceMonitorNamespaceSelector: {}}", ourPM, ourNS, []Problem{NoSelector, OwnNamespaceOnly},
			"Prometheus monitoring/k8s has no spec.podMonitorSelector: it selects no PodMonitor"},
		{"PodMonitor selected", KindPrometheus, "monitoring", "{podMonitorSelector: {matchLabels: {release: prometheus}}, podMonitorNamespaceSelector: {}}", ourPM, ourNS, nil, ""},
		{"a PrometheusRule is judged by ruleSelector and ruleNamespaceSelector", KindPrometheus, "monitoring", "{ruleSelector: {matchLabels: {release: prometheus}}, ruleNamespaceSelector: {matchLabels: {monitoring: enabled}}}", ourRule, ourNS, nil, ""},
		{"no ruleSelector selects no rule", KindPrometheus, "monitoring", "{serviceMonitorSelector: {}, serviceMonitorNamespaceSelector: {}, ruleNamespaceSelector: {}}", ourRule, ourNS, []Problem{NoSelector},
			"Prometheus monitoring/k8s has no spec.ruleSelector: it selects no PrometheusRule"},
		{"no ruleNamespaceSelector: rules of its own namespace only", KindPrometheus, "monitoring", "{ruleSelector: {}}", ourRule, ourNS, []Problem{OwnNamespaceOnly},
			"Prometheus monitoring/k8s has no spec.ruleNamespaceSelector: it selects PrometheusRules of its own namespace monitoring only"},
		{"a rule label the PrometheusRule lacks", KindPrometheus, "monitoring", "{ruleSelector: {matchLabels: {role: alert-rules}}, ruleNamespaceSelector: {}}", ourRule, ourNS, []Problem{LabelsMismatch},
			"spec.ruleSelector role=alert-rules of Prometheus monitoring/k8s does not match the labels of PrometheusRule elastic-system/elastic-operator"},
		{"a PrometheusAgent evaluates no rules", KindPrometheusAgent, "agents", "{ruleSelector: {}, ruleNamespaceSelector: {}, serviceMonitorSelector: {}}", ourRule, ourNS, []Problem{NoRules},
			"PrometheusAgent agents/k8s evaluates no rules"},
		{"unreadable ruleSelector", KindPrometheus, "monitoring", "{ruleSelector: {matchLabels: not-a-map}, ruleNamespaceSelector: {}}", ourRule, ourNS, []Problem{SpecUnreadable},
			"the spec of Prometheus monitoring/k8s is unreadable: spec.ruleSelector"},
		{"unreadable spec", KindPrometheus, "monitoring", "{serviceMonitorSelector: {}, serviceMonitorNamespaceSelector: {}, secrets: not-a-list}", ourSM, ourNS, []Problem{SpecUnreadable},
			"the spec of Prometheus monitoring/k8s is unreadable"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			v := Judge(prometheus(t, tc.kind, tc.ns, "k8s", tc.spec), tc.monitor, tc.nsLabels)
			var got []Problem
			for _, m := range v.Misses {
				got = append(got, m.Problem)
			}
			if v.Selected != (len(tc.want) == 0) || !slices.Equal(got, tc.want) {
				t.Fatalf("selected %v, problems %v (%q), want %v", v.Selected, got, v.Reasons(), tc.want)
			}
			if tc.reason != "" && !strings.HasPrefix(strings.Join(v.Reasons(), "; "), tc.reason) {
				t.Errorf("reasons %q, want them to begin %q", v.Reasons(), tc.reason)
			}
		})
	}
}

// The labels a miss names are those that make the selector match.
func TestNeededLabels(t *testing.T) {
	p := prometheus(t, KindPrometheus, "monitoring", "k8s", `
serviceMonitorSelector:
  matchLabels: {release: kube-prometheus-stack}
  matchExpressions:
  - {key: team, operator: In, values: [platform, search]}
  - {key: tier, operator: NotIn, values: [dev]}
  - {key: owner, operator: Exists}
  - {key: release, operator: Exists}
serviceMonitorNamespaceSelector: {matchExpressions: [{key: monitoring, operator: DoesNotExist}]}`)
	v := Judge(p, ourSM, ourNS)
	if v.Selected || len(v.Misses) != 2 {
		t.Fatalf("got %+v", v)
	}
	want := map[string]string{"release": "kube-prometheus-stack", "team": "platform", "owner": "<any value>"}
	if m := v.Misses[0]; m.Problem != LabelsMismatch || !maps.Equal(m.Add, want) || !slices.Equal(m.Remove, []string{"tier"}) || m.Field != "serviceMonitorSelector" {
		t.Errorf("monitor labels: %+v, want add %v remove [tier]", m, want)
	}
	if m := v.Misses[1]; m.Problem != NamespaceMismatch || len(m.Add) != 0 || !slices.Equal(m.Remove, []string{"monitoring"}) || m.Field != "serviceMonitorNamespaceSelector" {
		t.Errorf("namespace labels: %+v, want remove [monitoring]", m)
	}
	// Labels as they would be with the ones named: selected.
	fixed := ourSM
	fixed.Labels = map[string]string{"release": "kube-prometheus-stack", "team": "platform", "owner": "me"}
	if v := Judge(p, fixed, byName); !v.Selected {
		t.Errorf("with the labels named: %q", v.Reasons())
	}
}
