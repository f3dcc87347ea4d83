package operator

import (
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func objectWith(labels, annotations map[string]string, managers ...string) *metav1.ObjectMeta {
	m := &metav1.ObjectMeta{Name: "elastic-operator", Namespace: "elastic-system", Labels: labels, Annotations: annotations}
	for _, name := range managers {
		m.ManagedFields = append(m.ManagedFields, metav1.ManagedFieldsEntry{Manager: name, Operation: metav1.ManagedFieldsOperationApply})
	}
	return m
}

func TestDetectGitOps(t *testing.T) {
	helmLabels := map[string]string{"app.kubernetes.io/managed-by": "Helm", InstanceLabel: "elastic-operator"}
	for _, tc := range []struct {
		name    string
		objects []metav1.Object
		want    string // Owner(), "" for none
	}{
		{"kubectl apply", []metav1.Object{objectWith(nil, nil, "kubectl-client-side-apply")}, ""},
		{"plain Helm: the instance label alone is Helm's", []metav1.Object{objectWith(helmLabels, nil, "helm")}, ""},
		{"Argo CD tracking annotation", []metav1.Object{objectWith(nil, map[string]string{ArgoCDTrackingIDAnnotation: "eck:apps/StatefulSet:elastic-system/elastic-operator"}, ArgoCDManager)}, `Argo CD application "eck"`},
		{"Argo CD application in another namespace", []metav1.Object{objectWith(nil, map[string]string{ArgoCDTrackingIDAnnotation: "team-a_eck:/ConfigMap:elastic-system/elastic-operator"})}, `Argo CD application "team-a/eck"`},
		{"Argo CD label tracking", []metav1.Object{objectWith(map[string]string{InstanceLabel: "eck-prod"}, nil, ArgoCDManager)}, `Argo CD application "eck-prod"`},
		{"Argo CD manager only", []metav1.Object{objectWith(nil, nil, ArgoCDManager)}, "Argo CD (field manager argocd-controller)"},
		{"Flux Kustomization", []metav1.Object{objectWith(map[string]string{FluxKustomizationName: "eck", FluxKustomizationNS: "flux-system"}, nil, FluxKustomizeManager)}, "Flux Kustomization flux-system/eck"},
		{"Flux HelmRelease of a Helm chart", []metav1.Object{objectWith(map[string]string{"app.kubernetes.io/managed-by": "Helm", FluxHelmReleaseName: "eck", FluxHelmReleaseNamespace: "flux-system"}, nil, FluxHelmManager)}, "Flux HelmRelease flux-system/eck"},
		{"Flux manager only", []metav1.Object{objectWith(nil, nil, FluxKustomizeManager)}, "Flux (field manager kustomize-controller)"},
		{"the ConfigMap names the application the StatefulSet does not",
			[]metav1.Object{objectWith(nil, nil, ArgoCDManager), nil, objectWith(nil, map[string]string{ArgoCDTrackingIDAnnotation: "eck:/ConfigMap:elastic-system/elastic-operator"})}, `Argo CD application "eck"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g := DetectGitOps(tc.objects...)
			got := ""
			if g != nil {
				got = g.Owner()
			}
			if got != tc.want {
				t.Errorf("DetectGitOps = %q, want %q", got, tc.want)
			}
		})
	}
}
