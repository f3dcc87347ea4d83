package integration

import (
	"context"
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/eck-metrics/kubectl-eck-metrics/pkg/patches"
	"github.com/eck-metrics/kubectl-eck-metrics/pkg/status"
	"github.com/eck-metrics/kubectl-eck-metrics/test/framework"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/apimachinery/pkg/util/wait"
	corev1ac "k8s.io/client-go/applyconfigurations/core/v1"
	"sigs.k8s.io/controller-runtime/pkg/envtest"
)

// Each bad input: one clear line, an error, and nothing changed.
func TestEnableBadInput(t *testing.T) {
	ns := cluster.NewNamespace(t, "bad")
	cluster.InstallFixture(t, "eck-3.5.0-all-in-one.yaml", ns)
	oldNS := cluster.NewNamespace(t, "old")
	cluster.InstallFixture(t, "eck-2.11.0-all-in-one.yaml", oldNS)
	sidecarNS := cluster.NewNamespace(t, "badsc")
	cluster.InstallFixture(t, "eck-2.15.0-all-in-one.yaml", sidecarNS)

	unreachable := filepath.Join(t.TempDir(), "unreachable.kubeconfig")
	if err := os.WriteFile(unreachable, []byte(`apiVersion: v1
kind: Config
clusters: [{name: c, cluster: {server: "https://127.0.0.1:1"}}]
users: [{name: u, user: {token: x}}]
contexts: [{name: c, context: {cluster: c, user: u}}]
current-context: c
`), 0o600); err != nil {
		t.Fatal(err)
	}

	for _, tc := range []struct {
		name       string
		kubeconfig string
		args       []string
		want       string
	}{
		{"namespace not found", "", []string{"-n", "does-not-exist"}, `namespace "does-not-exist" not found`},
		{"operator not found by name", "", []string{"-n", ns, "--name", "nope"}, "StatefulSet " + ns + "/nope not found: check --name and -n"},
		{"no operator in namespace", "", []string{"-n", "default"}, `no ECK operator StatefulSet found in namespace "default"`},
		{"unsupported version", "", []string{"-n", oldNS}, "ECK 2.11.0 is not supported: securing the metrics endpoint needs ECK 2.12 or later"},
		{"unknown mode", "", []string{"-n", ns, "--mode", "proxy"}, `unknown --mode "proxy": use native or sidecar`},
		{"native on 2.15", "", []string{"-n", sidecarNS, "--mode", "native"}, "--mode native needs ECK 2.16 or later"},
		{"port zero", "", []string{"-n", ns, "--port", "0"}, "invalid --port 0: use a port between 1 and 65535"},
		{"port too big", "", []string{"-n", ns, "--port", "70000"}, "invalid --port 70000"},
		{"port collides with webhook", "", []string{"-n", ns, "--port", "9443"}, `--port 9443 collides with container port "https-webhook" of container manager: pick a free port with --port`},
		{"port collides with proxy", "", []string{"-n", sidecarNS, "--port", "8080"}, "--port 8080 collides with the kube-rbac-proxy listener"},
		{"bad dry-run", "", []string{"-n", ns, "--dry-run=maybe"}, `invalid --dry-run value "maybe"`},
		{"bad service-monitor", "", []string{"-n", ns, "--service-monitor=sometimes"}, `invalid --service-monitor "sometimes"`},
		{"bad label", "", []string{"-n", ns, "--service-monitor-label", "release"}, `invalid --service-monitor-label "release": use KEY=VALUE`},
		{"bad output", "", []string{"-n", ns, "--dry-run=client", "-o", "xml"}, `invalid -o "xml"`},
		{"wait with dry-run", "", []string{"-n", ns, "--dry-run=server", "--wait"}, "--wait waits for a rollout, which a --dry-run never starts"},
		{"always without CRD", "", []string{"-n", ns, "--service-monitor=always"}, "--service-monitor=always, but this cluster does not serve monitoring.coreos.com/v1 ServiceMonitor"},
		{"unreachable API server", unreachable, []string{"-n", ns}, "cannot reach the Kubernetes API server at https://127.0.0.1:1"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := cluster.Snapshot(t, ns)
			beforeSC := cluster.Snapshot(t, sidecarNS)
			kc := tc.kubeconfig
			if kc == "" {
				kc = cluster.Kubeconfig
			}
			framework.ExpectOneLineRefusal(t, cluster.RunAs(t, kc, append([]string{"enable"}, tc.args...)...), tc.want)
			framework.AssertUnchanged(t, before, cluster.Snapshot(t, ns))
			framework.AssertUnchanged(t, beforeSC, cluster.Snapshot(t, sidecarNS))
		})
	}
}

