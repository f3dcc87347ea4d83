package integration

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/eck-metrics/kubectl-eck-metrics/pkg/cmd"
	"github.com/eck-metrics/kubectl-eck-metrics/pkg/patches"
	"github.com/eck-metrics/kubectl-eck-metrics/pkg/status"
	"github.com/eck-metrics/kubectl-eck-metrics/test/framework"
	"github.com/go-logr/logr"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	authenticationv1 "k8s.io/api/authentication/v1"
	authorizationv1 "k8s.io/api/authorization/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/metrics/filters"
)

// statusOf runs status -o json and decodes the report.
func statusOf(t testing.TB, kubeconfig string, args ...string) (*status.Report, framework.Result) {
	t.Helper()
	r := cluster.RunAs(t, kubeconfig, append([]string{"status", "-o", "json"}, args...)...)
	var rep status.Report
	if err := json.Unmarshal([]byte(r.Stdout), &rep); err != nil {
		t.Fatalf("status -o json: %v (err %v)\n%s\n%s", err, r.Err, r.Stdout, r.Stderr)
	}
	return &rep, r
}

func find(t testing.TB, rep *status.Report, id status.CheckID) status.Check {
	t.Helper()
	for _, c := range rep.Checks {
		if c.ID == id {
			return c
		}
	}
	t.Fatalf("no check %s in %+v", id, rep.Checks)
	return status.Check{}
}

func expectOutcome(t testing.TB, rep *status.Report, id status.CheckID, want status.Outcome, messagePart string) {
	t.Helper()
	c := find(t, rep, id)
	if c.Outcome != want || !strings.Contains(c.Message, messagePart) {
		t.Errorf("%s: %s %q, want %s with %q", id, c.Outcome, c.Message, want, messagePart)
	}
	if want == status.Fail && c.Hint == "" {
		t.Errorf("%s failed without a hint", id)
	}
}

// expectAllPass: every check passes, but for the endpoint, selection and
// prometheus-targets checks, which skip where no scrape reaches the
// operator or no Prometheus API is served (TestStatusProbe and
// TestSelection cover those).
func expectAllPass(t testing.TB, rep *status.Report) {
	t.Helper()
	if len(rep.Checks) == 0 {
		t.Error("status reported no checks")
	}
	for _, c := range rep.Checks {
		if c.Outcome != status.Pass && !((c.Category == status.CategoryEndpoint || c.Category == status.CategorySelection || c.Category == status.CategoryTargets) && c.Outcome == status.Skip) {
			t.Errorf("%s: %s %s", c.ID, c.Outcome, c.Message)
		}
	}
}

// rolledOut plays the StatefulSet controller: the rollout finished.
func rolledOut(t testing.TB, ns, name string) {
	t.Helper()
	sts := getStatefulSet(t, ns, name)
	sts.Status = appsStatus(sts.Generation)
	if _, err := cluster.Kube.AppsV1().StatefulSets(ns).UpdateStatus(cluster.Context(t), sts, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
}

// prometheusSA creates Prometheus's ServiceAccount, optionally allowed to get /metrics.
func prometheusSA(t testing.TB, ns string, grant bool) string {
	t.Helper()
	sa := &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: "prometheus", Namespace: ns}}
	if _, err := cluster.Kube.CoreV1().ServiceAccounts(ns).Create(cluster.Context(t), sa, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	if grant {
		grantMetrics(t, ns, "prometheus")
	}
	return ns + "/prometheus"
}

func grantMetrics(t testing.TB, ns, name string) {
	t.Helper()
	role := &rbacv1.ClusterRole{ObjectMeta: metav1.ObjectMeta{Name: "metrics-reader-" + ns}, Rules: []rbacv1.PolicyRule{{NonResourceURLs: []string{"/metrics"}, Verbs: []string{"get"}}}}
	binding := &rbacv1.ClusterRoleBinding{ObjectMeta: metav1.ObjectMeta{Name: "metrics-reader-" + ns},
		RoleRef:  rbacv1.RoleRef{APIGroup: "rbac.authorization.k8s.io", Kind: "ClusterRole", Name: role.Name},
		Subjects: []rbacv1.Subject{{Kind: "ServiceAccount", Name: name, Namespace: ns}}}
	if _, err := cluster.Kube.RbacV1().ClusterRoles().Create(cluster.Context(t), role, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := cluster.Kube.RbacV1().ClusterRoleBindings().Create(cluster.Context(t), binding, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cluster.Kube.RbacV1().ClusterRoles().Delete(cluster.Context(t), role.Name, metav1.DeleteOptions{})
		_ = cluster.Kube.RbacV1().ClusterRoleBindings().Delete(cluster.Context(t), binding.Name, metav1.DeleteOptions{})
	})
	cluster.WaitAllowed(t, "system:serviceaccount:"+ns+":"+name, &authorizationv1.NonResourceAttributes{Path: "/metrics", Verb: "get"}, nil, true)
}

