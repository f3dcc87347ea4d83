package apply

// Unit tests of the pure functions of the apply engine: no cluster, no
// envtest, no kubeconfig. WaitForRollout and the Runner need a client and
// are covered by test/integration.

import (
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	appsv1ac "k8s.io/client-go/applyconfigurations/apps/v1"
	corev1ac "k8s.io/client-go/applyconfigurations/core/v1"
	rbacv1ac "k8s.io/client-go/applyconfigurations/rbac/v1"
	"k8s.io/utils/ptr"
)

const unitManager = "kubectl-eck-metrics"

func TestParseDryRun(t *testing.T) {
	for in, want := range map[string]DryRun{
		"":       DryRunNone,
		"none":   DryRunNone,
		"client": DryRunClient,
		"server": DryRunServer,
	} {
		got, err := ParseDryRun(in)
		if err != nil || got != want {
			t.Errorf("ParseDryRun(%q) = (%q, %v), want (%q, nil)", in, got, err, want)
		}
	}
	for _, in := range []string{"true", "false", "Client", "all", " server"} {
		got, err := ParseDryRun(in)
		if err == nil {
			t.Errorf("ParseDryRun(%q) = %q, want an error", in, got)
			continue
		}
		if got != "" {
			t.Errorf("ParseDryRun(%q) returned %q with its error, want \"\"", in, got)
		}
		want := fmt.Sprintf(`invalid --dry-run value %q: use "none", "client" or "server"`, in)
		if err.Error() != want {
			t.Errorf("ParseDryRun(%q) error = %q, want %q", in, err, want)
		}
	}
}

// unitServiceMonitor is a live-looking ServiceMonitor.
func unitServiceMonitor(resourceVersion, interval string) *unstructured.Unstructured {
	return &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "monitoring.coreos.com/v1",
		"kind":       "ServiceMonitor",
		"metadata": map[string]any{
			"name":            "elastic-operator",
			"namespace":       "elastic-system",
			"resourceVersion": resourceVersion,
			"labels":          map[string]any{"app.kubernetes.io/managed-by": unitManager},
		},
		"spec": map[string]any{
			"endpoints": []any{map[string]any{"port": "https", "interval": interval}},
			"selector":  map[string]any{"matchLabels": map[string]any{"app.kubernetes.io/component": "metrics"}},
		},
	}}
}

func TestSameContentIgnoresResourceVersion(t *testing.T) {
	a := unitServiceMonitor("100", "30s")
	b := unitServiceMonitor("200", "30s")
	same, err := sameContent(a, b)
	if err != nil || !same {
		t.Fatalf("sameContent() = (%v, %v) for objects differing only in resourceVersion, want (true, nil)", same, err)
	}
	// Only one side carries the precondition.
	unstructured.RemoveNestedField(b.Object, "metadata", "resourceVersion")
	if same, err := sameContent(a, b); err != nil || !same {
		t.Fatalf("sameContent() = (%v, %v) with resourceVersion on one side only, want (true, nil)", same, err)
	}
	// The comparison works on copies: the callers' objects keep their
	// resourceVersion (the apply sends it as a precondition).
	if rv := a.GetResourceVersion(); rv != "100" {
		t.Errorf("sameContent() changed its argument's resourceVersion to %q", rv)
	}
}

func TestSameContentDetectsChanges(t *testing.T) {
	base := unitServiceMonitor("1", "30s")
	tests := map[string]func(u *unstructured.Unstructured){
		"changed value": func(u *unstructured.Unstructured) {
			_ = unstructured.SetNestedSlice(u.Object, []any{map[string]any{"port": "https", "interval": "60s"}}, "spec", "endpoints")
		},
		"added label": func(u *unstructured.Unstructured) {
			u.SetLabels(map[string]string{"app.kubernetes.io/managed-by": unitManager, "release": "prometheus"})
		},
		"removed field": func(u *unstructured.Unstructured) {
			unstructured.RemoveNestedField(u.Object, "spec", "selector")
		},
		"other name": func(u *unstructured.Unstructured) { u.SetName("other") },
	}
	for name, change := range tests {
		t.Run(name, func(t *testing.T) {
			other := base.DeepCopy()
			change(other)
			same, err := sameContent(base, other)
			if err != nil || same {
				t.Errorf("sameContent() = (%v, %v), want (false, nil)", same, err)
			}
		})
	}
	// nil owned (extraction failed) never equals a desired object.
	if same, err := sameContent(base, nil); err != nil || same {
		t.Errorf("sameContent(desired, nil) = (%v, %v), want (false, nil)", same, err)
	}
}

