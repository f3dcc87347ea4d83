// Package netpol evaluates Kubernetes NetworkPolicies for one question:
// may traffic from a source reach a pod on a port? Pure: no cluster access.
//
// It follows the networking.k8s.io/v1 semantics: a pod is isolated for
// ingress when a policy of its namespace selects it and affects Ingress;
// then traffic is admitted only when an ingress rule of one of those
// policies admits both its source and its port (rules add up, across
// policies). What it cannot know (the source's pod labels when unknown, the
// source's IP for an ipBlock) makes the answer Maybe, never a guess.
package netpol

import (
	"fmt"
	"slices"
	"strings"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/util/intstr"
)

// Pod is the pod traffic goes to.
type Pod struct {
	Namespace string
	Labels    map[string]string
	// Ports are its containers' ports, which named ports resolve against.
	Ports []corev1.ContainerPort
}

// Port is the port traffic goes to.
type Port struct {
	Number   int32
	Protocol corev1.Protocol // "" is TCP
}

func (p Port) protocol() corev1.Protocol {
	if p.Protocol == "" {
		return corev1.ProtocolTCP
	}
	return p.Protocol
}

func (p Port) String() string { return fmt.Sprintf("%d/%s", p.Number, p.protocol()) }

// Source is where traffic comes from: pods of a namespace.
type Source struct {
	// Namespace is the source's namespace; "" means any namespace (the
	// source is not known), which only a rule open to every namespace admits
	// for certain.
	Namespace string
	// NamespaceLabels are the namespace's labels, which namespaceSelectors
	// match.
	NamespaceLabels map[string]string
	// PodLabels are the source pods' labels; nil when unknown, which makes a
	// podSelector's answer Maybe (an empty podSelector selects every pod).
	PodLabels map[string]string
}

// Answer is what a rule says of the traffic.
type Answer int

const (
	No Answer = iota
	// Maybe: admitted only if what is unknown (pod labels, pod IP) fits.
	Maybe
	Yes
)

// Admission is a rule that admits (or may admit) the traffic.
type Admission struct {
	Policy string
	// Rule is the index of the ingress rule in the policy.
	Rule int
	// Why says which peer admits it (or what is unknown for a Maybe).
	Why string
}

// Result is the verdict for one pod, port and source.
type Result struct {
	// Isolating are the policies that select the pod and affect Ingress.
	Isolating []string
	// Admitted are the rules that admit the traffic for certain.
	Admitted []Admission
	// Possible are the rules that may admit it (Maybe), when none does for certain.
	Possible []Admission
}

// Isolated tells whether the pod is isolated for ingress.
func (r Result) Isolated() bool { return len(r.Isolating) > 0 }

// Answer is the verdict: Yes when the pod is not isolated or a rule admits
// the traffic, Maybe when a rule may, No otherwise.
func (r Result) Answer() Answer {
	switch {
	case !r.Isolated() || len(r.Admitted) > 0:
		return Yes
	case len(r.Possible) > 0:
		return Maybe
	}
	return No
}

// AffectsIngress applies the API's default of policyTypes: every policy
// affects Ingress unless policyTypes says otherwise.
func AffectsIngress(p *networkingv1.NetworkPolicy) bool {
	if len(p.Spec.PolicyTypes) == 0 {
		return true
	}
	return slices.Contains(p.Spec.PolicyTypes, networkingv1.PolicyTypeIngress)
}

// Selects tells whether the policy applies to the pod.
func Selects(p *networkingv1.NetworkPolicy, pod Pod) bool {
	return p.Namespace == pod.Namespace && matches(&p.Spec.PodSelector, pod.Labels)
}

// Isolating are the policies that isolate the pod for ingress, by name.
func Isolating(policies []networkingv1.NetworkPolicy, pod Pod) []string {
	var names []string
	for i := range policies {
		if p := &policies[i]; Selects(p, pod) && AffectsIngress(p) {
			names = append(names, p.Name)
		}
	}
	slices.Sort(names)
	return names
}

