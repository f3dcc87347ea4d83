package integration

// status's prometheus-selection checks on the test apiserver with
// prometheus-operator's real CRDs (v0.85.0): does a Prometheus pick up the
// ServiceMonitor enable wrote?

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/eck-metrics/kubectl-eck-metrics/pkg/patches"
	"github.com/eck-metrics/kubectl-eck-metrics/pkg/promselect"
	"github.com/eck-metrics/kubectl-eck-metrics/pkg/status"
	"github.com/eck-metrics/kubectl-eck-metrics/test/framework"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/yaml"
)

func installPrometheusCRDs(t testing.TB) {
	t.Helper()
	cluster.InstallMonitoringCRDs(t, "servicemonitors", "podmonitors", "prometheuses", "prometheusagents", "prometheusrules")
}

// createPrometheus stores a Prometheus (or PrometheusAgent) with this spec,
// as YAML; the CRD's schema validates it.
func createPrometheus(t testing.TB, kind, ns, name, specYAML string) {
	t.Helper()
	spec := map[string]any{}
	if err := yaml.Unmarshal([]byte(specYAML), &spec); err != nil {
		t.Fatal(err)
	}
	gvr := promselect.PrometheusGVR
	if kind == "PrometheusAgent" {
		gvr = promselect.PrometheusAgentGVR
	}
	u := &unstructured.Unstructured{Object: map[string]any{"apiVersion": gvr.GroupVersion().String(), "kind": kind,
		"metadata": map[string]any{"name": name, "namespace": ns}, "spec": spec}}
	if _, err := cluster.Dynamic.Resource(gvr).Namespace(ns).Create(cluster.Context(t), u, metav1.CreateOptions{}); err != nil {
		t.Fatalf("create %s %s/%s: %v", kind, ns, name, err)
	}
	t.Cleanup(func() {
		_ = cluster.Dynamic.Resource(gvr).Namespace(ns).Delete(context.Background(), name, metav1.DeleteOptions{})
	})
}

// TestSelection installs prometheus-operator's CRDs once for all its cases
// (installing and removing those big CRDs is what takes time here); each
// case removes the Prometheus objects it made, since status lists them in
// every namespace.
func TestSelection(t *testing.T) {
	installPrometheusCRDs(t)
	t.Run("NoPrometheus", selectionNoPrometheus)
	t.Run("Selected", selectionSelected)
	t.Run("LabelMisses", selectionLabelMisses)
	t.Run("NamespaceExcluded", selectionNamespaceExcluded)
	t.Run("DenyFileAccess", selectionDenyFileAccess)
	t.Run("MissingSecrets", selectionMissingSecrets)
	t.Run("ListForbidden", selectionListForbidden)
	t.Run("ProxyForbidden", selectionProxyForbidden)
	t.Run("PodMonitor", selectionPodMonitor)
}

// enabledOperator is an ECK 3.5.0 install enabled with these extra flags.
func enabledOperator(t testing.TB, prefix string, enableArgs ...string) string {
	t.Helper()
	ns := cluster.NewNamespace(t, prefix)
	f := cluster.InstallFixture(t, "eck-3.5.0-all-in-one.yaml", ns)
	mustSucceed(t, cluster.Run(t, append([]string{"enable", "-n", ns}, enableArgs...)...))
	rolledOut(t, ns, f.Name)
	return ns
}

func selectionNoPrometheus(t *testing.T) {
	ns := enabledOperator(t, "selnone")
	rep, r := statusOf(t, cluster.Kubeconfig, "-n", ns)
	expectOutcome(t, rep, status.SelectionSelected, status.Warn, "no Prometheus or PrometheusAgent in any namespace: nothing run by prometheus-operator scrapes ServiceMonitor "+ns+"/elastic-operator")
	if c := find(t, rep, status.SelectionSelected); !strings.Contains(c.Hint, "create a Prometheus whose spec.serviceMonitorSelector matches the labels of ServiceMonitor") {
		t.Errorf("hint %q", c.Hint)
	}
	expectOutcome(t, rep, status.PrometheusMetrics, status.Skip, "pass --prometheus-sa")
	if r.Err != nil || !rep.Summary.OK {
		t.Errorf("no Prometheus is a warning, not a failure: exit %v, summary %+v", r.Err, rep.Summary)
	}
}