func unitApplyEntry(manager string, op metav1.ManagedFieldsOperationType, apiVersion, fields string) metav1.ManagedFieldsEntry {
	return metav1.ManagedFieldsEntry{
		Manager:    manager,
		Operation:  op,
		APIVersion: apiVersion,
		FieldsType: "FieldsV1",
		FieldsV1:   metav1.NewFieldsV1(fields),
	}
}

// unitAssertWalkMatchesExtract: the schema-free walk of the managed fields
// finds what client-go's Extract (with the schema) finds.
func unitAssertWalkMatchesExtract(t *testing.T, live metav1.Object, apiVersion, kind string, extracted any) {
	t.Helper()
	walked, ok := extractOwned(live, apiVersion, kind, unitManager)
	if !ok {
		t.Fatal("extractOwned() ok = false, want true")
	}
	if same, err := sameContent(walked, extracted); err != nil || !same {
		w, _ := json.Marshal(walked)
		e, _ := json.Marshal(extracted)
		t.Errorf("extractOwned() differs from Extract():\n walked    %s\n extracted %s", w, e)
	}
}

func TestSameContentTypedVsExtract(t *testing.T) {
	t.Run("ConfigMap", func(t *testing.T) {
		live := &corev1.ConfigMap{
			ObjectMeta: metav1.ObjectMeta{
				Name: "elastic-operator", Namespace: "elastic-system", ResourceVersion: "42",
				Labels: map[string]string{"control-plane": "elastic-operator"},
				ManagedFields: []metav1.ManagedFieldsEntry{
					unitApplyEntry(unitManager, metav1.ManagedFieldsOperationApply, "v1", `{"f:data":{"f:eck.yaml":{}}}`),
					unitApplyEntry("helm", metav1.ManagedFieldsOperationUpdate, "v1", `{"f:metadata":{"f:labels":{".":{},"f:control-plane":{}}},"f:data":{".":{},"f:other":{}}}`),
				},
			},
			Data: map[string]string{"eck.yaml": "metrics-port: 8081\n", "other": "x"},
		}
		owned, err := corev1ac.ExtractConfigMap(live, unitManager)
		if err != nil {
			t.Fatal(err)
		}
		unitAssertWalkMatchesExtract(t, live, "v1", "ConfigMap", owned)
		desired := corev1ac.ConfigMap("elastic-operator", "elastic-system").
			WithResourceVersion("42").
			WithData(map[string]string{"eck.yaml": "metrics-port: 8081\n"})
		if same, err := sameContent(desired, owned); err != nil || !same {
			t.Errorf("sameContent(desired, Extract(live)) = (%v, %v), want (true, nil)", same, err)
		}
		changed := corev1ac.ConfigMap("elastic-operator", "elastic-system").
			WithResourceVersion("42").
			WithData(map[string]string{"eck.yaml": "metrics-port: 9090\n"})
		if same, err := sameContent(changed, owned); err != nil || same {
			t.Errorf("sameContent(changed eck.yaml, Extract(live)) = (%v, %v), want (false, nil)", same, err)
		}
	})

	t.Run("ClusterRole with an atomic list", func(t *testing.T) {
		rules := []rbacv1.PolicyRule{{APIGroups: []string{"authentication.k8s.io"}, Resources: []string{"tokenreviews"}, Verbs: []string{"create"}}}
		live := &rbacv1.ClusterRole{
			ObjectMeta: metav1.ObjectMeta{
				Name: "elastic-operator-metrics-auth-role", ResourceVersion: "7",
				Labels: map[string]string{"app.kubernetes.io/managed-by": unitManager},
				ManagedFields: []metav1.ManagedFieldsEntry{
					unitApplyEntry(unitManager, metav1.ManagedFieldsOperationApply, "rbac.authorization.k8s.io/v1",
						`{"f:metadata":{"f:labels":{"f:app.kubernetes.io/managed-by":{}}},"f:rules":{}}`),
				},
			},
			Rules: rules,
		}
		owned, err := rbacv1ac.ExtractClusterRole(live, unitManager)
		if err != nil {
			t.Fatal(err)
		}
		unitAssertWalkMatchesExtract(t, live, "rbac.authorization.k8s.io/v1", "ClusterRole", owned)
		desired := func(verb string) *rbacv1ac.ClusterRoleApplyConfiguration {
			return rbacv1ac.ClusterRole("elastic-operator-metrics-auth-role").
				WithLabels(map[string]string{"app.kubernetes.io/managed-by": unitManager}).
				WithRules(rbacv1ac.PolicyRule().WithAPIGroups("authentication.k8s.io").WithResources("tokenreviews").WithVerbs(verb))
		}
		if same, err := sameContent(desired("create"), owned); err != nil || !same {
			t.Errorf("sameContent(desired, Extract(live)) = (%v, %v), want (true, nil)", same, err)
		}
		if same, err := sameContent(desired("get"), owned); err != nil || same {
			t.Errorf("sameContent(other verb, Extract(live)) = (%v, %v), want (false, nil)", same, err)
		}
	})

	t.Run("StatefulSet container port", func(t *testing.T) {
		live := &appsv1.StatefulSet{
			ObjectMeta: metav1.ObjectMeta{
				Name: "elastic-operator", Namespace: "elastic-system", ResourceVersion: "9",
				ManagedFields: []metav1.ManagedFieldsEntry{
					unitApplyEntry(unitManager, metav1.ManagedFieldsOperationApply, "apps/v1",
						`{"f:spec":{"f:template":{"f:spec":{"f:containers":{"k:{\"name\":\"manager\"}":{".":{},"f:name":{},"f:ports":{"k:{\"containerPort\":8081,\"protocol\":\"TCP\"}":{".":{},"f:containerPort":{},"f:name":{},"f:protocol":{}}}}}}}}}`),
				},
			},
			Spec: appsv1.StatefulSetSpec{
				Replicas: ptr.To[int32](1),
				Template: corev1.PodTemplateSpec{Spec: corev1.PodSpec{Containers: []corev1.Container{{
					Name:  "manager",
					Image: "docker.elastic.co/eck/eck-operator:3.0.0",
					Ports: []corev1.ContainerPort{{Name: "metrics", ContainerPort: 8081, Protocol: corev1.ProtocolTCP}},
				}}}},
			},
		}
		owned, err := appsv1ac.ExtractStatefulSet(live, unitManager)
		if err != nil {
			t.Fatal(err)
		}
		unitAssertWalkMatchesExtract(t, live, "apps/v1", "StatefulSet", owned)
		desired := func(port int32) *appsv1ac.StatefulSetApplyConfiguration {
			return appsv1ac.StatefulSet("elastic-operator", "elastic-system").WithSpec(appsv1ac.StatefulSetSpec().
				WithTemplate(corev1ac.PodTemplateSpec().WithSpec(corev1ac.PodSpec().
					WithContainers(corev1ac.Container().WithName("manager").
						WithPorts(corev1ac.ContainerPort().WithName("metrics").WithContainerPort(port).WithProtocol(corev1.ProtocolTCP))))))
		}
		if same, err := sameContent(desired(8081), owned); err != nil || !same {
			t.Errorf("sameContent(desired, Extract(live)) = (%v, %v), want (true, nil)", same, err)
		}
		if same, err := sameContent(desired(9090), owned); err != nil || same {
			t.Errorf("sameContent(other port, Extract(live)) = (%v, %v), want (false, nil)", same, err)
		}
	})
}

