package status

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/eck-metrics/kubectl-eck-metrics/pkg/kube"
	"github.com/eck-metrics/kubectl-eck-metrics/pkg/netpol"
	"github.com/eck-metrics/kubectl-eck-metrics/pkg/patches"
	"github.com/eck-metrics/kubectl-eck-metrics/pkg/promselect"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// scraper is a Prometheus whose scrapes must reach the metrics port.
type scraper struct {
	// Ref names it in messages: "namespace monitoring", "Prometheus monitoring/k8s".
	Ref       string
	Namespace string
	// PodLabels are its pods' labels; nil when unknown.
	PodLabels map[string]string
	// Found: a Prometheus object that selects our monitor, which enable
	// --network-policy finds too (no flag needed).
	Found bool
}

// scrapers are the Prometheuses the NetworkPolicy check admits traffic
// from: the one the flags name (--prometheus-namespace, else the namespace
// of --prometheus-sa; its pods' labels unknown), else each Prometheus that
// selects our monitor, with the labels prometheus-operator gives its pods.
// None known: nil, and the check asks for a rule open to every namespace.
func (k *checker) scrapers(ctx context.Context) []scraper {
	if ns := k.prometheusNamespace(); ns != "" {
		return []scraper{{Ref: "namespace " + ns, Namespace: ns}}
	}
	selecting, err := k.selectingPrometheuses(ctx)
	if err != nil {
		return nil
	}
	out := make([]scraper, 0, len(selecting))
	for _, p := range selecting {
		out = append(out, scraper{Ref: p.Ref(), Namespace: p.Namespace, PodLabels: p.PodLabels, Found: true})
	}
	return out
}

// namespaceLabels are the labels namespaceSelectors match. Without
// permission to read the Namespace, the label the API server sets on every
// namespace (kubernetes.io/metadata.name) stands in; fallback says so.
// Each Namespace is read once per run: prometheus-selection asks for the
// monitor's, the NetworkPolicy check for each scraper's, and they may be one.
func (k *checker) namespaceLabels(ctx context.Context, name string) (labels map[string]string, fallback string) {
	if r, ok := k.namespacesRead[name]; ok {
		return r.labels, r.fallback
	}
	labels, fallback = k.readNamespaceLabels(ctx, name)
	if k.namespacesRead == nil {
		k.namespacesRead = map[string]namespaceRead{}
	}
	k.namespacesRead[name] = namespaceRead{labels, fallback}
	return labels, fallback
}

type namespaceRead struct {
	labels   map[string]string
	fallback string
}

func (k *checker) readNamespaceLabels(ctx context.Context, name string) (map[string]string, string) {
	ns, err := k.c.Kube.CoreV1().Namespaces().Get(ctx, name, metav1.GetOptions{})
	if err == nil {
		return ns.Labels, ""
	}
	why := fmt.Sprintf("cannot read Namespace %s (%s)", name, kube.StatusMessage(err))
	if apierrors.IsNotFound(err) {
		why = "Namespace " + name + " not found"
	}
	return promselect.NamespaceLabelsByName(name), fmt.Sprintf("%s: matched by its name (%s) only", why, corev1.LabelMetadataName)
}

// metricsPort is the container port Prometheus scrapes: the one named
// metrics of the mode's metrics container.
func (k *checker) metricsPort() (*corev1.ContainerPort, bool) {
	c, ok := k.metricsContainer()
	if !ok {
		return nil, false
	}
	for i := range c.Ports {
		if c.Ports[i].Name == patches.MetricsPortName {
			return &c.Ports[i], true
		}
	}
	return nil, false
}

// networkPolicyHint is the command that admits Prometheus's namespace.
func networkPolicyHint(namespace string) string {
	if namespace == "" {
		namespace = "NAMESPACE"
	}
	return "run: kubectl eck-metrics enable --network-policy --prometheus-namespace " + namespace
}