// One Prometheus selects the monitor: status finds its ServiceAccount
// (not typed) for the /metrics check and says which it used.
func selectionSelected(t *testing.T) {
	ns := enabledOperator(t, "selone", "--service-monitor-label", "release=prometheus")
	prom := cluster.NewNamespace(t, "selmon")
	prometheusSA(t, prom, true)
	createPrometheus(t, "Prometheus", prom, "k8s", `
serviceAccountName: prometheus
serviceMonitorSelector: {matchLabels: {release: prometheus}}
serviceMonitorNamespaceSelector: {}
podMetadata: {labels: {team: observability}}`)
	// Another Prometheus that selects nothing of ours changes nothing.
	createPrometheus(t, "Prometheus", prom, "other", `serviceMonitorSelector: {matchLabels: {team: other}}`)
	rep, r := statusOf(t, cluster.Kubeconfig, "-n", ns)
	if r.Err != nil {
		t.Errorf("exit %v\n%s", r.Err, r.Stdout)
	}
	expectOutcome(t, rep, status.SelectionSelected, status.Pass, "Prometheus "+prom+"/k8s selects ServiceMonitor "+ns+"/elastic-operator")
	expectOutcome(t, rep, status.SelectionFileAccess, status.Pass, "reads files (endpoints[0].bearerTokenFile) and no selecting Prometheus denies it")
	expectOutcome(t, rep, status.SelectionSecrets, status.Pass, "none needed")
	expectOutcome(t, rep, status.SelectionServiceAccount, status.Pass, "may get /metrics: ServiceAccount "+prom+"/prometheus of Prometheus "+prom+"/k8s")
	expectOutcome(t, rep, status.PrometheusMetrics, status.Pass, "allowed for ServiceAccount "+prom+"/prometheus (of Prometheus "+prom+"/k8s, which selects our monitor)")
	// -o json carries each Prometheus and the labels of its pods.
	details := find(t, rep, status.SelectionSelected).Details
	ps, _ := details["prometheuses"].([]any)
	if len(ps) != 2 {
		t.Fatalf("details %+v", details)
	}
	for _, p := range ps {
		p := p.(map[string]any)
		labels, _ := p["podLabels"].(map[string]any)
		switch p["name"] {
		case "k8s":
			if p["selected"] != true || labels["prometheus"] != "k8s" || labels["team"] != "observability" || labels["app.kubernetes.io/instance"] != "k8s" {
				t.Errorf("k8s: %+v", p)
			}
		case "other":
			if p["selected"] != false || p["reasons"] == nil {
				t.Errorf("other: %+v", p)
			}
		}
	}
	// Each question is asked once: one discovery of monitoring.coreos.com/v1
	// (the ServiceMonitor and the Prometheus share it), one list of each kind,
	// one SubjectAccessReview for the ServiceAccount both checks name.
	var log requestLog
	if r := cluster.RunWith(t, cluster.Kubeconfig, log.wrap, "status", "-n", ns); r.Err != nil {
		t.Fatalf("%v\n%s", r.Err, r.Stdout)
	}
	count := map[string]int{}
	for _, p := range log.paths {
		count[p]++
	}
	for _, p := range []string{"GET /apis/monitoring.coreos.com/v1", "GET /apis/monitoring.coreos.com/v1/prometheuses", "GET /apis/monitoring.coreos.com/v1alpha1/prometheusagents", "GET /api/v1/namespaces/" + ns} {
		if count[p] != 1 {
			t.Errorf("%s sent %d times, want once:\n%s", p, count[p], strings.Join(log.paths, "\n"))
		}
	}
	// rbac's two and the Prometheus ServiceAccount's one.
	if n := count["POST /apis/authorization.k8s.io/v1/subjectaccessreviews"]; n != 3 {
		t.Errorf("%d SubjectAccessReviews, want 3", n)
	}
	// prometheus-targets asks the selecting Prometheus once, through the
	// service proxy to its governing Service; no prometheus-operator runs
	// here to create that Service, so the check warns and fails nothing
	// (the API server answers 503, as for a Service without a Ready pod).
	proxy := "GET /api/v1/namespaces/" + prom + "/services/http:prometheus-operated:web/proxy/api/v1/targets"
	if n := count[proxy]; n != 1 {
		t.Errorf("%s sent %d times, want once:\n%s", proxy, n, strings.Join(log.paths, "\n"))
	}
	expectOutcome(t, rep, status.TargetsAnswered, status.Warn, "Prometheus "+prom+"/k8s: unreachable: the API server's service proxy cannot reach it (no Service "+prom+"/prometheus-operated, no Ready pod")
	if c := find(t, rep, status.TargetsAnswered); !strings.Contains(c.Hint, "kubectl port-forward -n "+prom+" svc/prometheus-operated 9090:web, then pass --prometheus-url http://127.0.0.1:9090") {
		t.Errorf("hint %q", c.Hint)
	}
	// --prometheus-sa still wins.
	typed := prometheusSA(t, ns, true)
	rep, _ = statusOf(t, cluster.Kubeconfig, "-n", ns, "--prometheus-sa", typed)
	expectOutcome(t, rep, status.PrometheusMetrics, status.Pass, "allowed for ServiceAccount "+typed)
}

