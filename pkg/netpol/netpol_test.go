package netpol

import (
	"slices"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	"sigs.k8s.io/yaml"
)

// operatorPod is the ECK operator's pod with the metrics port enable adds.
var operatorPod = Pod{
	Namespace: "elastic-system",
	Labels:    map[string]string{"control-plane": "elastic-operator"},
	Ports: []corev1.ContainerPort{
		{Name: "https-webhook", ContainerPort: 9443, Protocol: corev1.ProtocolTCP},
		{Name: "metrics", ContainerPort: 8081, Protocol: corev1.ProtocolTCP},
	},
}

var metricsPort = Port{Number: 8081}

var (
	// prometheus is a Prometheus pod of namespace monitoring, fully known.
	prometheus = Source{Namespace: "monitoring",
		NamespaceLabels: map[string]string{"kubernetes.io/metadata.name": "monitoring", "team": "observability"},
		PodLabels:       map[string]string{"app.kubernetes.io/name": "prometheus", "prometheus": "k8s"}}
	// prometheusNamespace is the same, its pods' labels unknown (--prometheus-namespace).
	prometheusNamespace = Source{Namespace: "monitoring", NamespaceLabels: prometheus.NamespaceLabels}
	// anywhere: no Prometheus known.
	anywhere = Source{}
	// sameNamespace is a scraper in the operator's own namespace.
	sameNamespace = Source{Namespace: "elastic-system",
		NamespaceLabels: map[string]string{"kubernetes.io/metadata.name": "elastic-system"},
		PodLabels:       map[string]string{"app.kubernetes.io/name": "prometheus"}}
)

// policy decodes a NetworkPolicy written as users write them.
func policy(t *testing.T, text string) networkingv1.NetworkPolicy {
	t.Helper()
	var p networkingv1.NetworkPolicy
	if err := yaml.UnmarshalStrict([]byte(text), &p); err != nil {
		t.Fatalf("%v\n%s", err, text)
	}
	if p.Namespace == "" {
		p.Namespace = "elastic-system"
	}
	return p
}

const denyAll = `
metadata: {name: default-deny}
spec:
  podSelector: {}
  policyTypes: [Ingress]
`

// denyAllDefaulted has no policyTypes: the API's default makes it Ingress.
const denyAllDefaulted = `
metadata: {name: default-deny}
spec:
  podSelector: {}
`