func TestToUnstructuredApplyConfiguration(t *testing.T) {
	cm := corev1ac.ConfigMap("elastic-operator", "elastic-system").WithData(map[string]string{"eck.yaml": "a: b\n"})
	u, err := ToUnstructured(cm)
	if err != nil {
		t.Fatal(err)
	}
	if u.GetAPIVersion() != "v1" || u.GetKind() != "ConfigMap" {
		t.Errorf("apiVersion/kind = %q/%q, want v1/ConfigMap", u.GetAPIVersion(), u.GetKind())
	}
	if u.GetName() != "elastic-operator" || u.GetNamespace() != "elastic-system" {
		t.Errorf("name = %s/%s, want elastic-system/elastic-operator", u.GetNamespace(), u.GetName())
	}
	if v, _, _ := unstructured.NestedString(u.Object, "data", "eck.yaml"); v != "a: b\n" {
		t.Errorf("data.eck.yaml = %q, want %q", v, "a: b\n")
	}

	sts := appsv1ac.StatefulSet("elastic-operator", "elastic-system")
	u, err = ToUnstructured(sts)
	if err != nil {
		t.Fatal(err)
	}
	if gvk := u.GroupVersionKind(); gvk != (schema.GroupVersionKind{Group: "apps", Version: "v1", Kind: "StatefulSet"}) {
		t.Errorf("GVK = %v, want apps/v1 StatefulSet", gvk)
	}

	if _, err := ToUnstructured(map[string]any{"bad": make(chan int)}); err == nil {
		t.Error("ToUnstructured(unmarshalable value) returned no error")
	}
}

