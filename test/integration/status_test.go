package integration

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/eck-metrics/kubectl-eck-metrics/pkg/patches"
	"github.com/eck-metrics/kubectl-eck-metrics/pkg/status"
	"github.com/go-logr/logr"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	authenticationv1 "k8s.io/api/authentication/v1"
	authorizationv1 "k8s.io/api/authorization/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/metrics/filters"
)

// statusOf runs status -o json and decodes the report.
func statusOf(t testing.TB, kubeconfig string, args ...string) (*status.Report, result) {
	t.Helper()
	r := runAs(t, kubeconfig, append([]string{"status", "-o", "json"}, args...)...)
	var rep status.Report
	if err := json.Unmarshal([]byte(r.stdout), &rep); err != nil {
		t.Fatalf("status -o json: %v (err %v)\n%s\n%s", err, r.err, r.stdout, r.stderr)
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

// expectAllPass: every check passes, but for the endpoint and selection
// checks, which skip where no scrape reaches the operator or no Prometheus
// API is served (TestStatusProbe and TestSelection cover those).
func expectAllPass(t testing.TB, rep *status.Report) {
	t.Helper()
	if len(rep.Checks) == 0 {
		t.Error("status reported no checks")
	}
	for _, c := range rep.Checks {
		if c.Outcome != status.Pass && !((c.Category == status.CategoryEndpoint || c.Category == status.CategorySelection) && c.Outcome == status.Skip) {
			t.Errorf("%s: %s %s", c.ID, c.Outcome, c.Message)
		}
	}
}

// rolledOut plays the StatefulSet controller: the rollout finished.
func rolledOut(t testing.TB, ns, name string) {
	t.Helper()
	sts := getStatefulSet(t, ns, name)
	sts.Status = appsStatus(sts.Generation)
	if _, err := cluster.kube.AppsV1().StatefulSets(ns).UpdateStatus(ctx(t), sts, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
}

// prometheusSA creates Prometheus's ServiceAccount, optionally allowed to get /metrics.
func prometheusSA(t testing.TB, ns string, grant bool) string {
	t.Helper()
	sa := &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: "prometheus", Namespace: ns}}
	if _, err := cluster.kube.CoreV1().ServiceAccounts(ns).Create(ctx(t), sa, metav1.CreateOptions{}); err != nil {
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
	if _, err := cluster.kube.RbacV1().ClusterRoles().Create(ctx(t), role, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := cluster.kube.RbacV1().ClusterRoleBindings().Create(ctx(t), binding, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cluster.kube.RbacV1().ClusterRoles().Delete(ctx(t), role.Name, metav1.DeleteOptions{})
		_ = cluster.kube.RbacV1().ClusterRoleBindings().Delete(ctx(t), binding.Name, metav1.DeleteOptions{})
	})
	waitAllowed(t, "system:serviceaccount:"+ns+":"+name, &authorizationv1.NonResourceAttributes{Path: "/metrics", Verb: "get"}, nil, true)
}

// waitAllowed polls until RBAC answers as wanted (it lags a new binding).
func waitAllowed(t testing.TB, user string, nonRes *authorizationv1.NonResourceAttributes, res *authorizationv1.ResourceAttributes, want bool) {
	t.Helper()
	err := wait.PollUntilContextTimeout(ctx(t), 100*time.Millisecond, 10*time.Second, true, func(c context.Context) (bool, error) {
		sar := &authorizationv1.SubjectAccessReview{Spec: authorizationv1.SubjectAccessReviewSpec{User: user, Groups: []string{"system:serviceaccounts"}, NonResourceAttributes: nonRes, ResourceAttributes: res}}
		out, err := cluster.kube.AuthorizationV1().SubjectAccessReviews().Create(c, sar, metav1.CreateOptions{})
		return err == nil && out.Status.Allowed == want, nil
	})
	if err != nil {
		t.Fatalf("RBAC for %s never became allowed=%v", user, want)
	}
}

func TestStatusFreshOperator(t *testing.T) {
	installServiceMonitorCRD(t)
	ns := newNamespace(t, "stfresh")
	installFixture(t, "eck-3.5.0-all-in-one.yaml", ns)
	before := snapshot(t, ns)
	rep, r := statusOf(t, cluster.kubeconfig, "-n", ns)
	assertUnchanged(t, before, snapshot(t, ns))
	if r.err == nil {
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
			ns := newNamespace(t, "stpass")
			f := installFixture(t, file, ns)
			mustSucceed(t, run(t, "enable", "-n", ns))
			rolledOut(t, ns, f.Name)
			sa := prometheusSA(t, ns, true)
			createPrometheus(t, "Prometheus", ns, "k8s", "serviceAccountName: prometheus\nserviceMonitorSelector: {}")
			rep, r := statusOf(t, cluster.kubeconfig, "-n", ns, "--prometheus-sa", sa)
			if r.err != nil {
				t.Errorf("exit: %v", r.err)
			}
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
	installServiceMonitorCRD(t)
	ns := newNamespace(t, "stbroken")
	f := installFixture(t, "eck-3.5.0-all-in-one.yaml", ns)
	mustSucceed(t, run(t, "enable", "-n", ns))
	rolledOut(t, ns, f.Name)
	grantless := prometheusSA(t, ns, false)
	c := ctx(t)

	rep, _ := statusOf(t, cluster.kubeconfig, "-n", ns, "--prometheus-sa", grantless)
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
				_ = cluster.kube.RbacV1().ClusterRoleBindings().Delete(c, "elastic-operator-metrics-auth-rolebinding", metav1.DeleteOptions{})
			}, status.RBACBinding, "not found"},
		{"service selector wrong",
			func() {
				_, err := cluster.kube.CoreV1().Services(ns).Patch(c, "elastic-operator-metrics", types.MergePatchType, []byte(`{"spec":{"selector":{"control-plane":"someone-else"}}}`), metav1.PatchOptions{})
				if err != nil {
					t.Fatal(err)
				}
			}, status.ServiceSelector, "does not match the pod labels"},
		{"metrics port removed",
			func() {
				sts := getStatefulSet(t, ns, f.Name)
				sts.Spec.Template.Spec.Containers[0].Ports = sts.Spec.Template.Spec.Containers[0].Ports[:1]
				if _, err := cluster.kube.AppsV1().StatefulSets(ns).Update(c, sts, metav1.UpdateOptions{}); err != nil {
					t.Fatal(err)
				}
			}, status.StatefulSetPatched, "no port named metrics"},
		{"servicemonitor missing",
			func() {
				if err := cluster.dynamic.Resource(patches.ServiceMonitorGVR).Namespace(ns).Delete(c, "elastic-operator", metav1.DeleteOptions{}); err != nil {
					t.Fatal(err)
				}
			}, status.ServiceMonitorExists, "not found"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			// Start from a healthy install each time (taking back what the
			// previous case broke as another field manager).
			mustSucceed(t, run(t, "enable", "-n", ns, "--force-conflicts"))
			rolledOut(t, ns, f.Name)
			tc.breakIt()
			if tc.check == status.RBACBinding {
				waitAllowed(t, "system:serviceaccount:"+ns+":elastic-operator", nil, &authorizationv1.ResourceAttributes{Group: "authentication.k8s.io", Resource: "tokenreviews", Verb: "create"}, false)
			}
			rep, r := statusOf(t, cluster.kubeconfig, "-n", ns)
			if r.err == nil {
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
	ns := newNamespace(t, "stcert")
	f := installFixture(t, "eck-3.5.0-all-in-one.yaml", ns)
	ca := newTestCA(t)
	createTLSSecret(t, ns, "good", corev1.SecretTypeTLS, ca.goodLeaf(t, ns).data())
	soon := ca.issue(t, []string{"elastic-operator-metrics." + ns + ".svc"}, time.Now().Add(-time.Hour), time.Now().Add(5*24*time.Hour))
	createTLSSecret(t, ns, "soon", corev1.SecretTypeTLS, soon.data())

	mustSucceed(t, run(t, "use-cert", "--secret", "good", "-n", ns))
	rolledOut(t, ns, f.Name)
	rep, r := statusOf(t, cluster.kubeconfig, "-n", ns)
	if r.err != nil {
		t.Errorf("exit %v", r.err)
	}
	expectOutcome(t, rep, status.StatefulSetCertMount, status.Pass, "secret good at /tmp/k8s-metrics-server/serving-certs in container manager")
	cert := find(t, rep, status.CertificateServing)
	if cert.Outcome != status.Pass || !strings.Contains(cert.Message, "elastic-operator-metrics."+ns+".svc") || cert.Details["daysLeft"] == nil || cert.Details["notAfter"] == nil {
		t.Errorf("certificate check %+v", cert)
	}

	mustSucceed(t, run(t, "use-cert", "--secret", "soon", "-n", ns))
	rolledOut(t, ns, f.Name)
	rep, r = statusOf(t, cluster.kubeconfig, "-n", ns)
	if r.err != nil {
		t.Errorf("a warning must not fail status: %v", r.err)
	}
	expectOutcome(t, rep, status.CertificateServing, status.Warn, "the certificate expires in")
}

func TestStatusReadOnlyUser(t *testing.T) {
	ns := newNamespace(t, "stread")
	f := installFixture(t, "eck-3.5.0-all-in-one.yaml", ns)
	mustSucceed(t, run(t, "enable", "-n", ns))
	rolledOut(t, ns, f.Name)
	kc := readOnlyUser(t, "status-reader")
	before := snapshot(t, ns)
	rep, r := statusOf(t, kc, "-n", ns)
	assertUnchanged(t, before, snapshot(t, ns))
	// It reads everything; the questions it may not ask are warnings.
	expectOutcome(t, rep, status.RBACTokenReviews, status.Warn, "cannot ask the API server")
	expectOutcome(t, rep, status.ServiceExists, status.Pass, "")
	if r.err != nil || rep.Summary.Fail != 0 {
		t.Errorf("exit %v, summary %+v", r.err, rep.Summary)
	}
}

// metricsServer protects /metrics with controller-runtime's authn/authz
// filter, the code the native-mode operator runs, acting as the operator's
// ServiceAccount against the test apiserver.
func metricsServer(t testing.TB, ns, operatorSA string) string {
	t.Helper()
	tr, err := cluster.kube.CoreV1().ServiceAccounts(ns).CreateToken(ctx(t), operatorSA, &authenticationv1.TokenRequest{}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	cfg := &rest.Config{Host: cluster.config.Host, BearerToken: tr.Status.Token, TLSClientConfig: rest.TLSClientConfig{CAData: cluster.config.CAData}}
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
	ns := newNamespace(t, "stprobe")
	f := installFixture(t, "eck-3.5.0-all-in-one.yaml", ns)
	mustSucceed(t, run(t, "enable", "-n", ns))
	rolledOut(t, ns, f.Name)
	waitAllowed(t, "system:serviceaccount:"+ns+":elastic-operator", nil, &authorizationv1.ResourceAttributes{Group: "authentication.k8s.io", Resource: "tokenreviews", Verb: "create"}, true)
	url := metricsServer(t, ns, "elastic-operator")
	sa := prometheusSA(t, ns, false)

	// Without the /metrics grant: 401 without a token, 403 with one.
	rep, r := statusOf(t, cluster.kubeconfig, "-n", ns, "--metrics-url", url, "--prometheus-sa", sa)
	if r.err == nil {
		t.Error("exit 0 although Prometheus gets 403")
	}
	expectOutcome(t, rep, status.EndpointReachable, status.Pass, url)
	expectOutcome(t, rep, status.EndpointAnonymous, status.Pass, "401")
	expectOutcome(t, rep, status.EndpointToken, status.Fail, "403")
	expectOutcome(t, rep, status.EndpointCertificate, status.Pass, "")

	// With it: 200 and Prometheus text.
	grantMetrics(t, ns, "prometheus")
	rep, r = statusOf(t, cluster.kubeconfig, "-n", ns, "--metrics-url", url, "--prometheus-sa", sa)
	if r.err != nil {
		t.Errorf("exit %v", r.err)
	}
	expectOutcome(t, rep, status.EndpointToken, status.Pass, "200 OK with Prometheus text")

	// The operator loses its tokenreviews RBAC: every scrape gets 500.
	if err := cluster.kube.RbacV1().ClusterRoleBindings().Delete(ctx(t), "elastic-operator-metrics-auth-rolebinding", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	waitAllowed(t, "system:serviceaccount:"+ns+":elastic-operator", nil, &authorizationv1.ResourceAttributes{Group: "authentication.k8s.io", Resource: "tokenreviews", Verb: "create"}, false)
	rep, _ = statusOf(t, cluster.kubeconfig, "-n", ns, "--metrics-url", url, "--prometheus-sa", sa)
	expectOutcome(t, rep, status.EndpointToken, status.Fail, "500")
}

func TestStatusGolden(t *testing.T) {
	ns := "golden-status"
	ensureNamespace(t, ns)
	f := installFixture(t, "eck-3.5.0-all-in-one.yaml", ns)
	r := run(t, "status", "-n", ns)
	compareGolden(t, filepath.Join("status", "fresh.txt"), r.stdout)
	mustSucceed(t, run(t, "enable", "-n", ns))
	rolledOut(t, ns, f.Name)
	r = mustSucceed(t, run(t, "status", "-n", ns))
	compareGolden(t, filepath.Join("status", "enabled.txt"), r.stdout)
	r = mustSucceed(t, run(t, "status", "-n", ns, "-o", "json"))
	compareGolden(t, filepath.Join("status", "enabled.json"), r.stdout)
	// The JSON holds every line of the table.
	var rep status.Report
	if err := json.Unmarshal([]byte(r.stdout), &rep); err != nil {
		t.Fatal(err)
	}
	table := mustSucceed(t, run(t, "status", "-n", ns)).stdout
	for _, c := range rep.Checks {
		if !strings.Contains(table, c.Name+": "+c.Message) {
			t.Errorf("table lacks %q", c.Name+": "+c.Message)
		}
	}
}

func TestStatusRequestBudget(t *testing.T) {
	installServiceMonitorCRD(t)
	ns := newNamespace(t, "stbudget")
	f := installFixture(t, "eck-3.5.0-all-in-one.yaml", ns)
	mustSucceed(t, run(t, "enable", "-n", ns))
	rolledOut(t, ns, f.Name)
	sa := prometheusSA(t, ns, true)
	var log requestLog
	r := runWith(t, cluster.kubeconfig, log.wrap, "status", "-n", ns, "--prometheus-sa", sa)
	if r.err != nil {
		t.Fatalf("%v\n%s", r.err, r.stdout)
	}
	if r.requests > 15 {
		t.Errorf("status sent %d requests, budget 15:\n%s", r.requests, strings.Join(log.paths, "\n"))
	}
	for _, p := range log.paths {
		if !strings.HasPrefix(p, "GET ") && !strings.Contains(p, "subjectaccessreviews") {
			t.Errorf("status wrote: %s", p)
		}
	}
	t.Logf("status: %d requests", r.requests)
}

func BenchmarkStatus(b *testing.B) {
	installServiceMonitorCRD(b)
	ns := newNamespace(b, "stbench")
	f := installFixture(b, "eck-3.5.0-all-in-one.yaml", ns)
	mustSucceed(b, run(b, "enable", "-n", ns))
	rolledOut(b, ns, f.Name)
	var requests int64
	b.ResetTimer()
	for b.Loop() {
		r := mustSucceed(b, run(b, "status", "-n", ns))
		requests += r.requests
	}
	b.ReportMetric(float64(requests)/float64(b.N), "requests/op")
}

func TestStatusColor(t *testing.T) {
	ns := newNamespace(t, "stcolor")
	installFixture(t, "eck-3.5.0-all-in-one.yaml", ns)
	// Not a terminal: plain ASCII by default and with never.
	for _, args := range [][]string{{"status", "-n", ns}, {"status", "-n", ns, "--color", "never"}} {
		r := run(t, args...)
		if strings.Contains(r.stdout, "\x1b[") || strings.Contains(r.stdout, "×") || !strings.Contains(r.stdout, "[FAIL] mode in use") {
			t.Errorf("%v is not plain ASCII:\n%s", args, r.stdout)
		}
	}
	r := run(t, "status", "-n", ns, "--color", "always")
	if !strings.Contains(r.stdout, "\x1b[31m×\x1b[0m mode in use") || !strings.Contains(r.stdout, "\x1b[32m√\x1b[0m operator found") {
		t.Errorf("--color always:\n%q", r.stdout)
	}
	r = run(t, "status", "-n", ns, "--color", "rainbow")
	if r.err == nil || !strings.Contains(r.err.Error(), `invalid --color "rainbow": use auto, always or never`) {
		t.Errorf("err = %v", r.err)
	}
}

// --check narrows status to the chosen checks; an unknown ID is refused
// before anything is read.
func TestStatusCheckFlag(t *testing.T) {
	ns := newNamespace(t, "stcheck")
	installFixture(t, "eck-3.5.0-all-in-one.yaml", ns)
	mustSucceed(t, run(t, "enable", "-n", ns))
	rep, _ := statusOf(t, cluster.kubeconfig, "-n", ns, "--check", "rbac.binding", "--check", "service.selector")
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
	r := runWith(t, cluster.kubeconfig, log.wrap, "status", "-n", ns, "--check", "rbac.bindings")
	if r.err == nil || strings.Count(r.err.Error(), "\n") > 0 ||
		!strings.Contains(r.err.Error(), `unknown --check "rbac.bindings": use a category (operator, configuration, rbac, `) || !strings.Contains(r.err.Error(), "or a check ID (status -o json lists them)") {
		t.Errorf("err = %v", r.err)
	}
	if len(log.paths) > 0 {
		t.Errorf("an unknown --check sent requests: %v", log.paths)
	}
}
