package steps

import (
	"slices"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func TestFindMetricsProxy(t *testing.T) {
	proxy := func(name, image, upstream string) corev1.Container {
		return corev1.Container{Name: name, Image: image, Args: []string{"--secure-listen-address=0.0.0.0:8080", "--upstream=" + upstream}}
	}
	manager := corev1.Container{Name: "manager", Image: "docker.elastic.co/eck/eck-operator:3.5.0"}
	owned := func(manager, container string) metav1.ManagedFieldsEntry {
		return metav1.ManagedFieldsEntry{Manager: manager, FieldsV1: metav1.NewFieldsV1(`{"f:spec":{"f:template":{"f:spec":{"f:containers":{"k:{\"name\":\"` + container + `\"}":{".":{}}}}}}}`)}
	}
	for _, tc := range []struct {
		name    string
		c       corev1.Container
		fields  []metav1.ManagedFieldsEntry
		want    bool
		manager string
	}{
		{"docs' sidecar by kubectl patch", proxy("kube-rbac-proxy", "gcr.io/kubebuilder/kube-rbac-proxy:v0.15.0", "http://127.0.0.1:8081"), []metav1.ManagedFieldsEntry{owned("kubectl-patch", "kube-rbac-proxy")}, true, "kubectl-patch"},
		{"renamed, recognised by image", proxy("auth-proxy", "quay.io/brancz/kube-rbac-proxy:v0.19.1", "http://localhost:9090/"), nil, true, ""},
		{"proxy of another upstream", proxy("kube-rbac-proxy", "quay.io/brancz/kube-rbac-proxy:v0.19.1", "http://10.0.0.1:8081"), nil, false, ""},
		{"proxy of another port", proxy("kube-rbac-proxy", "quay.io/brancz/kube-rbac-proxy:v0.19.1", "http://127.0.0.1:3000"), nil, false, ""},
		{"unrelated sidecar", proxy("log-shipper", "fluent-bit:3", "http://127.0.0.1:8081"), nil, false, ""},
		{"ours, whatever its args", corev1.Container{Name: "kube-rbac-proxy", Image: "mirror/proxy:1"}, []metav1.ManagedFieldsEntry{owned("kubectl-eck-metrics", "kube-rbac-proxy")}, true, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			sts := &appsv1.StatefulSet{ObjectMeta: metav1.ObjectMeta{ManagedFields: tc.fields}}
			sts.Spec.Template.Spec.Containers = []corev1.Container{manager, tc.c}
			got := findMetricsProxy(sts, 9090)
			if (got != nil) != tc.want {
				t.Fatalf("found %+v, want %v", got, tc.want)
			}
			var wantOthers []string
			if tc.manager != "" {
				wantOthers = []string{tc.manager}
			}
			if got != nil && (got.index != 1 || !slices.Equal(got.others, wantOthers)) {
				t.Errorf("found %+v", got)
			}
		})
	}
}
