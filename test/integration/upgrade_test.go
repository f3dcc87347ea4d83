package integration

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"github.com/eck-metrics/kubectl-eck-metrics/pkg/status"
	"github.com/eck-metrics/kubectl-eck-metrics/test/framework"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/intstr"
)

// docsSidecarPatch is the StatefulSet patch of ECK's 2.12-2.15 docs
// ("Patch the StatefulSet to include a sidecar container for
// kube-rbac-proxy"), as JSON.
const docsSidecarPatch = `{"spec":{"template":{"spec":{"containers":[{"name":"kube-rbac-proxy",
 "securityContext":{"allowPrivilegeEscalation":false,"capabilities":{"drop":["ALL"]}},
 "image":"gcr.io/kubebuilder/kube-rbac-proxy:v0.15.0",
 "args":["--secure-listen-address=0.0.0.0:8080","--upstream=http://127.0.0.1:8081","--logtostderr=true","--v=0"],
 "ports":[{"containerPort":8080,"protocol":"TCP","name":"metrics"}],
 "resources":{"limits":{"cpu":"500m","memory":"128Mi"},"requests":{"cpu":"5m","memory":"64Mi"}}}]}}}}`

// manualSidecar secures a 2.15 install by the docs' sidecar procedure, as a
// user's kubectl does it: eck.yaml, the proxy ClusterRole and binding and the
// metrics Service by kubectl apply, the sidecar by kubectl patch (field
// manager kubectl-patch).
func manualSidecar(t testing.TB, f framework.Fixture) {
	t.Helper()
	c := cluster.Context(t)
	cm := getConfigMap(t, f.Namespace, "elastic-operator")
	cm.Data["eck.yaml"] = strings.Replace(cm.Data["eck.yaml"], "metrics-port: 0\n", "metrics-port: 8081\nmetrics-host: 127.0.0.1\n", 1)
	if _, err := cluster.Kube.CoreV1().ConfigMaps(f.Namespace).Update(c, cm, metav1.UpdateOptions{FieldManager: "kubectl-client-side-apply"}); err != nil {
		t.Fatal(err)
	}
	role := &rbacv1.ClusterRole{ObjectMeta: metav1.ObjectMeta{Name: "elastic-operator-proxy-role"}, Rules: []rbacv1.PolicyRule{
		{APIGroups: []string{"authentication.k8s.io"}, Resources: []string{"tokenreviews"}, Verbs: []string{"create"}},
		{APIGroups: []string{"authorization.k8s.io"}, Resources: []string{"subjectaccessreviews"}, Verbs: []string{"create"}}}}
	binding := &rbacv1.ClusterRoleBinding{ObjectMeta: metav1.ObjectMeta{Name: "elastic-operator-proxy-rolebinding"},
		RoleRef:  rbacv1.RoleRef{APIGroup: "rbac.authorization.k8s.io", Kind: "ClusterRole", Name: role.Name},
		Subjects: []rbacv1.Subject{{Kind: "ServiceAccount", Name: "elastic-operator", Namespace: f.Namespace}}}
	opts := metav1.CreateOptions{FieldManager: "kubectl-client-side-apply"}
	if _, err := cluster.Kube.RbacV1().ClusterRoles().Create(c, role, opts); err != nil {
		t.Fatal(err)
	}
	if _, err := cluster.Kube.RbacV1().ClusterRoleBindings().Create(c, binding, opts); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cluster.Kube.RbacV1().ClusterRoles().Delete(cluster.Context(t), role.Name, metav1.DeleteOptions{})
		_ = cluster.Kube.RbacV1().ClusterRoleBindings().Delete(cluster.Context(t), binding.Name, metav1.DeleteOptions{})
	})
	svc := &unstructured.Unstructured{}
	if err := json.Unmarshal([]byte(`{"apiVersion":"v1","kind":"Service","metadata":{"name":"elastic-operator-metrics",
	  "labels":{"control-plane":"elastic-operator","app.kubernetes.io/component":"metrics"}},
	  "spec":{"ports":[{"name":"https","port":8080,"protocol":"TCP","targetPort":"metrics"}],"selector":{"control-plane":"elastic-operator"}}}`), &svc.Object); err != nil {
		t.Fatal(err)
	}
	if _, err := cluster.Dynamic.Resource(corev1.SchemeGroupVersion.WithResource("services")).Namespace(f.Namespace).Create(c, svc, opts); err != nil {
		t.Fatal(err)
	}
	if _, err := cluster.Kube.AppsV1().StatefulSets(f.Namespace).Patch(c, f.Name, types.StrategicMergePatchType, []byte(docsSidecarPatch), metav1.PatchOptions{FieldManager: "kubectl-patch"}); err != nil {
		t.Fatal(err)
	}
}

