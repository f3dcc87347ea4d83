package apply

import (
	"reflect"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	appsv1ac "k8s.io/client-go/applyconfigurations/apps/v1"
	corev1ac "k8s.io/client-go/applyconfigurations/core/v1"
)

// An operator StatefulSet as Argo CD applied it, with the metrics port.
func unitGitOpsStatefulSet(ports ...corev1.ContainerPort) *appsv1.StatefulSet {
	return &appsv1.StatefulSet{
		ObjectMeta: metav1.ObjectMeta{Name: "elastic-operator", Namespace: "elastic-system", ResourceVersion: "7",
			ManagedFields: []metav1.ManagedFieldsEntry{
				{Manager: "argocd-controller", Operation: metav1.ManagedFieldsOperationApply},
				{Manager: "kube-controller-manager", Operation: metav1.ManagedFieldsOperationUpdate, Subresource: "status"},
			}},
		Spec: appsv1.StatefulSetSpec{Template: corev1.PodTemplateSpec{Spec: corev1.PodSpec{Containers: []corev1.Container{{
			Name: "manager", Image: "docker.elastic.co/eck/eck-operator:3.5.0", Args: []string{"manager", "--config=/conf/eck.yaml"}, Ports: ports,
		}}}}},
	}
}

func unitMetricsPortPatch(port int32) *appsv1ac.StatefulSetApplyConfiguration {
	return appsv1ac.StatefulSet("elastic-operator", "elastic-system").WithSpec(appsv1ac.StatefulSetSpec().WithTemplate(
		corev1ac.PodTemplateSpec().WithSpec(corev1ac.PodSpec().WithContainers(corev1ac.Container().WithName("manager").
			WithPorts(corev1ac.ContainerPort().WithName("metrics").WithContainerPort(port).WithProtocol(corev1.ProtocolTCP))))))
}

func TestNewActionValuesHeldByOthers(t *testing.T) {
	webhook := corev1.ContainerPort{Name: "https-webhook", ContainerPort: 9443, Protocol: corev1.ProtocolTCP}
	metrics := corev1.ContainerPort{Name: "metrics", ContainerPort: 8081, Protocol: corev1.ProtocolTCP}
	empty := appsv1ac.StatefulSet("elastic-operator", "elastic-system")
	for _, tc := range []struct {
		name     string
		desired  any
		live     *appsv1.StatefulSet
		owned    any
		upToDate bool
		ownedBy  []string
	}{
		{"every value held, only argocd-controller owns them", unitMetricsPortPatch(8081), unitGitOpsStatefulSet(webhook, metrics), empty, true, []string{"argocd-controller"}},
		{"the port is missing", unitMetricsPortPatch(8081), unitGitOpsStatefulSet(webhook), empty, false, nil},
		{"another port number", unitMetricsPortPatch(9090), unitGitOpsStatefulSet(webhook, metrics), empty, false, nil},
		{"we own a field the apply drops", unitMetricsPortPatch(8081), unitGitOpsStatefulSet(webhook, metrics),
			appsv1ac.StatefulSet("elastic-operator", "elastic-system").WithSpec(appsv1ac.StatefulSetSpec().WithReplicas(1)), false, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a, err := NewAction("StatefulSet", "elastic-system", "elastic-operator", tc.desired, tc.live, tc.owned, nil)
			if err != nil {
				t.Fatal(err)
			}
			if a.UpToDate != tc.upToDate || !reflect.DeepEqual(a.OwnedBy, tc.ownedBy) {
				t.Errorf("UpToDate=%v OwnedBy=%v, want %v %v", a.UpToDate, a.OwnedBy, tc.upToDate, tc.ownedBy)
			}
			// A client dry run sends nothing: the state is what a real run says.
			want := "configured (dry run)"
			if tc.upToDate {
				want = "unchanged (owned by argocd-controller) (dry run)"
			}
			if _, state, err := (Runner{DryRun: DryRunClient}).runAction(t.Context(), a); err != nil || state != want {
				t.Errorf("state %q (%v), want %q", state, err, want)
			}
		})
	}
}

func TestHolds(t *testing.T) {
	for _, tc := range []struct {
		name      string
		want, got any
		holds     bool
	}{
		{"subset of a map", map[string]any{"a": "1"}, map[string]any{"a": "1", "b": "2"}, true},
		{"missing key", map[string]any{"c": "1"}, map[string]any{"a": "1"}, false},
		{"entry within some entry", []any{map[string]any{"name": "m"}}, []any{map[string]any{"name": "x"}, map[string]any{"name": "m", "port": 1.0}}, true},
		{"scalar lists are atomic", []any{"--a"}, []any{"--a", "--b"}, false},
		{"equal scalar lists", []any{"--a", "--b"}, []any{"--a", "--b"}, true},
		{"different scalars", 8081.0, 8080.0, false},
	} {
		if got := holds(tc.want, tc.got); got != tc.holds {
			t.Errorf("%s: holds = %v, want %v", tc.name, got, tc.holds)
		}
	}
}
