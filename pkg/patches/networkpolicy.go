package patches

import (
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	metav1ac "k8s.io/client-go/applyconfigurations/meta/v1"
	networkingv1ac "k8s.io/client-go/applyconfigurations/networking/v1"
)

// NetworkPolicyName is the NetworkPolicy of enable --network-policy.
func NetworkPolicyName(name string) string { return name + "-metrics" }

// NetworkPolicy admits Prometheus's namespace to the operator pods' port
// named metrics (the manager's in native mode, kube-rbac-proxy's in
// sidecar mode), and nothing else. By name, the rule follows the port
// through a change of --port or of mode. It isolates the pods it selects,
// so enable applies it only where another policy already does.
func NetworkPolicy(p Params, prometheusNamespace string) *networkingv1ac.NetworkPolicyApplyConfiguration {
	return networkingv1ac.NetworkPolicy(NetworkPolicyName(p.Name), p.Namespace).
		WithLabels(ourLabels()).
		WithSpec(networkingv1ac.NetworkPolicySpec().
			WithPodSelector(metav1ac.LabelSelector().WithMatchLabels(p.PodSelector)).
			WithPolicyTypes(networkingv1.PolicyTypeIngress).
			WithIngress(networkingv1ac.NetworkPolicyIngressRule().
				WithFrom(networkingv1ac.NetworkPolicyPeer().
					WithNamespaceSelector(metav1ac.LabelSelector().WithMatchLabels(map[string]string{corev1.LabelMetadataName: prometheusNamespace}))).
				WithPorts(networkingv1ac.NetworkPolicyPort().
					WithProtocol(corev1.ProtocolTCP).
					WithPort(intstr.FromString(MetricsPortName)))))
}