func TestEvaluate(t *testing.T) {
	tests := []struct {
		name     string
		policies []string
		src      Source
		port     Port
		isolated bool
		want     Answer
		// by names the policy that admits (or may), and part of why.
		by, why string
	}{
		{name: "no policy", src: prometheus, want: Yes},
		{name: "deny-all isolates", policies: []string{denyAll}, src: prometheus, isolated: true, want: No},
		{name: "policyTypes defaults to Ingress", policies: []string{denyAllDefaulted}, src: prometheus, isolated: true, want: No},
		{name: "egress-only policy does not isolate", policies: []string{`
metadata: {name: egress-only}
spec:
  podSelector: {}
  policyTypes: [Egress]
`}, src: prometheus, want: Yes},
		{name: "egress rules without policyTypes still isolate ingress", policies: []string{`
metadata: {name: egress-rules}
spec:
  podSelector: {}
  egress: [{}]
`}, src: prometheus, isolated: true, want: No},
		{name: "policy selecting other pods", policies: []string{`
metadata: {name: elasticsearch-only}
spec:
  podSelector: {matchLabels: {common.k8s.elastic.co/type: elasticsearch}}
  policyTypes: [Ingress]
`}, src: prometheus, want: Yes},
		{name: "policy of another namespace", policies: []string{`
metadata: {name: default-deny, namespace: monitoring}
spec:
  podSelector: {}
  policyTypes: [Ingress]
`}, src: prometheus, want: Yes},
		{name: "selected by matchExpressions", policies: []string{`
metadata: {name: operator-deny}
spec:
  podSelector: {matchExpressions: [{key: control-plane, operator: Exists}]}
  policyTypes: [Ingress]
`}, src: prometheus, isolated: true, want: No},

		{name: "allow by namespace name", policies: []string{denyAll, `
metadata: {name: allow-monitoring}
spec:
  podSelector: {matchLabels: {control-plane: elastic-operator}}
  ingress:
  - from: [{namespaceSelector: {matchLabels: {kubernetes.io/metadata.name: monitoring}}}]
    ports: [{port: 8081}]
`}, src: prometheus, isolated: true, want: Yes, by: "allow-monitoring", why: "from namespaces kubernetes.io/metadata.name=monitoring"},
		{name: "allow by namespace name, pod labels unknown", policies: []string{denyAll, `
metadata: {name: allow-monitoring}
spec:
  podSelector: {}
  ingress:
  - from: [{namespaceSelector: {matchLabels: {kubernetes.io/metadata.name: monitoring}}}]
`}, src: prometheusNamespace, isolated: true, want: Yes, by: "allow-monitoring"},
		{name: "allow of another namespace", policies: []string{`
metadata: {name: allow-logging}
spec:
  podSelector: {}
  ingress:
  - from: [{namespaceSelector: {matchLabels: {kubernetes.io/metadata.name: logging}}}]
`}, src: prometheus, isolated: true, want: No},
		{name: "allow by a namespace label (matchExpressions)", policies: []string{`
metadata: {name: allow-observability}
spec:
  podSelector: {}
  ingress:
  - from: [{namespaceSelector: {matchExpressions: [{key: team, operator: In, values: [observability, sre]}]}}]
`}, src: prometheus, isolated: true, want: Yes, by: "allow-observability"},
		{name: "every namespace", policies: []string{`
metadata: {name: allow-all-namespaces}
spec:
  podSelector: {}
  ingress:
  - from: [{namespaceSelector: {}}]
`}, src: anywhere, isolated: true, want: Yes, by: "allow-all-namespaces", why: "every namespace"},

		{name: "allow by pod labels in the policy's namespace", policies: []string{denyAll, `
metadata: {name: allow-local-prometheus}
spec:
  podSelector: {}
  ingress:
  - from: [{podSelector: {matchLabels: {app.kubernetes.io/name: prometheus}}}]
`}, src: sameNamespace, isolated: true, want: Yes, by: "allow-local-prometheus", why: "pods of namespace elastic-system, pods app.kubernetes.io/name=prometheus"},
		{name: "pod labels alone never admit another namespace", policies: []string{`
metadata: {name: allow-local-prometheus}
spec:
  podSelector: {}
  ingress:
  - from: [{podSelector: {matchLabels: {app.kubernetes.io/name: prometheus}}}]
`}, src: prometheus, isolated: true, want: No},
		{name: "pod labels unknown", policies: []string{`
metadata: {name: allow-local-prometheus}
spec:
  podSelector: {}
  ingress:
  - from: [{podSelector: {matchLabels: {app.kubernetes.io/name: prometheus}}}]
`}, src: Source{Namespace: "elastic-system", NamespaceLabels: sameNamespace.NamespaceLabels}, isolated: true, want: Maybe, by: "allow-local-prometheus"},
		{name: "empty podSelector admits the policy's namespace", policies: []string{`
metadata: {name: allow-same-namespace}
spec:
  podSelector: {}
  ingress:
  - from: [{podSelector: {}}]
`}, src: Source{Namespace: "elastic-system"}, isolated: true, want: Yes, by: "allow-same-namespace"},

		{name: "namespace and pod labels together", policies: []string{denyAll, `
metadata: {name: allow-prometheus-k8s}
spec:
  podSelector: {}
  ingress:
  - from:
    - namespaceSelector: {matchLabels: {kubernetes.io/metadata.name: monitoring}}
      podSelector: {matchLabels: {prometheus: k8s}}
`}, src: prometheus, isolated: true, want: Yes, by: "allow-prometheus-k8s", why: "pods prometheus=k8s"},
		{name: "namespace and pod labels together: other pods", policies: []string{`
metadata: {name: allow-grafana}
spec:
  podSelector: {}
  ingress:
  - from:
    - namespaceSelector: {matchLabels: {kubernetes.io/metadata.name: monitoring}}
      podSelector: {matchLabels: {app: grafana}}
`}, src: prometheus, isolated: true, want: No},
		{name: "namespace and pod labels together: pod labels unknown", policies: []string{`
metadata: {name: allow-prometheus-k8s}
spec:
  podSelector: {}
  ingress:
  - from:
    - namespaceSelector: {matchLabels: {kubernetes.io/metadata.name: monitoring}}
      podSelector: {matchLabels: {prometheus: k8s}}
`}, src: prometheusNamespace, isolated: true, want: Maybe, by: "allow-prometheus-k8s"},
		{name: "namespace and pod labels together: other namespace", policies: []string{`
metadata: {name: allow-prometheus-k8s}
spec:
  podSelector: {}
  ingress:
  - from:
    - namespaceSelector: {matchLabels: {kubernetes.io/metadata.name: other}}
      podSelector: {matchLabels: {prometheus: k8s}}
`}, src: prometheus, isolated: true, want: No},
		{name: "two peers are OR-ed", policies: []string{`
metadata: {name: allow-either}
spec:
  podSelector: {}
  ingress:
  - from:
    - namespaceSelector: {matchLabels: {kubernetes.io/metadata.name: other}}
    - podSelector: {matchLabels: {prometheus: k8s}}
      namespaceSelector: {matchLabels: {team: observability}}
`}, src: prometheus, isolated: true, want: Yes, by: "allow-either", why: "team=observability"},

		{name: "ipBlock only", policies: []string{`
metadata: {name: allow-cidr}
spec:
  podSelector: {}
  ingress:
  - from: [{ipBlock: {cidr: 10.0.0.0/8}}]
    ports: [{port: 8081}]
`}, src: prometheus, isolated: true, want: Maybe, by: "allow-cidr", why: "ipBlock 10.0.0.0/8"},

		{name: "no from admits every source", policies: []string{`
metadata: {name: allow-port}
spec:
  podSelector: {}
  ingress:
  - ports: [{port: 8081, protocol: TCP}]
`}, src: anywhere, isolated: true, want: Yes, by: "allow-port", why: "every source"},
		{name: "named port resolves on the pod", policies: []string{`
metadata: {name: allow-metrics}
spec:
  podSelector: {}
  ingress:
  - ports: [{port: metrics}]
`}, src: prometheus, isolated: true, want: Yes, by: "allow-metrics"},
		{name: "named port of another container port", policies: []string{`
metadata: {name: allow-webhook}
spec:
  podSelector: {}
  ingress:
  - ports: [{port: https-webhook}]
`}, src: prometheus, isolated: true, want: No},
		{name: "named port the pod does not have", policies: []string{`
metadata: {name: allow-https}
spec:
  podSelector: {}
  ingress:
  - ports: [{port: https}]
`}, src: prometheus, isolated: true, want: No},
		{name: "other port", policies: []string{`
metadata: {name: allow-webhook}
spec:
  podSelector: {}
  ingress:
  - ports: [{port: 9443}]
`}, src: prometheus, isolated: true, want: No},
		{name: "other protocol", policies: []string{`
metadata: {name: allow-udp}
spec:
  podSelector: {}
  ingress:
  - ports: [{port: 8081, protocol: UDP}]
`}, src: prometheus, isolated: true, want: No},
		{name: "protocol only admits all its ports", policies: []string{`
metadata: {name: allow-tcp}
spec:
  podSelector: {}
  ingress:
  - ports: [{protocol: TCP}]
`}, src: prometheus, isolated: true, want: Yes, by: "allow-tcp"},
		{name: "endPort range holds the port", policies: []string{`
metadata: {name: allow-range}
spec:
  podSelector: {}
  ingress:
  - ports: [{port: 8000, endPort: 8100}]
`}, src: prometheus, isolated: true, want: Yes, by: "allow-range"},
		{name: "endPort range ends at the port", policies: []string{`
metadata: {name: allow-range}
spec:
  podSelector: {}
  ingress:
  - ports: [{port: 8000, endPort: 8081}]
`}, src: prometheus, isolated: true, want: Yes, by: "allow-range"},
		{name: "endPort range misses the port", policies: []string{`
metadata: {name: allow-range}
spec:
  podSelector: {}
  ingress:
  - ports: [{port: 8082, endPort: 8100}]
`}, src: prometheus, isolated: true, want: No},
		{name: "the source rule and the port rule must be one rule", policies: []string{`
metadata: {name: split}
spec:
  podSelector: {}
  ingress:
  - from: [{namespaceSelector: {matchLabels: {kubernetes.io/metadata.name: monitoring}}}]
    ports: [{port: 9443}]
  - from: [{namespaceSelector: {matchLabels: {kubernetes.io/metadata.name: other}}}]
    ports: [{port: 8081}]
`}, src: prometheus, isolated: true, want: No},
		{name: "sidecar mode: the proxy's port", port: Port{Number: 8080}, policies: []string{`
metadata: {name: allow-proxy}
spec:
  podSelector: {}
  ingress:
  - ports: [{port: 8080}]
`}, src: prometheus, isolated: true, want: Yes, by: "allow-proxy"},

		{name: "unknown source: a namespace-restricted rule may admit", policies: []string{`
metadata: {name: allow-monitoring}
spec:
  podSelector: {}
  ingress:
  - from: [{namespaceSelector: {matchLabels: {kubernetes.io/metadata.name: monitoring}}}]
`}, src: anywhere, isolated: true, want: Maybe, by: "allow-monitoring"},
		{name: "unknown source: a same-namespace rule may admit", policies: []string{`
metadata: {name: allow-local}
spec:
  podSelector: {}
  ingress:
  - from: [{podSelector: {}}]
`}, src: anywhere, isolated: true, want: Maybe, by: "allow-local"},
		{name: "a certain rule wins over a possible one", policies: []string{`
metadata: {name: a-cidr}
spec:
  podSelector: {}
  ingress:
  - from: [{ipBlock: {cidr: 10.0.0.0/8}}]
`, `
metadata: {name: b-monitoring}
spec:
  podSelector: {}
  ingress:
  - from: [{namespaceSelector: {matchLabels: {kubernetes.io/metadata.name: monitoring}}}]
`}, src: prometheus, isolated: true, want: Yes, by: "b-monitoring"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var policies []networkingv1.NetworkPolicy
			for _, text := range tc.policies {
				policies = append(policies, policy(t, text))
			}
			pod, port := operatorPod, metricsPort
			if tc.port.Number != 0 {
				// Sidecar mode: the port named metrics is the proxy's.
				port = tc.port
				pod.Ports = []corev1.ContainerPort{{Name: "metrics", ContainerPort: port.Number, Protocol: corev1.ProtocolTCP}}
			}
			r := Evaluate(policies, pod, port, tc.src)
			check(t, r, tc.isolated, tc.want, tc.by, tc.why)
			if got := Isolating(policies, pod); !slices.Equal(got, r.Isolating) {
				t.Errorf("Isolating %v, Evaluate's %v", got, r.Isolating)
			}
		})
	}
}

