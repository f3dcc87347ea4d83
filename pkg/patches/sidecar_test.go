package patches

import (
	"testing"

	corev1 "k8s.io/api/core/v1"
)

func TestIsRetiredSidecarImage(t *testing.T) {
	for image, want := range map[string]bool{
		"gcr.io/kubebuilder/kube-rbac-proxy:v0.15.0":        true,
		"gcr.io/kubebuilder/kube-rbac-proxy@sha256:abc":     true,
		"gcr.io/kubebuilder/kube-rbac-proxy":                true,
		"registry.k8s.io/kubebuilder/kube-rbac-proxy:v0.15": false,
		"quay.io/brancz/kube-rbac-proxy:v0.19.1":            false,
		"gcr.io/kubebuilder/kube-rbac-proxy-fork:v1":        false,
	} {
		if got := IsRetiredSidecarImage(image); got != want {
			t.Errorf("IsRetiredSidecarImage(%q) = %v", image, got)
		}
	}
}

func TestProxyUpstreamPort(t *testing.T) {
	for _, tc := range []struct {
		args []string
		port int32
		ok   bool
	}{
		{[]string{"--upstream=http://127.0.0.1:8081"}, 8081, true},
		{[]string{"--upstream=http://127.0.0.1:8082/"}, 8082, true}, // the 2.15 chart's
		{[]string{"--upstream", "http://localhost:9090"}, 9090, true},
		{[]string{"--upstream=http://10.0.0.1:8081"}, 0, false},
		{[]string{"--secure-listen-address=0.0.0.0:8080"}, 0, false},
	} {
		port, ok := ProxyUpstreamPort(corev1.Container{Args: tc.args})
		if port != tc.port || ok != tc.ok {
			t.Errorf("%v: %d %v", tc.args, port, ok)
		}
	}
}