// upgradeTo applies an ECK all-in-one fixture over an install as
// "kubectl apply --server-side --force-conflicts" does (field manager
// kubectl): eck.yaml is reset, containers it does not list stay.
func upgradeTo(t testing.TB, file string, f framework.Fixture) {
	t.Helper()
	objects := framework.FixtureObjects(t, file)
	for _, obj := range objects {
		obj.SetNamespace(f.Namespace)
	}
	cluster.ForceApply(t, "kubectl", objects)
}

// assertNativeOnly: no proxy container, every port name once.
func assertNativeOnly(t testing.TB, sts *appsv1.StatefulSet) {
	t.Helper()
	names := map[string]string{}
	for _, c := range sts.Spec.Template.Spec.Containers {
		if c.Name != "manager" {
			t.Errorf("container %s (%s) left", c.Name, c.Image)
		}
		for _, p := range c.Ports {
			if other, dup := names[p.Name]; dup {
				t.Errorf("port name %s twice: containers %s and %s", p.Name, other, c.Name)
			}
			names[p.Name] = c.Name
		}
	}
	if names["metrics"] != "manager" {
		t.Errorf("no port metrics on manager: %v", names)
	}
}

// Sidecar installs of 2.15 (by the docs' manual procedure, or by the
// plugin), upgraded to 3.5.0 with ECK's manifest: enable migrates them to
// native mode, removing the proxy whoever added it; both dry runs change
// nothing and say so; status passes.
func TestEnableMigratesSidecarAfterUpgrade(t *testing.T) {
	cluster.InstallServiceMonitorCRD(t)
	for _, tc := range []struct {
		name    string
		secure  func(t testing.TB, f framework.Fixture)
		removal string
	}{
		{"manual kubectl patch", manualSidecar, "container kube-rbac-proxy removed by a JSON patch at resourceVersion "},
		{"plugin sidecar", func(t testing.TB, f framework.Fixture) { mustSucceed(t, cluster.Run(t, "enable", "-n", f.Namespace)) }, "drops container kube-rbac-proxy (ours; native mode serves HTTPS itself)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ns := cluster.NewNamespace(t, "upgrade")
			f := cluster.InstallFixture(t, "eck-2.15.0-all-in-one.yaml", ns)
			tc.secure(t, f)
			upgradeTo(t, "eck-3.5.0-all-in-one.yaml", f)
			if !slices.ContainsFunc(getStatefulSet(t, ns, f.Name).Spec.Template.Spec.Containers, func(c corev1.Container) bool { return c.Name == "kube-rbac-proxy" }) {
				t.Fatal("the upgrade removed the sidecar: the journey is not the one users meet")
			}

			if tc.name == "manual kubectl patch" {
				// A Service of the user's own that scrapes the proxy's port by number.
				extra := &corev1.Service{ObjectMeta: metav1.ObjectMeta{Name: "eck-scrape", Namespace: ns},
					Spec: corev1.ServiceSpec{Selector: map[string]string{"control-plane": "elastic-operator"},
						Ports: []corev1.ServicePort{{Name: "https", Port: 443, TargetPort: intstr.FromInt32(8080)}}}}
				if _, err := cluster.Kube.CoreV1().Services(ns).Create(cluster.Context(t), extra, metav1.CreateOptions{}); err != nil {
					t.Fatal(err)
				}
				rep, _ := statusOf(t, cluster.Kubeconfig, "-n", ns)
				expectOutcome(t, rep, status.StatefulSetSidecarImage, status.Fail, "is retired")
				if hint := find(t, rep, status.StatefulSetSidecarImage).Hint; !strings.Contains(hint, "ECK 3.5.0 serves HTTPS itself: enable removes the sidecar") {
					t.Errorf("hint %q", hint)
				}
			}

			before := cluster.Snapshot(t, ns)
			for _, dryRun := range []string{"client", "server"} {
				r := mustSucceed(t, cluster.Run(t, "enable", "-n", ns, "--dry-run="+dryRun))
				if strings.Contains(r.Stderr, "duplicate port name") {
					t.Errorf("--dry-run=%s: the API server saw a duplicate port name:\n%s", dryRun, r.Stderr)
				}
				if !strings.Contains(r.Stderr, "native mode (chosen by version)") || !strings.Contains(r.Stderr, tc.removal) {
					t.Errorf("--dry-run=%s does not show the removal:\n%s", dryRun, r.Stderr)
				}
			}
			framework.AssertUnchanged(t, before, cluster.Snapshot(t, ns))

			r := mustSucceed(t, cluster.Run(t, "enable", "-n", ns))
			if !strings.Contains(r.Stdout, tc.removal) || !strings.Contains(r.Stdout, "left ClusterRole elastic-operator-proxy-role and ClusterRoleBinding elastic-operator-proxy-rolebinding of sidecar mode") {
				t.Errorf("enable:\n%s", r.Stdout)
			}
			if strings.Contains(r.Stderr, "duplicate port name") {
				t.Errorf("the API server saw a duplicate port name:\n%s\n%s", r.Stderr, r.Stdout)
			}
			leftService := "left Service eck-scrape, which also targets port metrics of the operator's pods: Service elastic-operator-metrics does that job now"
			if (tc.name == "manual kubectl patch") != strings.Contains(r.Stdout, leftService) {
				t.Errorf("leftover Service reported wrongly:\n%s", r.Stdout)
			}
			assertNativeOnly(t, getStatefulSet(t, ns, f.Name))

			rolledOut(t, ns, f.Name)
			sa := prometheusSA(t, ns, true)
			rep, sr := statusOf(t, cluster.Kubeconfig, "-n", ns, "--prometheus-sa", sa)
			expectAllPass(t, rep)
			if sr.Err != nil || rep.Mode != "native" {
				t.Errorf("status: %v, mode %s", sr.Err, rep.Mode)
			}
			// A rerun has nothing left to remove.
			r = mustSucceed(t, cluster.Run(t, "enable", "-n", ns))
			if strings.Contains(r.Stdout, "kube-rbac-proxy") {
				t.Errorf("second enable:\n%s", r.Stdout)
			}
		})
	}
}

