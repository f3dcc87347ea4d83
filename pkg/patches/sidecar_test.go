package patches

import (
	"strings"
	"testing"

	"github.com/eck-metrics/kubectl-eck-metrics/pkg/operator"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/version"
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

func TestHelmSecureCommand(t *testing.T) {
	op := func(v string) *operator.Operator {
		return &operator.Operator{StatefulSet: &appsv1.StatefulSet{ObjectMeta: metav1.ObjectMeta{Name: "eck", Namespace: "ns"}},
			Version: version.MustParseSemantic(v), HelmRelease: "eck", HelmChartVersion: v}
	}
	if got := HelmSecureCommand(op("3.5.0"), 8081, ""); !strings.Contains(got, "--version 3.5.0") || SidecarEraChart(op("3.5.0")) != "" {
		t.Errorf("3.5.0: %s", got)
	}
	// A 2.15 chart's secure mode is the retired sidecar: move to the newest chart.
	if got := HelmSecureCommand(op("2.15.0"), 8081, ""); strings.Contains(got, "--version") || !strings.Contains(SidecarEraChart(op("2.15.0")), "upgrade the chart to 2.16 or later") {
		t.Errorf("2.15.0: %s", got)
	}
}
