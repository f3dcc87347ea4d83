package steps

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/eck-metrics/kubectl-eck-metrics/pkg/apply"
	"github.com/eck-metrics/kubectl-eck-metrics/pkg/kube"
	"github.com/eck-metrics/kubectl-eck-metrics/pkg/netpol"
	"github.com/eck-metrics/kubectl-eck-metrics/pkg/operator"
	"github.com/eck-metrics/kubectl-eck-metrics/pkg/patches"
	"github.com/eck-metrics/kubectl-eck-metrics/pkg/promselect"
	networkingv1 "k8s.io/api/networking/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	networkingv1ac "k8s.io/client-go/applyconfigurations/networking/v1"
)

// ours tells whether a NetworkPolicy is the one enable --network-policy applied.
func ours(p *networkingv1.NetworkPolicy, operatorName string) bool {
	return p.Name == patches.NetworkPolicyName(operatorName) && patches.CreatedByUs(p.Labels)
}

// planNetworkPolicy applies the NetworkPolicy that admits Prometheus's
// namespace to the metrics port, only where other policies already
// isolate the operator pod for ingress: a first policy selecting the pod
// would isolate it, and its webhook (and everything else) would be denied.
// The namespace is --prometheus-namespace (from), else those of the
// Prometheus objects that select monitor, the one this run applies.
func planNetworkPolicy(ctx context.Context, c kube.Clients, op *operator.Operator, p patches.Params, from string, monitor *promselect.Monitor) (*apply.Step, error) {
	policies := c.Kube.NetworkingV1().NetworkPolicies(op.Namespace())
	list, err := policies.List(ctx, metav1.ListOptions{})
	if err != nil {
		return nil, kube.ReadError("the NetworkPolicies of namespace "+op.Namespace(), err)
	}
	var others []networkingv1.NetworkPolicy
	ownExists := false
	for _, np := range list.Items {
		if ours(&np, op.Name()) {
			ownExists = true
			continue
		}
		others = append(others, np)
	}
	pod := netpol.Pod{Namespace: op.Namespace(), Labels: op.StatefulSet.Spec.Template.Labels}
	isolating := netpol.Isolating(others, pod)
	if len(isolating) == 0 {
		why := fmt.Sprintf("--network-policy: no NetworkPolicy isolates the pods of %s/%s for ingress, so scrapes already reach them; a policy selecting them would isolate them and deny their webhook traffic and everything else it does not admit: nothing was changed", op.Namespace(), op.Name())
		if ownExists {
			why += fmt.Sprintf(" (NetworkPolicy %s, applied by an earlier enable --network-policy, is the only one selecting them: kubectl eck-metrics disable deletes it)", patches.NetworkPolicyName(op.Name()))
		}
		return nil, fmt.Errorf("%s", why)
	}
	namespaces, found := []string{from}, ""
	if from == "" {
		selecting, partial, err := findSelecting(ctx, c, monitor)
		if err != nil {
			return nil, err
		}
		namespaces = nil
		for _, s := range selecting {
			namespaces = append(namespaces, s.Namespace)
		}
		slices.Sort(namespaces)
		namespaces = slices.Compact(namespaces)
		found = fmt.Sprintf("%s %s %s", promselect.Refs(selecting), selectVerb(len(selecting)), monitor.Ref())
		if len(partial) > 0 {
			found += " (" + strings.Join(partial, "; ") + ")"
		}
		found += "; "
	}
	desired := patches.NetworkPolicy(p, namespaces)
	name := *desired.Name
	live, err := apply.Observe(ctx, fmt.Sprintf("NetworkPolicy %s/%s", op.Namespace(), name), name, policies.Get, networkingv1ac.ExtractNetworkPolicy)
	if err != nil {
		return nil, err
	}
	a, err := apply.NewAction("NetworkPolicy", op.Namespace(), name, desired, live.Object(), live.Owned,
		func(ctx context.Context, opts metav1.ApplyOptions) (runtime.Object, error) {
			return policies.Apply(ctx, desired, opts)
		})
	if err != nil {
		return nil, err
	}
	by := "NetworkPolicy " + isolating[0]
	if len(isolating) > 1 {
		by = "NetworkPolicies " + strings.Join(isolating, ", ")
	}
	what := "namespace " + namespaces[0]
	if len(namespaces) > 1 {
		what = "namespaces " + strings.Join(namespaces, ", ")
	}
	a.Detail = fmt.Sprintf("admits %s to port %s (%sthe pods are isolated by %s)", what, patches.MetricsPortName, found, by)
	return &apply.Step{Title: "NetworkPolicy", Actions: []*apply.Action{a}}, nil
}