// The docs' manual sidecar on 2.15.0 runs the retired gcr.io image, owned by
// kubectl-patch: enable replaces it with --sidecar-image (a JSON patch at
// the resourceVersion read, then our apply), both dry runs only say so, and
// status, which failed the image, passes.
func TestEnableRepairsRetiredSidecarImage(t *testing.T) {
	cluster.InstallServiceMonitorCRD(t)
	ns := cluster.NewNamespace(t, "repair")
	f := cluster.InstallFixture(t, "eck-2.15.0-all-in-one.yaml", ns)
	manualSidecar(t, f)
	rolledOut(t, ns, f.Name)
	sa := prometheusSA(t, ns, true)
	rep, _ := statusOf(t, cluster.Kubeconfig, "-n", ns, "--prometheus-sa", sa)
	expectOutcome(t, rep, status.StatefulSetSidecarImage, status.Fail, "gcr.io/kubebuilder/kube-rbac-proxy:v0.15.0 is retired")
	if hint := find(t, rep, status.StatefulSetSidecarImage).Hint; !strings.Contains(hint, "kubectl eck-metrics enable") {
		t.Errorf("hint %q", hint)
	}

	want := "image of container kube-rbac-proxy gcr.io/kubebuilder/kube-rbac-proxy:v0.15.0 -> quay.io/brancz/kube-rbac-proxy:v0.19.1 by a JSON patch at resourceVersion "
	before := cluster.Snapshot(t, ns)
	for _, dryRun := range []string{"client", "server"} {
		r := mustSucceed(t, cluster.Run(t, "enable", "-n", ns, "--dry-run="+dryRun))
		if !strings.Contains(r.Stderr, want) || !strings.Contains(r.Stderr, "(the retired image no longer pulls; the field is owned by kubectl-patch)") {
			t.Errorf("--dry-run=%s:\n%s", dryRun, r.Stderr)
		}
	}
	framework.AssertUnchanged(t, before, cluster.Snapshot(t, ns))

	r := mustSucceed(t, cluster.Run(t, "enable", "-n", ns))
	if !strings.Contains(r.Stdout, "sidecar mode (chosen by version)") || !strings.Contains(r.Stdout, want) {
		t.Errorf("enable:\n%s", r.Stdout)
	}
	sts := getStatefulSet(t, ns, f.Name)
	if c := container(t, sts, "kube-rbac-proxy"); c.Image != "quay.io/brancz/kube-rbac-proxy:v0.19.1" {
		t.Fatalf("sidecar %+v", c)
	}
	rolledOut(t, ns, f.Name)
	rep, sr := statusOf(t, cluster.Kubeconfig, "-n", ns, "--prometheus-sa", sa)
	expectAllPass(t, rep)
	if sr.Err != nil || rep.Mode != "sidecar" {
		t.Errorf("status: %v, mode %s", sr.Err, rep.Mode)
	}
	r = mustSucceed(t, cluster.Run(t, "enable", "-n", ns))
	if strings.Contains(r.Stdout, "JSON patch") || strings.Count(r.Stdout, " unchanged") != 6 {
		t.Errorf("second enable:\n%s", r.Stdout)
	}
}

