package integration

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/eck-metrics/kubectl-eck-metrics/pkg/patches"
	"github.com/eck-metrics/kubectl-eck-metrics/test/framework"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
)

func mustSucceed(t testing.TB, r framework.Result) framework.Result {
	t.Helper()
	if r.Err != nil {
		t.Fatalf("command failed: %v\nstdout:\n%s\nstderr:\n%s", r.Err, r.Stdout, r.Stderr)
	}
	return r
}

func getConfigMap(t testing.TB, ns, name string) *corev1.ConfigMap {
	t.Helper()
	cm, err := cluster.Kube.CoreV1().ConfigMaps(ns).Get(cluster.Context(t), name, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return cm
}

func getStatefulSet(t testing.TB, ns, name string) *appsv1.StatefulSet {
	t.Helper()
	sts, err := cluster.Kube.AppsV1().StatefulSets(ns).Get(cluster.Context(t), name, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return sts
}

func container(t testing.TB, sts *appsv1.StatefulSet, name string) *corev1.Container {
	t.Helper()
	for i := range sts.Spec.Template.Spec.Containers {
		if sts.Spec.Template.Spec.Containers[i].Name == name {
			return &sts.Spec.Template.Spec.Containers[i]
		}
	}
	t.Fatalf("StatefulSet %s has no container %s", sts.Name, name)
	return nil
}

// fieldsOf returns the managedFields JSON a manager owns on an object.
func fieldsOf(obj metav1.Object, manager string) string {
	for _, e := range obj.GetManagedFields() {
		if e.Manager == manager && e.FieldsV1 != nil {
			return e.FieldsV1.GetRawString()
		}
	}
	return ""
}

// expectedEckYAML is the fixture's eck.yaml with the given lines replaced;
// every other line, comment and the order stay.
func expectedEckYAML(t testing.TB, original string, replace map[string]string) string {
	t.Helper()
	out := original
	for old, new := range replace {
		if !strings.Contains(out, old) {
			t.Fatalf("fixture eck.yaml has no %q", old)
		}
		out = strings.Replace(out, old, new, 1)
	}
	return out
}

func TestEnableNativeAllInOne(t *testing.T) {
	for _, file := range []string{"eck-3.5.0-all-in-one.yaml", "eck-2.16.1-all-in-one.yaml"} {
		t.Run(file, func(t *testing.T) {
			ns := cluster.NewNamespace(t, "native")
			f := cluster.InstallFixture(t, file, ns)
			original := getConfigMap(t, ns, "elastic-operator").Data["eck.yaml"]
			stsBefore := getStatefulSet(t, ns, f.Name)

			r := mustSucceed(t, cluster.Run(t, "enable", "-n", ns))
			for _, want := range []string{
				"native mode (chosen by version)",
				"[1/5] ConfigMap eck.yaml: ConfigMap " + ns + "/elastic-operator configured: eck.yaml metrics-port: 0 -> 8081, metrics-host: 0.0.0.0 (added), metrics-secure: false -> true",
				"[2/5] RBAC: ClusterRole elastic-operator-metrics-auth-role created; ClusterRoleBinding elastic-operator-metrics-auth-rolebinding created",
				"[3/5] Service: Service " + ns + "/elastic-operator-metrics created",
				"[4/5] StatefulSet: StatefulSet " + ns + "/elastic-operator configured: container manager port metrics 8081",
				"[5/5] ServiceMonitor: skipped (monitoring.coreos.com/v1 ServiceMonitor is not served in this cluster)",
			} {
				if !strings.Contains(r.Stdout, want) {
					t.Errorf("output lacks %q:\n%s", want, r.Stdout)
				}
			}

			// Step 1: only the three keys changed, in the documented order;
			// every other key and comment is as it was.
			cm := getConfigMap(t, ns, "elastic-operator")
			want := expectedEckYAML(t, original, map[string]string{
				"metrics-port: 0\n":       "metrics-port: 8081\nmetrics-host: 0.0.0.0\n",
				"metrics-secure: false\n": "metrics-secure: true\n",
			})
			if got := cm.Data["eck.yaml"]; got != want {
				t.Errorf("eck.yaml:\n%s\nwant:\n%s", got, want)
			}
			if got := fieldsOf(cm, patches.FieldManager); got != `{"f:data":{"f:eck.yaml":{}},"f:metadata":{"f:annotations":{"f:eck-metrics.kubectl.io/previous-settings":{}}}}` {
				t.Errorf("kubectl-eck-metrics owns %s on the ConfigMap, want only data.eck.yaml and its record of the previous values", got)
			}
			if got := cm.Annotations[patches.PreviousSettingsAnnotation]; got != `{"metrics-host":null,"metrics-port":"0","metrics-secure":"false"}` {
				t.Errorf("previous settings %s", got)
			}
			if got := fieldsOf(cm, "kubectl-client-side-apply"); strings.Contains(got, "eck.yaml") || !strings.Contains(got, "f:labels") {
				t.Errorf("the installer should keep its labels and lose only eck.yaml, owns %s", got)
			}

			// Step 2: the documented rules, bound to the real ServiceAccount.
			role, err := cluster.Kube.RbacV1().ClusterRoles().Get(cluster.Context(t), "elastic-operator-metrics-auth-role", metav1.GetOptions{})
			if err != nil {
				t.Fatal(err)
			}
			wantRules := []rbacv1.PolicyRule{
				{APIGroups: []string{"authentication.k8s.io"}, Resources: []string{"tokenreviews"}, Verbs: []string{"create"}},
				{APIGroups: []string{"authorization.k8s.io"}, Resources: []string{"subjectaccessreviews"}, Verbs: []string{"create"}},
			}
			if !jsonEqual(role.Rules, wantRules) {
				t.Errorf("rules %+v, want %+v", role.Rules, wantRules)
			}
			binding, err := cluster.Kube.RbacV1().ClusterRoleBindings().Get(cluster.Context(t), "elastic-operator-metrics-auth-rolebinding", metav1.GetOptions{})
			if err != nil {
				t.Fatal(err)
			}
			wantSubjects := []rbacv1.Subject{{Kind: "ServiceAccount", Name: "elastic-operator", Namespace: ns}}
			if binding.RoleRef.Name != role.Name || binding.RoleRef.Kind != "ClusterRole" || !jsonEqual(binding.Subjects, wantSubjects) {
				t.Errorf("binding %+v %+v", binding.RoleRef, binding.Subjects)
			}

			// Step 3: the documented Service.
			svc, err := cluster.Kube.CoreV1().Services(ns).Get(cluster.Context(t), "elastic-operator-metrics", metav1.GetOptions{})
			if err != nil {
				t.Fatal(err)
			}
			p := svc.Spec.Ports
			if len(p) != 1 || p[0].Name != "https" || p[0].Port != 8080 || p[0].Protocol != corev1.ProtocolTCP || p[0].TargetPort != intstr.FromString("metrics") {
				t.Errorf("Service ports %+v", p)
			}
			if !jsonEqual(svc.Spec.Selector, map[string]string{"control-plane": "elastic-operator"}) {
				t.Errorf("Service selector %v", svc.Spec.Selector)
			}
			if svc.Labels["control-plane"] != "elastic-operator" || svc.Labels["app.kubernetes.io/component"] != "metrics" {
				t.Errorf("Service labels %v", svc.Labels)
			}

			// Step 4: the manager gains the metrics port; nothing else moves.
			sts := getStatefulSet(t, ns, f.Name)
			manager := container(t, sts, "manager")
			wantPorts := []corev1.ContainerPort{
				{Name: "https-webhook", ContainerPort: 9443, Protocol: corev1.ProtocolTCP},
				{Name: "metrics", ContainerPort: 8081, Protocol: corev1.ProtocolTCP},
			}
			if !jsonEqual(manager.Ports, wantPorts) {
				t.Errorf("manager ports %+v, want %+v", manager.Ports, wantPorts)
			}
			beforeManager := container(t, stsBefore, "manager")
			if !jsonEqual(manager.Env, beforeManager.Env) || !jsonEqual(manager.VolumeMounts, beforeManager.VolumeMounts) ||
				!jsonEqual(sts.Spec.Template.Spec.Volumes, stsBefore.Spec.Template.Spec.Volumes) || len(sts.Spec.Template.Spec.Containers) != 1 {
				t.Errorf("enable touched fields it does not own")
			}
			owned := fieldsOf(sts, patches.FieldManager)
			if !strings.Contains(owned, `"k:{\"containerPort\":8081,\"protocol\":\"TCP\"}"`) || strings.Contains(owned, "f:env") || strings.Contains(owned, "f:volumes") {
				t.Errorf("kubectl-eck-metrics owns %s on the StatefulSet", owned)
			}

			// A second run changes nothing and says so for every step.
			before := cluster.Snapshot(t, ns)
			r = mustSucceed(t, cluster.Run(t, "enable", "-n", ns))
			framework.AssertUnchanged(t, before, cluster.Snapshot(t, ns))
			for _, line := range strings.Split(strings.TrimSpace(r.Stdout), "\n")[1:5] {
				if !strings.HasSuffix(line, "unchanged") {
					t.Errorf("second run line %q does not say unchanged", line)
				}
			}
			if c := strings.Count(r.Stdout, " unchanged"); c != 5 {
				t.Errorf("second run: %d unchanged objects, want 5:\n%s", c, r.Stdout)
			}
		})
	}
}

func jsonEqual(a, b any) bool {
	ja, _ := json.Marshal(a)
	jb, _ := json.Marshal(b)
	return string(ja) == string(jb)
}

func TestEnableSidecar(t *testing.T) {
	ns := cluster.NewNamespace(t, "sidecar")
	f := cluster.InstallFixture(t, "eck-2.15.0-all-in-one.yaml", ns)
	original := getConfigMap(t, ns, "elastic-operator").Data["eck.yaml"]

	r := mustSucceed(t, cluster.Run(t, "enable", "-n", ns))
	if !strings.Contains(r.Stdout, "ECK 2.15.0, sidecar mode (chosen by version)") {
		t.Errorf("output:\n%s", r.Stdout)
	}
	want := expectedEckYAML(t, original, map[string]string{"metrics-port: 0\n": "metrics-port: 8081\nmetrics-host: 127.0.0.1\n"})
	if got := getConfigMap(t, ns, "elastic-operator").Data["eck.yaml"]; got != want {
		t.Errorf("eck.yaml:\n%s\nwant:\n%s", got, want)
	}
	for _, name := range []string{"elastic-operator-proxy-role"} {
		if _, err := cluster.Kube.RbacV1().ClusterRoles().Get(cluster.Context(t), name, metav1.GetOptions{}); err != nil {
			t.Error(err)
		}
	}
	binding, err := cluster.Kube.RbacV1().ClusterRoleBindings().Get(cluster.Context(t), "elastic-operator-proxy-rolebinding", metav1.GetOptions{})
	if err != nil || binding.RoleRef.Name != "elastic-operator-proxy-role" || binding.Subjects[0].Name != "elastic-operator" {
		t.Errorf("binding %+v, %v", binding, err)
	}

	sts := getStatefulSet(t, ns, f.Name)
	if n := len(sts.Spec.Template.Spec.Containers); n != 2 {
		t.Fatalf("%d containers, want manager and kube-rbac-proxy", n)
	}
	if ports := container(t, sts, "manager").Ports; len(ports) != 1 {
		t.Errorf("sidecar mode must not add a port to manager: %+v", ports)
	}
	proxy := container(t, sts, "kube-rbac-proxy")
	if proxy.Image != patches.DefaultSidecarImg || strings.HasPrefix(proxy.Image, "gcr.io/") {
		t.Errorf("image %s", proxy.Image)
	}
	wantArgs := []string{"--secure-listen-address=0.0.0.0:8080", "--upstream=http://127.0.0.1:8081", "--logtostderr=true", "--v=0"}
	if !jsonEqual(proxy.Args, wantArgs) {
		t.Errorf("args %v", proxy.Args)
	}
	if !jsonEqual(proxy.Ports, []corev1.ContainerPort{{Name: "metrics", ContainerPort: 8080, Protocol: corev1.ProtocolTCP}}) {
		t.Errorf("ports %+v", proxy.Ports)
	}
	sc := proxy.SecurityContext
	if sc == nil || sc.AllowPrivilegeEscalation == nil || *sc.AllowPrivilegeEscalation || sc.Capabilities == nil || !jsonEqual(sc.Capabilities.Drop, []corev1.Capability{"ALL"}) {
		t.Errorf("securityContext %+v", sc)
	}
	res := proxy.Resources
	if res.Limits.Cpu().String() != "500m" || res.Limits.Memory().String() != "128Mi" || res.Requests.Cpu().String() != "5m" || res.Requests.Memory().String() != "64Mi" {
		t.Errorf("resources %+v", res)
	}

	before := cluster.Snapshot(t, ns)
	mustSucceed(t, cluster.Run(t, "enable", "-n", ns))
	framework.AssertUnchanged(t, before, cluster.Snapshot(t, ns))
}

func TestEnableCustomNamespaceNameAndServiceAccount(t *testing.T) {
	ns := cluster.NewNamespace(t, "custom")
	cluster.InstallFixture(t, "eck-3.5.0-custom-name.yaml", ns)
	// No --name: found by its labels in the namespace; names from the StatefulSet.
	r := mustSucceed(t, cluster.Run(t, "enable", "-n", ns))
	if !strings.Contains(r.Stdout, "Operator "+ns+"/my-eck: ECK 3.5.0") {
		t.Errorf("output:\n%s", r.Stdout)
	}
	binding, err := cluster.Kube.RbacV1().ClusterRoleBindings().Get(cluster.Context(t), "my-eck-metrics-auth-rolebinding", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if !jsonEqual(binding.Subjects, []rbacv1.Subject{{Kind: "ServiceAccount", Name: "eck-operator-sa", Namespace: ns}}) {
		t.Errorf("subjects %+v", binding.Subjects)
	}
	if _, err := cluster.Kube.CoreV1().Services(ns).Get(cluster.Context(t), "my-eck-metrics", metav1.GetOptions{}); err != nil {
		t.Error(err)
	}
	if !strings.Contains(getConfigMap(t, ns, "my-eck").Data["eck.yaml"], "metrics-secure: true") {
		t.Error("ConfigMap my-eck not edited")
	}
}

func TestEnableFindsOperatorWithoutNamespace(t *testing.T) {
	cluster.EnsureNamespace(t, "elastic-system")
	cluster.InstallFixture(t, "eck-3.5.0-all-in-one.yaml", "elastic-system")
	r := mustSucceed(t, cluster.Run(t, "enable", "--dry-run=client"))
	if !strings.Contains(r.Stderr, "Operator elastic-system/elastic-operator: ECK 3.5.0") {
		t.Errorf("stderr:\n%s", r.Stderr)
	}

	// Two operators: a clear error that lists both and the flags that pick one.
	other := cluster.NewNamespace(t, "second")
	cluster.InstallFixture(t, "eck-2.15.0-all-in-one.yaml", other)
	before := cluster.Snapshot(t, "elastic-system")
	r = cluster.Run(t, "enable")
	if r.Err == nil || !strings.Contains(r.Err.Error(), "found 2 ECK operators (elastic-system/elastic-operator, "+other+"/elastic-operator): pick one with -n NAMESPACE and --name NAME") {
		t.Errorf("err = %v", r.Err)
	}
	framework.AssertUnchanged(t, before, cluster.Snapshot(t, "elastic-system"))
}

func TestEnableHelmInstall(t *testing.T) {
	ns := cluster.NewNamespace(t, "helm")
	cluster.InstallFixture(t, "eck-3.5.0-helm.yaml", ns)
	before := cluster.Snapshot(t, ns)
	r := cluster.Run(t, "enable", "-n", ns)
	wantHelm := "helm upgrade elastic-operator elastic/eck-operator -n " + ns + " --reuse-values --version 3.5.0 --set config.metrics.secureMode.enabled=true --set config.metrics.port=8081"
	if r.Err == nil || !strings.Contains(r.Err.Error(), "is managed by Helm") || !strings.Contains(r.Err.Error(), wantHelm) || !strings.Contains(r.Err.Error(), "--allow-helm") {
		t.Fatalf("err = %v", r.Err)
	}
	framework.AssertUnchanged(t, before, cluster.Snapshot(t, ns))

	r = mustSucceed(t, cluster.Run(t, "enable", "-n", ns, "--allow-helm"))
	if !strings.Contains(r.Stderr, "Warning:") || !strings.Contains(r.Stderr, "the next helm upgrade reverts these changes") {
		t.Errorf("stderr:\n%s", r.Stderr)
	}
	// The Service selects the chart's pod labels, which carry no control-plane label.
	svc, err := cluster.Kube.CoreV1().Services(ns).Get(cluster.Context(t), "elastic-operator-metrics", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	wantSel := map[string]string{"app.kubernetes.io/name": "elastic-operator", "app.kubernetes.io/instance": "elastic-operator"}
	if !jsonEqual(svc.Spec.Selector, wantSel) {
		t.Errorf("selector %v, want %v", svc.Spec.Selector, wantSel)
	}
	cm := getConfigMap(t, ns, "elastic-operator")
	if !strings.Contains(fieldsOf(cm, "helm"), "f:labels") || strings.Contains(fieldsOf(cm, "helm"), "eck.yaml") {
		t.Errorf("helm should keep its labels and lose only eck.yaml: %s", fieldsOf(cm, "helm"))
	}
}

func TestEnableDryRunClientGolden(t *testing.T) {
	for _, tc := range []struct{ file, golden string }{
		{"eck-3.5.0-all-in-one.yaml", "enable-native.yaml"},
		{"eck-2.15.0-all-in-one.yaml", "enable-sidecar.yaml"},
	} {
		t.Run(tc.golden, func(t *testing.T) {
			cluster.InstallServiceMonitorCRD(t)
			ns := "golden-" + strings.TrimSuffix(tc.golden, ".yaml")
			cluster.EnsureNamespace(t, ns)
			cluster.InstallFixture(t, tc.file, ns)
			before := cluster.Snapshot(t, ns)
			r := mustSucceed(t, cluster.Run(t, "enable", "-n", ns, "--dry-run=client", "--service-monitor-label", "release=prometheus"))
			framework.AssertUnchanged(t, before, cluster.Snapshot(t, ns))
			compareGolden(t, filepath.Join("enable", tc.golden), r.Stdout)
			for i := 1; i <= 5; i++ {
				if !strings.Contains(r.Stderr, "["+string(rune('0'+i))+"/5]") {
					t.Errorf("stderr lacks step %d:\n%s", i, r.Stderr)
				}
			}

			r = mustSucceed(t, cluster.Run(t, "enable", "-n", ns, "--dry-run=client", "-o", "json"))
			var list struct {
				APIVersion, Kind string
				Items            []struct{ Kind string }
			}
			if err := json.Unmarshal([]byte(r.Stdout), &list); err != nil {
				t.Fatalf("-o json is not one JSON object: %v\n%s", err, r.Stdout)
			}
			var kinds []string
			for _, it := range list.Items {
				kinds = append(kinds, it.Kind)
			}
			if list.APIVersion != "v1" || list.Kind != "List" || strings.Join(kinds, ",") != "ConfigMap,ClusterRole,ClusterRoleBinding,Service,StatefulSet,ServiceMonitor" {
				t.Errorf("got %s %s with %v", list.APIVersion, list.Kind, kinds)
			}
			framework.AssertUnchanged(t, before, cluster.Snapshot(t, ns))
		})
	}
}

// compareGolden compares output with testdata/golden/NAME (-update rewrites it).
func compareGolden(t testing.TB, name, got string) {
	t.Helper()
	path := filepath.Join(framework.RepoRoot(), "testdata", "golden", name)
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run the tests with -update to create it)", err)
	}
	if string(want) != got {
		t.Errorf("output differs from %s (rerun with -update if intended):\n--- got\n%s\n--- want\n%s", path, got, want)
	}
}

func TestEnableDryRunServer(t *testing.T) {
	ns := cluster.NewNamespace(t, "srvdry")
	cluster.InstallFixture(t, "eck-3.5.0-all-in-one.yaml", ns)
	before := cluster.Snapshot(t, ns)
	r := mustSucceed(t, cluster.Run(t, "enable", "-n", ns, "--dry-run=server"))
	framework.AssertUnchanged(t, before, cluster.Snapshot(t, ns))
	if strings.Contains(r.Stdout, "managedFields") {
		t.Error("server dry run printed managedFields")
	}
	// What the server would store: the merged objects, not only our patch.
	for _, want := range []string{"metrics-secure: true", "name: https-webhook", "containerPort: 8081", "uid:", "kind: ClusterRoleBinding"} {
		if !strings.Contains(r.Stdout, want) {
			t.Errorf("server dry run output lacks %q", want)
		}
	}
	if !strings.Contains(r.Stderr, "created (server dry run)") || !strings.Contains(r.Stderr, "configured (server dry run)") {
		t.Errorf("stderr:\n%s", r.Stderr)
	}
	if _, err := cluster.Kube.CoreV1().Services(ns).Get(cluster.Context(t), "elastic-operator-metrics", metav1.GetOptions{}); !apierrors.IsNotFound(err) {
		t.Errorf("server dry run created the Service: %v", err)
	}
}
