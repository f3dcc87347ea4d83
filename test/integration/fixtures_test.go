package integration

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/eck-metrics/kubectl-eck-metrics/pkg/patches"
	authorizationv1 "k8s.io/api/authorization/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/wait"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"k8s.io/client-go/dynamic"
	"sigs.k8s.io/controller-runtime/pkg/envtest"
	"sigs.k8s.io/yaml"
)

var fixtureGVR = map[string]schema.GroupVersionResource{
	"ServiceAccount": {Version: "v1", Resource: "serviceaccounts"},
	"ConfigMap":      {Version: "v1", Resource: "configmaps"},
	"Service":        {Version: "v1", Resource: "services"},
	"StatefulSet":    {Group: "apps", Version: "v1", Resource: "statefulsets"},
	"NetworkPolicy":  {Group: "networking.k8s.io", Version: "v1", Resource: "networkpolicies"},
}

// appliedGVR are the kinds beyond the fixtures' that tests apply (GitOps
// renders).
var appliedGVR = map[string]schema.GroupVersionResource{
	"ClusterRole":        {Group: "rbac.authorization.k8s.io", Version: "v1", Resource: "clusterroles"},
	"ClusterRoleBinding": {Group: "rbac.authorization.k8s.io", Version: "v1", Resource: "clusterrolebindings"},
	"ServiceMonitor":     patches.ServiceMonitorGVR,
}

// fixture is one ECK install loaded into the test apiserver.
type fixture struct {
	Namespace string
	Name      string // the operator StatefulSet
}

// installFixture creates the objects of testdata/fixtures/FILE in namespace
// ns, as their installer would: kubectl apply (field manager
// kubectl-client-side-apply) or Helm (field manager helm).
func installFixture(t testing.TB, file, ns string) fixture {
	t.Helper()
	manager := "kubectl-client-side-apply"
	if strings.Contains(file, "helm") {
		manager = "helm"
	}
	var f fixture
	for _, obj := range fixtureObjects(t, file) {
		gvr, ok := fixtureGVR[obj.GetKind()]
		if !ok {
			t.Fatalf("fixture %s: no resource for kind %s", file, obj.GetKind())
		}
		obj.SetNamespace(ns)
		if obj.GetKind() == "StatefulSet" {
			f = fixture{Namespace: ns, Name: obj.GetName()}
		}
		if _, err := cluster.dynamic.Resource(gvr).Namespace(ns).Create(ctx(t), obj, metav1.CreateOptions{FieldManager: manager}); err != nil {
			t.Fatalf("fixture %s: create %s %s: %v", file, obj.GetKind(), obj.GetName(), err)
		}
	}
	t.Cleanup(func() { removeInstall(t, f) })
	return f
}

// forceApply server-side applies the objects as manager, taking over the
// fields others own, as "kubectl apply --server-side --force-conflicts" and
// a GitOps controller's sync do.
func forceApply(t testing.TB, manager string, objects []*unstructured.Unstructured) {
	t.Helper()
	for _, obj := range objects {
		gvr, ok := fixtureGVR[obj.GetKind()]
		if !ok {
			gvr, ok = appliedGVR[obj.GetKind()]
		}
		if !ok {
			t.Fatalf("no resource for kind %s", obj.GetKind())
		}
		var res dynamic.ResourceInterface = cluster.dynamic.Resource(gvr)
		if ns := obj.GetNamespace(); ns != "" {
			res = cluster.dynamic.Resource(gvr).Namespace(ns)
		}
		if _, err := res.Apply(ctx(t), obj.GetName(), obj, metav1.ApplyOptions{FieldManager: manager, Force: true}); err != nil {
			t.Fatalf("%s applies %s %s: %v", manager, obj.GetKind(), obj.GetName(), err)
		}
	}
}

// fixtureObjects reads the objects of testdata/fixtures/FILE.
func fixtureObjects(t testing.TB, file string) []*unstructured.Unstructured {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join(repoRoot(), "testdata", "fixtures", file))
	if err != nil {
		t.Fatal(err)
	}
	return decodeObjects(t, string(raw))
}

// decodeObjects reads YAML documents or a JSON v1 List.
func decodeObjects(t testing.TB, text string) []*unstructured.Unstructured {
	t.Helper()
	dec := utilyaml.NewYAMLOrJSONDecoder(strings.NewReader(text), 4096)
	var out []*unstructured.Unstructured
	for {
		obj := &unstructured.Unstructured{}
		if err := dec.Decode(&obj.Object); err == io.EOF {
			break
		} else if err != nil {
			t.Fatalf("decode: %v\n%s", err, text)
		}
		if len(obj.Object) == 0 {
			continue
		}
		if obj.IsList() {
			list, err := obj.ToList()
			if err != nil {
				t.Fatal(err)
			}
			for i := range list.Items {
				out = append(out, &list.Items[i])
			}
			continue
		}
		out = append(out, obj)
	}
	return out
}