// The Prometheus selects on a label the monitor lacks: the hint names it,
// and running the hint's enable (with today's alias flag) fixes it.
func selectionLabelMisses(t *testing.T) {
	ns := enabledOperator(t, "sellabel")
	prom := cluster.NewNamespace(t, "selmon")
	createPrometheus(t, "Prometheus", prom, "k8s", `
serviceMonitorSelector: {matchLabels: {release: kube-prometheus-stack}}
serviceMonitorNamespaceSelector: {}`)
	rep, r := statusOf(t, cluster.Kubeconfig, "-n", ns)
	if r.Err == nil {
		t.Error("a Prometheus that misses the monitor must fail status")
	}
	expectOutcome(t, rep, status.SelectionSelected, status.Fail, "spec.serviceMonitorSelector release=kube-prometheus-stack of Prometheus "+prom+"/k8s does not match the labels of ServiceMonitor "+ns+"/elastic-operator (app.kubernetes.io/managed-by=kubectl-eck-metrics)")
	want := "run: kubectl eck-metrics enable -n " + ns + " --monitor-label release=kube-prometheus-stack (labels of ServiceMonitor " + ns + "/elastic-operator: add release=kube-prometheus-stack)"
	if c := find(t, rep, status.SelectionSelected); c.Hint != want {
		t.Errorf("hint %q, want %q", c.Hint, want)
	}
	mustSucceed(t, cluster.Run(t, "enable", "-n", ns, "--monitor-label", "release=kube-prometheus-stack"))
	rep, _ = statusOf(t, cluster.Kubeconfig, "-n", ns)
	expectOutcome(t, rep, status.SelectionSelected, status.Pass, "Prometheus "+prom+"/k8s selects")
}