func TestToUnstructuredDeepCopiesUnstructured(t *testing.T) {
	in := unitServiceMonitor("5", "30s")
	out, err := ToUnstructured(in)
	if err != nil {
		t.Fatal(err)
	}
	if out == in {
		t.Fatal("ToUnstructured returned its argument, want a copy")
	}
	if !reflect.DeepEqual(out.Object, in.Object) {
		t.Fatalf("copy differs:\n got %v\nwant %v", out.Object, in.Object)
	}
	out.SetName("changed")
	unstructured.RemoveNestedField(out.Object, "metadata", "resourceVersion")
	eps, _, _ := unstructured.NestedSlice(out.Object, "spec", "endpoints")
	eps[0].(map[string]any)["interval"] = "1h"
	_ = unstructured.SetNestedSlice(out.Object, eps, "spec", "endpoints")
	out.Object["spec"].(map[string]any)["selector"].(map[string]any)["matchLabels"] = map[string]any{}

	if !reflect.DeepEqual(in.Object, unitServiceMonitor("5", "30s").Object) {
		t.Errorf("changing the copy changed the input: %v", in.Object)
	}
}

// unitLiveServiceMonitor is a ServiceMonitor as read, with managedFields.
func unitLiveServiceMonitor(entries ...metav1.ManagedFieldsEntry) *unstructured.Unstructured {
	u := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "monitoring.coreos.com/v1",
		"kind":       "ServiceMonitor",
		"metadata": map[string]any{
			"name":            "elastic-operator",
			"namespace":       "elastic-system",
			"resourceVersion": "12",
			"uid":             "0b1c",
			"labels":          map[string]any{"a": "1", "b": "2", "app.kubernetes.io/managed-by": unitManager},
		},
		"spec": map[string]any{
			"endpoints": []any{
				map[string]any{"port": "https", "path": "/metrics", "tlsConfig": map[string]any{"insecureSkipVerify": true}},
			},
			"selector":          map[string]any{"matchLabels": map[string]any{"app.kubernetes.io/component": "metrics", "x": "y"}},
			"namespaceSelector": map[string]any{"matchNames": []any{"elastic-system"}},
			"jobLabel":          "job",
		},
	}}
	u.SetManagedFields(entries)
	return u
}

