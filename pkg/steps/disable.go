package steps

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/eck-metrics/kubectl-eck-metrics/pkg/apply"
	"github.com/eck-metrics/kubectl-eck-metrics/pkg/eckconfig"
	"github.com/eck-metrics/kubectl-eck-metrics/pkg/kube"
	"github.com/eck-metrics/kubectl-eck-metrics/pkg/operator"
	"github.com/eck-metrics/kubectl-eck-metrics/pkg/patches"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	appsv1ac "k8s.io/client-go/applyconfigurations/apps/v1"
	corev1ac "k8s.io/client-go/applyconfigurations/core/v1"
	rbacv1ac "k8s.io/client-go/applyconfigurations/rbac/v1"
	"sigs.k8s.io/structured-merge-diff/v6/fieldpath"
)

// PlanDisable plans undoing what enable and use-cert applied, and nothing
// else: eck.yaml keys back to their recorded values, our StatefulSet fields
// released, and the objects only we manage deleted. Nothing is written.
func PlanDisable(ctx context.Context, c kube.Clients, op *operator.Operator) ([]*apply.Step, error) {
	cm, err := planRestoreConfig(ctx, c, op)
	if err != nil {
		return nil, err
	}
	rbac := &apply.Step{Title: "RBAC"}
	for _, mode := range []operator.Mode{operator.ModeNative, operator.ModeSidecar} {
		if err := planReleaseRBAC(ctx, c, op, mode, rbac); err != nil {
			return nil, err
		}
	}
	svc := &apply.Step{Title: "Service"}
	svcName := patches.ServiceName(op.Name())
	services := c.Kube.CoreV1().Services(op.Namespace())
	if err := planDelete(ctx, svc, "Service", op.Namespace()+"/"+svcName,
		func(ctx context.Context) (metav1.Object, error) {
			return services.Get(ctx, svcName, metav1.GetOptions{})
		},
		func(ctx context.Context, o metav1.DeleteOptions) error { return services.Delete(ctx, svcName, o) }); err != nil {
		return nil, err
	}
	sts, err := planReleaseStatefulSet(c, op)
	if err != nil {
		return nil, err
	}
	sm, err := planDeleteMonitors(ctx, c, op)
	if err != nil {
		return nil, err
	}
	plan := []*apply.Step{cm, rbac, svc, sts, sm}
	rule, err := planDeletePrometheusRule(ctx, c, op.Namespace(), op.Name())
	if err != nil {
		return nil, err
	}
	if rule != nil {
		plan = append(plan, rule)
	}
	np, err := planDeleteNetworkPolicy(ctx, c, op)
	if err != nil {
		return nil, err
	}
	if np != nil {
		plan = append(plan, np)
	}
	// Last: the StatefulSet no longer mounts its Secret by then.
	cert, err := planDeleteCertificate(ctx, c, op)
	if err != nil {
		return nil, err
	}
	if cert != nil {
		plan = append(plan, cert)
	}
	// The Certificate step reports the Secret it issued.
	if secret := kube.CurrentCertSecret(op); secret != "" && (cert == nil || len(cert.Actions) == 0 || secret != patches.CertificateSecretName(op.Name())) {
		sts.Notes = append(sts.Notes, fmt.Sprintf("left Secret %s/%s: it holds your certificate; delete it yourself when unused", op.Namespace(), secret))
	}
	return plan, nil
}

// planReleaseRBAC takes this operator's ServiceAccount out of the auth
// binding. The names are cluster-wide and shared by operators of the same
// name in other namespaces: the binding and its role are deleted only when
// no other subject is left, else the others stay bound.
func planReleaseRBAC(ctx context.Context, c kube.Clients, op *operator.Operator, mode operator.Mode, step *apply.Step) error {
	roleName, bindingName := patches.RBACNames(mode, op.Name())
	return planReleaseBinding(ctx, c, step, roleName, bindingName, op.Namespace(), op.ServiceAccount,
		func(others []rbacv1.Subject) *rbacv1ac.ClusterRoleBindingApplyConfiguration {
			return patches.ClusterRoleBinding(patches.Params{Mode: mode, Name: op.Name()}, others...)
		})
}