func TestStatusFreshOperator(t *testing.T) {
	cluster.InstallServiceMonitorCRD(t)
	ns := cluster.NewNamespace(t, "stfresh")
	cluster.InstallFixture(t, "eck-3.5.0-all-in-one.yaml", ns)
	before := cluster.Snapshot(t, ns)
	rep, r := statusOf(t, cluster.Kubeconfig, "-n", ns)
	framework.AssertUnchanged(t, before, cluster.Snapshot(t, ns))
	if r.Err == nil {
		t.Error("status of an unsecured operator exited 0")
	}
	expectOutcome(t, rep, status.OperatorFound, status.Pass, "StatefulSet "+ns+"/elastic-operator")
	expectOutcome(t, rep, status.OperatorMode, status.Fail, "not secured (ECK 3.5.0 documents native mode)")
	expectOutcome(t, rep, status.ConfigPort, status.Fail, "metrics-port is 0")
	expectOutcome(t, rep, status.ConfigSecure, status.Fail, "plain HTTP")
	expectOutcome(t, rep, status.RBACRole, status.Fail, "not found")
	expectOutcome(t, rep, status.RBACBinding, status.Fail, "not found")
	expectOutcome(t, rep, status.RBACTokenReviews, status.Fail, "every scrape gets 500")
	expectOutcome(t, rep, status.ServiceExists, status.Fail, "not found")
	expectOutcome(t, rep, status.ServiceTargetPort, status.Skip, "no Service")
	expectOutcome(t, rep, status.StatefulSetPatched, status.Fail, "no port named metrics")
	expectOutcome(t, rep, status.ServiceMonitorExists, status.Fail, "not found")
	if !strings.Contains(find(t, rep, status.RBACRole).Hint, "kubectl eck-metrics enable") {
		t.Error("hint does not say what to run")
	}
	if rep.Summary.OK || rep.Summary.Fail < 9 {
		t.Errorf("summary %+v", rep.Summary)
	}
}

func TestStatusAfterEnableAllPass(t *testing.T) {
	installPrometheusCRDs(t)
	for _, file := range []string{"eck-3.5.0-all-in-one.yaml", "eck-2.15.0-all-in-one.yaml"} {
		t.Run(file, func(t *testing.T) {
			ns := cluster.NewNamespace(t, "stpass")
			f := cluster.InstallFixture(t, file, ns)
			// With --alerts, so that the rule's selection passes too.
			mustSucceed(t, cluster.Run(t, "enable", "-n", ns, "--alerts"))
			rolledOut(t, ns, f.Name)
			sa := prometheusSA(t, ns, true)
			createPrometheus(t, "Prometheus", ns, "k8s", "serviceAccountName: prometheus\nserviceMonitorSelector: {}\nruleSelector: {}")
			// No Prometheus runs here: --prometheus-url is one that scrapes
			// the operator's target up, as Prometheus 3.x answers.
			rep, r := statusOf(t, cluster.Kubeconfig, "-n", ns, "--prometheus-sa", sa, "--prometheus-url", prometheusUp(t, "serviceMonitor/"+ns+"/elastic-operator/0"))
			if r.Err != nil {
				t.Errorf("exit: %v", r.Err)
			}
			expectOutcome(t, rep, status.TargetsUp, status.Pass, "https://10.0.0.7:8443/metrics up (last scrape ")
			for _, c := range rep.Checks {
				if c.Outcome != status.Pass && !(c.Category == status.CategoryEndpoint && c.Outcome == status.Skip) {
					t.Errorf("%s: %s %s", c.ID, c.Outcome, c.Message)
				}
			}
			wantMode := map[string]string{"eck-3.5.0-all-in-one.yaml": "native", "eck-2.15.0-all-in-one.yaml": "sidecar"}[file]
			if rep.Mode != wantMode || !rep.Summary.OK {
				t.Errorf("mode %s, summary %+v", rep.Mode, rep.Summary)
			}
		})
	}
}

