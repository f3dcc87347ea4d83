package integration

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"

	"github.com/eck-metrics/kubectl-eck-metrics/pkg/operator"
	"github.com/eck-metrics/kubectl-eck-metrics/pkg/patches"
	"github.com/eck-metrics/kubectl-eck-metrics/pkg/status"
	"github.com/eck-metrics/kubectl-eck-metrics/test/framework"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	corev1ac "k8s.io/client-go/applyconfigurations/core/v1"
)

// original is what an install looked like before enable, managedFields aside.
type original struct {
	configMap *corev1.ConfigMap
	spec      string
	labels    string
}

func capture(t testing.TB, f framework.Fixture, cmName string) original {
	t.Helper()
	sts := getStatefulSet(t, f.Namespace, f.Name)
	spec, _ := jsonOf(sts.Spec)
	labels, _ := jsonOf([]any{sts.Labels, sts.Annotations})
	return original{configMap: getConfigMap(t, f.Namespace, cmName), spec: spec, labels: labels}
}

func jsonOf(v any) (string, error) {
	b, err := json.Marshal(v)
	return string(b), err
}

func assertRestored(t testing.TB, f framework.Fixture, cmName string, o original, mode string) {
	t.Helper()
	cm := getConfigMap(t, f.Namespace, cmName)
	if cm.Data["eck.yaml"] != o.configMap.Data["eck.yaml"] {
		t.Errorf("eck.yaml not restored:\n%s\nwant:\n%s", cm.Data["eck.yaml"], o.configMap.Data["eck.yaml"])
	}
	if !jsonEqual(cm.Labels, o.configMap.Labels) || !jsonEqual(cm.Annotations, o.configMap.Annotations) {
		t.Errorf("ConfigMap metadata %v %v, want %v %v", cm.Labels, cm.Annotations, o.configMap.Labels, o.configMap.Annotations)
	}
	sts := getStatefulSet(t, f.Namespace, f.Name)
	if spec, _ := jsonOf(sts.Spec); spec != o.spec {
		t.Errorf("StatefulSet spec not restored:\n%s\nwant:\n%s", spec, o.spec)
	}
	if labels, _ := jsonOf([]any{sts.Labels, sts.Annotations}); labels != o.labels {
		t.Errorf("StatefulSet metadata %s, want %s", labels, o.labels)
	}
	if fieldsOf(sts, patches.FieldManager) != "" {
		t.Errorf("kubectl-eck-metrics still owns %s", fieldsOf(sts, patches.FieldManager))
	}
	role, binding := patches.RBACNames(operator.Mode(mode), f.Name)
	if _, err := cluster.Kube.RbacV1().ClusterRoles().Get(cluster.Context(t), role, metav1.GetOptions{}); !apierrors.IsNotFound(err) {
		t.Errorf("ClusterRole %s left: %v", role, err)
	}
	if _, err := cluster.Kube.RbacV1().ClusterRoleBindings().Get(cluster.Context(t), binding, metav1.GetOptions{}); !apierrors.IsNotFound(err) {
		t.Errorf("ClusterRoleBinding %s left: %v", binding, err)
	}
	if _, err := cluster.Kube.CoreV1().Services(f.Namespace).Get(cluster.Context(t), patches.ServiceName(f.Name), metav1.GetOptions{}); !apierrors.IsNotFound(err) {
		t.Errorf("Service left: %v", err)
	}
}

func TestEnableThenDisableRestoresEveryInstall(t *testing.T) {
	cluster.InstallServiceMonitorCRD(t)
	for _, tc := range []struct {
		file, cm, mode string
		extra          []string
	}{
		{"eck-3.5.0-all-in-one.yaml", "elastic-operator", "native", nil},
		{"eck-2.16.1-all-in-one.yaml", "elastic-operator", "native", nil},
		{"eck-2.15.0-all-in-one.yaml", "elastic-operator", "sidecar", nil},
		{"eck-3.5.0-custom-name.yaml", "my-eck", "native", nil},
		{"eck-3.5.0-helm.yaml", "elastic-operator", "native", []string{"--allow-helm"}},
	} {
		t.Run(tc.file, func(t *testing.T) {
			ns := cluster.NewNamespace(t, "disable")
			f := cluster.InstallFixture(t, tc.file, ns)
			o := capture(t, f, tc.cm)
			mustSucceed(t, cluster.Run(t, append([]string{"enable", "-n", ns}, tc.extra...)...))

			before := cluster.Snapshot(t, ns)
			for _, dry := range []string{"--dry-run=client", "--dry-run=server"} {
				mustSucceed(t, cluster.Run(t, append([]string{"disable", "-n", ns, dry}, tc.extra...)...))
			}
			framework.AssertUnchanged(t, before, cluster.Snapshot(t, ns))

			r := mustSucceed(t, cluster.Run(t, append([]string{"disable", "-n", ns}, tc.extra...)...))
			for _, want := range []string{"[1/5] ConfigMap eck.yaml: ConfigMap " + ns + "/" + tc.cm + " configured", "ClusterRole", "deleted", "Service " + ns + "/" + f.Name + "-metrics deleted", "ServiceMonitor " + ns + "/" + f.Name + " deleted", "StatefulSet " + ns + "/" + f.Name + " configured"} {
				if !strings.Contains(r.Stdout, want) {
					t.Errorf("output lacks %q:\n%s", want, r.Stdout)
				}
			}
			assertRestored(t, f, tc.cm, o, tc.mode)

			// Twice: a no-op.
			before = cluster.Snapshot(t, ns)
			r = mustSucceed(t, cluster.Run(t, append([]string{"disable", "-n", ns}, tc.extra...)...))
			framework.AssertUnchanged(t, before, cluster.Snapshot(t, ns))
			if strings.Contains(r.Stdout, "deleted") || strings.Contains(r.Stdout, "configured") {
				t.Errorf("second disable:\n%s", r.Stdout)
			}
		})
	}
}

