package patches

import (
	"slices"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	metav1ac "k8s.io/client-go/applyconfigurations/meta/v1"
	networkingv1ac "k8s.io/client-go/applyconfigurations/networking/v1"
)

// NetworkPolicyName is the NetworkPolicy of enable --network-policy.
func NetworkPolicyName(name string) string { return name + "-metrics" }

// NetworkPolicy admits Prometheus's namespaces (one peer each, sorted) to
// the operator pods' port named metrics (the manager's in native mode,
// kube-rbac-proxy's in sidecar mode), and nothing else. By name, the rule
// follows the port through a change of --port or of mode. It isolates the
// pods it selects, so enable applies it only where another policy already does.
func NetworkPolicy(p Params, prometheusNamespaces []string) *networkingv1ac.NetworkPolicyApplyConfiguration {
	namespaces := slices.Clone(prometheusNamespaces)
	slices.Sort(namespaces)
	namespaces = slices.Compact(namespaces)
	rule := networkingv1ac.NetworkPolicyIngressRule()
	for _, ns := range namespaces {
		rule.WithFrom(networkingv1ac.NetworkPolicyPeer().
			WithNamespaceSelector(metav1ac.LabelSelector().WithMatchLabels(map[string]string{corev1.LabelMetadataName: ns})))
	}
	return networkingv1ac.NetworkPolicy(NetworkPolicyName(p.Name), p.Namespace).
		WithLabels(ourLabels()).
		WithSpec(networkingv1ac.NetworkPolicySpec().
			WithPodSelector(metav1ac.LabelSelector().WithMatchLabels(p.PodSelector)).
			WithPolicyTypes(networkingv1.PolicyTypeIngress).
			WithIngress(rule.
				WithPorts(networkingv1ac.NetworkPolicyPort().
					WithProtocol(corev1.ProtocolTCP).
					WithPort(intstr.FromString(MetricsPortName)))))
}
