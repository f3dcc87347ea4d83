package steps

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"github.com/eck-metrics/kubectl-eck-metrics/pkg/apply"
	"github.com/eck-metrics/kubectl-eck-metrics/pkg/kube"
	"github.com/eck-metrics/kubectl-eck-metrics/pkg/operator"
	"github.com/eck-metrics/kubectl-eck-metrics/pkg/patches"
	appsv1 "k8s.io/api/apps/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
)

// metricsProxy is a kube-rbac-proxy sidecar in front of the operator's
// metrics, left from sidecar mode (ECK 2.12-2.15) on an operator that now
// serves HTTPS itself (native mode).
type metricsProxy struct {
	index int
	name  string
	// others are the field managers other than ours that own fields of it:
	// our apply cannot drop those.
	others []string
}

// findMetricsProxy finds the sidecar whoever added it: ours (our field
// manager owns it), or recognisably the metrics proxy (kube-rbac-proxy by
// name or image, its upstream the pod's own metrics port: metricsPort or
// the documented 8081).
func findMetricsProxy(sts *appsv1.StatefulSet, metricsPort int32) *metricsProxy {
	for i, c := range sts.Spec.Template.Spec.Containers {
		if c.Name == operator.ManagerContainerName {
			continue
		}
		managers := containerManagers(sts, c.Name)
		ours := slices.Contains(managers, patches.FieldManager)
		isProxy := c.Name == patches.SidecarName || strings.Contains(c.Image, "kube-rbac-proxy")
		upstream, local := patches.ProxyUpstreamPort(c)
		if !ours && !(isProxy && local && (upstream == metricsPort || upstream == patches.DefaultMetricsPort)) {
			continue
		}
		var others []string
		for _, m := range managers {
			if m != patches.FieldManager {
				others = append(others, m)
			}
		}
		return &metricsProxy{index: i, name: c.Name, others: others}
	}
	return nil
}

// containerManagers lists the field managers that own fields of the
// container name in the pod template (managedFields name it by its key).
func containerManagers(sts *appsv1.StatefulSet, name string) []string {
	key, _ := json.Marshal(`k:{"name":"` + name + `"}`)
	var out []string
	for _, e := range sts.ManagedFields {
		if e.FieldsV1 == nil || e.Subresource != "" {
			continue
		}
		if strings.Contains(string(e.FieldsV1.GetRawBytes()), string(key)) && !slices.Contains(out, e.Manager) {
			out = append(out, e.Manager)
		}
	}
	return out
}

// removeProxyAction removes the sidecar with a JSON patch: server-side
// apply cannot drop fields other managers own.
func removeProxyAction(c kube.Clients, sts *appsv1.StatefulSet, proxy *metricsProxy, patched func(resourceVersion string)) (*apply.Action, error) {
	detail := fmt.Sprintf("container %s removed by a JSON patch at resourceVersion %s (fields owned by %s; native mode serves HTTPS itself)",
		proxy.name, sts.ResourceVersion, strings.Join(proxy.others, ", "))
	return containerPatchAction(c, sts, proxy.index, proxy.name, map[string]any{"op": "remove", "path": containerPath(proxy.index)}, detail, patched)
}

// replaceImageAction replaces the retired image of the sidecar with a JSON
// patch: server-side apply would conflict with the manager that owns it.
func replaceImageAction(c kube.Clients, sts *appsv1.StatefulSet, proxy *metricsProxy, from, to string, patched func(resourceVersion string)) (*apply.Action, error) {
	detail := fmt.Sprintf("image of container %s %s -> %s by a JSON patch at resourceVersion %s (the retired image no longer pulls; the field is owned by %s)",
		proxy.name, from, to, sts.ResourceVersion, strings.Join(proxy.others, ", "))
	return containerPatchAction(c, sts, proxy.index, proxy.name, map[string]any{"op": "replace", "path": containerPath(proxy.index) + "/image", "value": to}, detail, patched)
}

func containerPath(index int) string { return fmt.Sprintf("/spec/template/spec/containers/%d", index) }