func TestEnableRefusesMalformedEckYAML(t *testing.T) {
	ns := cluster.NewNamespace(t, "malformed")
	cluster.InstallFixture(t, "eck-3.5.0-all-in-one.yaml", ns)
	for _, text := range []string{"metrics-port: [8081\nlog-verbosity: 0", "- a list\n- not a mapping", "metrics-port: 1\nmetrics-port: 2"} {
		cm := getConfigMap(t, ns, "elastic-operator")
		cm.Data["eck.yaml"] = text
		if _, err := cluster.Kube.CoreV1().ConfigMaps(ns).Update(cluster.Context(t), cm, metav1.UpdateOptions{}); err != nil {
			t.Fatal(err)
		}
		before := cluster.Snapshot(t, ns)
		r := cluster.Run(t, "enable", "-n", ns)
		if r.Err == nil || !strings.Contains(r.Err.Error(), "ConfigMap "+ns+"/elastic-operator key eck.yaml: eck.yaml") || !strings.Contains(r.Err.Error(), "fix it by hand; nothing was changed") {
			t.Errorf("%q: err = %v", text, r.Err)
		}
		framework.AssertUnchanged(t, before, cluster.Snapshot(t, ns))
		if got := getConfigMap(t, ns, "elastic-operator").Data["eck.yaml"]; got != text {
			t.Errorf("eck.yaml was replaced: %q", got)
		}
	}
}

// A user who may read but not write: the server dry run finds it before any write.
func TestEnableReadOnlyUser(t *testing.T) {
	ns := cluster.NewNamespace(t, "readonly")
	cluster.InstallFixture(t, "eck-3.5.0-all-in-one.yaml", ns)
	kc := readOnlyUser(t, "reader")

	before := cluster.Snapshot(t, ns)
	r := cluster.RunAs(t, kc, "enable", "-n", ns)
	if r.Err == nil {
		t.Fatalf("a read-only user enabled metrics:\n%s", r.Stdout)
	}
	for _, want := range []string{"nothing was changed", "permission denied", `User "reader" cannot patch resource "configmaps"`} {
		if !strings.Contains(r.Err.Error(), want) {
			t.Errorf("error %q lacks %q", r.Err, want)
		}
	}
	framework.AssertUnchanged(t, before, cluster.Snapshot(t, ns))

	// Reading is all a client dry run needs.
	r = mustSucceed(t, cluster.RunAs(t, kc, "enable", "-n", ns, "--dry-run=client"))
	if !strings.Contains(r.Stdout, "kind: StatefulSet") {
		t.Errorf("stdout:\n%s", r.Stdout)
	}
	framework.AssertUnchanged(t, before, cluster.Snapshot(t, ns))

	// No RBAC at all: the first read names the verb and resource.
	none, err := cluster.WriteKubeconfig(t.TempDir(), envtest.User{Name: "nobody"})
	if err != nil {
		t.Fatal(err)
	}
	r = cluster.RunAs(t, none, "enable", "-n", ns)
	if r.Err == nil || !strings.Contains(r.Err.Error(), `cannot list resource "statefulsets"`) {
		t.Errorf("err = %v", r.Err)
	}
}

// readOnlyUser makes a user who may get and list what enable reads.
func readOnlyUser(t testing.TB, name string) string {
	t.Helper()
	return cluster.UserWithRules(t, name, rbacv1.PolicyRule{APIGroups: []string{"", "apps", "rbac.authorization.k8s.io", "monitoring.coreos.com"}, Resources: []string{"*"}, Verbs: []string{"get", "list", "watch"}})
}