func TestExtractOwnedUnstructured(t *testing.T) {
	live := unitLiveServiceMonitor(
		unitApplyEntry(unitManager, metav1.ManagedFieldsOperationApply, "monitoring.coreos.com/v1",
			`{"f:metadata":{"f:labels":{".":{},"f:a":{},"f:app.kubernetes.io/managed-by":{}}},"f:spec":{"f:endpoints":{},"f:selector":{}}}`),
		// Another manager's fields are not ours.
		unitApplyEntry("prometheus-helm", metav1.ManagedFieldsOperationApply, "monitoring.coreos.com/v1",
			`{"f:metadata":{"f:labels":{"f:b":{}}},"f:spec":{"f:namespaceSelector":{}}}`),
		// An Update by our manager name is not what we applied.
		unitApplyEntry(unitManager, metav1.ManagedFieldsOperationUpdate, "monitoring.coreos.com/v1",
			`{"f:spec":{"f:jobLabel":{}}}`),
		// An entry without a field set is skipped.
		metav1.ManagedFieldsEntry{Manager: unitManager, Operation: metav1.ManagedFieldsOperationApply},
	)
	before := live.DeepCopy()

	got, ok := extractOwnedUnstructured(live, unitManager)
	if !ok {
		t.Fatal("extractOwnedUnstructured() ok = false, want true")
	}
	want := map[string]any{
		"apiVersion": "monitoring.coreos.com/v1",
		"kind":       "ServiceMonitor",
		"metadata": map[string]any{
			"name":      "elastic-operator",
			"namespace": "elastic-system",
			"labels":    map[string]any{"a": "1", "app.kubernetes.io/managed-by": unitManager},
		},
		"spec": map[string]any{
			// atomic list, copied whole
			"endpoints": []any{
				map[string]any{"port": "https", "path": "/metrics", "tlsConfig": map[string]any{"insecureSkipVerify": true}},
			},
			// atomic map, copied whole
			"selector": map[string]any{"matchLabels": map[string]any{"app.kubernetes.io/component": "metrics", "x": "y"}},
		},
	}
	if !reflect.DeepEqual(got.Object, want) {
		gotJSON, _ := json.MarshalIndent(got.Object, "", "  ")
		wantJSON, _ := json.MarshalIndent(want, "", "  ")
		t.Errorf("extractOwnedUnstructured():\n got %s\nwant %s", gotJSON, wantJSON)
	}
	if !reflect.DeepEqual(live.Object, before.Object) {
		t.Errorf("extractOwnedUnstructured() changed the live object")
	}
}

func TestExtractOwnedUnstructuredMergesEntriesAndSkipsAbsentFields(t *testing.T) {
	live := unitLiveServiceMonitor(
		unitApplyEntry(unitManager, metav1.ManagedFieldsOperationApply, "monitoring.coreos.com/v1",
			// annotations, spec.sampleLimit and spec.gone are not in the live object;
			// a list-element key below an absent field needs no schema.
			`{"f:metadata":{"f:annotations":{"f:note":{}},"f:labels":{"f:a":{}}},"f:spec":{"f:sampleLimit":{},"f:gone":{"k:{\"x\":1}":{}},"f:selector":{"f:matchLabels":{"f:x":{}}}}}`),
		unitApplyEntry(unitManager, metav1.ManagedFieldsOperationApply, "monitoring.coreos.com/v1",
			`{"f:metadata":{"f:labels":{"f:b":{}}}}`),
	)
	got, ok := extractOwnedUnstructured(live, unitManager)
	if !ok {
		t.Fatal("extractOwnedUnstructured() ok = false, want true")
	}
	wantMeta := map[string]any{"name": "elastic-operator", "namespace": "elastic-system", "labels": map[string]any{"a": "1", "b": "2"}}
	if meta := got.Object["metadata"]; !reflect.DeepEqual(meta, wantMeta) {
		t.Errorf("metadata = %v, want %v", meta, wantMeta)
	}
	wantSpec := map[string]any{"selector": map[string]any{"matchLabels": map[string]any{"x": "y"}}}
	if spec := got.Object["spec"]; !reflect.DeepEqual(spec, wantSpec) {
		t.Errorf("spec = %v, want %v", spec, wantSpec)
	}
}