// Each broken state, one at a time, fails the check that names it.
func TestStatusBrokenStates(t *testing.T) {
	cluster.InstallServiceMonitorCRD(t)
	ns := cluster.NewNamespace(t, "stbroken")
	f := cluster.InstallFixture(t, "eck-3.5.0-all-in-one.yaml", ns)
	mustSucceed(t, cluster.Run(t, "enable", "-n", ns))
	rolledOut(t, ns, f.Name)
	grantless := prometheusSA(t, ns, false)
	c := cluster.Context(t)

	rep, _ := statusOf(t, cluster.Kubeconfig, "-n", ns, "--prometheus-sa", grantless)
	expectOutcome(t, rep, status.PrometheusMetrics, status.Fail, "every scrape gets 403")
	if h := find(t, rep, status.PrometheusMetrics).Hint; !strings.Contains(h, "--non-resource-url=/metrics") || !strings.Contains(h, "--serviceaccount="+ns+":prometheus") {
		t.Errorf("hint %q does not give the ClusterRole/Binding", h)
	}

	for _, tc := range []struct {
		name    string
		breakIt func()
		check   status.CheckID
		message string
	}{
		{"binding deleted",
			func() {
				_ = cluster.Kube.RbacV1().ClusterRoleBindings().Delete(c, "elastic-operator-metrics-auth-rolebinding", metav1.DeleteOptions{})
			}, status.RBACBinding, "not found"},
		{"service selector wrong",
			func() {
				_, err := cluster.Kube.CoreV1().Services(ns).Patch(c, "elastic-operator-metrics", types.MergePatchType, []byte(`{"spec":{"selector":{"control-plane":"someone-else"}}}`), metav1.PatchOptions{})
				if err != nil {
					t.Fatal(err)
				}
			}, status.ServiceSelector, "does not match the pod labels"},
		{"metrics port removed",
			func() {
				sts := getStatefulSet(t, ns, f.Name)
				sts.Spec.Template.Spec.Containers[0].Ports = sts.Spec.Template.Spec.Containers[0].Ports[:1]
				if _, err := cluster.Kube.AppsV1().StatefulSets(ns).Update(c, sts, metav1.UpdateOptions{}); err != nil {
					t.Fatal(err)
				}
			}, status.StatefulSetPatched, "no port named metrics"},
		{"servicemonitor missing",
			func() {
				if err := cluster.Dynamic.Resource(patches.ServiceMonitorGVR).Namespace(ns).Delete(c, "elastic-operator", metav1.DeleteOptions{}); err != nil {
					t.Fatal(err)
				}
			}, status.ServiceMonitorExists, "not found"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			// Start from a healthy install each time (taking back what the
			// previous case broke as another field manager).
			mustSucceed(t, cluster.Run(t, "enable", "-n", ns, "--force-conflicts"))
			rolledOut(t, ns, f.Name)
			tc.breakIt()
			if tc.check == status.RBACBinding {
				cluster.WaitAllowed(t, "system:serviceaccount:"+ns+":elastic-operator", nil, &authorizationv1.ResourceAttributes{Group: "authentication.k8s.io", Resource: "tokenreviews", Verb: "create"}, false)
			}
			rep, r := statusOf(t, cluster.Kubeconfig, "-n", ns)
			if r.Err == nil {
				t.Error("exit 0 with a broken state")
			}
			expectOutcome(t, rep, tc.check, status.Fail, tc.message)
			if rep.Summary.Fail == 0 {
				t.Errorf("summary %+v", rep.Summary)
			}
		})
	}
}

