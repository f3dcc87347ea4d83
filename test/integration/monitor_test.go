package integration

import (
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/eck-metrics/kubectl-eck-metrics/pkg/patches"
	"github.com/eck-metrics/kubectl-eck-metrics/pkg/status"
	"github.com/eck-metrics/kubectl-eck-metrics/test/framework"
	authorizationv1 "k8s.io/api/authorization/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

// getMonitor reads our monitor of one kind; nil when absent.
func getMonitor(t *testing.T, gvr schema.GroupVersionResource, ns string) *unstructured.Unstructured {
	t.Helper()
	obj, err := cluster.Dynamic.Resource(gvr).Namespace(ns).Get(cluster.Context(t), "elastic-operator", metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return nil
	}
	if err != nil {
		t.Fatal(err)
	}
	return obj
}

func monitorEndpoint(t *testing.T, obj *unstructured.Unstructured) map[string]any {
	t.Helper()
	for _, field := range []string{"endpoints", "podMetricsEndpoints"} {
		if list, _, _ := unstructured.NestedSlice(obj.Object, "spec", field); len(list) == 1 {
			return list[0].(map[string]any)
		}
	}
	t.Fatalf("%s has no endpoint: %v", obj.GetKind(), obj.Object["spec"])
	return nil
}

// readerObjects tells which reader objects of secret auth exist.
func readerObjects(t *testing.T, ns string) map[string]bool {
	t.Helper()
	c := cluster.Context(t)
	reader := patches.ReaderName("elastic-operator")
	exists := func(err error) bool {
		if err != nil && !apierrors.IsNotFound(err) {
			t.Fatal(err)
		}
		return err == nil
	}
	_, errSA := cluster.Kube.CoreV1().ServiceAccounts(ns).Get(c, reader, metav1.GetOptions{})
	_, errSecret := cluster.Kube.CoreV1().Secrets(ns).Get(c, patches.ReaderTokenSecretName("elastic-operator"), metav1.GetOptions{})
	_, errRole := cluster.Kube.RbacV1().ClusterRoles().Get(c, reader, metav1.GetOptions{})
	_, errBinding := cluster.Kube.RbacV1().ClusterRoleBindings().Get(c, reader, metav1.GetOptions{})
	return map[string]bool{"ServiceAccount": exists(errSA), "Secret": exists(errSecret), "ClusterRole": exists(errRole), "ClusterRoleBinding": exists(errBinding)}
}

// fillToken plays the token controller: it writes the reader's token into
// the Secret with an update of its own field manager.
func fillToken(t *testing.T, ns string) {
	t.Helper()
	secrets := cluster.Kube.CoreV1().Secrets(ns)
	s, err := secrets.Get(cluster.Context(t), patches.ReaderTokenSecretName("elastic-operator"), metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	s.Data = map[string][]byte{corev1.ServiceAccountTokenKey: []byte("a-token"), "namespace": []byte(ns)}
	if _, err := secrets.Update(cluster.Context(t), s, metav1.UpdateOptions{FieldManager: "kube-controller-manager"}); err != nil {
		t.Fatal(err)
	}
}

// A PodMonitor with secret auth, kept on a rerun with its labels, interval
// and timeout; switched to a ServiceMonitor (ours: the PodMonitor goes),
// then to file auth (the reader goes), then disabled.
func TestMonitorPodMonitorSwitchAndDisable(t *testing.T) {
	cluster.InstallMonitoringCRDs(t, "servicemonitors", "podmonitors")
	ns := cluster.NewNamespace(t, "podmon")
	f := cluster.InstallFixture(t, "eck-3.5.0-all-in-one.yaml", ns)
	t.Cleanup(func() { cluster.RemoveInstall(t, f) })

	r := mustSucceed(t, cluster.Run(t, "enable", "-n", ns, "--monitor", "podmonitor", "--monitor-label", "release=prometheus",
		"--monitor-annotation", "team=platform", "--interval", "1m", "--scrape-timeout", "20s"))
	for _, want := range []string{
		"[5/5] PodMonitor: ServiceAccount " + ns + "/elastic-operator-metrics-reader created",
		"Secret " + ns + "/elastic-operator-metrics-reader-token created: long-lived token of ServiceAccount elastic-operator-metrics-reader",
		"ClusterRole elastic-operator-metrics-reader created", "ClusterRoleBinding elastic-operator-metrics-reader created",
		"PodMonitor " + ns + "/elastic-operator created: scrape auth secret",
	} {
		if !strings.Contains(r.Stdout, want) {
			t.Errorf("enable --monitor podmonitor does not say %q:\n%s", want, r.Stdout)
		}
	}
	if getMonitor(t, patches.ServiceMonitorGVR, ns) != nil {
		t.Error("a ServiceMonitor was applied next to the PodMonitor")
	}
	pm := getMonitor(t, patches.PodMonitorGVR, ns)
	if pm == nil {
		t.Fatal("no PodMonitor")
	}
	ep := monitorEndpoint(t, pm)
	if ep["port"] != "metrics" || ep["interval"] != "1m" || ep["scrapeTimeout"] != "20s" || pm.GetLabels()["release"] != "prometheus" || pm.GetAnnotations()["team"] != "platform" {
		t.Errorf("PodMonitor %v endpoint %v", pm.Object["metadata"], ep)
	}
	if name, _, _ := unstructured.NestedString(ep, "authorization", "credentials", "name"); name != "elastic-operator-metrics-reader-token" {
		t.Errorf("PodMonitor credentials %v", ep["authorization"])
	}
	selector, _, _ := unstructured.NestedStringMap(pm.Object, "spec", "selector", "matchLabels")
	if selector["control-plane"] != "elastic-operator" {
		t.Errorf("PodMonitor selects %v", selector)
	}
	role, err := cluster.Kube.RbacV1().ClusterRoles().Get(cluster.Context(t), "elastic-operator-metrics-reader", metav1.GetOptions{})
	if err != nil || len(role.Rules) != 1 || role.Rules[0].NonResourceURLs[0] != "/metrics" || role.Rules[0].Verbs[0] != "get" {
		t.Errorf("reader ClusterRole %v, %v", role, err)
	}
	binding, err := cluster.Kube.RbacV1().ClusterRoleBindings().Get(cluster.Context(t), "elastic-operator-metrics-reader", metav1.GetOptions{})
	if err != nil || len(binding.Subjects) != 1 || binding.Subjects[0].Namespace != ns || binding.Subjects[0].Name != "elastic-operator-metrics-reader" {
		t.Errorf("reader binding %v, %v", binding, err)
	}
	secret, err := cluster.Kube.CoreV1().Secrets(ns).Get(cluster.Context(t), "elastic-operator-metrics-reader-token", metav1.GetOptions{})
	if err != nil || secret.Type != corev1.SecretTypeServiceAccountToken || secret.Annotations[corev1.ServiceAccountNameKey] != "elastic-operator-metrics-reader" {
		t.Errorf("token Secret %v, %v", secret, err)
	}
	fillToken(t, ns)

	// Rerun without the flags: everything kept, nothing written.
	before := cluster.Snapshot(t, ns)
	r = mustSucceed(t, cluster.Run(t, "enable", "-n", ns))
	framework.AssertUnchanged(t, before, cluster.Snapshot(t, ns))
	if !strings.Contains(r.Stdout, "PodMonitor "+ns+"/elastic-operator unchanged") {
		t.Errorf("rerun:\n%s", r.Stdout)
	}

	// A client dry run of the switch says what goes.
	r = mustSucceed(t, cluster.Run(t, "enable", "-n", ns, "--monitor", "servicemonitor", "--dry-run=client"))
	if !strings.Contains(r.Stderr, "PodMonitor "+ns+"/elastic-operator deleted (dry run): replaced by ServiceMonitor "+ns+"/elastic-operator") {
		t.Errorf("dry run of the switch:\n%s", r.Stderr)
	}
	framework.AssertUnchanged(t, before, cluster.Snapshot(t, ns))

	r = mustSucceed(t, cluster.Run(t, "enable", "-n", ns, "--monitor", "servicemonitor"))
	if !strings.Contains(r.Stdout, "[5/5] ServiceMonitor:") || !strings.Contains(r.Stdout, "PodMonitor "+ns+"/elastic-operator deleted: replaced by ServiceMonitor "+ns+"/elastic-operator") {
		t.Errorf("switch to a ServiceMonitor:\n%s", r.Stdout)
	}
	if getMonitor(t, patches.PodMonitorGVR, ns) != nil {
		t.Error("the PodMonitor is left after the switch")
	}
	sm := getMonitor(t, patches.ServiceMonitorGVR, ns)
	ep = monitorEndpoint(t, sm)
	if ep["port"] != "https" || ep["interval"] != "1m" || ep["scrapeTimeout"] != "20s" || sm.GetLabels()["release"] != "prometheus" || sm.GetAnnotations()["team"] != "platform" || ep["bearerTokenFile"] != nil {
		t.Errorf("ServiceMonitor after the switch keeps neither the settings nor secret auth: %v %v", sm.Object["metadata"], ep)
	}

	// File auth: the reader is no longer used and goes (the token
	// controller's data does not keep it).
	r = mustSucceed(t, cluster.Run(t, "enable", "-n", ns, "--scrape-auth", "file"))
	for _, want := range []string{"ServiceAccount " + ns + "/elastic-operator-metrics-reader deleted: file auth does not use it", "Secret " + ns + "/elastic-operator-metrics-reader-token deleted"} {
		if !strings.Contains(r.Stdout, want) {
			t.Errorf("switch to file auth does not say %q:\n%s", want, r.Stdout)
		}
	}
	for kind, exists := range readerObjects(t, ns) {
		if exists {
			t.Errorf("%s of the reader left with file auth", kind)
		}
	}
	ep = monitorEndpoint(t, getMonitor(t, patches.ServiceMonitorGVR, ns))
	if ep["bearerTokenFile"] != patches.BearerTokenFile || ep["authorization"] != nil {
		t.Errorf("file auth endpoint %v", ep)
	}

	// Back to a PodMonitor (secret auth is its default), then disable.
	mustSucceed(t, cluster.Run(t, "enable", "-n", ns, "--monitor", "podmonitor"))
	fillToken(t, ns)
	before = cluster.Snapshot(t, ns)
	r = mustSucceed(t, cluster.Run(t, "disable", "-n", ns, "--dry-run=server"))
	framework.AssertUnchanged(t, before, cluster.Snapshot(t, ns))
	if !strings.Contains(r.Stderr, "PodMonitor "+ns+"/elastic-operator deleted (server dry run)") {
		t.Errorf("disable --dry-run=server:\n%s", r.Stderr)
	}
	r = mustSucceed(t, cluster.Run(t, "disable", "-n", ns))
	for _, want := range []string{"PodMonitor " + ns + "/elastic-operator deleted", "ClusterRoleBinding elastic-operator-metrics-reader deleted",
		"ClusterRole elastic-operator-metrics-reader deleted", "Secret " + ns + "/elastic-operator-metrics-reader-token deleted", "ServiceAccount " + ns + "/elastic-operator-metrics-reader deleted"} {
		if !strings.Contains(r.Stdout, want) {
			t.Errorf("disable does not say %q:\n%s", want, r.Stdout)
		}
	}
	if getMonitor(t, patches.PodMonitorGVR, ns) != nil {
		t.Error("disable left the PodMonitor")
	}
	for kind, exists := range readerObjects(t, ns) {
		if exists {
			t.Errorf("disable left the reader's %s", kind)
		}
	}
}

// A ServiceMonitor with secret auth and a CA: the CA secret lives in the
// operator's namespace, named by tlsConfig.ca.secret; no file paths.
func TestMonitorSecretAuthWithCA(t *testing.T) {
	cluster.InstallMonitoringCRDs(t, "servicemonitors", "podmonitors")
	ns := cluster.NewNamespace(t, "smauth")
	f := cluster.InstallFixture(t, "eck-3.5.0-all-in-one.yaml", ns)
	t.Cleanup(func() { cluster.RemoveInstall(t, f) })
	ca := newTestCA(t)
	createTLSSecret(t, ns, "eck-metrics-tls", corev1.SecretTypeTLS, ca.goodLeaf(t, ns).data())
	caFile := filepath.Join(writeFiles(t, map[string][]byte{"ca.crt": ca.certPEM}), "ca.crt")

	// Secret auth keeps no copy in Prometheus's namespace: --prometheus-namespace is refused.
	before := cluster.Snapshot(t, ns)
	r := cluster.Run(t, "use-cert", "-n", ns, "--secret", "eck-metrics-tls", "--ca-secret", "eck-metrics-ca", "--ca", caFile, "--scrape-auth", "secret", "--prometheus-namespace", "monitoring")
	framework.ExpectOneLineRefusal(t, r, "drop --prometheus-namespace")
	framework.AssertUnchanged(t, before, cluster.Snapshot(t, ns))

	r = mustSucceed(t, cluster.Run(t, "use-cert", "-n", ns, "--secret", "eck-metrics-tls", "--ca-secret", "eck-metrics-ca", "--ca", caFile, "--scrape-auth", "secret"))
	if !strings.Contains(r.Stdout, "Prometheus reads the CA from secret "+ns+"/eck-metrics-ca through the monitor's tlsConfig.ca") {
		t.Errorf("use-cert output:\n%s", r.Stdout)
	}
	caSecret, err := cluster.Kube.CoreV1().Secrets(ns).Get(cluster.Context(t), "eck-metrics-ca", metav1.GetOptions{})
	if err != nil || string(caSecret.Data[patches.CAKey]) != string(ca.certPEM) {
		t.Fatalf("CA secret in the operator's namespace: %v", err)
	}
	ep := monitorEndpoint(t, getMonitor(t, patches.ServiceMonitorGVR, ns))
	tlsConfig, _ := ep["tlsConfig"].(map[string]any)
	caName, _, _ := unstructured.NestedString(tlsConfig, "ca", "secret", "name")
	if caName != "eck-metrics-ca" || tlsConfig["serverName"] != "elastic-operator-metrics."+ns+".svc" || tlsConfig["insecureSkipVerify"] != false || tlsConfig["caFile"] != nil || ep["bearerTokenFile"] != nil {
		t.Errorf("secret-auth endpoint with a CA: %v", ep)
	}

	// disable (dry run) says it leaves the CA secret.
	before = cluster.Snapshot(t, ns)
	r = mustSucceed(t, cluster.Run(t, "disable", "-n", ns, "--dry-run=client"))
	if !strings.Contains(r.Stderr, "left Secret "+ns+"/eck-metrics-ca: it holds your CA") {
		t.Errorf("disable does not report the CA secret:\n%s", r.Stderr)
	}
	framework.AssertUnchanged(t, before, cluster.Snapshot(t, ns))

	// enable and use-cert without --scrape-auth keep it, and the CA.
	before = cluster.Snapshot(t, ns)
	mustSucceed(t, cluster.Run(t, "enable", "-n", ns))
	framework.AssertUnchanged(t, before, cluster.Snapshot(t, ns))

	// Switching auth with the CA kept is refused: the CA secret is in the wrong namespace for file auth.
	framework.ExpectOneLineRefusal(t, cluster.Run(t, "enable", "-n", ns, "--scrape-auth", "file"), "rerun use-cert with --ca-secret and --scrape-auth file")
	framework.AssertUnchanged(t, before, cluster.Snapshot(t, ns))

	// use-cert --issuer-less rerun without --scrape-auth: the CA secret is still the operator namespace's.
	r = mustSucceed(t, cluster.Run(t, "use-cert", "-n", ns, "--secret", "eck-metrics-tls", "--ca-secret", "eck-metrics-ca"))
	if !strings.Contains(r.Stdout, "Prometheus reads the CA from secret "+ns+"/eck-metrics-ca") {
		t.Errorf("use-cert keeping secret auth:\n%s", r.Stdout)
	}
}

// Bad monitor input on a cluster that serves no monitor kind: one line,
// nothing changed. TestMonitorFlagsRefused has the rest of the flag errors.
func TestMonitorBadInput(t *testing.T) {
	ns := cluster.NewNamespace(t, "monbad")
	f := cluster.InstallFixture(t, "eck-3.5.0-all-in-one.yaml", ns)
	t.Cleanup(func() { cluster.RemoveInstall(t, f) })
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"podmonitor not served", []string{"--monitor", "podmonitor"}, "--monitor podmonitor, but this cluster does not serve monitoring.coreos.com/v1 PodMonitor"},
		{"secret auth, no CRD", []string{"--scrape-auth", "secret"}, "--scrape-auth secret is for the monitor, but monitoring.coreos.com/v1 ServiceMonitor is not served"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := cluster.Snapshot(t, ns)
			framework.ExpectOneLineRefusal(t, cluster.Run(t, append([]string{"enable", "-n", ns}, tc.args...)...), tc.want)
			framework.AssertUnchanged(t, before, cluster.Snapshot(t, ns))
		})
	}
	// The deprecated flag still works and says what replaces it.
	r := mustSucceed(t, cluster.Run(t, "enable", "-n", ns, "--service-monitor", "never", "--dry-run=client"))
	if !strings.Contains(r.Stderr, "--service-monitor has been deprecated, use --monitor") || !strings.Contains(r.Stderr, "ServiceMonitor: skipped (--service-monitor=never)") {
		t.Errorf("--service-monitor never:\n%s", r.Stderr)
	}
}

