package status

// prometheus-selection.rules: is the PrometheusRule of enable --alerts
// loaded by a Prometheus that scrapes our monitor? Its alerts speak of the
// monitor's target, so only those Prometheus objects count; a
// PrometheusAgent evaluates no rules.

import (
	"context"
	"fmt"
	"strings"

	"github.com/eck-metrics/kubectl-eck-metrics/pkg/kube"
	"github.com/eck-metrics/kubectl-eck-metrics/pkg/patches"
	"github.com/eck-metrics/kubectl-eck-metrics/pkg/promselect"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// checkRuleSelection judges our PrometheusRule against the Prometheus
// objects that select the monitor.
func (k *checker) checkRuleSelection(ctx context.Context, s *selection, selecting []prometheusObject) {
	if !selected(k.o.Checks, SelectionRules) {
		return
	}
	ns, name := k.op.Namespace(), patches.PrometheusRuleName(k.op.Name())
	ref := fmt.Sprintf("PrometheusRule %s/%s", ns, name)
	served, err := k.served(patches.PrometheusRuleGVR)
	switch {
	case err != nil:
		k.add(SelectionRules, Warn, err.Error(), "run status as a user who may use discovery", nil)
		return
	case !served:
		k.skip(SelectionRules, "monitoring.coreos.com/v1 PrometheusRule is not served")
		return
	}
	live, err := k.c.Dynamic.Resource(patches.PrometheusRuleGVR).Namespace(ns).Get(ctx, name, metav1.GetOptions{})
	switch {
	case apierrors.IsNotFound(err):
		k.skip(SelectionRules, "no "+ref+" (enable --alerts applies one)")
		return
	case err != nil:
		k.add(SelectionRules, Warn, kube.ReadError(ref, err).Error(), "run status as a user who may get prometheusrules (monitoring.coreos.com) in "+ns, nil)
		return
	}
	rule := promselect.Monitor{Kind: promselect.KindPrometheusRule, Namespace: ns, Name: name, Labels: live.GetLabels()}
	nsLabels, _ := k.namespaceLabels(ctx, ns)
	var loading []prometheusObject
	var reasons, hints []string
	for _, p := range selecting {
		v := promselect.Judge(p.Prometheus, rule, nsLabels)
		if v.Selected {
			loading = append(loading, p)
			continue
		}
		reasons = append(reasons, v.Reasons()...)
		for _, miss := range v.Misses {
			hints = append(hints, ruleHint(p, rule, s.monitor, miss))
		}
	}
	details := map[string]any{"prometheusRule": rule.Ref(), "labels": rule.Labels}
	if len(loading) > 0 {
		k.add(SelectionRules, Pass, fmt.Sprintf("%s %s %s with %s", refs(loading), selectVerb(loading), rule.Ref(), s.monitor.ref()), "", details)
		return
	}
	k.add(SelectionRules, Fail, fmt.Sprintf("no Prometheus that selects %s loads %s, so its alerts never fire: %s", s.monitor.ref(), rule.Ref(), strings.Join(reasons, "; ")),
		strings.Join(hints, "; or "), details)
}

// ruleHint says what makes p load the rule.
func ruleHint(p prometheusObject, rule promselect.Monitor, m *ourMonitor, miss promselect.Miss) string {
	ref := p.Ref()
	switch miss.Problem {
	case promselect.NoRules:
		return fmt.Sprintf("%s cannot evaluate alerts: load %s into the Prometheus or ruler that queries its data", ref, rule.Ref())
	case promselect.NoSelector:
		return fmt.Sprintf("set spec.%s of %s ({} selects every PrometheusRule)", miss.Field, ref)
	case promselect.LabelsMismatch:
		// Removing a label could unselect the monitor: only adding is run.
		if len(miss.Add) > 0 && len(miss.Remove) == 0 {
			return fmt.Sprintf("run: kubectl eck-metrics enable -n %s --name %s --alerts%s (the PrometheusRule carries the monitor's labels)", m.namespace, m.name, monitorLabelFlags(m, miss.Add, nil))
		}
		return fmt.Sprintf("change spec.%s of %s to match the labels of %s (%s)", miss.Field, ref, rule.Ref(), promselect.LabelsString(rule.Labels))
	case promselect.OwnNamespaceOnly:
		return fmt.Sprintf("set spec.%s of %s to {matchLabels: {%s: %s}} (or {} for every namespace)", miss.Field, ref, corev1.LabelMetadataName, rule.Namespace)
	case promselect.NamespaceMismatch:
		return namespaceLabelHint(rule.Namespace, miss.Field, ref, miss.Add, miss.Remove)
	}
	return fmt.Sprintf("fix spec.%s of %s", miss.Field, ref)
}
