package steps

import (
	"context"
	"fmt"
	"strings"

	"github.com/eck-metrics/kubectl-eck-metrics/pkg/kube"
	"github.com/eck-metrics/kubectl-eck-metrics/pkg/netpol"
	"github.com/eck-metrics/kubectl-eck-metrics/pkg/operator"
	"github.com/eck-metrics/kubectl-eck-metrics/pkg/patches"
	networkingv1 "k8s.io/api/networking/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	networkingv1ac "k8s.io/client-go/applyconfigurations/networking/v1"
)

// ours tells whether a NetworkPolicy is the one enable --network-policy applied.
func ours(p *networkingv1.NetworkPolicy, operatorName string) bool {
	return p.Name == patches.NetworkPolicyName(operatorName) && p.Labels[patches.ManagedByLabel] == patches.FieldManager
}

// planNetworkPolicy applies the NetworkPolicy that admits Prometheus's
// namespace to the metrics port, only where other policies already
// isolate the operator pod for ingress: a first policy selecting the pod
// would isolate it, and its webhook (and everything else) would be denied.
func planNetworkPolicy(ctx context.Context, c kube.Clients, op *operator.Operator, p patches.Params, from string) (*Step, error) {
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
	desired := patches.NetworkPolicy(p, from)
	name := *desired.Name
	live, err := observe(ctx, fmt.Sprintf("NetworkPolicy %s/%s", op.Namespace(), name), name, policies.Get, networkingv1ac.ExtractNetworkPolicy)
	if err != nil {
		return nil, err
	}
	a, err := newAction("NetworkPolicy", op.Namespace(), name, desired, live.object(), live.owned,
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
	a.Detail = fmt.Sprintf("admits namespace %s to port %s (the pods are isolated by %s)", from, patches.MetricsPortName, by)
	return &Step{Title: "NetworkPolicy", Actions: []*Action{a}}, nil
}

// planDeleteNetworkPolicy deletes the NetworkPolicy enable --network-policy
// applied, when only we manage it. nil: there is none.
func planDeleteNetworkPolicy(ctx context.Context, c kube.Clients, op *operator.Operator) (*Step, error) {
	name := patches.NetworkPolicyName(op.Name())
	ref := op.Namespace() + "/" + name
	policies := c.Kube.NetworkingV1().NetworkPolicies(op.Namespace())
	live, err := policies.Get(ctx, name, metav1.GetOptions{})
	switch {
	case apierrors.IsNotFound(err):
		return nil, nil
	case apierrors.IsForbidden(err):
		// Who may not read NetworkPolicies cannot have applied ours.
		return &Step{Title: "NetworkPolicy", Skipped: fmt.Sprintf("skipped (cannot read NetworkPolicy %s: %s)", ref, kube.StatusMessage(err))}, nil
	case err != nil:
		return nil, kube.ReadError("NetworkPolicy "+ref, err)
	}
	step := &Step{Title: "NetworkPolicy"}
	if err := planDelete(ctx, step, "NetworkPolicy", ref,
		func(context.Context) (metav1.Object, error) { return live, nil },
		func(ctx context.Context, o metav1.DeleteOptions) error { return policies.Delete(ctx, name, o) }); err != nil {
		return nil, err
	}
	return step, nil
}