func check(t *testing.T, r Result, isolated bool, want Answer, by, why string) {
	t.Helper()
	if r.Isolated() != isolated {
		t.Errorf("isolated %v (by %v), want %v", r.Isolated(), r.Isolating, isolated)
	}
	if r.Answer() != want {
		t.Fatalf("answer %d, want %d: %+v", r.Answer(), want, r)
	}
	if by == "" {
		if len(r.Admitted)+len(r.Possible) > 0 {
			t.Errorf("admitted by %+v %+v, want none", r.Admitted, r.Possible)
		}
		return
	}
	rules := r.Admitted
	if want == Maybe {
		rules = r.Possible
	}
	if len(rules) == 0 || rules[0].Policy != by || !strings.Contains(rules[0].Why, why) {
		t.Errorf("admitted by %+v, want policy %s with %q", rules, by, why)
	}
}

// policyTypes as the API defaults and reads them: an explicit
// [Ingress, Egress] isolates ingress too.
func TestAffectsIngress(t *testing.T) {
	for _, tc := range []struct {
		types []networkingv1.PolicyType
		want  bool
	}{
		{nil, true},
		{[]networkingv1.PolicyType{networkingv1.PolicyTypeIngress}, true},
		{[]networkingv1.PolicyType{networkingv1.PolicyTypeEgress}, false},
		{[]networkingv1.PolicyType{networkingv1.PolicyTypeIngress, networkingv1.PolicyTypeEgress}, true},
	} {
		p := &networkingv1.NetworkPolicy{Spec: networkingv1.NetworkPolicySpec{PolicyTypes: tc.types}}
		if got := AffectsIngress(p); got != tc.want {
			t.Errorf("policyTypes %v: %v, want %v", tc.types, got, tc.want)
		}
	}
}