// planReleaseBinding takes ServiceAccount ns/sa out of a cluster-wide
// binding; the binding and its role go when no other subject is left.
// remaining builds the binding of the other subjects alone.
func planReleaseBinding(ctx context.Context, c kube.Clients, step *apply.Step, roleName, bindingName, ns, sa string,
	remaining func([]rbacv1.Subject) *rbacv1ac.ClusterRoleBindingApplyConfiguration) error {
	bindings := c.Kube.RbacV1().ClusterRoleBindings()
	live, err := bindings.Get(ctx, bindingName, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return planDeleteRole(ctx, c, step, roleName)
	}
	if err != nil {
		return kube.ReadError("ClusterRoleBinding "+bindingName, err)
	}
	var others []rbacv1.Subject
	ours := false
	for _, s := range live.Subjects {
		if s.Kind == "ServiceAccount" && s.Namespace == ns && s.Name == sa {
			ours = true
		} else {
			others = append(others, s)
		}
	}
	switch {
	case !ours:
		step.Notes = append(step.Notes, fmt.Sprintf("left ClusterRoleBinding %s: it does not bind ServiceAccount %s/%s", bindingName, ns, sa))
		return nil
	case len(others) > 0:
		desired := remaining(others)
		names := make([]string, 0, len(others))
		for _, s := range others {
			names = append(names, s.Namespace+"/"+s.Name)
		}
		a := apply.NewChange("ClusterRoleBinding", "", bindingName, desired, live,
			func(ctx context.Context, opts metav1.ApplyOptions) (runtime.Object, error) {
				return bindings.Apply(ctx, desired, opts)
			})
		a.Detail = "still binds " + strings.Join(names, ", ")
		step.Actions = append(step.Actions, a)
		step.Notes = append(step.Notes, fmt.Sprintf("left ClusterRole %s: other operators use it", roleName))
		return nil
	}
	if err := planDelete(ctx, step, "ClusterRoleBinding", bindingName,
		func(ctx context.Context) (metav1.Object, error) { return live, nil },
		func(ctx context.Context, o metav1.DeleteOptions) error { return bindings.Delete(ctx, bindingName, o) }); err != nil {
		return err
	}
	return planDeleteRole(ctx, c, step, roleName)
}

func planDeleteRole(ctx context.Context, c kube.Clients, step *apply.Step, roleName string) error {
	roles := c.Kube.RbacV1().ClusterRoles()
	return planDelete(ctx, step, "ClusterRole", roleName,
		func(ctx context.Context) (metav1.Object, error) { return roles.Get(ctx, roleName, metav1.GetOptions{}) },
		func(ctx context.Context, o metav1.DeleteOptions) error { return roles.Delete(ctx, roleName, o) })
}