func TestExtractOwnedUnstructuredNotFollowable(t *testing.T) {
	tests := map[string]string{
		"k: key":                `{"f:spec":{"k:{\"port\":\"https\"}":{}}}`,
		"v: key":                `{"f:spec":{"f:selector":{"v:\"x\"":{}}}}`,
		"i: key":                `{"f:metadata":{"f:labels":{"i:0":{}}}}`,
		"i: list position":      `{"f:spec":{"f:endpoints":{"i:0":{".":{},"f:port":{}}}}}`,
		"set into a scalar":     `{"f:spec":{"f:jobLabel":{"f:x":{}}}}`,
		"FieldsV1 is not a set": `["f:spec"]`,
	}
	for name, fields := range tests {
		t.Run(name, func(t *testing.T) {
			live := unitLiveServiceMonitor(unitApplyEntry(unitManager, metav1.ManagedFieldsOperationApply, "monitoring.coreos.com/v1", fields))
			got, ok := extractOwnedUnstructured(live, unitManager)
			if ok || got != nil {
				t.Errorf("extractOwnedUnstructured() = (%v, %v), want (nil, false)", got, ok)
			}
		})
	}
	// The same keys in another manager's entry do not matter.
	live := unitLiveServiceMonitor(unitApplyEntry("other", metav1.ManagedFieldsOperationApply, "monitoring.coreos.com/v1", tests["k: key"]))
	if _, ok := extractOwnedUnstructured(live, unitManager); !ok {
		t.Error("another manager's k: key made extraction fail")
	}
}

func TestExtractOwnedUnstructuredThenSameContent(t *testing.T) {
	// What planServiceMonitor does: the desired object against what the
	// manager owns in the live one.
	live := unitLiveServiceMonitor(unitApplyEntry(unitManager, metav1.ManagedFieldsOperationApply, "monitoring.coreos.com/v1",
		`{"f:metadata":{"f:labels":{"f:a":{}}},"f:spec":{"f:endpoints":{},"f:selector":{}}}`))
	owned, ok := extractOwnedUnstructured(live, unitManager)
	if !ok {
		t.Fatal("extraction failed")
	}
	desired := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "monitoring.coreos.com/v1",
		"kind":       "ServiceMonitor",
		"metadata":   map[string]any{"name": "elastic-operator", "namespace": "elastic-system", "labels": map[string]any{"a": "1"}},
		"spec": map[string]any{
			"endpoints": []any{map[string]any{"port": "https", "path": "/metrics", "tlsConfig": map[string]any{"insecureSkipVerify": true}}},
			"selector":  map[string]any{"matchLabels": map[string]any{"app.kubernetes.io/component": "metrics", "x": "y"}},
		},
	}}
	if same, err := sameContent(desired, owned); err != nil || !same {
		t.Errorf("sameContent(desired, owned) = (%v, %v), want (true, nil)", same, err)
	}
	_ = unstructured.SetNestedField(desired.Object, "release", "metadata", "labels", "b")
	if same, err := sameContent(desired, owned); err != nil || same {
		t.Errorf("sameContent(desired with a new label, owned) = (%v, %v), want (false, nil)", same, err)
	}
}

