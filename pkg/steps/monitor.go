package steps

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/eck-metrics/kubectl-eck-metrics/pkg/apply"
	"github.com/eck-metrics/kubectl-eck-metrics/pkg/kube"
	"github.com/eck-metrics/kubectl-eck-metrics/pkg/patches"
	"github.com/eck-metrics/kubectl-eck-metrics/pkg/promselect"
	"github.com/prometheus/common/model"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	corev1ac "k8s.io/client-go/applyconfigurations/core/v1"
	rbacv1ac "k8s.io/client-go/applyconfigurations/rbac/v1"
)

// MonitorOptions are the monitor flags; a zero value is a flag not given,
// whose value an earlier run set is kept.
type MonitorOptions struct {
	// Kind: "" picks the monitor of ours found, else a ServiceMonitor where served.
	Kind patches.MonitorKind
	// KindFlag says how Kind was given, for messages ("--monitor podmonitor").
	KindFlag string
	Auth     patches.ScrapeAuth
	// Labels and Annotations: nil keeps those an earlier run set.
	Labels, Annotations     map[string]string
	Interval, ScrapeTimeout string
	// Alerts (--alerts) applies a PrometheusRule next to the monitor.
	Alerts bool
}

// liveMonitor is a monitor as read (obj, decoded: read) and what we applied
// of it (owned, decoded: applied; nil: none).
type liveMonitor struct {
	kind    patches.MonitorKind
	obj     *unstructured.Unstructured
	read    *kube.Monitor
	owned   *unstructured.Unstructured
	applied *kube.Monitor
}

// ours tells whether we created it (our label) and applied fields of it.
func (l *liveMonitor) ours() bool {
	return l != nil && l.owned != nil && patches.CreatedByUs(l.obj.GetLabels())
}

// MonitorChoice is the monitor a run applies: its kind and scrape auth,
// resolved from the flags and what earlier runs left.
type MonitorChoice struct {
	// Kind is MonitorNone when no monitor is applied (Skipped says why).
	Kind    patches.MonitorKind
	Skipped string
	Auth    patches.ScrapeAuth
	// Monitor is what is applied, with the values kept from the live one.
	Monitor patches.Monitor
	// keptTLS is the CA setup of the live monitor, and the auth it was for.
	keptTLS     patches.ServiceMonitorTLS
	keptTLSAuth patches.ScrapeAuth
	live        map[patches.MonitorKind]*liveMonitor
	// readerGone: the reader ServiceAccount of secret auth is absent, so
	// no reader object and no PodMonitor of ours is left to clean up (see
	// readerLeft); the PodMonitor was not read.
	readerGone bool
}

// CANamespace is where the CA Secret Prometheus verifies with lives, by
// the choice's scrape auth (patches.ScrapeAuth.CANamespace); with no
// monitor, Prometheus's.
func (m *MonitorChoice) CANamespace(operatorNS, prometheusNS string) string {
	return m.Auth.CANamespace(operatorNS, prometheusNS)
}