// A field another manager owns is not taken over unless asked.
func TestEnableConflictWithAnotherManager(t *testing.T) {
	ns := cluster.NewNamespace(t, "conflict")
	cluster.InstallFixture(t, "eck-3.5.0-all-in-one.yaml", ns)
	theirs := corev1ac.Service("elastic-operator-metrics", ns).WithSpec(corev1ac.ServiceSpec().
		WithSelector(map[string]string{"control-plane": "elastic-operator"}).
		WithPorts(corev1ac.ServicePort().WithName("https").WithPort(8080).WithProtocol(corev1.ProtocolTCP).WithTargetPort(intstr.FromInt32(9999))))
	if _, err := cluster.Kube.CoreV1().Services(ns).Apply(cluster.Context(t), theirs, metav1.ApplyOptions{FieldManager: "platform-team"}); err != nil {
		t.Fatal(err)
	}
	before := cluster.Snapshot(t, ns)
	r := cluster.Run(t, "enable", "-n", ns)
	if r.Err == nil {
		t.Fatal("conflict was forced without --force-conflicts")
	}
	for _, want := range []string{"nothing was changed", "Service " + ns + "/elastic-operator-metrics", `.spec.ports[port=8080,protocol="TCP"].targetPort`, `"platform-team"`, "rerun with --force-conflicts"} {
		if !strings.Contains(r.Err.Error(), want) {
			t.Errorf("error %q lacks %q", r.Err, want)
		}
	}
	framework.AssertUnchanged(t, before, cluster.Snapshot(t, ns))

	mustSucceed(t, cluster.Run(t, "enable", "-n", ns, "--force-conflicts"))
	svc, err := cluster.Kube.CoreV1().Services(ns).Get(cluster.Context(t), "elastic-operator-metrics", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if svc.Spec.Ports[0].TargetPort != intstr.FromString("metrics") {
		t.Errorf("targetPort %v", svc.Spec.Ports[0].TargetPort)
	}
}

// The connection drops while step 4 is applied: steps 1-3 stay applied and a
// rerun completes the rest.
func TestEnableFailureMidwayRerunCompletes(t *testing.T) {
	ns := cluster.NewNamespace(t, "midway")
	f := cluster.InstallFixture(t, "eck-3.5.0-all-in-one.yaml", ns)
	var failed atomic.Bool
	dropStatefulSetPatch := func(next http.RoundTripper) http.RoundTripper {
		return roundTripFunc(func(r *http.Request) (*http.Response, error) {
			if isWrite(r) && strings.Contains(r.URL.Path, "/statefulsets/") && failed.CompareAndSwap(false, true) {
				return nil, errors.New("connection reset by peer")
			}
			return next.RoundTrip(r)
		})
	}
	r := cluster.RunWith(t, cluster.Kubeconfig, dropStatefulSetPatch, "enable", "-n", ns)
	if r.Err == nil || !strings.Contains(r.Err.Error(), "step 4/5 (StatefulSet) failed, steps 1-3 are applied; fix this and rerun to complete") {
		t.Fatalf("err = %v", r.Err)
	}
	if !strings.Contains(getConfigMap(t, ns, "elastic-operator").Data["eck.yaml"], "metrics-secure: true") {
		t.Error("step 1 was not applied")
	}
	if _, err := cluster.Kube.CoreV1().Services(ns).Get(cluster.Context(t), "elastic-operator-metrics", metav1.GetOptions{}); err != nil {
		t.Error("step 3 was not applied:", err)
	}
	if len(container(t, getStatefulSet(t, ns, f.Name), "manager").Ports) != 1 {
		t.Error("step 4 was applied although its request failed")
	}

	r = mustSucceed(t, cluster.Run(t, "enable", "-n", ns))
	for _, want := range []string{"[1/5] ConfigMap eck.yaml: ConfigMap " + ns + "/elastic-operator unchanged", "[3/5] Service: Service " + ns + "/elastic-operator-metrics unchanged", "[4/5] StatefulSet: StatefulSet " + ns + "/elastic-operator configured"} {
		if !strings.Contains(r.Stdout, want) {
			t.Errorf("rerun output lacks %q:\n%s", want, r.Stdout)
		}
	}
	if len(container(t, getStatefulSet(t, ns, f.Name), "manager").Ports) != 2 {
		t.Error("rerun did not complete step 4")
	}
}

// Someone edits eck.yaml between our read and our apply: the apply is
// refused (409, resourceVersion), re-read, and both edits survive.
func TestEnableConcurrentConfigMapEdit(t *testing.T) {
	ns := cluster.NewNamespace(t, "race")
	cluster.InstallFixture(t, "eck-3.5.0-all-in-one.yaml", ns)
	var once sync.Once
	var conflicts atomic.Int32
	editFirst := func(next http.RoundTripper) http.RoundTripper {
		return roundTripFunc(func(r *http.Request) (*http.Response, error) {
			if isWrite(r) && strings.Contains(r.URL.Path, "/configmaps/") {
				once.Do(func() {
					cm := getConfigMap(t, ns, "elastic-operator")
					cm.Data["eck.yaml"] = strings.Replace(cm.Data["eck.yaml"], "log-verbosity: 0", "log-verbosity: 1", 1)
					if _, err := cluster.Kube.CoreV1().ConfigMaps(ns).Update(cluster.Context(t), cm, metav1.UpdateOptions{}); err != nil {
						t.Error(err)
					}
				})
			}
			resp, err := next.RoundTrip(r)
			if err == nil && resp.StatusCode == http.StatusConflict {
				conflicts.Add(1)
			}
			return resp, err
		})
	}
	mustSucceed(t, cluster.RunWith(t, cluster.Kubeconfig, editFirst, "enable", "-n", ns))
	got := getConfigMap(t, ns, "elastic-operator").Data["eck.yaml"]
	if !strings.Contains(got, "log-verbosity: 1") || !strings.Contains(got, "metrics-secure: true") {
		t.Errorf("an edit was lost:\n%s", got)
	}
	if conflicts.Load() != 1 {
		t.Errorf("%d conflicts, want the one the concurrent edit caused", conflicts.Load())
	}
}

func TestEnableWait(t *testing.T) {
	ns := cluster.NewNamespace(t, "wait")
	f := cluster.InstallFixture(t, "eck-3.5.0-all-in-one.yaml", ns)

	// No controller runs in the test apiserver: play the StatefulSet
	// controller once the patch lands.
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = wait.PollUntilContextTimeout(cluster.Context(t), 100*time.Millisecond, 30*time.Second, true, func(c context.Context) (bool, error) {
			sts := getStatefulSet(t, ns, f.Name)
			if sts.Generation < 2 {
				return false, nil
			}
			sts.Status = appsStatus(sts.Generation)
			_, err := cluster.Kube.AppsV1().StatefulSets(ns).UpdateStatus(c, sts, metav1.UpdateOptions{})
			return err == nil, nil
		})
	}()
	r := mustSucceed(t, cluster.Run(t, "enable", "-n", ns, "--wait", "--timeout", "30s"))
	<-done
	for _, want := range []string{"rollout of StatefulSet " + ns + "/elastic-operator: waiting for the StatefulSet controller", "rolled out: 1 of 1 pods updated and ready"} {
		if !strings.Contains(r.Stdout, want) {
			t.Errorf("output lacks %q:\n%s", want, r.Stdout)
		}
	}

	// A rollout that never finishes: a clear timeout.
	ns2 := cluster.NewNamespace(t, "waitout")
	cluster.InstallFixture(t, "eck-3.5.0-all-in-one.yaml", ns2)
	// On a terminal (forced here) the progress line is rewritten in place.
	r = cluster.Run(t, "enable", "-n", ns2, "--wait", "--timeout", "2s", "--color", "always")
	if r.Err == nil || !strings.Contains(r.Err.Error(), "did not finish rolling out within 2s") {
		t.Errorf("err = %v", r.Err)
	}
	if !strings.Contains(r.Stdout, "\r\x1b[Krollout of StatefulSet "+ns2+"/elastic-operator: waiting for the StatefulSet controller") {
		t.Errorf("no in-place progress line: %q", r.Stdout)
	}
}

