package status

import (
	"context"
	"maps"
	"strings"
	"testing"

	"github.com/eck-metrics/kubectl-eck-metrics/pkg/kube"
	"github.com/eck-metrics/kubectl-eck-metrics/pkg/patches"
	appsv1 "k8s.io/api/apps/v1"
	authorizationv1 "k8s.io/api/authorization/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	k8stesting "k8s.io/client-go/testing"
	"sigs.k8s.io/yaml"
)

// unitDenyAll is the default-deny policy of the Kubernetes docs.
const unitDenyAll = `
metadata: {name: default-deny-ingress}
spec:
  podSelector: {}
  policyTypes: [Ingress]
`

// networkPolicy stores a NetworkPolicy, written as users write them, in
// the operator's namespace.
func (e *unitEnv) networkPolicy(t *testing.T, text string) {
	t.Helper()
	var p networkingv1.NetworkPolicy
	if err := yaml.UnmarshalStrict([]byte(text), &p); err != nil {
		t.Fatal(err)
	}
	if _, err := e.kube.NetworkingV1().NetworkPolicies(unitNS).Create(context.Background(), &p, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
}

// namespace stores a Namespace with labels (the API server adds its name
// label to every namespace).
func (e *unitEnv) namespace(t *testing.T, name string, labels map[string]string) {
	t.Helper()
	l := map[string]string{corev1.LabelMetadataName: name}
	for k, v := range labels {
		l[k] = v
	}
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name, Labels: l}}
	if _, err := e.kube.CoreV1().Namespaces().Create(context.Background(), ns, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
}

// The hint of a blocked scrape is the enable command that admits
// Prometheus's namespace; in sidecar mode the port is kube-rbac-proxy's.
func TestNetworkPolicyHintAndSidecarPort(t *testing.T) {
	e := newUnitEnv(t)
	e.update(t, func(s *appsv1.StatefulSet) {
		spec := &s.Spec.Template.Spec
		spec.Containers[0].Ports = spec.Containers[0].Ports[:1] // the sidecar's port is named metrics
		spec.Containers = append(spec.Containers, corev1.Container{Name: patches.SidecarName, Image: patches.DefaultSidecarImg,
			Ports: []corev1.ContainerPort{{Name: patches.MetricsPortName, ContainerPort: patches.ServicePort, Protocol: corev1.ProtocolTCP}}})
	})
	e.networkPolicy(t, unitDenyAll)
	// Admits the operator's own metrics-port, not the proxy's.
	e.networkPolicy(t, "metadata: {name: allow-8081}\nspec:\n  podSelector: {}\n  ingress:\n  - ports: [{port: 8081}]\n")
	e.opts.PrometheusNamespace = "monitoring"
	e.opts.Checks = []CheckID{NetworkPolicyMetricsPort}
	r := mustRun(t, kube.Clients{Kube: e.kube, Dynamic: e.dyn}, e.opts)
	if len(r.Checks) != 1 {
		t.Fatalf("checks %+v", r.Checks)
	}
	c := r.Checks[0]
	wantMsg := "NetworkPolicies allow-8081, default-deny-ingress isolate the operator pod and no rule admits port metrics (8080/TCP) from namespace monitoring"
	wantHint := "run: kubectl eck-metrics enable --network-policy --prometheus-namespace monitoring"
	if c.Outcome != Fail || !strings.HasPrefix(c.Message, wantMsg) || c.Hint != wantHint {
		t.Errorf("%s %q hint %q, want fail %q hint %q", c.Outcome, c.Message, c.Hint, wantMsg, wantHint)
	}
}

// A rule that may admit Prometheus (its pods' labels unknown) warns with
// the command that admits its namespace for certain.
func TestNetworkPolicyMaybeHint(t *testing.T) {
	e := newUnitEnv(t)
	e.networkPolicy(t, "metadata: {name: allow-cidr}\nspec:\n  podSelector: {}\n  ingress:\n  - from: [{ipBlock: {cidr: 10.0.0.0/8}}]\n")
	e.opts.PrometheusNamespace = "monitoring"
	e.opts.Checks = []CheckID{NetworkPolicyMetricsPort}
	r := mustRun(t, kube.Clients{Kube: e.kube, Dynamic: e.dyn}, e.opts)
	c := r.Checks[0]
	wantMsg := "NetworkPolicy allow-cidr admits it from ipBlock 10.0.0.0/8 (whether it matches"
	wantHint := "make sure Prometheus's pods fit that rule, or admit its namespace: kubectl eck-metrics enable --network-policy --prometheus-namespace monitoring"
	if c.Outcome != Warn || !strings.Contains(c.Message, wantMsg) || c.Hint != wantHint {
		t.Errorf("%s %q hint %q, want warn with %q hint %q", c.Outcome, c.Message, c.Hint, wantMsg, wantHint)
	}
}