// ResolveMonitor reads the monitors of the operator's namespace and decides
// the kind and scrape auth: flags first, then what an earlier run applied,
// then the defaults. Nothing is written.
func ResolveMonitor(ctx context.Context, c kube.Clients, namespace, name string, o MonitorOptions) (*MonitorChoice, error) {
	if o.Kind == patches.MonitorNone {
		// (--scrape-auth secret with it is refused with the flags.)
		return &MonitorChoice{Kind: patches.MonitorNone, Skipped: "skipped (" + o.KindFlag + ")"}, nil
	}
	smServed, pmServed, err := kube.MonitorsServed(c)
	if err != nil {
		return nil, err
	}
	served := map[patches.MonitorKind]bool{patches.MonitorServiceMonitor: smServed, patches.MonitorPodMonitor: pmServed}
	m := &MonitorChoice{live: map[patches.MonitorKind]*liveMonitor{}}
	read := func(kind patches.MonitorKind) error {
		obj, owned, err := apply.ReadCustom(ctx, c.Dynamic.Resource(kind.GVR()).Namespace(namespace), fmt.Sprintf("%s %s/%s", kind.Kind(), namespace, name), patches.MonitorName(name))
		if err != nil || obj == nil {
			return err
		}
		l := &liveMonitor{kind: kind, obj: obj}
		if l.read, err = kube.ReadMonitor(obj); err != nil {
			return err
		}
		if appliedBy(obj, patches.FieldManager) && owned != nil {
			l.owned = owned
			if l.applied, err = kube.ReadMonitor(owned); err != nil {
				return err
			}
		}
		m.live[kind] = l
		return nil
	}
	if smServed {
		if err := read(patches.MonitorServiceMonitor); err != nil {
			return nil, err
		}
	}
	if pmServed {
		readPodMonitor := true
		if o.Kind != patches.MonitorPodMonitor && m.live[patches.MonitorServiceMonitor].ours() {
			left, err := readerLeft(ctx, c, namespace, name)
			if err != nil {
				return nil, err
			}
			m.readerGone, readPodMonitor = !left, left
		}
		if readPodMonitor {
			if err := read(patches.MonitorPodMonitor); err != nil {
				return nil, err
			}
		}
	}

	switch {
	case o.Kind != "":
		if !served[o.Kind] {
			return nil, fmt.Errorf("%s, but this cluster does not serve monitoring.coreos.com/v1 %s: install the prometheus-operator CRDs or use %s; nothing was changed", o.KindFlag, o.Kind.Kind(), otherOrNone(o.Kind, served))
		}
		m.Kind = o.Kind
	case m.live[patches.MonitorPodMonitor].ours() && !m.live[patches.MonitorServiceMonitor].ours():
		m.Kind = patches.MonitorPodMonitor // an earlier --monitor podmonitor
	case m.live[patches.MonitorPodMonitor].ours() && m.live[patches.MonitorServiceMonitor].ours():
		// A switch stopped between applying the new kind and deleting the
		// old one; which was the new one is not recorded.
		return nil, fmt.Errorf("both ServiceMonitor and PodMonitor %s/%s were applied by kubectl-eck-metrics (a switch of --monitor that did not finish): rerun with --monitor servicemonitor or --monitor podmonitor to keep one; nothing was changed", namespace, patches.MonitorName(name))
	case smServed:
		m.Kind = patches.MonitorServiceMonitor
	default:
		m.Kind = patches.MonitorNone
		m.Skipped = "skipped (" + kube.ServiceMonitorNotServed + ")"
		if o.Auth == patches.ScrapeAuthSecret {
			return nil, fmt.Errorf("--scrape-auth secret is for the monitor, but %s: install the prometheus-operator CRDs, or drop --scrape-auth; nothing was changed", kube.ServiceMonitorNotServed)
		}
		return m, nil
	}

	// The values an earlier run applied: of this kind, else of the kind
	// replaced (a switch keeps them).
	kept := m.live[m.Kind]
	if !kept.ours() {
		kept = m.live[otherKind(m.Kind)]
	}
	var keptApplied *kube.Monitor
	if kept.ours() {
		keptApplied = kept.applied
		m.keptTLS, m.keptTLSAuth = kept.read.AppliedTLS()
	}

	switch {
	case o.Auth == patches.ScrapeAuthFile && m.Kind == patches.MonitorPodMonitor:
		return nil, fmt.Errorf("--scrape-auth file with a PodMonitor: a PodMonitor has no bearerTokenFile field, so it reads the token from a Secret: use --scrape-auth secret (the default for a PodMonitor); nothing was changed")
	case o.Auth != "":
		m.Auth = o.Auth
	case m.Kind == patches.MonitorPodMonitor:
		m.Auth = patches.ScrapeAuthSecret
	case keptApplied.Auth() == patches.ScrapeAuthSecret:
		m.Auth = patches.ScrapeAuthSecret
	default:
		m.Auth = patches.ScrapeAuthFile
	}

	m.Monitor = patches.Monitor{Kind: m.Kind, Auth: m.Auth, Labels: o.Labels, Annotations: o.Annotations, Interval: o.Interval, ScrapeTimeout: o.ScrapeTimeout}
	if kept.ours() {
		// Without the flags, keep what an earlier run set: an apply
		// without them would drop them, and a Prometheus that selects on
		// a label would silently stop scraping.
		if m.Monitor.Labels == nil {
			m.Monitor.Labels = kept.owned.GetLabels()
		}
		if m.Monitor.Annotations == nil {
			m.Monitor.Annotations = kept.owned.GetAnnotations()
		}
		if ep := keptApplied.Endpoint; ep != nil {
			if m.Monitor.Interval == "" {
				m.Monitor.Interval = ep.Interval
			}
			if m.Monitor.ScrapeTimeout == "" {
				m.Monitor.ScrapeTimeout = ep.ScrapeTimeout
			}
		}
	}
	if err := CheckScrapeTimeout(m.Monitor.Interval, m.Monitor.ScrapeTimeout); err != nil {
		return nil, fmt.Errorf("%w (the interval or timeout an earlier run set is kept when not given); nothing was changed", err)
	}
	return m, nil
}