// planRestoreConfig puts back the eck.yaml values recorded by enable and
// drops the record. Keys enable did not set, comments and order stay.
func planRestoreConfig(ctx context.Context, c kube.Clients, op *operator.Operator) (*apply.Step, error) {
	step := &apply.Step{Title: "ConfigMap " + op.ConfigKey}
	cms := c.Kube.CoreV1().ConfigMaps(op.Namespace())
	ref := fmt.Sprintf("ConfigMap %s/%s", op.Namespace(), op.ConfigMapName)
	read := func(ctx context.Context) (*corev1ac.ConfigMapApplyConfiguration, *corev1.ConfigMap, []string, error) {
		live, err := cms.Get(ctx, op.ConfigMapName, metav1.GetOptions{})
		if err != nil {
			return nil, nil, nil, kube.ReadError(ref, err)
		}
		record, ok := live.Annotations[patches.PreviousSettingsAnnotation]
		if !ok {
			return nil, live, nil, nil
		}
		prev, err := patches.ParsePreviousSettings(record)
		if err != nil {
			return nil, nil, nil, fmt.Errorf("%s: %w: remove it by hand", ref, err)
		}
		doc, err := eckconfig.Parse(live.Data[op.ConfigKey])
		if err != nil {
			return nil, nil, nil, fmt.Errorf("%s key %s: %w: fix it by hand; nothing was changed", ref, op.ConfigKey, err)
		}
		keys := make([]string, 0, len(prev))
		for k := range prev {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		var settings []eckconfig.Setting
		var changes []string
		for _, k := range keys {
			if prev[k] == nil {
				removed, err := doc.Delete(k)
				if err != nil {
					return nil, nil, nil, err
				}
				if removed {
					changes = append(changes, k+" removed")
				}
				continue
			}
			settings = append(settings, eckconfig.Setting{Key: k, Value: *prev[k]})
		}
		applied, err := doc.Apply(settings)
		if err != nil {
			return nil, nil, nil, err
		}
		changes = append(changes, applied...)
		// Keep owning the key with its old text: releasing it would delete
		// it, since enable took it over from the installer.
		return patches.ConfigMap(op.Namespace(), op.ConfigMapName, op.ConfigKey, doc.String(), "", live.ResourceVersion), live, changes, nil
	}
	desired, live, changes, err := read(ctx)
	if err != nil {
		return nil, err
	}
	if desired == nil {
		step.Notes = append(step.Notes, ref+" unchanged: no record of enable on it")
		return step, nil
	}
	send := guardedConfigMapApply(cms, desired, func(ctx context.Context) (*corev1ac.ConfigMapApplyConfiguration, error) {
		cm, _, _, err := read(ctx)
		return cm, err
	})
	a := apply.NewChange("ConfigMap", op.Namespace(), op.ConfigMapName, desired, live, send)
	a.Detail = op.ConfigKey + " " + strings.Join(changes, ", ")
	if len(changes) == 0 {
		a.Detail = "record of enable removed"
	}
	step.Actions = append(step.Actions, a)
	return step, nil
}

// planDelete deletes an object only when it is ours alone: labelled as
// created by the plugin and with no other field manager.
func planDelete(ctx context.Context, step *apply.Step, kind, ref string,
	get func(context.Context) (metav1.Object, error), del func(context.Context, metav1.DeleteOptions) error) error {
	_, err := planDeleteIgnoring(ctx, step, kind, ref, get, del, nil)
	return err
}

// planDeleteIgnoring is planDelete where the managers ignore accepts (the
// token controller filling a token Secret) do not keep the object. It
// tells whether the delete was planned.
func planDeleteIgnoring(ctx context.Context, step *apply.Step, kind, ref string,
	get func(context.Context) (metav1.Object, error), del func(context.Context, metav1.DeleteOptions) error,
	ignore func(metav1.ManagedFieldsEntry) bool) (bool, error) {
	live, err := get(ctx)
	if apierrors.IsNotFound(err) {
		return false, nil
	}
	if err != nil {
		return false, kube.ReadError(kind+" "+ref, err)
	}
	if !patches.CreatedByUs(live.GetLabels()) {
		step.Notes = append(step.Notes, fmt.Sprintf("left %s %s: not created by kubectl-eck-metrics", kind, ref))
		return false, nil
	}
	var others []string
	for _, e := range live.GetManagedFields() {
		if e.Manager != patches.FieldManager && e.Subresource == "" && (ignore == nil || !ignore(e)) && !slices.Contains(others, e.Manager) {
			others = append(others, e.Manager)
		}
	}
	sort.Strings(others)
	if len(others) > 0 {
		step.Notes = append(step.Notes, fmt.Sprintf("left %s %s: also managed by %s", kind, ref, strings.Join(others, ", ")))
		return false, nil
	}
	ns, name, found := strings.Cut(ref, "/")
	if !found {
		ns, name = "", ref
	}
	uid, rv := live.GetUID(), live.GetResourceVersion()
	step.Actions = append(step.Actions, apply.NewDelete(kind, ns, name,
		func(ctx context.Context, dryRun bool) error {
			// Delete what was read, not something changed since.
			o := metav1.DeleteOptions{Preconditions: &metav1.Preconditions{UID: &uid, ResourceVersion: &rv}}
			if dryRun {
				o.DryRun = []string{metav1.DryRunAll}
			}
			return del(ctx, o)
		}))
	return true, nil
}

// planReleaseStatefulSet applies an empty configuration: server-side apply
// then removes every field only we owned (sidecar, metrics port,
// certificate mount) and keeps fields others also manage, which are reported.
func planReleaseStatefulSet(c kube.Clients, op *operator.Operator) (*apply.Step, error) {
	step := &apply.Step{Title: "StatefulSet"}
	sets := c.Kube.AppsV1().StatefulSets(op.Namespace())
	owned, err := ownedSet(op.StatefulSet)
	if err != nil {
		return nil, err
	}
	if owned == nil || owned.Empty() {
		step.Notes = append(step.Notes, fmt.Sprintf("StatefulSet %s/%s unchanged: kubectl-eck-metrics owns nothing there", op.Namespace(), op.Name()))
		return step, nil
	}
	for _, e := range op.StatefulSet.GetManagedFields() {
		if e.Manager == patches.FieldManager || e.FieldsV1 == nil || e.Subresource != "" {
			continue
		}
		theirs := &fieldpath.Set{}
		if err := theirs.FromJSON(strings.NewReader(e.FieldsV1.GetRawString())); err != nil {
			continue
		}
		if shared := sharedFields(owned.Intersection(theirs)); len(shared) > 0 {
			step.Notes = append(step.Notes, fmt.Sprintf("left fields also managed by %s: %s", e.Manager, strings.Join(shared, " ")))
		}
	}
	desired := appsv1ac.StatefulSet(op.Name(), op.Namespace())
	a := apply.NewChange("StatefulSet", op.Namespace(), op.Name(), desired, op.StatefulSet,
		func(ctx context.Context, opts metav1.ApplyOptions) (runtime.Object, error) {
			return sets.Apply(ctx, desired, opts)
		})
	a.Detail = "fields of kubectl-eck-metrics removed"
	step.Actions = append(step.Actions, a)
	return step, nil
}

// sharedFields lists the leaves of a set, leaving out the key fields of
// list entries (the manager container's name): every manager of an entry
// owns those, which is not a field to report.
func sharedFields(set *fieldpath.Set) []string {
	var out []string
	set.Leaves().Iterate(func(p fieldpath.Path) {
		if n := len(p); n >= 2 && p[n-1].FieldName != nil && p[n-2].Key != nil {
			for _, f := range *p[n-2].Key {
				if f.Name == *p[n-1].FieldName {
					return
				}
			}
		}
		out = append(out, p.String())
	})
	sort.Strings(out)
	return out
}

// ownedSet is the field set our manager applied on an object.
func ownedSet(obj metav1.Object) (*fieldpath.Set, error) {
	for _, e := range obj.GetManagedFields() {
		if e.Manager == patches.FieldManager && e.Operation == metav1.ManagedFieldsOperationApply && e.FieldsV1 != nil {
			set := &fieldpath.Set{}
			if err := set.FromJSON(strings.NewReader(e.FieldsV1.GetRawString())); err != nil {
				return nil, err
			}
			return set, nil
		}
	}
	return nil, nil
}

// planDeleteMonitors deletes the monitor of either kind and the reader
// objects of secret auth, those we alone manage.
func planDeleteMonitors(ctx context.Context, c kube.Clients, op *operator.Operator) (*apply.Step, error) {
	step := &apply.Step{Title: "ServiceMonitor"}
	smServed, pmServed, err := kube.MonitorsServed(c)
	if err != nil {
		return nil, err
	}
	if !smServed && !pmServed {
		step.Skipped = "skipped (" + kube.ServiceMonitorNotServed + ")"
	}
	name := patches.MonitorName(op.Name())
	for _, kind := range []patches.MonitorKind{patches.MonitorServiceMonitor, patches.MonitorPodMonitor} {
		if served := map[patches.MonitorKind]bool{patches.MonitorServiceMonitor: smServed, patches.MonitorPodMonitor: pmServed}[kind]; !served {
			continue
		}
		res := c.Dynamic.Resource(kind.GVR()).Namespace(op.Namespace())
		before := len(step.Actions)
		var caSecret string
		var caAuth patches.ScrapeAuth
		if err := planDelete(ctx, step, kind.Kind(), op.Namespace()+"/"+name,
			func(ctx context.Context) (metav1.Object, error) {
				live, err := res.Get(ctx, name, metav1.GetOptions{})
				if err != nil {
					return nil, err
				}
				if m, err := kube.ReadMonitor(live); err == nil {
					var tls patches.ServiceMonitorTLS
					tls, caAuth = m.AppliedTLS()
					caSecret = tls.CASecret
				}
				return live, nil
			},
			func(ctx context.Context, o metav1.DeleteOptions) error { return res.Delete(ctx, name, o) }); err != nil {
			return nil, err
		}
		if len(step.Actions) > before {
			if kind == patches.MonitorPodMonitor {
				step.Title = "PodMonitor"
			}
			switch {
			case caSecret != "" && caAuth == patches.ScrapeAuthSecret:
				step.Notes = append(step.Notes, fmt.Sprintf("left Secret %s/%s: it holds your CA; delete it yourself when unused", op.Namespace(), caSecret))
			case caSecret != "":
				// File auth: the copy lives in Prometheus's namespace, which
				// the caFile path does not name.
				step.Notes = append(step.Notes, fmt.Sprintf("left Secret %s in Prometheus's namespace: it holds your CA; delete it and its entry in the Prometheus's spec.secrets yourself when unused", caSecret))
			}
		}
	}
	if err := planReleaseReader(ctx, c, op.Namespace(), op.Name(), step, ""); err != nil {
		return nil, err
	}
	if step.Skipped != "" && (len(step.Actions) > 0 || len(step.Notes) > 0) {
		step.Skipped = ""
	}
	return step, nil
}