// removeInstall deletes what would make the next test find two operators or
// reuse cluster-wide names: envtest never finishes deleting namespaces.
func removeInstall(t testing.TB, f fixture) {
	c := ctx(t)
	_ = cluster.kube.AppsV1().StatefulSets(f.Namespace).Delete(c, f.Name, metav1.DeleteOptions{})
	sel := metav1.ListOptions{LabelSelector: patches.ManagedByLabel + "=" + patches.FieldManager}
	_ = cluster.kube.RbacV1().ClusterRoles().DeleteCollection(c, metav1.DeleteOptions{}, sel)
	_ = cluster.kube.RbacV1().ClusterRoleBindings().DeleteCollection(c, metav1.DeleteOptions{}, sel)
}

// snapshot maps every object a command could touch to its resourceVersion.
// A failed List fails the test: two failed Lists would compare equal.
func snapshot(t testing.TB, ns string) map[string]string {
	t.Helper()
	c := ctx(t)
	out := map[string]string{}
	add := func(kind string, list runtime.Object, err error) {
		t.Helper()
		if err != nil {
			t.Fatalf("snapshot: list %s: %v", kind, err)
		}
		items, err := meta.ExtractList(list)
		if err != nil {
			t.Fatalf("snapshot: %s: %v", kind, err)
		}
		for _, item := range items {
			o, err := meta.Accessor(item)
			if err != nil {
				t.Fatalf("snapshot: %s: %v", kind, err)
			}
			out[kind+"/"+o.GetNamespace()+"/"+o.GetName()] = o.GetResourceVersion()
		}
	}
	cms, err := cluster.kube.CoreV1().ConfigMaps(ns).List(c, metav1.ListOptions{})
	add("ConfigMap", cms, err)
	svcs, err := cluster.kube.CoreV1().Services(ns).List(c, metav1.ListOptions{})
	add("Service", svcs, err)
	secrets, err := cluster.kube.CoreV1().Secrets(ns).List(c, metav1.ListOptions{})
	add("Secret", secrets, err)
	sets, err := cluster.kube.AppsV1().StatefulSets(ns).List(c, metav1.ListOptions{})
	add("StatefulSet", sets, err)
	roles, err := cluster.kube.RbacV1().ClusterRoles().List(c, metav1.ListOptions{})
	add("ClusterRole", roles, err)
	bindings, err := cluster.kube.RbacV1().ClusterRoleBindings().List(c, metav1.ListOptions{})
	add("ClusterRoleBinding", bindings, err)
	policies, err := cluster.kube.NetworkingV1().NetworkPolicies(ns).List(c, metav1.ListOptions{})
	add("NetworkPolicy", policies, err)
	sas, err := cluster.kube.CoreV1().ServiceAccounts(ns).List(c, metav1.ListOptions{})
	add("ServiceAccount", sas, err)
	for kind, gvr := range map[string]schema.GroupVersionResource{"ServiceMonitor": patches.ServiceMonitorGVR, "PodMonitor": patches.PodMonitorGVR} {
		list, err := cluster.dynamic.Resource(gvr).Namespace(ns).List(c, metav1.ListOptions{})
		if apierrors.IsNotFound(err) {
			continue // the CRD is not installed (yet)
		}
		add(kind, list, err)
	}
	return out
}

// assertUnchanged fails when any resourceVersion moved, was added or removed.
func assertUnchanged(t testing.TB, before, after map[string]string) {
	t.Helper()
	var diffs []string
	for k, v := range before {
		if after[k] != v {
			diffs = append(diffs, fmt.Sprintf("%s: %s -> %q", k, v, after[k]))
		}
	}
	for k := range after {
		if _, ok := before[k]; !ok {
			diffs = append(diffs, k+": created")
		}
	}
	sort.Strings(diffs)
	if len(diffs) > 0 {
		t.Errorf("the cluster changed:\n  %s", strings.Join(diffs, "\n  "))
	}
}

// installServiceMonitorCRD installs prometheus-operator's real
// ServiceMonitor CRD for one test and removes it after.
func installServiceMonitorCRD(t testing.TB) {
	t.Helper()
	installMonitoringCRDs(t, "servicemonitors")
}

// installMonitoringCRDs installs prometheus-operator's real CRDs (v0.85.0,
// copied to testdata/crds) of the given resources, e.g. "podmonitors" or
// "prometheuses", for one test and removes them after.
func installMonitoringCRDs(t testing.TB, resources ...string) {
	t.Helper()
	var crds []*apiextensionsv1.CustomResourceDefinition
	for _, r := range resources {
		raw, err := os.ReadFile(filepath.Join(repoRoot(), "testdata", "crds", "monitoring.coreos.com_"+r+".yaml"))
		if err != nil {
			t.Fatal(err)
		}
		crd := &apiextensionsv1.CustomResourceDefinition{}
		if err := yaml.Unmarshal(raw, crd); err != nil {
			t.Fatal(err)
		}
		crds = append(crds, crd)
	}
	installCRDs(t, crds)
}