// checkNetworkPolicy evaluates the NetworkPolicies of the operator's
// namespace against its pod template and metrics port: an isolated pod
// that admits no scrape makes every scrape time out, silently.
func (k *checker) checkNetworkPolicy(ctx context.Context) {
	ns := k.op.Namespace()
	list, err := k.c.Kube.NetworkingV1().NetworkPolicies(ns).List(ctx, metav1.ListOptions{})
	if err != nil {
		k.add(NetworkPolicyMetricsPort, Warn, fmt.Sprintf("cannot list the NetworkPolicies of namespace %s (%s): cannot tell whether one blocks scrapes", ns, kube.StatusMessage(err)),
			"run status as a user who may list networkpolicies in namespace "+ns, nil)
		return
	}
	pod := netpol.Pod{Namespace: ns, Labels: k.op.StatefulSet.Spec.Template.Labels}
	for _, c := range k.op.StatefulSet.Spec.Template.Spec.Containers {
		pod.Ports = append(pod.Ports, c.Ports...)
	}
	isolating := netpol.Isolating(list.Items, pod)
	details := map[string]any{"policies": len(list.Items), "isolating": isolating}
	if len(isolating) == 0 {
		k.add(NetworkPolicyMetricsPort, Pass, "no NetworkPolicy isolates the operator pod", "", details)
		return
	}
	if own := patches.NetworkPolicyName(k.op.Name()); len(isolating) == 1 && isolating[0] == own && ownedByUs(list.Items, own) {
		// Left after the namespace's own policies went: it denies the
		// webhook and everything else but scrapes.
		k.add(NetworkPolicyMetricsPort, Warn, fmt.Sprintf("only NetworkPolicy %s, applied by enable --network-policy, isolates the operator pod: it denies the webhook and all other traffic but scrapes", own),
			fmt.Sprintf("run: kubectl delete networkpolicy -n %s %s", ns, own), details)
		return
	}
	cp, ok := k.metricsPort()
	if !ok {
		k.skip(NetworkPolicyMetricsPort, fmt.Sprintf("container %s has no port named %s to admit", patches.MetricsContainer(k.mode), patches.MetricsPortName))
		return
	}
	port := netpol.Port{Number: cp.ContainerPort, Protocol: cp.Protocol}
	portText := fmt.Sprintf("port %s (%s)", cp.Name, port)
	details["port"] = port.String()

	scrapers := k.scrapers(ctx)
	unknown := len(scrapers) == 0
	if unknown {
		scrapers = []scraper{{Ref: "any namespace"}}
	}
	var admitted, possible, denied, notes, deniedNamespaces []string
	possibleNamespace := "" // of the first scraper a rule may admit
	for _, s := range scrapers {
		src := netpol.Source{Namespace: s.Namespace, PodLabels: s.PodLabels}
		if s.Namespace != "" {
			var note string
			if src.NamespaceLabels, note = k.namespaceLabels(ctx, s.Namespace); note != "" {
				notes = append(notes, note)
			}
		}
		r := netpol.Evaluate(list.Items, pod, port, src)
		switch r.Answer() {
		case netpol.Yes:
			a := r.Admitted[0]
			admitted = append(admitted, fmt.Sprintf("NetworkPolicy %s admits %s from %s (%s)", a.Policy, portText, s.Ref, a.Why))
		case netpol.Maybe:
			var whys []string
			for _, a := range r.Possible {
				whys = append(whys, fmt.Sprintf("NetworkPolicy %s admits it %s", a.Policy, a.Why))
			}
			if len(possible) == 0 {
				possibleNamespace = s.Namespace
			}
			possible = append(possible, fmt.Sprintf("%s from %s only if it fits: %s", portText, s.Ref, strings.Join(whys, "; ")))
		default:
			denied = append(denied, s.Ref)
			if !slices.Contains(deniedNamespaces, s.Namespace) {
				deniedNamespaces = append(deniedNamespaces, s.Namespace)
			}
		}
	}
	isolatedBy := "NetworkPolicy " + isolating[0] + " isolates"
	if len(isolating) > 1 {
		isolatedBy = "NetworkPolicies " + strings.Join(isolating, ", ") + " isolate"
	}
	suffix := ""
	if unknown {
		suffix = " (no Prometheus named: pass --prometheus-namespace to check for yours)"
	}
	if len(notes) > 0 {
		suffix += "; " + strings.Join(notes, "; ")
	}
	switch {
	case len(denied) > 0:
		// One policy admits one namespace: the hint names it when it is one.
		hintNS := ""
		if len(deniedNamespaces) == 1 {
			hintNS = deniedNamespaces[0]
		}
		hint := networkPolicyHint(hintNS)
		if scrapers[0].Found {
			// enable finds the namespaces of the selecting Prometheus objects.
			hint = "run: kubectl eck-metrics enable --network-policy (it admits the namespaces of the Prometheus objects that select the monitor)"
		}
		k.add(NetworkPolicyMetricsPort, Fail, fmt.Sprintf("%s the operator pod and no rule admits %s from %s: every scrape times out%s", isolatedBy, portText, strings.Join(denied, ", "), suffix),
			hint, details)
	case len(possible) > 0:
		hint := "make sure Prometheus's pods fit that rule, or admit its namespace: " + strings.TrimPrefix(networkPolicyHint(possibleNamespace), "run: ")
		if unknown {
			hint = "pass --prometheus-namespace NAMESPACE (or --prometheus-sa) to check the rule against your Prometheus"
		}
		k.add(NetworkPolicyMetricsPort, Warn, fmt.Sprintf("%s the operator pod; %s%s", isolatedBy, strings.Join(possible, "; "), suffix), hint, details)
	default:
		k.add(NetworkPolicyMetricsPort, Pass, strings.Join(admitted, "; ")+suffix, "", details)
	}
}

// ownedByUs tells whether the policy of that name was created by the plugin.
func ownedByUs(policies []networkingv1.NetworkPolicy, name string) bool {
	for _, p := range policies {
		if p.Name == name {
			return p.Labels[patches.ManagedByLabel] == patches.FieldManager
		}
	}
	return false
}

// prometheusNamespace is Prometheus's namespace as the flags give it:
// --prometheus-namespace, else the namespace of --prometheus-sa.
func (k *checker) prometheusNamespace() string {
	if k.o.PrometheusNamespace != "" {
		return k.o.PrometheusNamespace
	}
	ns, _, ok := k.prometheusSA()
	if ok {
		return ns
	}
	return ""
}