func otherKind(k patches.MonitorKind) patches.MonitorKind {
	if k == patches.MonitorPodMonitor {
		return patches.MonitorServiceMonitor
	}
	return patches.MonitorPodMonitor
}

// readerLeft tells whether the reader ServiceAccount of secret auth
// exists. Next to our ServiceMonitor, a PodMonitor of ours or a reader
// object is left only by secret auth or a switch of --monitor or
// --scrape-auth that stopped half-way; each of those has that
// ServiceAccount: a PodMonitor uses secret auth and is applied after the
// reader, a switch to file auth deletes the other kind first and the
// ServiceAccount last. Without it, a steady enable reads neither.
func readerLeft(ctx context.Context, c kube.Clients, namespace, name string) (bool, error) {
	reader := patches.ReaderName(name)
	_, err := c.Kube.CoreV1().ServiceAccounts(namespace).Get(ctx, reader, metav1.GetOptions{})
	switch {
	case apierrors.IsNotFound(err):
		return false, nil
	case err != nil:
		return false, kube.ReadError(fmt.Sprintf("ServiceAccount %s/%s", namespace, reader), err)
	}
	return true, nil
}

// planMonitor is the fifth step: the reader's credentials (secret auth),
// the monitor, and the removal of what the choice replaces that we own
// (the other kind, the reader of secret auth). It returns the monitor as
// a Prometheus selects it (nil: none is applied).
func planMonitor(ctx context.Context, c kube.Clients, p patches.Params, o EnableOptions) (*apply.Step, *promselect.Monitor, error) {
	m := o.Monitor
	if m == nil {
		var err error
		if m, err = ResolveMonitor(ctx, c, p.Namespace, p.Name, o.MonitorFlags); err != nil {
			return nil, nil, err
		}
	}
	if m.Kind == patches.MonitorNone {
		return &apply.Step{Title: "ServiceMonitor", Skipped: m.Skipped}, nil, nil
	}
	step := &apply.Step{Title: m.Kind.Kind()}
	monitor := m.Monitor
	monitor.TLS = o.Cert.ServiceMonitorTLS
	if o.Cert.Keep {
		monitor.TLS = m.keptTLS
		if m.keptTLS.CASecret != "" && m.keptTLSAuth != m.Auth {
			return nil, nil, fmt.Errorf("the monitor verifies with CA secret %s, set up for --scrape-auth %s: to switch to --scrape-auth %s, rerun use-cert with --ca-secret and --scrape-auth %s; nothing was changed", m.keptTLS.CASecret, m.keptTLSAuth, m.Auth, m.Auth)
		}
	}
	if m.Auth == patches.ScrapeAuthSecret {
		actions, err := planReader(ctx, c, p)
		if err != nil {
			return nil, nil, err
		}
		step.Actions = append(step.Actions, actions...)
	}
	desired, err := patches.MonitorObject(p, monitor)
	if err != nil {
		return nil, nil, err
	}
	res := c.Dynamic.Resource(m.Kind.GVR()).Namespace(p.Namespace)
	var live, owned *unstructured.Unstructured
	if l := m.live[m.Kind]; l != nil {
		live, owned = l.obj, l.owned
	}
	a, err := apply.NewCustomAction(res, desired, live, owned)
	if err != nil {
		return nil, nil, err
	}
	if m.Auth == patches.ScrapeAuthSecret {
		a.Detail = "scrape auth secret (token of ServiceAccount " + patches.ReaderName(p.Name) + ")"
	}
	step.Actions = append(step.Actions, a)

	// Only one monitor of ours: the other kind goes, once this one is applied.
	if other := m.live[otherKind(m.Kind)]; other != nil {
		otherRes := c.Dynamic.Resource(other.kind.GVR()).Namespace(p.Namespace)
		name := other.obj.GetName()
		planned, err := planDeleteIgnoring(ctx, step, other.kind.Kind(), p.Namespace+"/"+name,
			func(context.Context) (metav1.Object, error) { return other.obj, nil },
			func(ctx context.Context, o metav1.DeleteOptions) error { return otherRes.Delete(ctx, name, o) }, nil)
		if err != nil {
			return nil, nil, err
		}
		if planned {
			step.Actions[len(step.Actions)-1].Detail = "replaced by " + a.Ref()
		}
	}
	if m.Auth == patches.ScrapeAuthFile && !m.readerGone {
		// The reader of an earlier --scrape-auth secret is no longer used.
		if err := planReleaseReader(ctx, c, p.Namespace, p.Name, step, "file auth does not use it"); err != nil {
			return nil, nil, err
		}
	}
	// What a Prometheus selects it by: the labels this run applies.
	selectable := &promselect.Monitor{Kind: m.Kind.Kind(), Namespace: p.Namespace, Name: desired.GetName(), Labels: desired.GetLabels()}
	return step, selectable, nil
}

