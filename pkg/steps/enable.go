// Package steps plans the documented procedure as ordered steps (enable,
// disable, use-cert, the cert-manager Certificate, the monitor, the
// NetworkPolicy, the sidecar's migration): each reads the live objects and
// builds the desired ones (pkg/patches) into actions that pkg/apply runs.
package steps

import (
	"context"
	"fmt"
	"strings"

	"github.com/eck-metrics/kubectl-eck-metrics/pkg/apply"
	"github.com/eck-metrics/kubectl-eck-metrics/pkg/kube"
	"github.com/eck-metrics/kubectl-eck-metrics/pkg/operator"
	"github.com/eck-metrics/kubectl-eck-metrics/pkg/patches"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	appsv1ac "k8s.io/client-go/applyconfigurations/apps/v1"
	corev1ac "k8s.io/client-go/applyconfigurations/core/v1"
	rbacv1ac "k8s.io/client-go/applyconfigurations/rbac/v1"
	typedcorev1 "k8s.io/client-go/kubernetes/typed/core/v1"
	"k8s.io/client-go/util/retry"
)

// EnableOptions are the user's choices for enable.
type EnableOptions struct {
	Mode         operator.Mode
	Port         int32
	SidecarImage string
	// MonitorFlags are the monitor's flags; Monitor, when set, is their
	// resolution (ResolveMonitor) that use-cert made first.
	MonitorFlags MonitorOptions
	Monitor      *MonitorChoice
	Cert         CertConfig
	// NetworkPolicy (--network-policy) applies a NetworkPolicy admitting
	// Prometheus's namespace to the metrics port.
	NetworkPolicy bool
	// PrometheusNamespace is the namespace it admits (--prometheus-namespace);
	// "" admits those of the Prometheus objects that select the monitor.
	PrometheusNamespace string
	// AlertsCertificate is the Certificate use-cert --issuer applies, for
	// its expiry alert; nil reads the live one (when the certificate is
	// served from its Secret).
	AlertsCertificate *patches.CertificateParams
}

// CertConfig is how the endpoint's certificate is set up.
type CertConfig struct {
	// Keep keeps what use-cert configured before (enable does not touch it).
	Keep bool
	// Secret is the user's TLS secret; "" serves the self-signed default.
	Secret string
	// ServiceMonitorTLS is how Prometheus verifies the certificate.
	ServiceMonitorTLS patches.ServiceMonitorTLS
	// Issuer, when set, is the cert-manager Certificate that issues Secret
	// (rendered by render.Local; use-cert applies it first, see PlanIssuer).
	Issuer *patches.CertificateParams
}

// EnableLength is how many steps PlanEnable returns for o: the five
// documented ones (ConfigMap, RBAC, Service, StatefulSet, monitor), the
// PrometheusRule with --alerts and the NetworkPolicy with --network-policy.
func EnableLength(o EnableOptions) int {
	n := 5
	if o.MonitorFlags.Alerts {
		n++
	}
	if o.NetworkPolicy {
		n++
	}
	return n
}