func TestNewAction(t *testing.T) {
	desired := corev1ac.ConfigMap("elastic-operator", "elastic-system").WithData(map[string]string{"k": "v"})
	a, err := NewAction("ConfigMap", "elastic-system", "elastic-operator", desired, nil, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	if a.Exists || a.UpToDate || a.Live != nil {
		t.Errorf("absent object: Exists=%v UpToDate=%v Live=%v, want false, false, nil", a.Exists, a.UpToDate, a.Live)
	}

	live := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "elastic-operator", Namespace: "elastic-system", ResourceVersion: "3"}, Data: map[string]string{"k": "v"}}
	owned := corev1ac.ConfigMap("elastic-operator", "elastic-system").WithData(map[string]string{"k": "v"})
	a, err = NewAction("ConfigMap", "elastic-system", "elastic-operator", desired, live, owned, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !a.Exists || !a.UpToDate || a.Live != live || a.liveResourceVersion != "3" {
		t.Errorf("up-to-date object: Exists=%v UpToDate=%v Live=%v rv=%q, want true, true, the live object, 3", a.Exists, a.UpToDate, a.Live, a.liveResourceVersion)
	}

	a, err = NewAction("ConfigMap", "elastic-system", "elastic-operator", desired, live, corev1ac.ConfigMap("elastic-operator", "elastic-system"), nil)
	if err != nil {
		t.Fatal(err)
	}
	if !a.Exists || a.UpToDate {
		t.Errorf("object missing our data: Exists=%v UpToDate=%v, want true, false", a.Exists, a.UpToDate)
	}
}

func TestRef(t *testing.T) {
	if got := (&Action{Kind: "ConfigMap", Namespace: "ns", Name: "n"}).Ref(); got != "ConfigMap ns/n" {
		t.Errorf("Ref() = %q, want %q", got, "ConfigMap ns/n")
	}
	if got := (&Action{Kind: "ClusterRole", Name: "r"}).Ref(); got != "ClusterRole r" {
		t.Errorf("Ref() = %q, want %q", got, "ClusterRole r")
	}
}

func unitAction() *Action {
	return &Action{Kind: "ConfigMap", Namespace: "elastic-system", Name: "elastic-operator"}
}

func TestApplyErrorFieldManagerConflict(t *testing.T) {
	err := &apierrors.StatusError{ErrStatus: metav1.Status{
		Status:  metav1.StatusFailure,
		Code:    409,
		Reason:  metav1.StatusReasonConflict,
		Message: `Apply failed with 2 conflicts: conflicts with "helm" using v1: .data.eck.yaml`,
		Details: &metav1.StatusDetails{Causes: []metav1.StatusCause{
			{Type: metav1.CauseTypeFieldManagerConflict, Field: ".data.eck.yaml", Message: `conflict with "helm" using v1`},
			{Type: metav1.CauseTypeFieldValueInvalid, Field: ".data.other", Message: "not a manager conflict"},
			{Type: metav1.CauseTypeFieldManagerConflict, Field: ".metadata.labels.x", Message: `conflict with "kubectl-edit" using v1`},
		}},
	}}
	got := ApplyError(unitAction(), err).Error()
	want := `ConfigMap elastic-system/elastic-operator: another field manager owns .data.eck.yaml (conflict with "helm" using v1), .metadata.labels.x (conflict with "kubectl-edit" using v1): rerun with --force-conflicts to take these fields over`
	if got != want {
		t.Errorf("ApplyError() =\n  %s\nwant\n  %s", got, want)
	}
	if strings.Contains(got, "not a manager conflict") {
		t.Errorf("ApplyError() lists a cause that is not a field manager conflict: %s", got)
	}
}

func TestApplyErrorConflictWithoutManagerCauses(t *testing.T) {
	// A resourceVersion precondition failure is a 409 too, with no field
	// manager conflicts: it is wrapped as it is.
	err := apierrors.NewConflict(schema.GroupResource{Resource: "configmaps"}, "elastic-operator", errors.New("the object has been modified; please apply your changes to the latest version and try again"))
	got := ApplyError(unitAction(), err)
	want := "ConfigMap elastic-system/elastic-operator: " + err.Error()
	if got.Error() != want {
		t.Errorf("ApplyError() = %q, want %q", got, want)
	}
	if strings.Contains(got.Error(), "--force-conflicts") {
		t.Errorf("ApplyError() suggests --force-conflicts for a resourceVersion conflict: %s", got)
	}
	if !apierrors.IsConflict(got) || !errors.Is(got, err) {
		t.Errorf("ApplyError() does not wrap the API error: %#v", got)
	}
}