// Evaluate says whether traffic from src reaches pod on port.
func Evaluate(policies []networkingv1.NetworkPolicy, pod Pod, port Port, src Source) Result {
	var r Result
	sorted := slices.Clone(policies)
	slices.SortFunc(sorted, func(a, b networkingv1.NetworkPolicy) int { return strings.Compare(a.Name, b.Name) })
	for i := range sorted {
		p := &sorted[i]
		if !Selects(p, pod) || !AffectsIngress(p) {
			continue
		}
		r.Isolating = append(r.Isolating, p.Name)
		for n, rule := range p.Spec.Ingress {
			if !portAdmitted(rule.Ports, pod, port) {
				continue
			}
			answer, why := fromAdmits(rule.From, p.Namespace, src)
			switch answer {
			case Yes:
				r.Admitted = append(r.Admitted, Admission{Policy: p.Name, Rule: n, Why: why})
			case Maybe:
				r.Possible = append(r.Possible, Admission{Policy: p.Name, Rule: n, Why: why})
			}
		}
	}
	if len(r.Admitted) > 0 {
		r.Possible = nil
	}
	return r
}

// portAdmitted: an empty list admits every port; else one entry must match.
func portAdmitted(ports []networkingv1.NetworkPolicyPort, pod Pod, port Port) bool {
	if len(ports) == 0 {
		return true
	}
	for _, pp := range ports {
		protocol := corev1.ProtocolTCP
		if pp.Protocol != nil {
			protocol = *pp.Protocol
		}
		if protocol != port.protocol() {
			continue
		}
		switch {
		case pp.Port == nil:
			return true // every port of the protocol
		case pp.Port.Type == intstr.String:
			// A named port is the pod's container port of that name and protocol.
			for _, cp := range pod.Ports {
				cpProtocol := cp.Protocol
				if cpProtocol == "" {
					cpProtocol = corev1.ProtocolTCP
				}
				if cp.Name == pp.Port.StrVal && cpProtocol == protocol && cp.ContainerPort == port.Number {
					return true
				}
			}
		case pp.EndPort != nil:
			if pp.Port.IntVal <= port.Number && port.Number <= *pp.EndPort {
				return true
			}
		case pp.Port.IntVal == port.Number:
			return true
		}
	}
	return false
}

// fromAdmits: an empty list admits every source; else the best answer of
// its peers.
func fromAdmits(from []networkingv1.NetworkPolicyPeer, policyNamespace string, src Source) (Answer, string) {
	if len(from) == 0 {
		return Yes, "from every source"
	}
	best, why := No, ""
	for _, peer := range from {
		a, w := peerAdmits(peer, policyNamespace, src)
		if a > best {
			best, why = a, w
		}
		if best == Yes {
			break
		}
	}
	return best, why
}

// peerAdmits matches one peer against the source.
func peerAdmits(peer networkingv1.NetworkPolicyPeer, policyNamespace string, src Source) (Answer, string) {
	if peer.IPBlock != nil {
		// Pod IPs are not known here, and whether an ipBlock matches pod
		// traffic at all depends on the network plugin.
		return Maybe, "from ipBlock " + peer.IPBlock.CIDR + " (whether it matches the source's pod IPs depends on them and on the network plugin)"
	}
	// The namespaces the peer covers.
	var nsAnswer Answer
	var where string
	if peer.NamespaceSelector == nil {
		where = "pods of namespace " + policyNamespace
		switch {
		case src.Namespace == "":
			nsAnswer = Maybe
		case src.Namespace == policyNamespace:
			nsAnswer = Yes
		default:
			return No, ""
		}
	} else {
		where = "namespaces " + selectorString(peer.NamespaceSelector)
		switch {
		case isEmpty(peer.NamespaceSelector):
			nsAnswer, where = Yes, "every namespace"
		case src.Namespace == "":
			nsAnswer = Maybe
		case matches(peer.NamespaceSelector, src.NamespaceLabels):
			nsAnswer = Yes
		default:
			return No, ""
		}
	}
	// The pods it covers there.
	podAnswer := Yes
	if peer.PodSelector != nil && !isEmpty(peer.PodSelector) {
		where += ", pods " + selectorString(peer.PodSelector)
		switch {
		case src.PodLabels == nil:
			podAnswer = Maybe
		case matches(peer.PodSelector, src.PodLabels):
			podAnswer = Yes
		default:
			return No, ""
		}
	}
	return min(nsAnswer, podAnswer), "from " + where
}

// matches applies a label selector; one the API server would reject
// (it validates them) selects nothing.
func matches(s *metav1.LabelSelector, l map[string]string) bool {
	sel, err := metav1.LabelSelectorAsSelector(s)
	if err != nil {
		return false
	}
	return sel.Matches(labels.Set(l))
}

func isEmpty(s *metav1.LabelSelector) bool {
	return len(s.MatchLabels) == 0 && len(s.MatchExpressions) == 0
}

func selectorString(s *metav1.LabelSelector) string {
	if isEmpty(s) {
		return "{}"
	}
	return metav1.FormatLabelSelector(s)
}