// PlanEnable reads the cluster and returns the documented steps, in order
// (EnableLength of them). It writes nothing.
func PlanEnable(ctx context.Context, c kube.Clients, op *operator.Operator, o EnableOptions) ([]*apply.Step, error) {
	if flags := op.MetricsFlagsOnCommandLine(); len(flags) > 0 {
		return nil, fmt.Errorf("container %s of StatefulSet %s/%s sets %s on its command line, which overrides eck.yaml: remove it from the StatefulSet's args and rerun", operator.ManagerContainerName, op.Namespace(), op.Name(), strings.Join(flags, " "))
	}

	b := enableBuild{op: op, o: o}
	cmStep, cfg, err := planConfigMap(ctx, c, b)
	if err != nil {
		return nil, err
	}
	certSecret := o.Cert.Secret
	if o.Cert.Keep {
		certSecret = kube.CurrentCertSecret(op)
	}
	p := b.params(cfg, certSecret)
	rbacStep, err := planRBAC(ctx, c, p)
	if err != nil {
		return nil, err
	}
	svcStep, err := planService(ctx, c, p)
	if err != nil {
		return nil, err
	}
	stsStep, err := planStatefulSet(ctx, c, op, p)
	if err != nil {
		return nil, err
	}
	smStep, monitor, err := planMonitor(ctx, c, p, o)
	if err != nil {
		return nil, err
	}
	plan := []*apply.Step{cmStep, rbacStep, svcStep, stsStep, smStep}
	if o.MonitorFlags.Alerts {
		alertStep, err := planAlerts(ctx, c, p, o, monitor, p.CertSecret)
		if err != nil {
			return nil, err
		}
		plan = append(plan, alertStep)
	}
	if o.NetworkPolicy {
		npStep, err := planNetworkPolicy(ctx, c, op, p, o.PrometheusNamespace, monitor)
		if err != nil {
			return nil, err
		}
		plan = append(plan, npStep)
	}
	return plan, nil
}

// guardedConfigMapApply applies a ConfigMap built at the resourceVersion it
// was read at. The eck.yaml key was written by the installer (kubectl,
// Helm): the apply takes it over (force), but a concurrent edit makes it
// fail with 409; then rebuild re-reads and edits again, and the apply is
// retried. rebuild returning nil means nothing is left to apply.
func guardedConfigMapApply(cms typedcorev1.ConfigMapInterface, first *corev1ac.ConfigMapApplyConfiguration, rebuild func(context.Context) (*corev1ac.ConfigMapApplyConfiguration, error)) apply.ApplyFunc {
	return func(ctx context.Context, opts metav1.ApplyOptions) (runtime.Object, error) {
		opts.Force = true
		cm := first
		var out runtime.Object
		attempt := 0
		err := retry.RetryOnConflict(retry.DefaultRetry, func() error {
			if attempt++; attempt > 1 {
				var err error
				if cm, err = rebuild(ctx); err != nil || cm == nil {
					return err
				}
			}
			res, err := cms.Apply(ctx, cm, opts)
			out = res
			return err
		})
		return out, err
	}
}

// planConfigMap returns the ConfigMap step and the edited eck.yaml.
func planConfigMap(ctx context.Context, c kube.Clients, b enableBuild) (*apply.Step, editedConfig, error) {
	op := b.op
	cms := c.Kube.CoreV1().ConfigMaps(op.Namespace())
	ref := fmt.Sprintf("ConfigMap %s/%s", op.Namespace(), op.ConfigMapName)
	var edited editedConfig
	read := func(ctx context.Context) (*corev1ac.ConfigMapApplyConfiguration, any, metav1.Object, []string, error) {
		live, err := cms.Get(ctx, op.ConfigMapName, metav1.GetOptions{})
		if apierrors.IsNotFound(err) {
			return nil, nil, nil, nil, fmt.Errorf("%s, which the operator reads its eck.yaml from, does not exist: reinstall the operator's ConfigMap first", ref)
		}
		if err != nil {
			return nil, nil, nil, nil, kube.ReadError(ref, err)
		}
		text, ok := live.Data[op.ConfigKey]
		if !ok {
			return nil, nil, nil, nil, fmt.Errorf("%s has no key %q, the file the operator reads: add it first", ref, op.ConfigKey)
		}
		desired, e, err := b.configMap(text, live.Annotations[patches.PreviousSettingsAnnotation], live.ResourceVersion, true)
		if err != nil {
			return nil, nil, nil, nil, err
		}
		changes := e.changes
		if e.portNote != "" && len(changes) > 0 {
			changes = append(changes, e.portNote)
		}
		edited = e
		owned, err := apply.OwnedOf(live, corev1ac.ExtractConfigMap)
		if err != nil {
			return nil, nil, nil, nil, err
		}
		return desired, owned, live, changes, nil
	}
	desired, owned, live, changes, err := read(ctx)
	if err != nil {
		return nil, editedConfig{}, err
	}
	send := guardedConfigMapApply(cms, desired, func(ctx context.Context) (*corev1ac.ConfigMapApplyConfiguration, error) {
		cm, _, _, _, err := read(ctx)
		return cm, err
	})
	a, err := apply.NewAction("ConfigMap", op.Namespace(), op.ConfigMapName, desired, live, owned, send)
	if err != nil {
		return nil, editedConfig{}, err
	}
	if len(changes) > 0 {
		a.Detail = op.ConfigKey + " " + strings.Join(changes, ", ")
	}
	return &apply.Step{Title: "ConfigMap " + op.ConfigKey, Actions: []*apply.Action{a}}, edited, nil
}