// ECK 2.15's chart in secure mode: the retired gcr.io sidecar and
// metrics-host left at 0.0.0.0. status names both, with the chart's way as
// the hint; enable refuses with the same advice.
func TestHelm215SecureMode(t *testing.T) {
	ns := cluster.NewNamespace(t, "helm215")
	f := cluster.InstallFixture(t, "eck-2.15.0-helm-secure.yaml", ns)
	rolledOut(t, ns, f.Name)
	rep, r := statusOf(t, cluster.Kubeconfig, "-n", ns)
	if r.Err == nil {
		t.Error("status passed")
	}
	advice := "upgrade the chart to 2.16 or later with config.metrics.secureMode.enabled=true"
	command := "helm upgrade elastic-operator elastic/eck-operator -n " + ns + " --reuse-values --set config.metrics.secureMode.enabled=true --set config.metrics.port=8081"
	chartWay := advice + ": " + command
	expectOutcome(t, rep, status.OperatorMode, status.Pass, "sidecar")
	expectOutcome(t, rep, status.StatefulSetSidecarImage, status.Fail, "gcr.io/kubebuilder/kube-rbac-proxy:v0.15.0 is retired")
	expectOutcome(t, rep, status.ConfigHost, status.Fail, "0.0.0.0: the plain-HTTP endpoint is reachable around kube-rbac-proxy")
	for _, id := range []status.CheckID{status.StatefulSetSidecarImage, status.ConfigHost} {
		if hint := find(t, rep, id).Hint; !strings.Contains(hint, chartWay) {
			t.Errorf("%s hint %q, want %q", id, hint, chartWay)
		}
	}
	expectOutcome(t, rep, status.StatefulSetPatched, status.Pass, "kube-rbac-proxy gcr.io/kubebuilder/kube-rbac-proxy:v0.15.0")

	before := cluster.Snapshot(t, ns)
	r = cluster.Run(t, "enable", "-n", ns)
	if r.Err == nil || !strings.Contains(r.Err.Error(), "is managed by Helm") || !strings.Contains(r.Err.Error(), advice+":\n  "+command+"\n") {
		t.Errorf("enable: %v", r.Err)
	}
	framework.AssertUnchanged(t, before, cluster.Snapshot(t, ns))
}
