package status

import (
	"context"
	"maps"
	"slices"
	"strings"
	"testing"

	"github.com/eck-metrics/kubectl-eck-metrics/pkg/kube"
	"github.com/eck-metrics/kubectl-eck-metrics/pkg/patches"
	"github.com/eck-metrics/kubectl-eck-metrics/pkg/promselect"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	fakediscovery "k8s.io/client-go/discovery/fake"
	k8stesting "k8s.io/client-go/testing"
)

// selectAll selects every ServiceMonitor in every namespace.
var selectAll = map[string]any{"serviceMonitorSelector": map[string]any{}, "serviceMonitorNamespaceSelector": map[string]any{}}

func withSpec(spec map[string]any, key string, value any) map[string]any {
	out := maps.Clone(spec)
	out[key] = value
	return out
}

// servePrometheusAPI makes discovery serve Prometheus, PodMonitor and
// PrometheusAgent, and stores our namespace with the label the API server
// gives it.
func (e *unitEnv) servePrometheusAPI(t *testing.T) {
	t.Helper()
	fd := e.kube.Discovery().(*fakediscovery.FakeDiscovery)
	for _, l := range fd.Resources {
		if l.GroupVersion == "monitoring.coreos.com/v1" && !slices.ContainsFunc(l.APIResources, func(r metav1.APIResource) bool { return r.Name == "prometheuses" }) {
			l.APIResources = append(l.APIResources,
				metav1.APIResource{Name: "prometheuses", Namespaced: true, Kind: "Prometheus"},
				metav1.APIResource{Name: "podmonitors", Namespaced: true, Kind: "PodMonitor"})
			fd.Resources = append(fd.Resources, &metav1.APIResourceList{GroupVersion: "monitoring.coreos.com/v1alpha1",
				APIResources: []metav1.APIResource{{Name: "prometheusagents", Namespaced: true, Kind: "PrometheusAgent"}}})
		}
	}
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: unitNS, Labels: map[string]string{corev1.LabelMetadataName: unitNS}}}
	if _, err := e.kube.CoreV1().Namespaces().Get(context.Background(), unitNS, metav1.GetOptions{}); err != nil {
		if _, err := e.kube.CoreV1().Namespaces().Create(context.Background(), ns, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
}

// prometheus stores a Prometheus or PrometheusAgent with this spec.
func (e *unitEnv) prometheus(t *testing.T, kind, ns, name string, spec map[string]any) {
	t.Helper()
	e.servePrometheusAPI(t)
	gvr, apiVersion := promselect.PrometheusGVR, "monitoring.coreos.com/v1"
	if kind == "PrometheusAgent" {
		gvr, apiVersion = promselect.PrometheusAgentGVR, "monitoring.coreos.com/v1alpha1"
	}
	u := &unstructured.Unstructured{Object: map[string]any{"apiVersion": apiVersion, "kind": kind,
		"metadata": map[string]any{"name": name, "namespace": ns}, "spec": spec}}
	if _, err := e.dyn.Resource(gvr).Namespace(ns).Create(context.Background(), u, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
}

// podMonitorInstead replaces our ServiceMonitor with a PodMonitor of the
// shape enable --monitor podmonitor applies (secret auth, no files).
func (e *unitEnv) podMonitorInstead(t *testing.T) {
	t.Helper()
	e.servePrometheusAPI(t)
	e.deleteObject(t, "servicemonitor")
	pm := &unstructured.Unstructured{Object: map[string]any{"apiVersion": "monitoring.coreos.com/v1", "kind": "PodMonitor",
		"metadata": map[string]any{"name": unitName, "namespace": unitNS, "labels": map[string]any{patches.ManagedByLabel: patches.FieldManager}},
		"spec": map[string]any{
			"selector":          map[string]any{"matchLabels": map[string]any{"control-plane": "elastic-operator"}},
			"namespaceSelector": map[string]any{"matchNames": []any{unitNS}},
			"podMetricsEndpoints": []any{map[string]any{"port": "metrics", "scheme": "https",
				"authorization": map[string]any{"type": "Bearer", "credentials": map[string]any{"name": unitName + "-metrics-reader-token", "key": "token"}},
				"tlsConfig":     map[string]any{"insecureSkipVerify": true}}},
		}}}
	if _, err := e.dyn.Resource(patches.PodMonitorGVR).Namespace(unitNS).Create(context.Background(), pm, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
}

func runOnly(t *testing.T, e *unitEnv, id CheckID) Check {
	t.Helper()
	e.opts.Checks = []CheckID{id}
	r := mustRun(t, kube.Clients{Kube: e.kube, Dynamic: e.dyn}, e.opts)
	if len(r.Checks) != 1 {
		t.Fatalf("--check %s reported %+v", id, r.Checks)
	}
	return r.Checks[0]
}

// The hints name the exact label, namespace label or selector to set.
func TestSelectionHints(t *testing.T) {
	tests := []struct {
		name    string
		setup   func(t *testing.T, e *unitEnv)
		message string
		hint    string
	}{
		{"missing release label: the command keeps the user's labels", func(t *testing.T, e *unitEnv) {
			e.labelMonitor(t, map[string]string{"team": "search"})
			e.prometheus(t, "Prometheus", "monitoring", "k8s", map[string]any{"serviceMonitorNamespaceSelector": map[string]any{},
				"serviceMonitorSelector": map[string]any{"matchLabels": map[string]any{"release": "kube-prometheus-stack"}}})
		}, "(app.kubernetes.io/managed-by=kubectl-eck-metrics,team=search)",
			"run: kubectl eck-metrics enable -n elastic-system --monitor-label release=kube-prometheus-stack --monitor-label team=search (labels of ServiceMonitor elastic-system/elastic-operator: add release=kube-prometheus-stack)"},
		{"expressions", func(t *testing.T, e *unitEnv) {
			e.labelMonitor(t, map[string]string{"tier": "dev"})
			e.prometheus(t, "Prometheus", "monitoring", "k8s", map[string]any{"serviceMonitorNamespaceSelector": map[string]any{},
				"serviceMonitorSelector": map[string]any{"matchExpressions": []any{
					map[string]any{"key": "team", "operator": "In", "values": []any{"platform", "search"}},
					map[string]any{"key": "tier", "operator": "NotIn", "values": []any{"dev"}},
				}}})
		}, "does not match",
			"run: kubectl eck-metrics enable -n elastic-system --monitor-label team=platform (labels of ServiceMonitor elastic-system/elastic-operator: add team=platform; remove tier)"},
		{"PodMonitor with secret auth", func(t *testing.T, e *unitEnv) {
			e.podMonitorInstead(t)
			e.prometheus(t, "Prometheus", "monitoring", "k8s", map[string]any{"podMonitorNamespaceSelector": map[string]any{},
				"podMonitorSelector": map[string]any{"matchLabels": map[string]any{"release": "prometheus"}}})
		}, "spec.podMonitorSelector release=prometheus",
			"run: kubectl eck-metrics enable -n elastic-system --monitor podmonitor --scrape-auth secret --monitor-label release=prometheus (labels of PodMonitor elastic-system/elastic-operator: add release=prometheus)"},
		{"namespace label", func(t *testing.T, e *unitEnv) {
			e.prometheus(t, "Prometheus", "monitoring", "k8s", map[string]any{"serviceMonitorSelector": map[string]any{},
				"serviceMonitorNamespaceSelector": map[string]any{"matchLabels": map[string]any{"monitoring": "enabled"}}})
		}, "does not match namespace elastic-system",
			"run: kubectl label namespace elastic-system monitoring=enabled"},
		{"namespace by name", func(t *testing.T, e *unitEnv) {
			e.prometheus(t, "Prometheus", "monitoring", "k8s", map[string]any{"serviceMonitorSelector": map[string]any{},
				"serviceMonitorNamespaceSelector": map[string]any{"matchExpressions": []any{map[string]any{"key": "kubernetes.io/metadata.name", "operator": "In", "values": []any{"monitoring"}}}}})
		}, "does not match namespace elastic-system",
			"add elastic-system to spec.serviceMonitorNamespaceSelector of Prometheus monitoring/k8s (kubernetes.io/metadata.name is set by the API server)"},
		{"own namespace", func(t *testing.T, e *unitEnv) {
			e.prometheus(t, "Prometheus", "monitoring", "k8s", map[string]any{"serviceMonitorSelector": map[string]any{}})
		}, "of its own namespace monitoring only",
			"set spec.serviceMonitorNamespaceSelector of Prometheus monitoring/k8s to {matchLabels: {kubernetes.io/metadata.name: elastic-system}} (or {} for every namespace)"},
		{"two Prometheuses, neither selects: a hint for each", func(t *testing.T, e *unitEnv) {
			e.prometheus(t, "Prometheus", "monitoring", "k8s", map[string]any{"serviceMonitorNamespaceSelector": map[string]any{}})
			e.prometheus(t, "Prometheus", "team", "own", map[string]any{"serviceMonitorSelector": map[string]any{}})
		}, "no Prometheus selects ServiceMonitor elastic-system/elastic-operator: Prometheus monitoring/k8s has no spec.serviceMonitorSelector",
			"set spec.serviceMonitorSelector of Prometheus monitoring/k8s ({} selects every ServiceMonitor); or set spec.serviceMonitorNamespaceSelector of Prometheus team/own to {matchLabels: {kubernetes.io/metadata.name: elastic-system}} (or {} for every namespace)"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := newUnitEnv(t)
			tc.setup(t, e)
			c := runOnly(t, e, SelectionSelected)
			if c.Outcome != Fail || !strings.Contains(c.Message, tc.message) || c.Hint != tc.hint {
				t.Errorf("got %s %q\n hint %q\nwant fail with %q\n hint %q", c.Outcome, c.Message, c.Hint, tc.message, tc.hint)
			}
		})
	}
}

func (e *unitEnv) labelMonitor(t *testing.T, extra map[string]string) {
	t.Helper()
	res := e.dyn.Resource(patches.ServiceMonitorGVR).Namespace(unitNS)
	sm, err := res.Get(context.Background(), unitName, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	l := sm.GetLabels()
	maps.Copy(l, extra)
	sm.SetLabels(l)
	if _, err := res.Update(context.Background(), sm, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
}

// selectingPrometheuses gives C what a NetworkPolicy is judged on: the
// selecting ones only, their ServiceAccount and the labels of their pods.
func TestSelectingPrometheuses(t *testing.T) {
	e := newUnitEnv(t)
	e.prometheus(t, "Prometheus", "monitoring", "k8s", withSpec(withSpec(selectAll, "serviceAccountName", "prometheus-k8s"),
		"podMetadata", map[string]any{"labels": map[string]any{"team": "obs", "prometheus": "overridden"}}))
	e.prometheus(t, "PrometheusAgent", "agents", "edge", selectAll)
	e.prometheus(t, "Prometheus", "monitoring", "other", map[string]any{})
	e.opts.Checks = []CheckID{SelectionSelected}
	k := &checker{c: kube.Clients{Kube: e.kube, Dynamic: e.dyn}, o: e.opts, r: &Report{}}
	k.checkOperator(context.Background())
	got, err := k.selectingPrometheuses(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	want := []prometheusObject{
		{Prometheus: promselect.Prometheus{Kind: "Prometheus", Namespace: "monitoring", Name: "k8s"}, ServiceAccount: "prometheus-k8s", PodLabels: map[string]string{
			"team": "obs", "prometheus": "k8s", "app.kubernetes.io/name": "prometheus", "app.kubernetes.io/managed-by": "prometheus-operator",
			"app.kubernetes.io/instance": "k8s", "operator.prometheus.io/name": "k8s"}},
		{Prometheus: promselect.Prometheus{Kind: "PrometheusAgent", Namespace: "agents", Name: "edge"}, ServiceAccount: "default", PodLabels: map[string]string{
			"app.kubernetes.io/name": "prometheus-agent", "app.kubernetes.io/managed-by": "prometheus-operator",
			"app.kubernetes.io/instance": "edge", "operator.prometheus.io/name": "edge"}},
	}
	if len(got) != len(want) {
		t.Fatalf("got %d selecting: %+v", len(got), got)
	}
	for i := range want {
		g := got[i]
		if g.Kind != want[i].Kind || g.Namespace != want[i].Namespace || g.Name != want[i].Name || g.ServiceAccount != want[i].ServiceAccount || !maps.Equal(g.PodLabels, want[i].PodLabels) {
			t.Errorf("got %+v, want %+v", g, want[i])
		}
	}
	// Memoised: a second call lists nothing again.
	before := len(e.dyn.Actions())
	if _, err := k.selectingPrometheuses(context.Background()); err != nil || len(e.dyn.Actions()) != before {
		t.Errorf("second call: err %v, %d more requests", err, len(e.dyn.Actions())-before)
	}
}

// When two Prometheuses select us and no --prometheus-sa is given, each
// ServiceAccount is checked and named.
func TestSeveralSelectingAccounts(t *testing.T) {
	e := newUnitEnv(t)
	e.prometheus(t, "Prometheus", "monitoring", "k8s", withSpec(selectAll, "serviceAccountName", "prometheus-k8s"))
	e.prometheus(t, "Prometheus", "team", "own", selectAll)
	c := runOnly(t, e, PrometheusMetrics)
	want := "allowed for ServiceAccount monitoring/prometheus-k8s (of Prometheus monitoring/k8s, which selects our monitor); allowed for ServiceAccount team/default (of Prometheus team/own, which selects our monitor)"
	if c.Outcome != Pass || c.Message != want {
		t.Errorf("got %s %q, want pass %q", c.Outcome, c.Message, want)
	}
	// A typed --prometheus-sa wins over the found ones.
	e.opts.PrometheusSA = "monitoring/typed"
	if c := runOnly(t, e, PrometheusMetrics); c.Message != "allowed for ServiceAccount monitoring/typed" {
		t.Errorf("with --prometheus-sa: %q", c.Message)
	}
}

// The probe scrapes with the found ServiceAccount's token and says whose.
func TestProbeWithFoundAccount(t *testing.T) {
	e := newUnitEnv(t)
	unitEndpoint(t, e, 200, "# TYPE x counter\nx 1\n")
	e.opts.PrometheusSA = ""
	e.prometheus(t, "Prometheus", "monitoring", "k8s", withSpec(selectAll, "serviceAccountName", "prometheus-k8s"))
	c := runOnly(t, e, EndpointToken)
	want := "with ServiceAccount monitoring/prometheus-k8s (of Prometheus monitoring/k8s, which selects our monitor): 200 OK with Prometheus text (1 metric families)"
	if c.Outcome != Pass || c.Message != want {
		t.Errorf("got %s %q, want pass %q", c.Outcome, c.Message, want)
	}
}

// What cannot be read narrows what status says, and it says so.
func TestSelectionPartlyReadable(t *testing.T) {
	forbidden := func(resource string) error {
		return apierrors.NewForbidden(schema.GroupResource{Group: "monitoring.coreos.com", Resource: resource}, "", nil)
	}
	t.Run("agents forbidden", func(t *testing.T) {
		e := newUnitEnv(t)
		e.prometheus(t, "Prometheus", "monitoring", "k8s", selectAll)
		e.dyn.PrependReactor("list", "prometheusagents", func(k8stesting.Action) (bool, runtime.Object, error) {
			return true, nil, forbidden("prometheusagents")
		})
		c := runOnly(t, e, SelectionSelected)
		if c.Outcome != Pass || !strings.Contains(c.Message, "Prometheus monitoring/k8s selects ServiceMonitor elastic-system/elastic-operator (cannot list prometheusagents.monitoring.coreos.com in all namespaces") {
			t.Errorf("got %s %q", c.Outcome, c.Message)
		}
	})
	t.Run("agents forbidden, no Prometheus selects", func(t *testing.T) {
		e := newUnitEnv(t)
		e.prometheus(t, "Prometheus", "monitoring", "k8s", map[string]any{})
		e.dyn.PrependReactor("list", "prometheusagents", func(k8stesting.Action) (bool, runtime.Object, error) {
			return true, nil, forbidden("prometheusagents")
		})
		// A PrometheusAgent it may not see could select it: a warning.
		if c := runOnly(t, e, SelectionSelected); c.Outcome != Warn || !strings.Contains(c.Message, "no Prometheus selects") {
			t.Errorf("got %s %q", c.Outcome, c.Message)
		}
	})
	t.Run("namespace unreadable", func(t *testing.T) {
		e := newUnitEnv(t)
		e.prometheus(t, "Prometheus", "monitoring", "k8s", map[string]any{"serviceMonitorSelector": map[string]any{},
			"serviceMonitorNamespaceSelector": map[string]any{"matchLabels": map[string]any{"kubernetes.io/metadata.name": unitNS}}})
		e.kube.PrependReactor("get", "namespaces", func(k8stesting.Action) (bool, runtime.Object, error) {
			return true, nil, apierrors.NewForbidden(schema.GroupResource{Resource: "namespaces"}, unitNS, nil)
		})
		c := runOnly(t, e, SelectionSelected)
		if c.Outcome != Pass || !strings.HasSuffix(c.Message, "(namespace elastic-system unreadable: its labels taken as kubernetes.io/metadata.name=elastic-system only)") {
			t.Errorf("got %s %q", c.Outcome, c.Message)
		}
	})
	t.Run("spec unreadable", func(t *testing.T) {
		e := newUnitEnv(t)
		e.prometheus(t, "Prometheus", "monitoring", "k8s", withSpec(selectAll, "secrets", "not-a-list"))
		if c := runOnly(t, e, SelectionSelected); c.Outcome != Fail || !strings.Contains(c.Message, "the spec of Prometheus monitoring/k8s is unreadable") {
			t.Errorf("got %s %q", c.Outcome, c.Message)
		}
	})
}

// servePrometheusRules makes discovery serve PrometheusRule.
func (e *unitEnv) servePrometheusRules(t *testing.T) {
	t.Helper()
	e.servePrometheusAPI(t)
	for _, l := range e.kube.Discovery().(*fakediscovery.FakeDiscovery).Resources {
		if l.GroupVersion == "monitoring.coreos.com/v1" && !slices.ContainsFunc(l.APIResources, func(r metav1.APIResource) bool { return r.Name == "prometheusrules" }) {
			l.APIResources = append(l.APIResources, metav1.APIResource{Name: "prometheusrules", Namespaced: true, Kind: "PrometheusRule"})
		}
	}
}

// alertRule stores the PrometheusRule enable --alerts applies, with the
// monitor's labels.
func (e *unitEnv) alertRule(t *testing.T, labels map[string]string) {
	t.Helper()
	e.servePrometheusRules(t)
	p := patches.Params{Namespace: unitNS, Name: unitName}
	rule, err := patches.PrometheusRule(p, patches.Alerts{Kind: patches.MonitorServiceMonitor, Labels: labels})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.dyn.Resource(patches.PrometheusRuleGVR).Namespace(unitNS).Create(context.Background(), rule, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
}

// The hint of a rule that misses a ruleSelector's labels is the enable
// run that gives them (the rule carries the monitor's labels).
func TestRuleSelectionHint(t *testing.T) {
	e := newUnitEnv(t)
	e.prometheus(t, "Prometheus", "monitoring", "k8s", withSpec(withSpec(selectAll, "ruleSelector", map[string]any{"matchLabels": map[string]any{"release": "prometheus"}}), "ruleNamespaceSelector", map[string]any{}))
	e.alertRule(t, nil)
	c := runOnly(t, e, SelectionRules)
	if want := "run: kubectl eck-metrics enable -n elastic-system --name elastic-operator --alerts --monitor-label release=prometheus"; c.Outcome != Fail || !strings.HasPrefix(c.Hint, want) {
		t.Errorf("got %s %q, hint %q; want a hint beginning %q", c.Outcome, c.Message, c.Hint, want)
	}
	// --monitor-label given again replaces the labels: the hint repeats the user's.
	e = newUnitEnv(t)
	e.labelMonitor(t, map[string]string{"team": "search"})
	e.prometheus(t, "Prometheus", "monitoring", "k8s", withSpec(withSpec(selectAll, "ruleSelector", map[string]any{"matchLabels": map[string]any{"release": "prometheus"}}), "ruleNamespaceSelector", map[string]any{}))
	e.alertRule(t, map[string]string{"team": "search"})
	c = runOnly(t, e, SelectionRules)
	if want := "run: kubectl eck-metrics enable -n elastic-system --name elastic-operator --alerts --monitor-label release=prometheus --monitor-label team=search"; c.Outcome != Fail || !strings.HasPrefix(c.Hint, want) {
		t.Errorf("with the user's label: got %s %q, hint %q; want a hint beginning %q", c.Outcome, c.Message, c.Hint, want)
	}
	e = newUnitEnv(t)
	e.prometheus(t, "Prometheus", "monitoring", "k8s", withSpec(withSpec(selectAll, "ruleSelector", map[string]any{"matchLabels": map[string]any{"release": "prometheus"}}), "ruleNamespaceSelector", map[string]any{}))
	e.alertRule(t, map[string]string{"release": "prometheus"})
	if c := runOnly(t, e, SelectionRules); c.Outcome != Pass {
		t.Errorf("with the label: %s %q", c.Outcome, c.Message)
	}
}