func planRBAC(ctx context.Context, c kube.Clients, p patches.Params) (*apply.Step, error) {
	roleAction, err := planClusterRole(ctx, c, patches.ClusterRole(p))
	if err != nil {
		return nil, err
	}
	_, bindingName := patches.RBACNames(p.Mode, p.Name)
	bindingAction, err := planClusterRoleBinding(ctx, c, bindingName, func(existing ...rbacv1.Subject) *rbacv1ac.ClusterRoleBindingApplyConfiguration {
		return patches.ClusterRoleBinding(p, existing...)
	})
	if err != nil {
		return nil, err
	}
	return &apply.Step{Title: "RBAC", Actions: []*apply.Action{roleAction, bindingAction}}, nil
}

// planClusterRole applies role.
func planClusterRole(ctx context.Context, c kube.Clients, role *rbacv1ac.ClusterRoleApplyConfiguration) (*apply.Action, error) {
	roles := c.Kube.RbacV1().ClusterRoles()
	name := *role.Name
	live, err := apply.Observe(ctx, "ClusterRole "+name, name, roles.Get, rbacv1ac.ExtractClusterRole)
	if err != nil {
		return nil, err
	}
	return apply.NewAction("ClusterRole", "", name, role, live.Object(), live.Owned,
		func(ctx context.Context, opts metav1.ApplyOptions) (runtime.Object, error) {
			return roles.Apply(ctx, role, opts)
		})
}

// planClusterRoleBinding applies the binding build makes after the
// subjects the live one binds: its name is cluster-wide, so the operators
// of the same name in other namespaces stay bound.
func planClusterRoleBinding(ctx context.Context, c kube.Clients, name string,
	build func(existing ...rbacv1.Subject) *rbacv1ac.ClusterRoleBindingApplyConfiguration) (*apply.Action, error) {
	bindings := c.Kube.RbacV1().ClusterRoleBindings()
	live, err := apply.Observe(ctx, "ClusterRoleBinding "+name, name, bindings.Get, rbacv1ac.ExtractClusterRoleBinding)
	if err != nil {
		return nil, err
	}
	var existing []rbacv1.Subject
	if live.Found {
		existing = live.Live.Subjects
	}
	binding := build(existing...)
	return apply.NewAction("ClusterRoleBinding", "", name, binding, live.Object(), live.Owned,
		func(ctx context.Context, opts metav1.ApplyOptions) (runtime.Object, error) {
			return bindings.Apply(ctx, binding, opts)
		})
}

func planService(ctx context.Context, c kube.Clients, p patches.Params) (*apply.Step, error) {
	svcs := c.Kube.CoreV1().Services(p.Namespace)
	svc := patches.Service(p)
	live, err := apply.Observe(ctx, fmt.Sprintf("Service %s/%s", p.Namespace, *svc.Name), *svc.Name, svcs.Get, corev1ac.ExtractService)
	if err != nil {
		return nil, err
	}
	a, err := apply.NewAction("Service", p.Namespace, *svc.Name, svc, live.Object(), live.Owned,
		func(ctx context.Context, opts metav1.ApplyOptions) (runtime.Object, error) {
			return svcs.Apply(ctx, svc, opts)
		})
	if err != nil {
		return nil, err
	}
	return &apply.Step{Title: "Service", Actions: []*apply.Action{a}}, nil
}