// planReader applies the reader ServiceAccount, its token Secret, the
// ClusterRole allowing get /metrics and its binding.
func planReader(ctx context.Context, c kube.Clients, p patches.Params) ([]*apply.Action, error) {
	sas := c.Kube.CoreV1().ServiceAccounts(p.Namespace)
	sa := patches.ReaderServiceAccount(p)
	liveSA, err := apply.Observe(ctx, fmt.Sprintf("ServiceAccount %s/%s", p.Namespace, *sa.Name), *sa.Name, sas.Get, corev1ac.ExtractServiceAccount)
	if err != nil {
		return nil, err
	}
	saAction, err := apply.NewAction("ServiceAccount", p.Namespace, *sa.Name, sa, liveSA.Object(), liveSA.Owned,
		func(ctx context.Context, opts metav1.ApplyOptions) (runtime.Object, error) {
			return sas.Apply(ctx, sa, opts)
		})
	if err != nil {
		return nil, err
	}
	secretAction, err := planSecret(ctx, c, patches.ReaderTokenSecret(p))
	if err != nil {
		return nil, err
	}
	secretAction.Detail = "long-lived token of ServiceAccount " + *sa.Name
	roleAction, err := planClusterRole(ctx, c, patches.ReaderClusterRole(p))
	if err != nil {
		return nil, err
	}
	bindingAction, err := planClusterRoleBinding(ctx, c, patches.ReaderName(p.Name), func(existing ...rbacv1.Subject) *rbacv1ac.ClusterRoleBindingApplyConfiguration {
		return patches.ReaderClusterRoleBinding(p, existing...)
	})
	if err != nil {
		return nil, err
	}
	actions := []*apply.Action{saAction, secretAction, roleAction, bindingAction}
	for _, a := range actions {
		if err := refuseOthersReader(a); err != nil {
			return nil, err
		}
	}
	return actions, nil
}

// refuseOthersReader refuses to apply over a reader object of our name that
// someone else made: the apply would take it over, and a later switch to
// file auth or disable would delete it. Every reader object we apply
// carries our managed-by label.
func refuseOthersReader(a *apply.Action) error {
	if !a.Exists || a.Live == nil {
		return nil
	}
	obj, ok := a.Live.(metav1.Object)
	if !ok || patches.CreatedByUs(obj.GetLabels()) {
		return nil
	}
	return fmt.Errorf("%s exists and was not created by kubectl-eck-metrics: --scrape-auth secret needs that name for the monitor's reader; rename or delete it, or keep --scrape-auth file; nothing was changed", a.Ref())
}