// A server dry run of a PodMonitor with secret auth writes nothing and
// shows every object. (A PodMonitor not ours: TestMonitorLeavesOthersPodMonitor.)
func TestMonitorDryRunServerPodMonitor(t *testing.T) {
	cluster.InstallMonitoringCRDs(t, "servicemonitors", "podmonitors")
	ns := cluster.NewNamespace(t, "mondry")
	f := cluster.InstallFixture(t, "eck-3.5.0-all-in-one.yaml", ns)
	t.Cleanup(func() { cluster.RemoveInstall(t, f) })
	before := cluster.Snapshot(t, ns)
	r := mustSucceed(t, cluster.Run(t, "enable", "-n", ns, "--monitor", "podmonitor", "--dry-run=server"))
	framework.AssertUnchanged(t, before, cluster.Snapshot(t, ns))
	for _, want := range []string{"kind: PodMonitor", "kind: ServiceAccount", "type: kubernetes.io/service-account-token", "nonResourceURLs:"} {
		if !strings.Contains(r.Stdout, want) {
			t.Errorf("server dry run prints no %q:\n%s", want, r.Stdout)
		}
	}
}

// status on a PodMonitor with secret auth and a CA: every check passes
// without --prometheus-sa or --prometheus-namespace (the real API server
// answers for the reader); an unfilled token and a lost grant fail.
func TestMonitorStatusSecretAuth(t *testing.T) {
	cluster.InstallMonitoringCRDs(t, "servicemonitors", "podmonitors")
	ns := cluster.NewNamespace(t, "monstatus")
	f := cluster.InstallFixture(t, "eck-3.5.0-all-in-one.yaml", ns)
	t.Cleanup(func() { cluster.RemoveInstall(t, f) })
	ca := newTestCA(t)
	createTLSSecret(t, ns, "eck-metrics-tls", corev1.SecretTypeTLS, ca.goodLeaf(t, ns).data())
	caFile := filepath.Join(writeFiles(t, map[string][]byte{"ca.crt": ca.certPEM}), "ca.crt")
	mustSucceed(t, cluster.Run(t, "use-cert", "-n", ns, "--monitor", "podmonitor", "--secret", "eck-metrics-tls", "--ca-secret", "eck-metrics-ca", "--ca", caFile))
	rolledOut(t, ns, f.Name)

	rep, _ := statusOf(t, cluster.Kubeconfig, "-n", ns)
	expectOutcome(t, rep, status.ServiceMonitorCredentials, status.Fail, "holds no token yet")

	fillToken(t, ns)
	reader := "system:serviceaccount:" + ns + ":elastic-operator-metrics-reader"
	cluster.WaitAllowed(t, reader, &authorizationv1.NonResourceAttributes{Path: "/metrics", Verb: "get"}, nil, true)
	rep, r := statusOf(t, cluster.Kubeconfig, "-n", ns)
	if r.Err != nil {
		t.Errorf("exit: %v", r.Err)
	}
	expectAllPass(t, rep)
	expectOutcome(t, rep, status.ServiceMonitorExists, status.Pass, "PodMonitor "+ns+"/elastic-operator")
	expectOutcome(t, rep, status.ServiceMonitorTLS, status.Pass, "verifies with secret "+ns+"/eck-metrics-ca (tlsConfig.ca)")
	expectOutcome(t, rep, status.PrometheusMetrics, status.Pass, "ServiceAccount "+ns+"/elastic-operator-metrics-reader (the monitor's credentials)")
	expectOutcome(t, rep, status.CertificateCACopy, status.Pass, "CA secret "+ns+"/eck-metrics-ca verifies")
	table := cluster.Run(t, "status", "-n", ns, "--check", string(status.CertificateCACopy))
	if !strings.Contains(table.Stdout, "[ok]   CA secret next to the monitor: CA secret "+ns+"/eck-metrics-ca verifies the certificate of secret eck-metrics-tls") {
		t.Errorf("status table:\n%s", table.Stdout)
	}

	if err := cluster.Kube.RbacV1().ClusterRoleBindings().Delete(cluster.Context(t), "elastic-operator-metrics-reader", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	cluster.WaitAllowed(t, reader, &authorizationv1.NonResourceAttributes{Path: "/metrics", Verb: "get"}, nil, false)
	rep, _ = statusOf(t, cluster.Kubeconfig, "-n", ns)
	expectOutcome(t, rep, status.ServiceMonitorCredentials, status.Fail, "may not get /metrics")
	expectOutcome(t, rep, status.PrometheusMetrics, status.Fail, "every scrape gets 403")
}

// use-cert --issuer with secret auth: the issued ca.crt goes to a CA secret
// next to the monitor (no --prometheus-namespace); status checks it there,
// and after a CA rotation its hint refreshes it without one.
func TestMonitorIssuerSecretAuth(t *testing.T) {
	cluster.InstallCertManagerCRDs(t)
	cluster.InstallMonitoringCRDs(t, "servicemonitors", "podmonitors")
	ns := cluster.NewNamespace(t, "cm-secretauth")
	f := cluster.InstallFixture(t, "eck-3.5.0-all-in-one.yaml", ns)
	t.Cleanup(func() { cluster.RemoveInstall(t, f) })
	ca := newTestCA(t)
	createIssuer(t, ns, "ca-issuer", ca, true)
	issued := issueWhenApplied(t, ns, "elastic-operator-metrics", ca)
	r := cluster.Run(t, "use-cert", "-n", ns, "--issuer", "ca-issuer", "--ca-secret", "eck-metrics-ca", "--scrape-auth", "secret")
	<-issued
	mustSucceed(t, r)
	if !strings.Contains(r.Stdout, "Secret "+ns+"/eck-metrics-ca created") || !strings.Contains(r.Stdout, "Prometheus reads the CA from secret "+ns+"/eck-metrics-ca") {
		t.Errorf("use-cert --issuer --scrape-auth secret:\n%s", r.Stdout)
	}
	caSecret, err := cluster.Kube.CoreV1().Secrets(ns).Get(cluster.Context(t), "eck-metrics-ca", metav1.GetOptions{})
	if err != nil || string(caSecret.Data[patches.CAKey]) != string(ca.certPEM) {
		t.Fatalf("CA secret next to the monitor: %v", err)
	}
	ep := monitorEndpoint(t, getMonitor(t, patches.ServiceMonitorGVR, ns))
	if name, _, _ := unstructured.NestedString(ep, "tlsConfig", "ca", "secret", "name"); name != "eck-metrics-ca" || ep["bearerTokenFile"] != nil {
		t.Errorf("endpoint %v", ep)
	}
	rolledOut(t, ns, f.Name)
	rep, _ := statusOf(t, cluster.Kubeconfig, "-n", ns, "--check", string(status.CertificateCACopy))
	expectOutcome(t, rep, status.CertificateCACopy, status.Pass, "CA secret "+ns+"/eck-metrics-ca verifies the certificate of secret elastic-operator-metrics-tls")

	rotated := newTestCA(t)
	issueCertificate(t, ns, "elastic-operator-metrics", rotated, 90*24*time.Hour)
	rep, _ = statusOf(t, cluster.Kubeconfig, "-n", ns, "--check", string(status.CertificateCACopy))
	expectOutcome(t, rep, status.CertificateCACopy, status.Warn, "no longer verifies")
	fix := "kubectl eck-metrics use-cert -n " + ns + " --issuer ca-issuer --ca-secret eck-metrics-ca"
	if c := find(t, rep, status.CertificateCACopy); c.Hint != "refresh the copy: "+fix {
		t.Fatalf("hint %q, want %q", c.Hint, fix)
	}
	r = mustSucceed(t, cluster.Run(t, strings.Fields(strings.TrimPrefix(fix, "kubectl eck-metrics "))...))
	if !strings.Contains(r.Stdout, "Secret "+ns+"/eck-metrics-ca configured") {
		t.Errorf("the fix did not refresh the CA secret:\n%s", r.Stdout)
	}
	rep, _ = statusOf(t, cluster.Kubeconfig, "-n", ns, "--check", string(status.CertificateCACopy))
	expectOutcome(t, rep, status.CertificateCACopy, status.Pass, "verifies")
}
