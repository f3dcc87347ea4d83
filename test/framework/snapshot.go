package framework

import (
	"fmt"
	"sort"
	"strings"
	"testing"

	"github.com/eck-metrics/kubectl-eck-metrics/pkg/patches"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

// Snapshot maps every object a command could touch in ns (and the
// cluster-scoped RBAC) to its resourceVersion. A failed List fails the
// test: two failed Lists would compare equal.
func (c *Cluster) Snapshot(t testing.TB, ns string) map[string]string {
	t.Helper()
	ctx := c.Context(t)
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
	cms, err := c.Kube.CoreV1().ConfigMaps(ns).List(ctx, metav1.ListOptions{})
	add("ConfigMap", cms, err)
	svcs, err := c.Kube.CoreV1().Services(ns).List(ctx, metav1.ListOptions{})
	add("Service", svcs, err)
	secrets, err := c.Kube.CoreV1().Secrets(ns).List(ctx, metav1.ListOptions{})
	add("Secret", secrets, err)
	sets, err := c.Kube.AppsV1().StatefulSets(ns).List(ctx, metav1.ListOptions{})
	add("StatefulSet", sets, err)
	roles, err := c.Kube.RbacV1().ClusterRoles().List(ctx, metav1.ListOptions{})
	add("ClusterRole", roles, err)
	bindings, err := c.Kube.RbacV1().ClusterRoleBindings().List(ctx, metav1.ListOptions{})
	add("ClusterRoleBinding", bindings, err)
	policies, err := c.Kube.NetworkingV1().NetworkPolicies(ns).List(ctx, metav1.ListOptions{})
	add("NetworkPolicy", policies, err)
	sas, err := c.Kube.CoreV1().ServiceAccounts(ns).List(ctx, metav1.ListOptions{})
	add("ServiceAccount", sas, err)
	for kind, gvr := range map[string]schema.GroupVersionResource{"ServiceMonitor": patches.ServiceMonitorGVR, "PodMonitor": patches.PodMonitorGVR, "PrometheusRule": patches.PrometheusRuleGVR} {
		list, err := c.Dynamic.Resource(gvr).Namespace(ns).List(ctx, metav1.ListOptions{})
		if apierrors.IsNotFound(err) {
			continue // the CRD is not installed (yet)
		}
		add(kind, list, err)
	}
	return out
}

// AssertUnchanged fails when any resourceVersion moved, was added or removed.
func AssertUnchanged(t testing.TB, before, after map[string]string) {
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