func TestDisableAfterUseCert(t *testing.T) {
	ns := cluster.NewNamespace(t, "disablecert")
	f := cluster.InstallFixture(t, "eck-2.15.0-all-in-one.yaml", ns)
	o := capture(t, f, "elastic-operator")
	ca := newTestCA(t)
	good := ca.goodLeaf(t, ns)
	dir := writeFiles(t, map[string][]byte{"tls.crt": good.certPEM, "tls.key": good.keyPEM})
	mustSucceed(t, cluster.Run(t, "use-cert", "-n", ns, "--secret", "mine", "--cert", filepath.Join(dir, "tls.crt"), "--key", filepath.Join(dir, "tls.key")))
	r := mustSucceed(t, cluster.Run(t, "disable", "-n", ns))
	assertRestored(t, f, "elastic-operator", o, "sidecar")
	if !strings.Contains(r.Stdout, "left Secret "+ns+"/mine: it holds your certificate") {
		t.Errorf("output:\n%s", r.Stdout)
	}
}

// An object someone else also manages is left, and said so.
func TestDisableLeavesSharedObjects(t *testing.T) {
	ns := cluster.NewNamespace(t, "disableshared")
	cluster.InstallFixture(t, "eck-3.5.0-all-in-one.yaml", ns)
	mustSucceed(t, cluster.Run(t, "enable", "-n", ns))
	theirs := corev1ac.Service("elastic-operator-metrics", ns).WithLabels(map[string]string{"team": "observability"})
	if _, err := cluster.Kube.CoreV1().Services(ns).Apply(cluster.Context(t), theirs, metav1.ApplyOptions{FieldManager: "observability-team"}); err != nil {
		t.Fatal(err)
	}
	r := mustSucceed(t, cluster.Run(t, "disable", "-n", ns))
	if !strings.Contains(r.Stdout, "left Service "+ns+"/elastic-operator-metrics: also managed by observability-team") {
		t.Errorf("output:\n%s", r.Stdout)
	}
	if _, err := cluster.Kube.CoreV1().Services(ns).Get(cluster.Context(t), "elastic-operator-metrics", metav1.GetOptions{}); err != nil {
		t.Errorf("the shared Service was deleted: %v", err)
	}
}

// Operators of the same name in two namespaces share the cluster-wide RBAC
// names: enabling one keeps the other bound, disabling one keeps the other's.
func TestSameNameOperatorsShareRBAC(t *testing.T) {
	a := cluster.NewNamespace(t, "shared-a")
	b := cluster.NewNamespace(t, "shared-b")
	cluster.InstallFixture(t, "eck-3.5.0-all-in-one.yaml", a)
	cluster.InstallFixture(t, "eck-3.5.0-all-in-one.yaml", b)
	mustSucceed(t, cluster.Run(t, "enable", "-n", a))
	mustSucceed(t, cluster.Run(t, "enable", "-n", b))
	subjects := func() []string {
		binding, err := cluster.Kube.RbacV1().ClusterRoleBindings().Get(cluster.Context(t), "elastic-operator-metrics-auth-rolebinding", metav1.GetOptions{})
		if apierrors.IsNotFound(err) {
			return nil
		}
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, s := range binding.Subjects {
			out = append(out, s.Namespace+"/"+s.Name)
		}
		return out
	}
	if got := strings.Join(subjects(), ","); got != a+"/elastic-operator,"+b+"/elastic-operator" {
		t.Fatalf("binding subjects %s: enabling %s unbound %s", got, b, a)
	}
	// Rerunning enable on a changes nothing.
	before := cluster.Snapshot(t, a)
	mustSucceed(t, cluster.Run(t, "enable", "-n", a))
	framework.AssertUnchanged(t, before, cluster.Snapshot(t, a))

	r := mustSucceed(t, cluster.Run(t, "disable", "-n", a))
	if got := strings.Join(subjects(), ","); got != b+"/elastic-operator" {
		t.Errorf("after disabling %s the binding holds %s", a, got)
	}
	if !strings.Contains(r.Stdout, "still binds "+b+"/elastic-operator") || !strings.Contains(r.Stdout, "left ClusterRole elastic-operator-metrics-auth-role: other operators use it") {
		t.Errorf("output:\n%s", r.Stdout)
	}
	if _, err := cluster.Kube.RbacV1().ClusterRoles().Get(cluster.Context(t), "elastic-operator-metrics-auth-role", metav1.GetOptions{}); err != nil {
		t.Errorf("the role b still needs was deleted: %v", err)
	}
	rep, _ := statusOf(t, cluster.Kubeconfig, "-n", b)
	expectOutcome(t, rep, status.RBACBinding, "pass", "")

	mustSucceed(t, cluster.Run(t, "disable", "-n", b))
	if s := subjects(); s != nil {
		t.Errorf("binding left with %v", s)
	}
	if _, err := cluster.Kube.RbacV1().ClusterRoles().Get(cluster.Context(t), "elastic-operator-metrics-auth-role", metav1.GetOptions{}); !apierrors.IsNotFound(err) {
		t.Errorf("role left after the last operator: %v", err)
	}
}