// The Prometheus's namespace selector excludes the operator's namespace:
// by label (the hint labels the namespace), or by having none (its own
// namespace only).
func selectionNamespaceExcluded(t *testing.T) {
	ns := enabledOperator(t, "selns")
	prom := cluster.NewNamespace(t, "selmon")
	createPrometheus(t, "Prometheus", prom, "k8s", `
serviceMonitorSelector: {}
serviceMonitorNamespaceSelector: {matchLabels: {monitoring: enabled}}`)
	rep, _ := statusOf(t, cluster.Kubeconfig, "-n", ns)
	expectOutcome(t, rep, status.SelectionSelected, status.Fail, "spec.serviceMonitorNamespaceSelector monitoring=enabled of Prometheus "+prom+"/k8s does not match namespace "+ns+" (kubernetes.io/metadata.name="+ns+")")
	if c := find(t, rep, status.SelectionSelected); c.Hint != "run: kubectl label namespace "+ns+" monitoring=enabled" {
		t.Errorf("hint %q", c.Hint)
	}
	kubectlOK(t, "label", "namespace", ns, "monitoring=enabled")
	rep, _ = statusOf(t, cluster.Kubeconfig, "-n", ns)
	expectOutcome(t, rep, status.SelectionSelected, status.Pass, "Prometheus "+prom+"/k8s selects")

	own := cluster.NewNamespace(t, "selown")
	createPrometheus(t, "PrometheusAgent", own, "agent", `serviceMonitorSelector: {}`)
	if err := cluster.Dynamic.Resource(promselect.PrometheusGVR).Namespace(prom).Delete(cluster.Context(t), "k8s", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	rep, _ = statusOf(t, cluster.Kubeconfig, "-n", ns)
	expectOutcome(t, rep, status.SelectionSelected, status.Fail, "PrometheusAgent "+own+"/agent has no spec.serviceMonitorNamespaceSelector: it selects ServiceMonitors of its own namespace "+own+" only")
}

// arbitraryFSAccessThroughSMs.deny drops the file-auth ServiceMonitor enable
// writes by default.
func selectionDenyFileAccess(t *testing.T) {
	ns := enabledOperator(t, "seldeny")
	prom := cluster.NewNamespace(t, "selmon")
	createPrometheus(t, "Prometheus", prom, "hardened", `
serviceMonitorSelector: {}
serviceMonitorNamespaceSelector: {}
arbitraryFSAccessThroughSMs: {deny: true}`)
	rep, r := statusOf(t, cluster.Kubeconfig, "-n", ns)
	if r.Err == nil {
		t.Error("deny mode with file auth must fail status")
	}
	expectOutcome(t, rep, status.SelectionSelected, status.Pass, "Prometheus "+prom+"/hardened selects")
	expectOutcome(t, rep, status.SelectionFileAccess, status.Fail, "Prometheus "+prom+"/hardened has arbitraryFSAccessThroughSMs.deny: true and drops ServiceMonitor "+ns+"/elastic-operator, which reads files (endpoints[0].bearerTokenFile)")
	if c := find(t, rep, status.SelectionFileAccess); !strings.Contains(c.Hint, "--scrape-auth secret") {
		t.Errorf("hint %q", c.Hint)
	}
}

// use-cert --ca-secret makes the ServiceMonitor read the CA from
// /etc/prometheus/secrets/<secret>/ca.crt: the Prometheus must list the
// secret in spec.secrets.
func selectionMissingSecrets(t *testing.T) {
	ns := cluster.NewNamespace(t, "selsecrets")
	prom := cluster.NewNamespace(t, "selmon")
	f := cluster.InstallFixture(t, "eck-3.5.0-all-in-one.yaml", ns)
	ca := newTestCA(t)
	good := ca.goodLeaf(t, ns)
	dir := writeFiles(t, map[string][]byte{"tls.crt": good.certPEM, "tls.key": good.keyPEM, "ca.crt": ca.certPEM})
	mustSucceed(t, cluster.Run(t, "use-cert", "-n", ns, "--secret", "eck-metrics-tls", "--cert", filepath.Join(dir, "tls.crt"), "--key", filepath.Join(dir, "tls.key"),
		"--ca-secret", "eck-metrics-ca", "--ca", filepath.Join(dir, "ca.crt"), "--prometheus-namespace", prom))
	rolledOut(t, ns, f.Name)
	createPrometheus(t, "Prometheus", prom, "k8s", `
serviceMonitorSelector: {}
serviceMonitorNamespaceSelector: {}
secrets: [etcd-certs]`)
	rep, _ := statusOf(t, cluster.Kubeconfig, "-n", ns)
	expectOutcome(t, rep, status.SelectionSecrets, status.Fail, "spec.secrets of Prometheus "+prom+"/k8s lacks eck-metrics-ca: its pods have no /etc/prometheus/secrets/eck-metrics-ca/ca.crt, so scrapes fail")
	hint := find(t, rep, status.SelectionSecrets).Hint
	want := `run: kubectl patch prometheus k8s -n ` + prom + ` --type merge -p '{"spec":{"secrets":["etcd-certs","eck-metrics-ca"]}}'`
	if hint != want {
		t.Fatalf("hint %q, want %q", hint, want)
	}
	// The CA copy is checked in the found Prometheus's namespace, not typed.
	expectOutcome(t, rep, status.CertificateCACopy, status.Pass, "CA secret "+prom+"/eck-metrics-ca verifies")
	// The hint's patch, run as printed, fixes it.
	kubectlOK(t, "patch", "prometheus", "k8s", "-n", prom, "--type", "merge", "-p", `{"spec":{"secrets":["etcd-certs","eck-metrics-ca"]}}`)
	rep, _ = statusOf(t, cluster.Kubeconfig, "-n", ns)
	expectOutcome(t, rep, status.SelectionSecrets, status.Pass, "Prometheus "+prom+"/k8s has eck-metrics-ca in spec.secrets")
}

// A user who may not list Prometheus objects gets a warning, not a failure.
func selectionListForbidden(t *testing.T) {
	ns := enabledOperator(t, "selforbid")
	prom := cluster.NewNamespace(t, "selmon")
	createPrometheus(t, "Prometheus", prom, "k8s", "serviceMonitorSelector: {}\nserviceMonitorNamespaceSelector: {}")
	// It may read the core, apps and RBAC objects status reads and the monitors; no Prometheus objects, no SubjectAccessReviews.
	kc := cluster.UserWithRules(t, "selection-reader",
		rbacv1.PolicyRule{APIGroups: []string{"", "apps", "rbac.authorization.k8s.io"}, Resources: []string{"*"}, Verbs: []string{"get", "list"}},
		rbacv1.PolicyRule{APIGroups: []string{"monitoring.coreos.com"}, Resources: []string{"servicemonitors", "podmonitors"}, Verbs: []string{"get", "list"}})
	rep, r := statusOf(t, kc, "-n", ns)
	expectOutcome(t, rep, status.SelectionSelected, status.Warn, "cannot list prometheuses.monitoring.coreos.com in all namespaces")
	if c := find(t, rep, status.SelectionSelected); !strings.Contains(c.Hint, "who may list prometheuses and prometheusagents") {
		t.Errorf("hint %q", c.Hint)
	}
	if rep.Summary.Fail != 0 || r.Err != nil {
		for _, c := range rep.Checks {
			if c.Outcome == status.Fail {
				t.Errorf("%s failed: %s", c.ID, c.Message)
			}
		}
	}
}

// A user who may not use the service proxy: prometheus-targets warns with
// the permission it needs, and the report does not fail for it.
func selectionProxyForbidden(t *testing.T) {
	ns := enabledOperator(t, "selproxy")
	prom := cluster.NewNamespace(t, "selmon")
	createPrometheus(t, "Prometheus", prom, "k8s", "serviceMonitorSelector: {}\nserviceMonitorNamespaceSelector: {}")
	kc := cluster.UserWithRules(t, "targets-reader",
		rbacv1.PolicyRule{APIGroups: []string{""}, Resources: []string{"services", "configmaps", "secrets", "namespaces", "pods", "serviceaccounts"}, Verbs: []string{"get", "list"}},
		rbacv1.PolicyRule{APIGroups: []string{"apps"}, Resources: []string{"statefulsets"}, Verbs: []string{"get", "list"}},
		rbacv1.PolicyRule{APIGroups: []string{"monitoring.coreos.com"}, Resources: []string{"*"}, Verbs: []string{"get", "list"}})
	rep, r := statusOf(t, kc, "-n", ns, "--check", "prometheus-targets")
	expectOutcome(t, rep, status.TargetsAnswered, status.Warn, "Prometheus "+prom+"/k8s: you may not use the API server's service proxy")
	if c := find(t, rep, status.TargetsAnswered); !strings.Contains(c.Hint, "run status as a user who may get services/proxy in namespace "+prom) {
		t.Errorf("hint %q", c.Hint)
	}
	if r.Err != nil || !rep.Summary.OK {
		t.Errorf("a forbidden proxy is a warning, not a failure: exit %v, summary %+v", r.Err, rep.Summary)
	}
}

// kubectlOK runs the real kubectl as the admin, as a user runs a hint.
func kubectlOK(t testing.TB, args ...string) {
	t.Helper()
	if _, stderr, err := kubectl(t, t.TempDir(), args...); err != nil {
		t.Fatalf("kubectl %v: %v\n%s", args, err, stderr)
	}
}

// A PodMonitor of the shape enable --monitor podmonitor applies (secret
// auth, no files) is judged by podMonitorSelector, and deny-mode keeps it.
func selectionPodMonitor(t *testing.T) {
	ns := enabledOperator(t, "selpod", "--service-monitor", "never")
	pm := framework.DecodeObjects(t, `
apiVersion: monitoring.coreos.com/v1
kind: PodMonitor
metadata:
  name: elastic-operator
  labels: {app.kubernetes.io/managed-by: kubectl-eck-metrics}
spec:
  selector: {matchLabels: {control-plane: elastic-operator}}
  podMetricsEndpoints:
  - port: metrics
    scheme: https
    path: /metrics
    authorization: {type: Bearer, credentials: {name: elastic-operator-metrics-reader-token, key: token}}
    tlsConfig: {insecureSkipVerify: true}`)[0]
	pm.SetNamespace(ns)
	_ = unstructured.SetNestedStringSlice(pm.Object, []string{ns}, "spec", "namespaceSelector", "matchNames")
	podMonitors := cluster.Dynamic.Resource(patches.PodMonitorGVR).Namespace(ns)
	if _, err := podMonitors.Create(cluster.Context(t), pm, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	prom := cluster.NewNamespace(t, "selmon")
	createPrometheus(t, "Prometheus", prom, "hardened", `
serviceMonitorSelector: {}
serviceMonitorNamespaceSelector: {}
podMonitorSelector: {matchLabels: {release: prometheus}}
podMonitorNamespaceSelector: {}
arbitraryFSAccessThroughSMs: {deny: true}`)
	rep, _ := statusOf(t, cluster.Kubeconfig, "-n", ns)
	expectOutcome(t, rep, status.SelectionSelected, status.Fail, "spec.podMonitorSelector release=prometheus of Prometheus "+prom+"/hardened does not match the labels of PodMonitor "+ns+"/elastic-operator")
	want := "run: kubectl eck-metrics enable -n " + ns + " --monitor podmonitor --scrape-auth secret --monitor-label release=prometheus (labels of PodMonitor " + ns + "/elastic-operator: add release=prometheus)"
	if c := find(t, rep, status.SelectionSelected); c.Hint != want {
		t.Errorf("hint %q, want %q", c.Hint, want)
	}
	kubectlOK(t, "label", "podmonitor", "elastic-operator", "-n", ns, "release=prometheus")
	rep, _ = statusOf(t, cluster.Kubeconfig, "-n", ns)
	expectOutcome(t, rep, status.SelectionSelected, status.Pass, "Prometheus "+prom+"/hardened selects PodMonitor "+ns+"/elastic-operator")
	expectOutcome(t, rep, status.SelectionFileAccess, status.Pass, "none: a PodMonitor reads no files")
}