func TestStatusCertificate(t *testing.T) {
	ns := cluster.NewNamespace(t, "stcert")
	f := cluster.InstallFixture(t, "eck-3.5.0-all-in-one.yaml", ns)
	ca := newTestCA(t)
	createTLSSecret(t, ns, "good", corev1.SecretTypeTLS, ca.goodLeaf(t, ns).data())
	soon := ca.issue(t, []string{"elastic-operator-metrics." + ns + ".svc"}, time.Now().Add(-time.Hour), time.Now().Add(5*24*time.Hour))
	createTLSSecret(t, ns, "soon", corev1.SecretTypeTLS, soon.data())

	mustSucceed(t, cluster.Run(t, "use-cert", "--secret", "good", "-n", ns))
	rolledOut(t, ns, f.Name)
	rep, r := statusOf(t, cluster.Kubeconfig, "-n", ns)
	if r.Err != nil {
		t.Errorf("exit %v", r.Err)
	}
	expectOutcome(t, rep, status.StatefulSetCertMount, status.Pass, "secret good at /tmp/k8s-metrics-server/serving-certs in container manager")
	cert := find(t, rep, status.CertificateServing)
	if cert.Outcome != status.Pass || !strings.Contains(cert.Message, "elastic-operator-metrics."+ns+".svc") || cert.Details["daysLeft"] == nil || cert.Details["notAfter"] == nil {
		t.Errorf("certificate check %+v", cert)
	}

	mustSucceed(t, cluster.Run(t, "use-cert", "--secret", "soon", "-n", ns))
	rolledOut(t, ns, f.Name)
	rep, r = statusOf(t, cluster.Kubeconfig, "-n", ns)
	if r.Err != nil {
		t.Errorf("a warning must not fail status: %v", r.Err)
	}
	expectOutcome(t, rep, status.CertificateServing, status.Warn, "the certificate expires in")
}

func TestStatusReadOnlyUser(t *testing.T) {
	ns := cluster.NewNamespace(t, "stread")
	f := cluster.InstallFixture(t, "eck-3.5.0-all-in-one.yaml", ns)
	mustSucceed(t, cluster.Run(t, "enable", "-n", ns))
	rolledOut(t, ns, f.Name)
	kc := readOnlyUser(t, "status-reader")
	before := cluster.Snapshot(t, ns)
	rep, r := statusOf(t, kc, "-n", ns)
	framework.AssertUnchanged(t, before, cluster.Snapshot(t, ns))
	// It reads everything; the questions it may not ask are warnings.
	expectOutcome(t, rep, status.RBACTokenReviews, status.Warn, "cannot ask the API server")
	expectOutcome(t, rep, status.ServiceExists, status.Pass, "")
	if r.Err != nil || rep.Summary.Fail != 0 {
		t.Errorf("exit %v, summary %+v", r.Err, rep.Summary)
	}
}

