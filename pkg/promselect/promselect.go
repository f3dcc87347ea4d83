// Package promselect tells whether a Prometheus or PrometheusAgent run by
// prometheus-operator selects a ServiceMonitor or PodMonitor, and whether a
// Prometheus selects a PrometheusRule, by prometheus-operator v0.85.0's
// rules (pkg/prometheus/resource_selector.go, pkg/prometheus/server/rules.go):
// a nil selector selects nothing and {} everything; a nil namespace
// selector means the Prometheus's own namespace only and {} every namespace;
// a PrometheusAgent evaluates no rules.
// status (prometheus-selection, NetworkPolicies) and enable --network-policy
// both judge with it; it reads nothing from a cluster.
package promselect

import (
	"fmt"
	"slices"
	"strings"

	monitoringv1 "github.com/prometheus-operator/prometheus-operator/pkg/apis/monitoring/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

// The kinds that select monitors and the monitors they select.
const (
	KindPrometheus      = "Prometheus"
	KindPrometheusAgent = "PrometheusAgent"
	KindServiceMonitor  = "ServiceMonitor"
	KindPodMonitor      = "PodMonitor"
	KindPrometheusRule  = "PrometheusRule"
)

var (
	PrometheusGVR = schema.GroupVersionResource{Group: "monitoring.coreos.com", Version: "v1", Resource: "prometheuses"}
	// PrometheusAgent is served as v1alpha1 only (prometheus-operator v0.85.0).
	PrometheusAgentGVR = schema.GroupVersionResource{Group: "monitoring.coreos.com", Version: "v1alpha1", Resource: "prometheusagents"}
)

// Kinds are the kinds that select monitors, with their resources, in the
// order they are listed.
var Kinds = []struct {
	Kind string
	GVR  schema.GroupVersionResource
}{{KindPrometheus, PrometheusGVR}, {KindPrometheusAgent, PrometheusAgentGVR}}

// Prometheus is a Prometheus or PrometheusAgent as far as selecting goes.
type Prometheus struct {
	Kind, Namespace, Name string
	Spec                  monitoringv1.CommonPrometheusFields
	// RuleSelector and RuleNamespaceSelector are a Prometheus's (not in
	// CommonPrometheusFields: an agent has no rules).
	RuleSelector, RuleNamespaceSelector *metav1.LabelSelector
	// SpecErr: the spec did not convert to prometheus-operator's types.
	SpecErr error
}

// Ref names it in messages: "Prometheus monitoring/k8s".
func (p Prometheus) Ref() string { return p.Kind + " " + p.Namespace + "/" + p.Name }

// FromUnstructured reads a Prometheus or PrometheusAgent as listed.
func FromUnstructured(kind string, u *unstructured.Unstructured) Prometheus {
	p := Prometheus{Kind: kind, Namespace: u.GetNamespace(), Name: u.GetName()}
	if spec, ok := u.Object["spec"].(map[string]any); ok {
		// CommonPrometheusFields is inlined in both kinds' specs; fields it
		// does not know are ignored.
		p.SpecErr = runtime.DefaultUnstructuredConverter.FromUnstructured(spec, &p.Spec)
		for field, sel := range map[string]**metav1.LabelSelector{"ruleSelector": &p.RuleSelector, "ruleNamespaceSelector": &p.RuleNamespaceSelector} {
			raw, ok := spec[field].(map[string]any)
			if !ok || p.SpecErr != nil || kind != KindPrometheus {
				continue
			}
			*sel = &metav1.LabelSelector{}
			if err := runtime.DefaultUnstructuredConverter.FromUnstructured(raw, *sel); err != nil {
				p.SpecErr = fmt.Errorf("spec.%s: %w", field, err)
			}
		}
	}
	return p
}

// Monitor is a ServiceMonitor or PodMonitor to be selected (or a
// PrometheusRule: Prometheus selects it by the same rules).
type Monitor struct {
	Kind, Namespace, Name string
	Labels                map[string]string
}

// Ref names it in messages: "ServiceMonitor elastic-system/elastic-operator".
func (m Monitor) Ref() string { return m.Kind + " " + m.Namespace + "/" + m.Name }

// SelectorField is the spec field that selects monitors of its kind.
func (m Monitor) SelectorField() string {
	switch m.Kind {
	case KindPodMonitor:
		return "podMonitorSelector"
	case KindPrometheusRule:
		return "ruleSelector"
	}
	return "serviceMonitorSelector"
}

// NamespaceSelectorField is the spec field that selects their namespaces.
func (m Monitor) NamespaceSelectorField() string {
	switch m.Kind {
	case KindPodMonitor:
		return "podMonitorNamespaceSelector"
	case KindPrometheusRule:
		return "ruleNamespaceSelector"
	}
	return "serviceMonitorNamespaceSelector"
}

// Problem is why a Prometheus does not select the monitor.
type Problem int

const (
	SpecUnreadable Problem = iota + 1
	// NoRules: a PrometheusAgent evaluates no rules.
	NoRules
	NoSelector
	InvalidSelector
	LabelsMismatch
	OwnNamespaceOnly
	InvalidNamespaceSelector
	NamespaceMismatch
)

// Miss is one reason a Prometheus does not select the monitor.
type Miss struct {
	Problem Problem
	// Reason is the sentence that says so.
	Reason string
	// Field is the spec field at fault (serviceMonitorSelector...).
	Field string
	// Add (KEY=VALUE) and Remove (keys) would make the monitor's labels
	// (LabelsMismatch) or the namespace's (NamespaceMismatch) match.
	Add    map[string]string
	Remove []string
}

// Verdict says whether a Prometheus selects the monitor, and if not, why.
type Verdict struct {
	Prometheus Prometheus
	Selected   bool
	Misses     []Miss
}

// Reasons are the sentences of its misses.
func (v Verdict) Reasons() []string {
	out := make([]string, 0, len(v.Misses))
	for _, m := range v.Misses {
		out = append(out, m.Reason)
	}
	return out
}

// Judge applies prometheus-operator's selection to one Prometheus;
// nsLabels are the labels of the monitor's namespace.
func Judge(p Prometheus, m Monitor, nsLabels map[string]string) Verdict {
	v := Verdict{Prometheus: p}
	selector, nsSelector := p.Spec.ServiceMonitorSelector, p.Spec.ServiceMonitorNamespaceSelector
	switch m.Kind {
	case KindPodMonitor:
		selector, nsSelector = p.Spec.PodMonitorSelector, p.Spec.PodMonitorNamespaceSelector
	case KindPrometheusRule:
		selector, nsSelector = p.RuleSelector, p.RuleNamespaceSelector
	}
	field, nsField := m.SelectorField(), m.NamespaceSelectorField()
	ref := p.Ref()
	if p.SpecErr != nil {
		v.Misses = append(v.Misses, Miss{Problem: SpecUnreadable, Reason: fmt.Sprintf("the spec of %s is unreadable: %v", ref, p.SpecErr)})
		return v
	}
	if m.Kind == KindPrometheusRule && p.Kind != KindPrometheus {
		v.Misses = append(v.Misses, Miss{Problem: NoRules, Reason: fmt.Sprintf("%s evaluates no rules: a PrometheusAgent has no ruleSelector", ref)})
		return v
	}
	switch sel, err := metav1.LabelSelectorAsSelector(selector); {
	case selector == nil:
		v.Misses = append(v.Misses, Miss{Problem: NoSelector, Field: field, Reason: fmt.Sprintf("%s has no spec.%s: it selects no %s", ref, field, m.Kind)})
	case err != nil:
		v.Misses = append(v.Misses, Miss{Problem: InvalidSelector, Field: field, Reason: fmt.Sprintf("%s has an invalid spec.%s: %v", ref, field, err)})
	case !sel.Matches(labels.Set(m.Labels)):
		add, remove := NeededLabels(selector, m.Labels)
		v.Misses = append(v.Misses, Miss{Problem: LabelsMismatch, Field: field, Add: add, Remove: remove,
			Reason: fmt.Sprintf("spec.%s %s of %s does not match the labels of %s (%s)", field, sel, ref, m.Ref(), LabelsString(m.Labels))})
	}
	switch sel, err := metav1.LabelSelectorAsSelector(nsSelector); {
	case nsSelector == nil && p.Namespace != m.Namespace:
		v.Misses = append(v.Misses, Miss{Problem: OwnNamespaceOnly, Field: nsField,
			Reason: fmt.Sprintf("%s has no spec.%s: it selects %ss of its own namespace %s only", ref, nsField, m.Kind, p.Namespace)})
	case nsSelector == nil:
	case err != nil:
		v.Misses = append(v.Misses, Miss{Problem: InvalidNamespaceSelector, Field: nsField, Reason: fmt.Sprintf("%s has an invalid spec.%s: %v", ref, nsField, err)})
	case !sel.Matches(labels.Set(nsLabels)):
		add, remove := NeededLabels(nsSelector, nsLabels)
		v.Misses = append(v.Misses, Miss{Problem: NamespaceMismatch, Field: nsField, Add: add, Remove: remove,
			Reason: fmt.Sprintf("spec.%s %s of %s does not match namespace %s (%s)", nsField, sel, ref, m.Namespace, LabelsString(nsLabels))})
	}
	v.Selected = len(v.Misses) == 0
	return v
}

// NamespaceLabelsByName are the labels of a namespace that cannot be read:
// only the one the API server sets on every namespace.
func NamespaceLabelsByName(ns string) map[string]string {
	return map[string]string{corev1.LabelMetadataName: ns}
}

// NeededLabels are the labels (KEY=VALUE) to add to have, and the keys to
// remove from it, for selector to match.
func NeededLabels(selector *metav1.LabelSelector, have map[string]string) (add map[string]string, remove []string) {
	add = map[string]string{}
	for key, val := range selector.MatchLabels {
		if got, ok := have[key]; !ok || got != val {
			add[key] = val
		}
	}
	for _, e := range selector.MatchExpressions {
		got, ok := have[e.Key]
		switch e.Operator {
		case metav1.LabelSelectorOpIn:
			if (!ok || !slices.Contains(e.Values, got)) && len(e.Values) > 0 {
				add[e.Key] = e.Values[0]
			}
		case metav1.LabelSelectorOpExists:
			if !ok {
				add[e.Key] = "<any value>"
			}
		case metav1.LabelSelectorOpNotIn:
			if ok && slices.Contains(e.Values, got) {
				remove = append(remove, e.Key)
			}
		case metav1.LabelSelectorOpDoesNotExist:
			if ok {
				remove = append(remove, e.Key)
			}
		}
	}
	slices.Sort(remove)
	return add, remove
}

// LabelsString is KEY=VALUE,... sorted by key.
func LabelsString(l map[string]string) string {
	keys := make([]string, 0, len(l))
	for k := range l {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	parts := make([]string, 0, len(keys))
	for _, k := range keys {
		parts = append(parts, k+"="+l[k])
	}
	return strings.Join(parts, ",")
}

// Refs names each, separated by commas.
func Refs(ps []Prometheus) string {
	out := make([]string, 0, len(ps))
	for _, p := range ps {
		out = append(out, p.Ref())
	}
	return strings.Join(out, ", ")
}