// One run asks the API server once per object: the Namespace both
// prometheus-selection and the NetworkPolicy check match labels of, the
// reader's token Secret that the ServiceMonitor and Prometheus categories
// both read, the /metrics access of that reader they both check, our
// monitor, each Prometheus kind and each group-version's discovery.
func TestRunReadsEachOnce(t *testing.T) {
	e := newUnitEnv(t)
	e.secretAuth(t, patches.MonitorServiceMonitor, "", true)
	e.prometheus(t, "Prometheus", unitNS, "k8s", selectAll)
	e.networkPolicy(t, unitDenyAll)
	e.networkPolicy(t, "metadata: {name: allow-prometheus}\nspec:\n  podSelector: {}\n  ingress:\n  - from: [{namespaceSelector: {matchLabels: {kubernetes.io/metadata.name: "+unitNS+"}}, podSelector: {matchLabels: {prometheus: k8s}}}]\n")
	e.kube.ClearActions()
	e.dyn.ClearActions()
	r := mustRun(t, kube.Clients{Kube: e.kube, Dynamic: e.dyn}, e.opts)
	outcomes := map[CheckID]Check{}
	for _, c := range r.Checks {
		outcomes[c.ID] = c
	}
	for _, id := range []CheckID{SelectionSelected, ServiceMonitorCredentials, PrometheusMetrics, NetworkPolicyMetricsPort} {
		if c := outcomes[id]; c.Outcome != Pass {
			t.Errorf("%s: %s %q, want pass", id, c.Outcome, c.Message)
		}
	}
	namespaceGets, secretGets, metricsSARs := map[string]int{}, map[string]int{}, map[string]int{}
	discoveries := 0
	for _, a := range e.kube.Actions() {
		switch {
		case a.Matches("get", "resource"): // client-go's fake discovery
			discoveries++
		case a.Matches("get", "namespaces"):
			namespaceGets[a.(k8stesting.GetAction).GetName()]++
		case a.Matches("get", "secrets"):
			secretGets[a.GetNamespace()+"/"+a.(k8stesting.GetAction).GetName()]++
		case a.Matches("create", "subjectaccessreviews"):
			sar := a.(k8stesting.CreateAction).GetObject().(*authorizationv1.SubjectAccessReview)
			if sar.Spec.NonResourceAttributes != nil && sar.Spec.NonResourceAttributes.Path == "/metrics" {
				metricsSARs[sar.Spec.User]++
			}
		}
	}
	if namespaceGets[unitNS] != 1 {
		t.Errorf("Namespace %s read %d times, want once: %v", unitNS, namespaceGets[unitNS], namespaceGets)
	}
	// monitoring.coreos.com/v1 (ServiceMonitor, PodMonitor, Prometheus) and
	// v1alpha1 (PrometheusAgent).
	if discoveries != 2 {
		t.Errorf("%d discovery requests, want 2 (one per group-version)", discoveries)
	}
	// Our monitor is got once, each Prometheus kind listed once.
	dynamic := map[string]int{}
	for _, a := range e.dyn.Actions() {
		dynamic[a.GetVerb()+" "+a.GetResource().Resource]++
	}
	if want := map[string]int{"get servicemonitors": 1, "list prometheuses": 1, "list prometheusagents": 1}; !maps.Equal(dynamic, want) {
		t.Errorf("dynamic requests %v, want %v", dynamic, want)
	}
	token := unitNS + "/" + patches.ReaderTokenSecretName(unitName)
	if secretGets[token] != 1 {
		t.Errorf("Secret %s read %d times, want once: %v", token, secretGets[token], secretGets)
	}
	reader := "system:serviceaccount:" + unitNS + ":" + patches.ReaderName(unitName)
	if len(metricsSARs) != 1 || metricsSARs[reader] != 1 {
		t.Errorf("/metrics SubjectAccessReviews %v, want one for %s", metricsSARs, reader)
	}
}