// installCRDs installs crds for one test and removes them after. Each is
// ready once discovery serves its resource in each of its served versions
// (PrometheusAgent is v1alpha1 only), as the plugin asks discovery; and gone
// once its object is and discovery serves it no more: the next test's
// install of a CRD still terminating would wait for it in vain.
func installCRDs(t testing.TB, crds []*apiextensionsv1.CustomResourceDefinition) {
	t.Helper()
	// envtest writes into the objects it installs: give it copies. The big
	// CRDs (Prometheus: 13k lines) can take their time on a busy machine.
	opts := envtest.CRDInstallOptions{MaxTime: time.Minute}
	var names []string
	for _, crd := range crds {
		opts.CRDs = append(opts.CRDs, crd.DeepCopy())
		names = append(names, crd.Name)
	}
	if _, err := envtest.InstallCRDs(cluster.config, opts); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := envtest.UninstallCRDs(cluster.config, opts); err != nil {
			t.Error(err)
		}
		crdRes := cluster.dynamic.Resource(apiextensionsv1.SchemeGroupVersion.WithResource("customresourcedefinitions"))
		err := wait.PollUntilContextTimeout(ctx(t), 100*time.Millisecond, time.Minute, true, func(c context.Context) (bool, error) {
			for _, crd := range crds {
				if _, err := crdRes.Get(c, crd.Name, metav1.GetOptions{}); !apierrors.IsNotFound(err) {
					return false, nil
				}
			}
			served, _ := servedCRDVersions(crds)
			return served == 0, nil
		})
		if err != nil {
			t.Errorf("CRDs %v not removed: %v", names, err)
		}
	})
	err := wait.PollUntilContextTimeout(ctx(t), 100*time.Millisecond, 30*time.Second, true, func(context.Context) (bool, error) {
		served, all := servedCRDVersions(crds)
		return served == all, nil
	})
	if err != nil {
		t.Fatalf("CRDs %v not served: %v", names, err)
	}
}

// servedCRDVersions counts the served versions of crds, and how many of
// them discovery serves their resource in.
func servedCRDVersions(crds []*apiextensionsv1.CustomResourceDefinition) (inDiscovery, all int) {
	for _, crd := range crds {
		for _, v := range crd.Spec.Versions {
			if !v.Served {
				continue
			}
			all++
			list, err := cluster.kube.Discovery().ServerResourcesForGroupVersion(crd.Spec.Group + "/" + v.Name)
			if err == nil && slices.ContainsFunc(list.APIResources, func(a metav1.APIResource) bool { return a.Name == crd.Spec.Names.Plural }) {
				inDiscovery++
			}
		}
	}
	return inDiscovery, all
}

// userWithRules makes a user who may do what rules allow, cluster-wide, and
// nothing else; it returns the user's kubeconfig once RBAC answers for the
// first rule (the authorizer sees a binding a moment after it is created).
func userWithRules(t testing.TB, name string, rules ...rbacv1.PolicyRule) string {
	t.Helper()
	role := &rbacv1.ClusterRole{ObjectMeta: metav1.ObjectMeta{Name: name}, Rules: rules}
	binding := &rbacv1.ClusterRoleBinding{ObjectMeta: metav1.ObjectMeta{Name: name},
		RoleRef:  rbacv1.RoleRef{APIGroup: "rbac.authorization.k8s.io", Kind: "ClusterRole", Name: name},
		Subjects: []rbacv1.Subject{{Kind: "User", APIGroup: "rbac.authorization.k8s.io", Name: name}}}
	if _, err := cluster.kube.RbacV1().ClusterRoles().Create(ctx(t), role, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := cluster.kube.RbacV1().ClusterRoleBindings().Create(ctx(t), binding, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cluster.kube.RbacV1().ClusterRoles().Delete(context.Background(), name, metav1.DeleteOptions{})
		_ = cluster.kube.RbacV1().ClusterRoleBindings().Delete(context.Background(), name, metav1.DeleteOptions{})
	})
	first := rules[0]
	waitAllowed(t, name, nil, &authorizationv1.ResourceAttributes{Group: first.APIGroups[0], Resource: first.Resources[0], Verb: first.Verbs[0]}, true)
	kc, err := writeKubeconfig(t.TempDir(), envtest.User{Name: name})
	if err != nil {
		t.Fatal(err)
	}
	return kc
}