// metricsServer protects /metrics with controller-runtime's authn/authz
// filter, the code the native-mode operator runs, acting as the operator's
// ServiceAccount against the test apiserver.
func metricsServer(t testing.TB, ns, operatorSA string) string {
	t.Helper()
	tr, err := cluster.Kube.CoreV1().ServiceAccounts(ns).CreateToken(cluster.Context(t), operatorSA, &authenticationv1.TokenRequest{}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	cfg := &rest.Config{Host: cluster.Config.Host, BearerToken: tr.Status.Token, TLSClientConfig: rest.TLSClientConfig{CAData: cluster.Config.CAData}}
	httpClient, err := rest.HTTPClientFor(cfg)
	if err != nil {
		t.Fatal(err)
	}
	filter, err := filters.WithAuthenticationAndAuthorization(cfg, httpClient)
	if err != nil {
		t.Fatal(err)
	}
	registry := prometheus.NewRegistry()
	scrapes := prometheus.NewCounter(prometheus.CounterOpts{Name: "eck_test_scrapes_total", Help: "Scrapes of the test endpoint."})
	registry.MustRegister(scrapes)
	scrapes.Inc()
	protected, err := filter(logr.Discard(), promhttp.HandlerFor(registry, promhttp.HandlerOpts{}))
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.Handle("/metrics", protected)
	srv := httptest.NewUnstartedServer(mux)
	srv.StartTLS()
	t.Cleanup(srv.Close)
	return srv.URL + "/metrics"
}

func TestStatusProbe(t *testing.T) {
	ns := cluster.NewNamespace(t, "stprobe")
	f := cluster.InstallFixture(t, "eck-3.5.0-all-in-one.yaml", ns)
	mustSucceed(t, cluster.Run(t, "enable", "-n", ns))
	rolledOut(t, ns, f.Name)
	cluster.WaitAllowed(t, "system:serviceaccount:"+ns+":elastic-operator", nil, &authorizationv1.ResourceAttributes{Group: "authentication.k8s.io", Resource: "tokenreviews", Verb: "create"}, true)
	url := metricsServer(t, ns, "elastic-operator")
	sa := prometheusSA(t, ns, false)

	// Without the /metrics grant: 401 without a token, 403 with one.
	rep, r := statusOf(t, cluster.Kubeconfig, "-n", ns, "--metrics-url", url, "--prometheus-sa", sa)
	if r.Err == nil {
		t.Error("exit 0 although Prometheus gets 403")
	}
	expectOutcome(t, rep, status.EndpointReachable, status.Pass, url)
	expectOutcome(t, rep, status.EndpointAnonymous, status.Pass, "401")
	expectOutcome(t, rep, status.EndpointToken, status.Fail, "403")
	expectOutcome(t, rep, status.EndpointCertificate, status.Pass, "")

	// With it: 200 and Prometheus text.
	grantMetrics(t, ns, "prometheus")
	rep, r = statusOf(t, cluster.Kubeconfig, "-n", ns, "--metrics-url", url, "--prometheus-sa", sa)
	if r.Err != nil {
		t.Errorf("exit %v", r.Err)
	}
	expectOutcome(t, rep, status.EndpointToken, status.Pass, "200 OK with Prometheus text")

	// The operator loses its tokenreviews RBAC: every scrape gets 500.
	if err := cluster.Kube.RbacV1().ClusterRoleBindings().Delete(cluster.Context(t), "elastic-operator-metrics-auth-rolebinding", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	cluster.WaitAllowed(t, "system:serviceaccount:"+ns+":elastic-operator", nil, &authorizationv1.ResourceAttributes{Group: "authentication.k8s.io", Resource: "tokenreviews", Verb: "create"}, false)
	rep, _ = statusOf(t, cluster.Kubeconfig, "-n", ns, "--metrics-url", url, "--prometheus-sa", sa)
	expectOutcome(t, rep, status.EndpointToken, status.Fail, "500")
}

func TestStatusGolden(t *testing.T) {
	ns := "golden-status"
	cluster.EnsureNamespace(t, ns)
	f := cluster.InstallFixture(t, "eck-3.5.0-all-in-one.yaml", ns)
	r := cluster.Run(t, "status", "-n", ns)
	compareGolden(t, filepath.Join("status", "fresh.txt"), r.Stdout)
	mustSucceed(t, cluster.Run(t, "enable", "-n", ns))
	rolledOut(t, ns, f.Name)
	r = mustSucceed(t, cluster.Run(t, "status", "-n", ns))
	compareGolden(t, filepath.Join("status", "enabled.txt"), r.Stdout)
	r = mustSucceed(t, cluster.Run(t, "status", "-n", ns, "-o", "json"))
	compareGolden(t, filepath.Join("status", "enabled.json"), r.Stdout)
	// The JSON holds every line of the table.
	var rep status.Report
	if err := json.Unmarshal([]byte(r.Stdout), &rep); err != nil {
		t.Fatal(err)
	}
	table := mustSucceed(t, cluster.Run(t, "status", "-n", ns)).Stdout
	for _, c := range rep.Checks {
		if !strings.Contains(table, c.Name+": "+c.Message) {
			t.Errorf("table lacks %q", c.Name+": "+c.Message)
		}
	}
}

func TestStatusRequestBudget(t *testing.T) {
	cluster.InstallServiceMonitorCRD(t)
	ns := cluster.NewNamespace(t, "stbudget")
	f := cluster.InstallFixture(t, "eck-3.5.0-all-in-one.yaml", ns)
	mustSucceed(t, cluster.Run(t, "enable", "-n", ns))
	rolledOut(t, ns, f.Name)
	sa := prometheusSA(t, ns, true)
	var log requestLog
	r := cluster.RunWith(t, cluster.Kubeconfig, log.wrap, "status", "-n", ns, "--prometheus-sa", sa)
	if r.Err != nil {
		t.Fatalf("%v\n%s", r.Err, r.Stdout)
	}
	if r.Requests > 15 {
		t.Errorf("status sent %d requests, budget 15:\n%s", r.Requests, strings.Join(log.paths, "\n"))
	}
	for _, p := range log.paths {
		if !strings.HasPrefix(p, "GET ") && !strings.Contains(p, "subjectaccessreviews") {
			t.Errorf("status wrote: %s", p)
		}
	}
	t.Logf("status: %d requests", r.Requests)
}

func BenchmarkStatus(b *testing.B) {
	cluster.InstallServiceMonitorCRD(b)
	ns := cluster.NewNamespace(b, "stbench")
	f := cluster.InstallFixture(b, "eck-3.5.0-all-in-one.yaml", ns)
	mustSucceed(b, cluster.Run(b, "enable", "-n", ns))
	rolledOut(b, ns, f.Name)
	var requests int64
	b.ResetTimer()
	for b.Loop() {
		r := mustSucceed(b, cluster.Run(b, "status", "-n", ns))
		requests += r.Requests
	}
	b.ReportMetric(float64(requests)/float64(b.N), "requests/op")
}

func TestStatusColor(t *testing.T) {
	ns := cluster.NewNamespace(t, "stcolor")
	cluster.InstallFixture(t, "eck-3.5.0-all-in-one.yaml", ns)
	// Not a terminal: plain ASCII by default and with never.
	for _, args := range [][]string{{"status", "-n", ns}, {"status", "-n", ns, "--color", "never"}} {
		r := cluster.Run(t, args...)
		if strings.Contains(r.Stdout, "\x1b[") || strings.Contains(r.Stdout, "×") || !strings.Contains(r.Stdout, "[FAIL] mode in use") {
			t.Errorf("%v is not plain ASCII:\n%s", args, r.Stdout)
		}
	}
	r := cluster.Run(t, "status", "-n", ns, "--color", "always")
	if !strings.Contains(r.Stdout, "\x1b[31m×\x1b[0m mode in use") || !strings.Contains(r.Stdout, "\x1b[32m√\x1b[0m operator found") {
		t.Errorf("--color always:\n%q", r.Stdout)
	}
	r = cluster.Run(t, "status", "-n", ns, "--color", "rainbow")
	if r.Err == nil || !strings.Contains(r.Err.Error(), `invalid --color "rainbow": use auto, always or never`) {
		t.Errorf("err = %v", r.Err)
	}
}

// --check narrows status to the chosen checks; an unknown ID is refused
// before anything is read.
func TestStatusCheckFlag(t *testing.T) {
	ns := cluster.NewNamespace(t, "stcheck")
	cluster.InstallFixture(t, "eck-3.5.0-all-in-one.yaml", ns)
	mustSucceed(t, cluster.Run(t, "enable", "-n", ns))
	rep, _ := statusOf(t, cluster.Kubeconfig, "-n", ns, "--check", "rbac.binding", "--check", "service.selector")
	var ids []status.CheckID
	for _, c := range rep.Checks {
		ids = append(ids, c.ID)
	}
	if want := []status.CheckID{status.RBACBinding, status.ServiceSelector}; !slices.Equal(ids, want) {
		t.Errorf("--check rbac.binding --check service.selector reported %v, want %v", ids, want)
	}
	expectOutcome(t, rep, status.RBACBinding, status.Pass, "ClusterRoleBinding elastic-operator-metrics-auth-rolebinding")
	if rep.Summary.Pass+rep.Summary.Fail+rep.Summary.Warn+rep.Summary.Skip != 2 {
		t.Errorf("summary counts other checks: %+v", rep.Summary)
	}

	var log requestLog
	r := cluster.RunWith(t, cluster.Kubeconfig, log.wrap, "status", "-n", ns, "--check", "rbac.bindings")
	if r.Err == nil || strings.Count(r.Err.Error(), "\n") > 0 ||
		!strings.Contains(r.Err.Error(), `unknown --check "rbac.bindings": use a category (operator, configuration, rbac, `) || !strings.Contains(r.Err.Error(), "or a check ID (status -o json lists them)") {
		t.Errorf("err = %v", r.Err)
	}
	if len(log.paths) > 0 {
		t.Errorf("an unknown --check sent requests: %v", log.paths)
	}
}

// tableLine is how the table prints a check.
func tableLine(c status.Check) string {
	mark := map[status.Outcome]string{status.Pass: "[ok]  ", status.Warn: "[warn]", status.Fail: "[FAIL]", status.Skip: "[skip]"}[c.Outcome]
	line := mark + " " + c.Name
	if c.Message != "" {
		line += ": " + c.Message
	}
	return line
}

// assertTableAgrees runs status as a table and as JSON and checks that each
// check of the JSON is a line of the table (with its hint when not passed),
// that the table has no other check lines, and that the counts agree; it
// returns the report.
func assertTableAgrees(t *testing.T, args ...string) *status.Report {
	t.Helper()
	rep, rj := statusOf(t, cluster.Kubeconfig, args...)
	rt := cluster.Run(t, append([]string{"status"}, args...)...)
	if (rj.Err == nil) != (rt.Err == nil) {
		t.Errorf("exit of -o json %v, of the table %v", rj.Err, rt.Err)
	}
	lines := strings.Split(rt.Stdout, "\n")
	have := map[string]bool{}
	checkLines := 0
	for _, l := range lines {
		have[l] = true
		for _, m := range []string{"[ok] ", "[warn]", "[FAIL]", "[skip]"} {
			if strings.HasPrefix(l, m) {
				checkLines++
			}
		}
	}
	for _, c := range rep.Checks {
		if !have[tableLine(c)] {
			t.Errorf("%s: the table lacks %q:\n%s", c.ID, tableLine(c), rt.Stdout)
		}
		if (c.Outcome == status.Fail || c.Outcome == status.Warn) && c.Hint == "" {
			t.Errorf("%s is %s without a hint", c.ID, c.Outcome)
		}
		if c.Hint != "" && c.Outcome != status.Pass && !have["       hint: "+c.Hint] {
			t.Errorf("%s: the table lacks the hint %q", c.ID, c.Hint)
		}
	}
	if checkLines != len(rep.Checks) {
		t.Errorf("the table has %d checks, the JSON %d", checkLines, len(rep.Checks))
	}
	s := rep.Summary
	if want := fmt.Sprintf("%d passed, %d warnings, %d failed, %d skipped", s.Pass, s.Warn, s.Fail, s.Skip); !strings.Contains(rt.Stdout, want) {
		t.Errorf("the table's summary is not %q:\n%s", want, rt.Stdout)
	}
	return rep
}

// status's table and -o json agree on servicemonitor.credentials,
// prometheus-selection and network-policy, failing and then passing.
func TestStatusTableAgreesWithJSON(t *testing.T) {
	installPrometheusCRDs(t)
	ns := cluster.NewNamespace(t, "sttable")
	f := cluster.InstallFixture(t, "eck-3.5.0-all-in-one.yaml", ns)
	t.Cleanup(func() { cluster.RemoveInstall(t, f) })
	mustSucceed(t, cluster.Run(t, "enable", "-n", ns, "--scrape-auth", "secret"))
	rolledOut(t, ns, f.Name)
	installNetworkPolicies(t, "networkpolicies-default-deny.yaml", ns)
	prom := cluster.NewNamespace(t, "sttableprom")
	createPrometheus(t, "Prometheus", prom, "k8s", `
serviceAccountName: prometheus
serviceMonitorSelector: {matchLabels: {release: kps}}
serviceMonitorNamespaceSelector: {}`)

	rep := assertTableAgrees(t, "-n", ns)
	expectOutcome(t, rep, status.ServiceMonitorCredentials, status.Fail, "holds no token yet")
	expectOutcome(t, rep, status.SelectionSelected, status.Fail, "spec.serviceMonitorSelector release=kps of Prometheus "+prom+"/k8s does not match")
	expectOutcome(t, rep, status.NetworkPolicyMetricsPort, status.Fail, "isolate the operator pod")
	if c := find(t, rep, status.SelectionSelected); !strings.Contains(c.Hint, "--monitor-label release=kps") {
		t.Errorf("selection hint %q", c.Hint)
	}

	// Follow the hints: the label, the token, the NetworkPolicy.
	mustSucceed(t, cluster.Run(t, "enable", "-n", ns, "--monitor-label", "release=kps"))
	fillToken(t, ns)
	mustSucceed(t, cluster.Run(t, "enable", "-n", ns, "--network-policy", "--prometheus-namespace", prom))
	rep = assertTableAgrees(t, "-n", ns)
	expectOutcome(t, rep, status.ServiceMonitorCredentials, status.Pass, "")
	expectOutcome(t, rep, status.SelectionSelected, status.Pass, "Prometheus "+prom+"/k8s selects ServiceMonitor "+ns+"/elastic-operator")
	expectOutcome(t, rep, status.NetworkPolicyMetricsPort, status.Pass, "admits port metrics")
	// --check limits both renderings alike.
	rep = assertTableAgrees(t, "-n", ns, "--check", string(status.SelectionSelected), "--check", string(status.NetworkPolicyMetricsPort), "--check", string(status.ServiceMonitorCredentials))
	if len(rep.Checks) != 3 {
		t.Errorf("--check thrice gave %d checks", len(rep.Checks))
	}
}

// prometheusUp serves Prometheus's /api/v1/targets on loopback with one
// target of pool up, scraped a moment ago, in Prometheus 3.x's shape.
func prometheusUp(t testing.TB, pool string) string {
	t.Helper()
	return fakePrometheus(t, pool, func(int) (string, string) { return "up", "" })
}

// fakePrometheus serves Prometheus 3.x's /api/v1/targets on loopback with
// one target of pool, whose health and lastError answer gives for the n-th
// question (from 0).
func fakePrometheus(t testing.TB, pool string, answer func(n int) (health, lastError string)) string {
	t.Helper()
	var asked atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/api/v1/targets" || r.URL.Query().Get("scrapePool") != pool {
			http.NotFound(w, r)
			return
		}
		health, lastError := answer(int(asked.Add(1) - 1))
		last := time.Now().Add(-7 * time.Second).UTC().Format(time.RFC3339Nano)
		fmt.Fprintf(w, `{"status":"success","data":{"activeTargets":[{"discoveredLabels":{"__address__":"10.0.0.7:8443"},"labels":{"job":"elastic-operator-metrics"},"scrapePool":%q,"scrapeUrl":"https://10.0.0.7:8443/metrics","globalUrl":"https://10.0.0.7:8443/metrics","lastError":%q,"lastScrape":%q,"lastScrapeDuration":0.004127,"health":%q,"scrapeInterval":"30s","scrapeTimeout":"10s"}],"droppedTargets":[],"droppedTargetCounts":{%q:4}}}`, pool, lastError, last, health, pool)
	}))
	t.Cleanup(srv.Close)
	return srv.URL
}