func selectVerb(n int) string {
	if n == 1 {
		return "selects"
	}
	return "select"
}

// findSelecting lists the Prometheus and PrometheusAgent objects of every
// namespace and returns those that select monitor; partial says which kind
// could not be listed while another was. None found, or none listed: an
// error that says why and asks for --prometheus-namespace.
func findSelecting(ctx context.Context, c kube.Clients, monitor *promselect.Monitor) (selecting []promselect.Prometheus, partial []string, err error) {
	refuse := func(why string) error {
		return fmt.Errorf("--network-policy: %s, so there is no Prometheus namespace to admit: give --prometheus-namespace; nothing was changed", why)
	}
	if monitor == nil {
		return nil, nil, refuse("no monitor is applied for a Prometheus to select")
	}
	found := kube.ListPrometheuses(ctx, c, func(gvr schema.GroupVersionResource) (bool, error) { return kube.Served(c, gvr) })
	all, failures, listed := found.Items, found.Failures, found.Listed
	switch {
	case listed == 0 && len(failures) > 0:
		return nil, nil, refuse("cannot find the Prometheus that selects " + monitor.Ref() + ": " + strings.Join(failures, "; "))
	case listed == 0:
		return nil, nil, refuse("monitoring.coreos.com Prometheus is not served (no prometheus-operator)")
	case len(all) == 0 && len(failures) == 0:
		return nil, nil, refuse("no Prometheus or PrometheusAgent in any namespace")
	}
	nsLabels, assumed := promselect.NamespaceLabelsByName(monitor.Namespace), true
	if ns, err := c.Kube.CoreV1().Namespaces().Get(ctx, monitor.Namespace, metav1.GetOptions{}); err == nil {
		nsLabels, assumed = ns.Labels, false
	}
	var reasons []string
	for _, p := range all {
		v := promselect.Judge(p, *monitor, nsLabels)
		if v.Selected {
			selecting = append(selecting, p)
		}
		reasons = append(reasons, v.Reasons()...)
	}
	if len(selecting) == 0 {
		why := "no Prometheus selects " + monitor.Ref()
		if len(reasons) > 0 {
			why += ": " + strings.Join(reasons, "; ")
		}
		if len(failures) > 0 {
			why += " (" + strings.Join(failures, "; ") + ")"
		}
		if assumed {
			why += fmt.Sprintf(" (namespace %s unreadable: its labels taken as %s only)", monitor.Namespace, promselect.LabelsString(nsLabels))
		}
		return nil, nil, refuse(why)
	}
	return selecting, failures, nil
}

// planDeleteNetworkPolicy deletes the NetworkPolicy enable --network-policy
// applied, when only we manage it. nil: there is none.
func planDeleteNetworkPolicy(ctx context.Context, c kube.Clients, op *operator.Operator) (*apply.Step, error) {
	name := patches.NetworkPolicyName(op.Name())
	ref := op.Namespace() + "/" + name
	policies := c.Kube.NetworkingV1().NetworkPolicies(op.Namespace())
	live, err := policies.Get(ctx, name, metav1.GetOptions{})
	switch {
	case apierrors.IsNotFound(err):
		return nil, nil
	case apierrors.IsForbidden(err):
		// Who may not read NetworkPolicies cannot have applied ours.
		return &apply.Step{Title: "NetworkPolicy", Skipped: fmt.Sprintf("skipped (cannot read NetworkPolicy %s: %s)", ref, kube.StatusMessage(err))}, nil
	case err != nil:
		return nil, kube.ReadError("NetworkPolicy "+ref, err)
	}
	step := &apply.Step{Title: "NetworkPolicy"}
	if err := planDelete(ctx, step, "NetworkPolicy", ref,
		func(context.Context) (metav1.Object, error) { return live, nil },
		func(ctx context.Context, o metav1.DeleteOptions) error { return policies.Delete(ctx, name, o) }); err != nil {
		return nil, err
	}
	return step, nil
}
