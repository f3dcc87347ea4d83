package patches

import (
	"encoding/json"
	"testing"

	"github.com/eck-metrics/kubectl-eck-metrics/pkg/netpol"
	"github.com/eck-metrics/kubectl-eck-metrics/pkg/operator"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
)

// The policy admits Prometheus's namespaces to the metrics port in either
// mode, and nothing else: not another namespace, not the webhook port.
func TestNetworkPolicyAdmitsOnlyPrometheusToMetrics(t *testing.T) {
	for _, mode := range []operator.Mode{operator.ModeNative, operator.ModeSidecar} {
		p := params(mode)
		raw, err := json.Marshal(NetworkPolicy(p, []string{"monitoring", "team-b"}))
		if err != nil {
			t.Fatal(err)
		}
		var policy networkingv1.NetworkPolicy
		if err := json.Unmarshal(raw, &policy); err != nil {
			t.Fatal(err)
		}
		metrics := corev1.ContainerPort{Name: MetricsPortName, ContainerPort: p.MetricsPort, Protocol: corev1.ProtocolTCP}
		if mode == operator.ModeSidecar {
			metrics.ContainerPort = ServicePort
		}
		pod := netpol.Pod{Namespace: p.Namespace, Labels: p.PodSelector,
			Ports: []corev1.ContainerPort{{Name: "https-webhook", ContainerPort: 9443, Protocol: corev1.ProtocolTCP}, metrics}}
		from := func(ns string) netpol.Source {
			return netpol.Source{Namespace: ns, NamespaceLabels: map[string]string{corev1.LabelMetadataName: ns}, PodLabels: map[string]string{}}
		}
		policies := []networkingv1.NetworkPolicy{policy}
		for _, tc := range []struct {
			src  netpol.Source
			port int32
			want netpol.Answer
		}{
			{from("monitoring"), metrics.ContainerPort, netpol.Yes},
			{from("team-b"), metrics.ContainerPort, netpol.Yes},
			{from("team-b"), 9443, netpol.No},
			{from("other"), metrics.ContainerPort, netpol.No},
			{from(p.Namespace), metrics.ContainerPort, netpol.No},
			{from("monitoring"), 9443, netpol.No},
		} {
			r := netpol.Evaluate(policies, pod, netpol.Port{Number: tc.port}, tc.src)
			if !r.Isolated() || r.Answer() != tc.want {
				t.Errorf("%s: from %s to %d: isolated %v, answer %d, want %d", mode, tc.src.Namespace, tc.port, r.Isolated(), r.Answer(), tc.want)
			}
		}
	}
}
