package steps

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"github.com/eck-metrics/kubectl-eck-metrics/pkg/kube"
	"github.com/eck-metrics/kubectl-eck-metrics/pkg/patches"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	dynamicfake "k8s.io/client-go/dynamic/fake"
	"k8s.io/client-go/kubernetes/fake"
)

// unitCertificate is the Certificate at generation, with a Ready condition
// (status "" for none) that speaks of observedGeneration.
func unitCertificate(generation int64, ready string, observedGeneration int64) *unstructured.Unstructured {
	c := patches.Certificate(patches.CertificateParams{Namespace: "eck", Name: "op", Issuer: "ca", IssuerKind: patches.IssuerKind})
	c.SetGeneration(generation)
	if ready != "" {
		c.Object["status"] = map[string]any{"conditions": []any{map[string]any{"type": "Ready", "status": ready, "reason": "Pending", "message": "Issuing certificate as Secret does not exist", "observedGeneration": observedGeneration}}}
	}
	return c
}

func TestWaitForCertificate(t *testing.T) {
	issued := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: patches.CertificateSecretName("op"), Namespace: "eck"}, Data: map[string][]byte{"tls.crt": []byte("PEM")}}
	for _, tc := range []struct {
		name    string
		cert    *unstructured.Unstructured
		secrets []runtime.Object
		want    string // "" : Ready
	}{
		{"Ready with its Secret", unitCertificate(2, "True", 2), []runtime.Object{issued}, ""},
		{"no condition yet", unitCertificate(1, "", 0), []runtime.Object{issued}, "(no Ready condition yet)"},
		{"issuing", unitCertificate(1, "False", 1), nil, "(Ready=False (Pending): Issuing certificate as Secret does not exist)"},
		{"Ready for an older spec", unitCertificate(3, "True", 2), []runtime.Object{issued}, "(cert-manager has not seen the new spec yet)"},
		{"Ready but no Secret", unitCertificate(1, "True", 1), nil, "(waiting for secret op-metrics-tls)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dyn := dynamicfake.NewSimpleDynamicClientWithCustomListKinds(runtime.NewScheme(),
				map[schema.GroupVersionResource]string{patches.CertificateGVR: "CertificateList"}, tc.cert)
			c := kube.Clients{Kube: fake.NewClientset(tc.secrets...), Dynamic: dyn}
			var progress bytes.Buffer
			err := WaitForCertificate(context.Background(), c, "eck", "op-metrics", 10*time.Millisecond, 50*time.Millisecond, &progress)
			switch {
			case tc.want == "" && err != nil:
				t.Errorf("WaitForCertificate() = %v, want Ready", err)
			case tc.want == "" && !strings.Contains(progress.String(), "Certificate eck/op-metrics is Ready"):
				t.Errorf("progress %q", progress.String())
			case tc.want != "" && (err == nil || !strings.Contains(err.Error(), "is not Ready after 50ms "+tc.want)):
				t.Errorf("WaitForCertificate() = %v, want %q", err, tc.want)
			case tc.want != "" && strings.Count(progress.String(), "Waiting for") != 1:
				t.Errorf("progress repeats itself: %q", progress.String())
			}
		})
	}
}