func TestEnableServiceMonitor(t *testing.T) {
	cluster.InstallServiceMonitorCRD(t)
	ns := cluster.NewNamespace(t, "smon")
	cluster.InstallFixture(t, "eck-3.5.0-all-in-one.yaml", ns)
	r := mustSucceed(t, cluster.Run(t, "enable", "-n", ns, "--service-monitor-label", "release=prometheus", "--service-monitor-label", "team=platform"))
	if !strings.Contains(r.Stdout, "[5/5] ServiceMonitor: ServiceMonitor "+ns+"/elastic-operator created") {
		t.Errorf("output:\n%s", r.Stdout)
	}
	sm, err := cluster.Dynamic.Resource(patches.ServiceMonitorGVR).Namespace(ns).Get(cluster.Context(t), "elastic-operator", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	labels := sm.GetLabels()
	if labels["release"] != "prometheus" || labels["team"] != "platform" {
		t.Errorf("labels %v", labels)
	}
	spec := sm.Object["spec"].(map[string]any)
	wantSpec := map[string]any{
		"namespaceSelector": map[string]any{"matchNames": []any{ns}},
		"selector":          map[string]any{"matchLabels": map[string]any{"control-plane": "elastic-operator", "app.kubernetes.io/component": "metrics"}},
		"endpoints": []any{map[string]any{
			"port": "https", "path": "/metrics", "scheme": "https", "interval": "30s",
			"tlsConfig":       map[string]any{"insecureSkipVerify": true},
			"bearerTokenFile": "/var/run/secrets/kubernetes.io/serviceaccount/token",
		}},
	}
	if !jsonEqual(spec, wantSpec) {
		t.Errorf("spec %v\nwant %v", spec, wantSpec)
	}
	// The Service it selects carries those labels.
	svc, err := cluster.Kube.CoreV1().Services(ns).Get(cluster.Context(t), "elastic-operator-metrics", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range wantSpec["selector"].(map[string]any)["matchLabels"].(map[string]any) {
		if svc.Labels[k] != v {
			t.Errorf("Service lacks label %s=%v the ServiceMonitor selects", k, v)
		}
	}

	before := cluster.Snapshot(t, ns)
	r = mustSucceed(t, cluster.Run(t, "enable", "-n", ns, "--service-monitor-label", "release=prometheus", "--service-monitor-label", "team=platform"))
	framework.AssertUnchanged(t, before, cluster.Snapshot(t, ns))
	if !strings.Contains(r.Stdout, "[5/5] ServiceMonitor: ServiceMonitor "+ns+"/elastic-operator unchanged") {
		t.Errorf("second run:\n%s", r.Stdout)
	}
	// never: the step is skipped even where the API is served.
	r = mustSucceed(t, cluster.Run(t, "enable", "-n", ns, "--service-monitor=never"))
	if !strings.Contains(r.Stdout, "[5/5] ServiceMonitor: skipped (--service-monitor=never)") {
		t.Errorf("never:\n%s", r.Stdout)
	}
}

// appsStatus is the status of a StatefulSet whose rollout finished.
func appsStatus(generation int64) appsv1.StatefulSetStatus {
	return appsv1.StatefulSetStatus{ObservedGeneration: generation, Replicas: 1, ReadyReplicas: 1, UpdatedReplicas: 1, CurrentReplicas: 1, AvailableReplicas: 1, CurrentRevision: "r2", UpdateRevision: "r2"}
}

// A metrics flag on the manager's command line overrides eck.yaml: enable
// refuses rather than edit a file that would not count; status fails it.
func TestEnableRefusesCommandLineMetricsFlags(t *testing.T) {
	ns := cluster.NewNamespace(t, "cmdline")
	f := cluster.InstallFixture(t, "eck-3.5.0-all-in-one.yaml", ns)
	sts := getStatefulSet(t, ns, f.Name)
	sts.Spec.Template.Spec.Containers[0].Args = append(sts.Spec.Template.Spec.Containers[0].Args, "--metrics-port=9090")
	if _, err := cluster.Kube.AppsV1().StatefulSets(ns).Update(cluster.Context(t), sts, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	before := cluster.Snapshot(t, ns)
	r := cluster.Run(t, "enable", "-n", ns)
	if r.Err == nil || !strings.Contains(r.Err.Error(), "sets --metrics-port=9090 on its command line, which overrides eck.yaml") {
		t.Errorf("err = %v", r.Err)
	}
	framework.AssertUnchanged(t, before, cluster.Snapshot(t, ns))
	rep, _ := statusOf(t, cluster.Kubeconfig, "-n", ns)
	expectOutcome(t, rep, status.ConfigCommandLine, "fail", "--metrics-port=9090")
}

// Labels given once stay: a later enable or use-cert without
// --service-monitor-label keeps them (dropping them would silently stop a
// Prometheus that selects on them); given again, the new set replaces them.
func TestServiceMonitorLabelsKept(t *testing.T) {
	cluster.InstallServiceMonitorCRD(t)
	ns := cluster.NewNamespace(t, "smlabels")
	cluster.InstallFixture(t, "eck-3.5.0-all-in-one.yaml", ns)
	labels := func() map[string]string {
		t.Helper()
		sm, err := cluster.Dynamic.Resource(patches.ServiceMonitorGVR).Namespace(ns).Get(cluster.Context(t), "elastic-operator", metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		return sm.GetLabels()
	}
	mustSucceed(t, cluster.Run(t, "enable", "-n", ns, "--service-monitor-label", "release=prometheus"))

	before := cluster.Snapshot(t, ns)
	r := mustSucceed(t, cluster.Run(t, "enable", "-n", ns))
	framework.AssertUnchanged(t, before, cluster.Snapshot(t, ns))
	if !strings.Contains(r.Stdout, "[5/5] ServiceMonitor: ServiceMonitor "+ns+"/elastic-operator unchanged") {
		t.Errorf("enable without labels:\n%s", r.Stdout)
	}

	ca := newTestCA(t)
	createTLSSecret(t, ns, "eck-metrics-tls", corev1.SecretTypeTLS, ca.goodLeaf(t, ns).data())
	mustSucceed(t, cluster.Run(t, "use-cert", "--secret", "eck-metrics-tls", "-n", ns))
	if got := labels()["release"]; got != "prometheus" {
		t.Errorf("after use-cert without labels: release=%q, want prometheus (labels %v)", got, labels())
	}

	mustSucceed(t, cluster.Run(t, "enable", "-n", ns, "--service-monitor-label", "team=platform"))
	if got := labels(); got["team"] != "platform" || got["release"] != "" {
		t.Errorf("labels given again should replace the set: %v", got)
	}
}
