package framework

import (
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/eck-metrics/kubectl-eck-metrics/pkg/patches"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"k8s.io/client-go/dynamic"
)

// fixtureGVR are the (namespaced) kinds of testdata/fixtures.
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

// Fixture is one ECK install loaded into the control plane.
type Fixture struct {
	Namespace string
	Name      string // the operator StatefulSet
}

// InstallFixture creates the objects of testdata/fixtures/FILE in namespace
// ns, as their installer would: kubectl apply (field manager
// kubectl-client-side-apply) or Helm (field manager helm). The operator
// StatefulSet and the plugin's cluster-scoped objects are deleted after the
// test: envtest never finishes deleting namespaces.
func (c *Cluster) InstallFixture(t testing.TB, file, ns string) Fixture {
	t.Helper()
	manager := "kubectl-client-side-apply"
	if strings.Contains(file, "helm") {
		manager = "helm"
	}
	var f Fixture
	for _, obj := range FixtureObjects(t, file) {
		gvr, ok := fixtureGVR[obj.GetKind()]
		if !ok {
			t.Fatalf("fixture %s: no resource for kind %s", file, obj.GetKind())
		}
		obj.SetNamespace(ns)
		if obj.GetKind() == "StatefulSet" {
			f = Fixture{Namespace: ns, Name: obj.GetName()}
		}
		if _, err := c.Dynamic.Resource(gvr).Namespace(ns).Create(c.Context(t), obj, metav1.CreateOptions{FieldManager: manager}); err != nil {
			t.Fatalf("fixture %s: create %s %s: %v", file, obj.GetKind(), obj.GetName(), err)
		}
	}
	t.Cleanup(func() { c.RemoveInstall(t, f) })
	return f
}

// RemoveInstall deletes what would make the next test find two operators or
// reuse cluster-wide names.
func (c *Cluster) RemoveInstall(t testing.TB, f Fixture) {
	ctx := c.Context(t)
	_ = c.Kube.AppsV1().StatefulSets(f.Namespace).Delete(ctx, f.Name, metav1.DeleteOptions{})
	sel := metav1.ListOptions{LabelSelector: patches.ManagedByLabel + "=" + patches.FieldManager}
	_ = c.Kube.RbacV1().ClusterRoles().DeleteCollection(ctx, metav1.DeleteOptions{}, sel)
	_ = c.Kube.RbacV1().ClusterRoleBindings().DeleteCollection(ctx, metav1.DeleteOptions{}, sel)
}

// ForceApply server-side applies the objects as manager, taking over the
// fields others own, as "kubectl apply --server-side --force-conflicts" and
// a GitOps controller's sync do.
func (c *Cluster) ForceApply(t testing.TB, manager string, objects []*unstructured.Unstructured) {
	t.Helper()
	for _, obj := range objects {
		gvr, ok := fixtureGVR[obj.GetKind()]
		if !ok {
			gvr, ok = appliedGVR[obj.GetKind()]
		}
		if !ok {
			t.Fatalf("no resource for kind %s", obj.GetKind())
		}
		var res dynamic.ResourceInterface = c.Dynamic.Resource(gvr)
		if ns := obj.GetNamespace(); ns != "" {
			res = c.Dynamic.Resource(gvr).Namespace(ns)
		}
		if _, err := res.Apply(c.Context(t), obj.GetName(), obj, metav1.ApplyOptions{FieldManager: manager, Force: true}); err != nil {
			t.Fatalf("%s applies %s %s: %v", manager, obj.GetKind(), obj.GetName(), err)
		}
	}
}

// FixtureObjects reads the objects of testdata/fixtures/FILE.
func FixtureObjects(t testing.TB, file string) []*unstructured.Unstructured {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join(RepoRoot(), "testdata", "fixtures", file))
	if err != nil {
		t.Fatal(err)
	}
	return DecodeObjects(t, string(raw))
}

// DecodeObjects reads YAML documents or a JSON v1 List.
func DecodeObjects(t testing.TB, text string) []*unstructured.Unstructured {
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