// -o name says when nothing was written, as kubectl's
// PrintFlagsWithDryRunStrategy does, for enable and disable alike.
func TestOutputNameSaysDryRun(t *testing.T) {
	ns := cluster.NewNamespace(t, "oname")
	f := cluster.InstallFixture(t, "eck-3.5.0-all-in-one.yaml", ns)
	before := cluster.Snapshot(t, ns)
	for _, tc := range []struct {
		dryRun, suffix string
	}{{"client", " (dry run)"}, {"server", " (server dry run)"}} {
		r := mustSucceed(t, cluster.Run(t, "enable", "-n", ns, "--dry-run="+tc.dryRun, "-o", "name"))
		if want := "configmap/" + f.Name + " applied" + tc.suffix + "\n"; !strings.HasPrefix(r.Stdout, want) {
			t.Errorf("enable --dry-run=%s -o name:\n%s\nwant it to start with %q", tc.dryRun, r.Stdout, want)
		}
	}
	framework.AssertUnchanged(t, before, cluster.Snapshot(t, ns))

	mustSucceed(t, cluster.Run(t, "enable", "-n", ns))
	r := mustSucceed(t, cluster.Run(t, "disable", "-n", ns, "--dry-run=server", "-o", "name"))
	if want := "statefulset.apps/" + f.Name + " applied (server dry run)"; !strings.Contains(r.Stdout, want) {
		t.Errorf("disable --dry-run=server -o name:\n%s\nwant %q", r.Stdout, want)
	}
	r = mustSucceed(t, cluster.Run(t, "enable", "-n", ns, "-o", "name"))
	if strings.Contains(r.Stdout, "dry run") {
		t.Errorf("enable -o name without a dry run says dry run:\n%s", r.Stdout)
	}
}

// disable names the CA copy it leaves in Prometheus's namespace (file auth:
// the ServiceMonitor's caFile names the Secret, not its namespace).
func TestDisableReportsFileAuthCACopy(t *testing.T) {
	cluster.InstallServiceMonitorCRD(t)
	ns := cluster.NewNamespace(t, "discafile")
	prom := cluster.NewNamespace(t, "monitoring")
	cluster.InstallFixture(t, "eck-3.5.0-all-in-one.yaml", ns)
	ca := newTestCA(t)
	good := ca.goodLeaf(t, ns)
	dir := writeFiles(t, map[string][]byte{"tls.crt": good.certPEM, "tls.key": good.keyPEM, "ca.crt": ca.certPEM})
	mustSucceed(t, cluster.Run(t, "use-cert", "-n", ns, "--secret", "eck-metrics-tls",
		"--cert", filepath.Join(dir, "tls.crt"), "--key", filepath.Join(dir, "tls.key"),
		"--ca-secret", "eck-metrics-ca", "--ca", filepath.Join(dir, "ca.crt"), "--prometheus-namespace", prom))
	r := mustSucceed(t, cluster.Run(t, "disable", "-n", ns))
	want := "left Secret eck-metrics-ca in Prometheus's namespace: it holds your CA"
	if !strings.Contains(r.Stderr+r.Stdout, want) {
		t.Errorf("disable does not say %q:\nstdout:\n%s\nstderr:\n%s", want, r.Stdout, r.Stderr)
	}
	if _, err := cluster.Kube.CoreV1().Secrets(prom).Get(cluster.Context(t), "eck-metrics-ca", metav1.GetOptions{}); err != nil {
		t.Errorf("the CA copy should be left: %v", err)
	}
}
