package helmhint

import (
	"strings"
	"testing"

	"github.com/eck-metrics/kubectl-eck-metrics/pkg/operator"
	appsv1 "k8s.io/api/apps/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/version"
)

func TestUpgradeCommand(t *testing.T) {
	tests := []struct {
		release, ns, chart string
		port               int32
		cert               string
		want               string
	}{
		{"elastic-operator", "elastic-system", "3.5.0", 8081, "",
			"helm upgrade elastic-operator elastic/eck-operator -n elastic-system --reuse-values --version 3.5.0 --set config.metrics.secureMode.enabled=true --set config.metrics.port=8081"},
		{"eck", "ops", "", 9090, "",
			"helm upgrade eck elastic/eck-operator -n ops --reuse-values --set config.metrics.secureMode.enabled=true --set config.metrics.port=9090"},
		{"elastic-operator", "elastic-system", "2.16.1", 8081, "eck-metrics-tls-certificate",
			"helm upgrade elastic-operator elastic/eck-operator -n elastic-system --reuse-values --version 2.16.1 --set config.metrics.secureMode.enabled=true --set config.metrics.port=8081 --set config.metrics.secureMode.tls.certificateSecret=eck-metrics-tls-certificate"},
		{"elastic-operator", "elastic-system", "", 8081, "my-cert",
			"helm upgrade elastic-operator elastic/eck-operator -n elastic-system --reuse-values --set config.metrics.secureMode.enabled=true --set config.metrics.port=8081 --set config.metrics.secureMode.tls.certificateSecret=my-cert"},
	}
	for _, tt := range tests {
		if got := UpgradeCommand(tt.release, tt.ns, tt.chart, tt.port, tt.cert); got != tt.want {
			t.Errorf("UpgradeCommand(%q, %q, %q, %d, %q) =\n%s\nwant\n%s", tt.release, tt.ns, tt.chart, tt.port, tt.cert, got, tt.want)
		}
	}
}

func TestSecureCommand(t *testing.T) {
	op := func(v string) *operator.Operator {
		return &operator.Operator{StatefulSet: &appsv1.StatefulSet{ObjectMeta: metav1.ObjectMeta{Name: "eck", Namespace: "ns"}},
			Version: version.MustParseSemantic(v), HelmRelease: "eck", HelmChartVersion: v}
	}
	if got := SecureCommand(op("3.5.0"), 8081, ""); !strings.Contains(got, "--version 3.5.0") || SidecarEraChart(op("3.5.0")) != "" {
		t.Errorf("3.5.0: %s", got)
	}
	// A 2.15 chart's secure mode is the retired sidecar: move to the newest chart.
	if got := SecureCommand(op("2.15.0"), 8081, ""); strings.Contains(got, "--version") || !strings.Contains(SidecarEraChart(op("2.15.0")), "upgrade the chart to 2.16 or later") {
		t.Errorf("2.15.0: %s", got)
	}
}