// containerPatchAction sends op on the container at index as a JSON patch
// that names the resourceVersion read (a concurrent change fails it with a
// conflict) and tests the container's name at its index, so only that
// container changes. patched gets the resourceVersion written (not on dry
// runs).
func containerPatchAction(c kube.Clients, sts *appsv1.StatefulSet, index int, name string, op map[string]any, detail string, patched func(resourceVersion string)) (*apply.Action, error) {
	patch, err := json.Marshal([]map[string]any{
		{"op": "test", "path": containerPath(index) + "/name", "value": name},
		{"op": "replace", "path": "/metadata/resourceVersion", "value": sts.ResourceVersion},
		op,
	})
	if err != nil {
		return nil, err
	}
	sets := c.Kube.AppsV1().StatefulSets(sts.Namespace)
	a := apply.NewChange("StatefulSet", sts.Namespace, sts.Name, nil, sts,
		func(ctx context.Context, opts metav1.ApplyOptions) (runtime.Object, error) {
			out, err := sets.Patch(ctx, sts.Name, types.JSONPatchType, patch, metav1.PatchOptions{FieldManager: opts.FieldManager, DryRun: opts.DryRun})
			if err == nil && len(opts.DryRun) == 0 {
				patched(out.ResourceVersion)
			}
			return out, err
		})
	a.Detail = detail
	return a, nil
}

// retiredSidecar finds our sidecar's container in the live StatefulSet
// when it runs the retired image.
func retiredSidecar(sts *appsv1.StatefulSet) (*metricsProxy, string) {
	for i, c := range sts.Spec.Template.Spec.Containers {
		if c.Name == patches.SidecarName && patches.IsRetiredSidecarImage(c.Image) {
			var others []string
			for _, m := range containerManagers(sts, c.Name) {
				if m != patches.FieldManager {
					others = append(others, m)
				}
			}
			return &metricsProxy{index: i, name: c.Name, others: others}, c.Image
		}
	}
	return nil, ""
}

// sidecarLeftovers are the objects of the sidecar procedure that native
// mode does not use, reported rather than deleted (they may serve others).
func sidecarLeftovers(ctx context.Context, c kube.Clients, op *operator.Operator) ([]string, error) {
	role, binding := patches.RBACNames(operator.ModeSidecar, op.Name())
	var left []string
	if _, err := c.Kube.RbacV1().ClusterRoles().Get(ctx, role, metav1.GetOptions{}); err == nil {
		left = append(left, "ClusterRole "+role)
	} else if !apierrors.IsNotFound(err) {
		return nil, kube.ReadError("ClusterRole "+role, err)
	}
	if _, err := c.Kube.RbacV1().ClusterRoleBindings().Get(ctx, binding, metav1.GetOptions{}); err == nil {
		left = append(left, "ClusterRoleBinding "+binding)
	} else if !apierrors.IsNotFound(err) {
		return nil, kube.ReadError("ClusterRoleBinding "+binding, err)
	}
	var notes []string
	if len(left) > 0 {
		notes = append(notes, "left "+strings.Join(left, " and ")+" of sidecar mode: native mode does not use them; delete them when nothing else does")
	}
	other, err := otherMetricsServices(ctx, c, op)
	if err != nil {
		return nil, err
	}
	if len(other) > 0 {
		notes = append(notes, fmt.Sprintf("left Service %s, which also targets port %s of the operator's pods: Service %s does that job now; delete it when nothing scrapes through it", strings.Join(other, ", "), patches.MetricsPortName, patches.ServiceName(op.Name())))
	}
	return notes, nil
}

// otherMetricsServices are the Services besides ours that select the
// operator's pods and target its metrics port (by name, or the sidecar's
// 8080): a manual procedure's, still working after the migration.
func otherMetricsServices(ctx context.Context, c kube.Clients, op *operator.Operator) ([]string, error) {
	list, err := c.Kube.CoreV1().Services(op.Namespace()).List(ctx, metav1.ListOptions{})
	if err != nil {
		return nil, kube.ReadError("Services in namespace "+op.Namespace(), err)
	}
	podLabels := labels.Set(op.StatefulSet.Spec.Template.Labels)
	var out []string
	for _, svc := range list.Items {
		if svc.Name == patches.ServiceName(op.Name()) || len(svc.Spec.Selector) == 0 || !labels.SelectorFromSet(svc.Spec.Selector).Matches(podLabels) {
			continue
		}
		for _, port := range svc.Spec.Ports {
			if port.TargetPort.String() == patches.MetricsPortName || port.TargetPort.IntValue() == patches.ServicePort {
				out = append(out, svc.Name)
				break
			}
		}
	}
	return out, nil
}

// duplicatePortName names a container other than the manager and the
// proxy being removed that already has a port named metrics, which the
// manager's new port would duplicate.
func duplicatePortName(sts *appsv1.StatefulSet, removed *metricsProxy) string {
	for i, c := range sts.Spec.Template.Spec.Containers {
		if c.Name == operator.ManagerContainerName || (removed != nil && removed.index == i) {
			continue
		}
		for _, p := range c.Ports {
			if p.Name == patches.MetricsPortName {
				return c.Name
			}
		}
	}
	return ""
}