func TestApplyErrorForbidden(t *testing.T) {
	err := apierrors.NewForbidden(schema.GroupResource{Resource: "configmaps"}, "elastic-operator",
		errors.New(`User "jane" cannot patch resource "configmaps" in API group "" in the namespace "elastic-system"`))
	got := ApplyError(unitAction(), err).Error()
	want := `ConfigMap elastic-system/elastic-operator: permission denied: configmaps "elastic-operator" is forbidden: User "jane" cannot patch resource "configmaps" in API group "" in the namespace "elastic-system": ask for that permission or run as a user who has it`
	if got != want {
		t.Errorf("ApplyError() =\n  %s\nwant\n  %s", got, want)
	}
}

func TestApplyErrorOther(t *testing.T) {
	base := errors.New("connection reset by peer")
	got := ApplyError(&Action{Kind: "ClusterRole", Name: "elastic-operator-metrics-auth-role"}, base)
	if want := "ClusterRole elastic-operator-metrics-auth-role: connection reset by peer"; got.Error() != want {
		t.Errorf("ApplyError() = %q, want %q", got, want)
	}
	if !errors.Is(got, base) {
		t.Error("ApplyError() does not wrap the error")
	}

	invalid := apierrors.NewInvalid(schema.GroupKind{Kind: "ConfigMap"}, "elastic-operator", nil)
	got = ApplyError(unitAction(), invalid)
	if want := "ConfigMap elastic-system/elastic-operator: " + invalid.Error(); got.Error() != want {
		t.Errorf("ApplyError() = %q, want %q", got, want)
	}
	if !apierrors.IsInvalid(got) {
		t.Error("ApplyError() hides the reason of the API error")
	}
}

func TestApplyOptions(t *testing.T) {
	o := applyOptions(true, true)
	if o.FieldManager != unitManager || !o.Force || !reflect.DeepEqual(o.DryRun, []string{metav1.DryRunAll}) {
		t.Errorf("applyOptions(true, true) = %+v", o)
	}
	o = applyOptions(false, false)
	if o.FieldManager != unitManager || o.Force || o.DryRun != nil {
		t.Errorf("applyOptions(false, false) = %+v", o)
	}
}

func TestDeleteError(t *testing.T) {
	a := &Action{Kind: "Service", Namespace: "elastic-system", Name: "elastic-operator-metrics", Delete: true}
	conflict := apierrors.NewConflict(schema.GroupResource{Resource: "services"}, "elastic-operator-metrics", errors.New("Precondition failed: UID in precondition: 1, UID in object meta: 2"))
	if got, want := a.explain(conflict).Error(), "Service elastic-system/elastic-operator-metrics changed since it was read, so it was not deleted: rerun to look at it again"; got != want {
		t.Errorf("explain(conflict) = %q, want %q", got, want)
	}
	forbidden := apierrors.NewForbidden(schema.GroupResource{Resource: "services"}, "elastic-operator-metrics", errors.New(`User "jane" cannot delete resource "services"`))
	got := a.explain(forbidden).Error()
	if !strings.HasPrefix(got, "cannot delete Service elastic-system/elastic-operator-metrics: permission denied: ") || strings.Contains(got, "field manager") {
		t.Errorf("explain(forbidden) = %q", got)
	}
	gone := apierrors.NewNotFound(schema.GroupResource{Resource: "services"}, "elastic-operator-metrics")
	if err := a.explain(gone); !apierrors.IsNotFound(err) || !strings.HasPrefix(err.Error(), "cannot delete Service ") {
		t.Errorf("explain(not found) = %v, want the API error wrapped", err)
	}
	// An apply keeps ApplyError's wording.
	a.Delete = false
	if got := a.explain(conflict).Error(); strings.Contains(got, "cannot delete") {
		t.Errorf("apply explained as a delete: %q", got)
	}
}