func planStatefulSet(ctx context.Context, c kube.Clients, op *operator.Operator, p patches.Params) (*apply.Step, error) {
	step := &apply.Step{Title: "StatefulSet"}
	// The resourceVersion the sidecar's removal wrote: our apply names it,
	// so the API server judges it on that object, never on an older copy
	// that still has the sidecar (whose port name metrics it would warn of).
	patchedRV := ""
	if p.Mode == operator.ModeNative {
		// An upgrade from 2.12-2.15 leaves the kube-rbac-proxy sidecar: the
		// operator serves HTTPS itself now, and the sidecar's port name
		// metrics would duplicate the manager's.
		proxy := findMetricsProxy(op.StatefulSet, p.MetricsPort)
		if other := duplicatePortName(op.StatefulSet, proxy); other != "" {
			return nil, fmt.Errorf("container %s of StatefulSet %s/%s has a port named %s, which the manager's metrics port would duplicate: rename or remove it first", other, p.Namespace, p.Name, patches.MetricsPortName)
		}
		if proxy != nil {
			if len(proxy.others) > 0 {
				remove, err := removeProxyAction(c, op.StatefulSet, proxy, func(rv string) { patchedRV = rv })
				if err != nil {
					return nil, err
				}
				step.Actions = append(step.Actions, remove)
			} else {
				step.Notes = append(step.Notes, "drops container "+proxy.name+" (ours; native mode serves HTTPS itself)")
			}
			left, err := sidecarLeftovers(ctx, c, op)
			if err != nil {
				return nil, err
			}
			step.Notes = append(step.Notes, left...)
		}
	}
	if p.Mode == operator.ModeSidecar {
		// The docs' and charts' gcr.io image no longer pulls: replace it
		// even where another manager (kubectl patch) owns the field.
		if proxy, image := retiredSidecar(op.StatefulSet); proxy != nil && image != p.SidecarImage {
			if len(proxy.others) > 0 {
				replace, err := replaceImageAction(c, op.StatefulSet, proxy, image, p.SidecarImage, func(rv string) { patchedRV = rv })
				if err != nil {
					return nil, err
				}
				step.Actions = append(step.Actions, replace)
			} else {
				step.Notes = append(step.Notes, "replaces the retired image "+image)
			}
		}
	}
	sets := c.Kube.AppsV1().StatefulSets(p.Namespace)
	sts := patches.StatefulSet(p)
	owned, err := apply.OwnedOf(op.StatefulSet, appsv1ac.ExtractStatefulSet)
	if err != nil {
		return nil, err
	}
	a, err := apply.NewAction("StatefulSet", p.Namespace, p.Name, sts, op.StatefulSet, owned,
		func(ctx context.Context, opts metav1.ApplyOptions) (runtime.Object, error) {
			if patchedRV != "" {
				sts.WithResourceVersion(patchedRV)
			}
			return sets.Apply(ctx, sts, opts)
		})
	if err != nil {
		return nil, err
	}
	if p.Mode == operator.ModeSidecar {
		a.Detail = "container " + patches.SidecarName + " (" + p.SidecarImage + ")"
	} else {
		a.Detail = fmt.Sprintf("container %s port %s %d", operator.ManagerContainerName, patches.MetricsPortName, p.MetricsPort)
	}
	if p.CertSecret != "" {
		a.Detail += ", certificate from secret " + p.CertSecret
	} else {
		a.Detail += ", self-signed certificate"
	}
	a.AfterPatch = len(step.Actions) > 0
	step.Actions = append(step.Actions, a)
	return step, nil
}