// planReleaseReader deletes the reader objects of secret auth that we own;
// why says why they go when they exist.
func planReleaseReader(ctx context.Context, c kube.Clients, namespace, name string, step *apply.Step, why string) error {
	reader := patches.ReaderName(name)
	before := len(step.Actions)
	if err := planReleaseBinding(ctx, c, step, reader, reader, namespace, reader,
		func(others []rbacv1.Subject) *rbacv1ac.ClusterRoleBindingApplyConfiguration {
			return patches.ReaderClusterRoleBinding(patches.Params{Name: name}, others...)
		}); err != nil {
		return err
	}
	if len(step.Actions) == before {
		// No binding of this reader: drop the note on bindings of others.
		step.Notes = dropBindingNote(step.Notes, reader)
	}
	secrets := c.Kube.CoreV1().Secrets(namespace)
	tokenName := patches.ReaderTokenSecretName(name)
	// The token controller fills in the token: that keeps nothing.
	if _, err := planDeleteIgnoring(ctx, step, "Secret", namespace+"/"+tokenName,
		func(ctx context.Context) (metav1.Object, error) {
			return secrets.Get(ctx, tokenName, metav1.GetOptions{})
		},
		func(ctx context.Context, o metav1.DeleteOptions) error { return secrets.Delete(ctx, tokenName, o) },
		onlyData); err != nil {
		return err
	}
	sas := c.Kube.CoreV1().ServiceAccounts(namespace)
	if err := planDelete(ctx, step, "ServiceAccount", namespace+"/"+reader,
		func(ctx context.Context) (metav1.Object, error) { return sas.Get(ctx, reader, metav1.GetOptions{}) },
		func(ctx context.Context, o metav1.DeleteOptions) error { return sas.Delete(ctx, reader, o) }); err != nil {
		return err
	}
	for _, a := range step.Actions[before:] {
		if a.Delete && a.Detail == "" {
			a.Detail = why
		}
	}
	return nil
}

func dropBindingNote(notes []string, binding string) []string {
	var out []string
	for _, n := range notes {
		if !strings.HasPrefix(n, "left ClusterRoleBinding "+binding+":") {
			out = append(out, n)
		}
	}
	return out
}

// onlyData accepts a manager that owns nothing but data keys: the token
// controller of a service-account-token Secret.
func onlyData(e metav1.ManagedFieldsEntry) bool {
	if e.FieldsV1 == nil {
		return false
	}
	var set map[string]any
	if err := json.Unmarshal(e.FieldsV1.GetRawBytes(), &set); err != nil {
		return false
	}
	for k := range set {
		if k != "f:data" {
			return false
		}
	}
	return true
}

// appliedBy tells whether manager applied fields of obj.
func appliedBy(obj metav1.Object, manager string) bool {
	for _, e := range obj.GetManagedFields() {
		if e.Manager == manager && e.Operation == metav1.ManagedFieldsOperationApply && e.Subresource == "" {
			return true
		}
	}
	return false
}

// CheckScrapeTimeout refuses a timeout longer than the interval, which
// prometheus-operator rejects ("" interval: the default).
func CheckScrapeTimeout(interval, timeout string) error {
	if timeout == "" {
		return nil
	}
	if interval == "" {
		interval = patches.DefaultScrapeInterval
	}
	i, err1 := model.ParseDuration(interval)
	t, err2 := model.ParseDuration(timeout)
	if err1 != nil || err2 != nil {
		return fmt.Errorf("invalid scrape interval %q or timeout %q: use Prometheus durations such as 30s", interval, timeout)
	}
	if t > i {
		return fmt.Errorf("--scrape-timeout %s is longer than the scrape interval %s: Prometheus refuses it; give a shorter --scrape-timeout or a longer --interval", timeout, interval)
	}
	return nil
}

// otherOrNone is the --monitor value to suggest when kind is not served:
// the other kind where it is, else none.
func otherOrNone(kind patches.MonitorKind, served map[patches.MonitorKind]bool) string {
	if other := otherKind(kind); served[other] {
		return "--monitor " + string(other)
	}
	return "--monitor none"
}