// status --wait re-checks until Prometheus scrapes the target: a line for
// what it waits for, one when the target goes from not scraped yet to up,
// then the report, exit 0. A target that stays down ends at the timeout
// with the report and exit 1.
func TestStatusWait(t *testing.T) {
	ns := steadyState(t, "stwait")
	pool := "serviceMonitor/" + ns + "/elastic-operator/0"
	url := fakePrometheus(t, pool, func(n int) (string, string) {
		if n < 2 {
			return "unknown", ""
		}
		return "up", ""
	})
	start := time.Now()
	rep, r := statusOf(t, cluster.Kubeconfig, "-n", ns, "--check", "prometheus-targets", "--prometheus-url", url, "--wait=1m")
	if r.Err != nil {
		t.Errorf("status --wait: %v\n%s", r.Err, r.Stderr)
	}
	expectOutcome(t, rep, status.TargetsUp, status.Pass, "https://10.0.0.7:8443/metrics up")
	lines := strings.Split(strings.TrimSuffix(r.Stderr, "\n"), "\n")
	if len(lines) != 2 || !strings.HasPrefix(lines[0], "waiting for prometheus-targets.up: warn: ") || !strings.HasPrefix(lines[1], "prometheus-targets.up: warn -> pass: ") {
		t.Errorf("stderr %q, want the wait and one change", r.Stderr)
	}
	if took := time.Since(start); took > 30*time.Second {
		t.Errorf("took %s", took)
	}

	down := fakePrometheus(t, pool, func(int) (string, string) { return "down", "server returned HTTP status 403 Forbidden" })
	rep, r = statusOf(t, cluster.Kubeconfig, "-n", ns, "--check", "prometheus-targets", "--prometheus-url", down, "--wait=3s")
	if cmd.ExitCode(r.Err) != cmd.ExitFailed {
		t.Errorf("status --wait on a target down: exit %v, want 1", r.Err)
	}
	expectOutcome(t, rep, status.TargetsUp, status.Fail, "server returned HTTP status 403 Forbidden")
	lines = strings.Split(strings.TrimSuffix(r.Stderr, "\n"), "\n")
	if len(lines) != 2 || !strings.HasPrefix(lines[0], "waiting for prometheus-targets.up: fail: ") || lines[1] != "not ready after 3s" {
		t.Errorf("stderr %q, want the wait and the timeout, no line per poll", r.Stderr)
	}
}
