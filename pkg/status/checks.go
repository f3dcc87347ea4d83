package status

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/eck-metrics/kubectl-eck-metrics/pkg/certs"
	"github.com/eck-metrics/kubectl-eck-metrics/pkg/eckconfig"
	"github.com/eck-metrics/kubectl-eck-metrics/pkg/helmhint"
	"github.com/eck-metrics/kubectl-eck-metrics/pkg/kube"
	"github.com/eck-metrics/kubectl-eck-metrics/pkg/operator"
	"github.com/eck-metrics/kubectl-eck-metrics/pkg/patches"
	"github.com/eck-metrics/kubectl-eck-metrics/pkg/promselect"
	appsv1 "k8s.io/api/apps/v1"
	authorizationv1 "k8s.io/api/authorization/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/rest"
)

// Options are the choices of status.
type Options struct {
	Namespace string
	Name      string
	// PrometheusSA is NAMESPACE/NAME of Prometheus's ServiceAccount.
	PrometheusSA string
	// Probe reaches the live endpoint, at MetricsURL or through a port-forward.
	Probe      bool
	MetricsURL string
	Now        time.Time
	// RESTConfig is needed by the port-forward of the probe.
	RESTConfig *rest.Config
	// Checks, when set, are the only checks reported (--check); only the
	// categories they need run.
	Checks []CheckID
	// PrometheusNamespace holds Prometheus's copy of the CA, and is what
	// NetworkPolicies must admit (default: the namespace of PrometheusSA,
	// else those of the Prometheus objects that select the monitor).
	PrometheusNamespace string
	// StatefulSet, when set, is the operator to check, already listed
	// (status -A): it is not looked for again.
	StatefulSet *appsv1.StatefulSet
	// PrometheusURL is a route to Prometheus's web UI: prometheus-targets
	// asks it instead of each selecting Prometheus through the API server.
	PrometheusURL string
	// askTargets replaces how prometheus-targets asks (the unit tests).
	askTargets targetsAsker
}

// checker holds what earlier checks found, for the later ones.
type checker struct {
	c      kube.Clients
	o      Options
	r      *Report
	op     *operator.Operator
	mode   operator.Mode
	cm     *corev1.ConfigMap // the operator's ConfigMap, nil when unread
	cfg    *eckconfig.Document
	cfgErr error
	port   int32
	svc    *corev1.Service
	cert   *certs.Report
	secret string // the user's certificate secret, "" for self-signed
	// tlsSecret is that secret as read, nil when unreadable.
	tlsSecret *corev1.Secret
	// monitor is our monitor, read once by readMonitor.
	monitor monitorRead
	// sel is what prometheus-selection found, read once by prometheusSelection.
	sel selection
	// metricsAccessed memoises metricsAccess by ServiceAccount.
	metricsAccessed map[string]accessResult
	// discovered memoises discovery by group-version (see served).
	discovered map[string]discovered
	// namespacesRead memoises namespaceLabels by Namespace.
	namespacesRead map[string]namespaceRead
	// secretsRead memoises readSecret by namespace/name.
	secretsRead map[string]secretRead
	// lookupErr: the operator could not be looked for, or several were
	// found and none named (see Run).
	lookupErr error
}

type secretRead struct {
	secret *corev1.Secret
	err    error
}

// readSecret gets a Secret once per run: the served certificate's, the
// monitor's credentials and the CA copy are each wanted by more than one
// check (the probe, prometheus-access, prometheus-selection).
func (k *checker) readSecret(ctx context.Context, ns, name string) (*corev1.Secret, error) {
	key := ns + "/" + name
	if r, ok := k.secretsRead[key]; ok {
		return r.secret, r.err
	}
	s, err := k.c.Kube.CoreV1().Secrets(ns).Get(ctx, name, metav1.GetOptions{})
	if k.secretsRead == nil {
		k.secretsRead = map[string]secretRead{}
	}
	k.secretsRead[key] = secretRead{s, err}
	return s, err
}

// monitorRead is our monitor as read: the ServiceMonitor, else the
// PodMonitor of --monitor podmonitor (obj.GetKind() says which).
type monitorRead struct {
	done bool
	// served is true when either API is served.
	served bool
	obj    *unstructured.Unstructured
	// monitor is obj decoded by the one reader of monitors (kube.ReadMonitor).
	monitor   *kube.Monitor
	servedErr error // discovery failed
	err       error // the Get (or the decoding) failed
}

// readMonitor reads our monitor once for the checks that need it (the CA
// copy, the ServiceMonitor category, prometheus-selection).
func (k *checker) readMonitor(ctx context.Context) *monitorRead {
	r := &k.monitor
	if r.done {
		return r
	}
	r.done = true
	// One discovery request answers both (same group-version).
	smServed, servedErr := k.served(patches.ServiceMonitorGVR)
	pmServed, _ := k.served(patches.PodMonitorGVR)
	r.served, r.servedErr = smServed || pmServed, servedErr
	if servedErr != nil {
		return r
	}
	for _, m := range []struct {
		served bool
		gvr    schema.GroupVersionResource
	}{{smServed, patches.ServiceMonitorGVR}, {pmServed, patches.PodMonitorGVR}} {
		if !m.served {
			continue
		}
		obj, err := k.c.Dynamic.Resource(m.gvr).Namespace(k.op.Namespace()).Get(ctx, patches.MonitorName(k.op.Name()), metav1.GetOptions{})
		if r.obj == nil && (r.err == nil || !apierrors.IsNotFound(err)) {
			r.obj, r.err = obj, err
		}
		if err == nil {
			break
		}
	}
	if r.obj != nil && r.err == nil {
		if r.monitor, r.err = kube.ReadMonitor(r.obj); r.err != nil {
			r.obj = nil
		}
	}
	return r
}

// add reports a check under its declared category and name.
func (k *checker) add(id CheckID, outcome Outcome, message, hint string, details map[string]any) {
	k.addNamed(id, specs()[id].name, outcome, message, hint, details)
}

// addNamed reports a check under a name of the moment (the mode's).
func (k *checker) addNamed(id CheckID, name string, outcome Outcome, message, hint string, details map[string]any) {
	if !selected(k.o.Checks, id) {
		return
	}
	k.r.add(Check{ID: id, Category: specs()[id].category, Name: name, Outcome: outcome, Message: message, Hint: hint, Details: details})
}

func (k *checker) skip(id CheckID, why string) {
	k.add(id, Skip, "skipped: "+why, "", nil)
}

const enableHint = "run: kubectl eck-metrics enable"

// Run runs every check. It writes nothing to the cluster: the
// SubjectAccessReviews it sends are questions, not stored objects; only the
// probe's TokenRequest creates something (a short-lived token). The error
// is an *operator.LookupError when the cluster could not be looked at
// (unreachable, credentials refused, StatefulSets forbidden), or an
// *operator.AmbiguousError when several operators were found and none
// named: then there is no report, since every check would only repeat it.
func Run(ctx context.Context, c kube.Clients, o Options) (*Report, error) {
	k := &checker{c: c, o: o, r: &Report{Checks: []Check{}}}
	k.r.Summary.OK = true
	run := categoriesFor(o.Checks)
	for _, cat := range allCategories() {
		switch {
		case !run[cat.Name]:
		case cat.Name != CategoryOperator && k.op == nil:
			k.r.add(Check{ID: CheckID(cat.Name), Category: cat.Name, Name: string(cat.Name) + " checks", Outcome: Skip, Message: "skipped: no operator found"})
		default:
			cat.run(k, ctx)
		}
		if k.lookupErr != nil {
			return nil, k.lookupErr
		}
	}
	return k.r, nil
}

func (k *checker) checkOperator(ctx context.Context) {
	var op *operator.Operator
	var err error
	if k.o.StatefulSet != nil {
		op, err = operator.FromStatefulSet(k.o.StatefulSet)
	} else {
		op, err = operator.Find(ctx, k.c.Kube, k.o.Namespace, k.o.Name, operator.DefaultSelectors())
	}
	lookupErr, ambiguous := (*operator.LookupError)(nil), (*operator.AmbiguousError)(nil)
	if errors.As(err, &lookupErr) || errors.As(err, &ambiguous) {
		k.lookupErr = err
		return
	}
	if err != nil {
		k.add(OperatorFound, Fail, err.Error(), "pass -n NAMESPACE and --name NAME of the operator StatefulSet", nil)
		return
	}
	k.op = op
	ref := op.Namespace() + "/" + op.Name()
	k.r.Operator = ref
	k.add(OperatorFound, Pass, "StatefulSet "+ref, "", map[string]any{"namespace": op.Namespace(), "name": op.Name(), "image": op.Image, "serviceAccount": op.ServiceAccount})

	expected, err := operator.ChooseMode(op.Version, "")
	switch {
	case op.Version == nil:
		k.add(OperatorVersion, Warn, "cannot tell the ECK version from image "+op.Image, "", nil)
	case err != nil:
		k.r.Version = op.Version.String()
		k.add(OperatorVersion, Fail, err.Error(), "upgrade the operator to ECK 2.12 or later", map[string]any{"version": op.Version.String()})
	default:
		k.r.Version = op.Version.String()
		k.add(OperatorVersion, Pass, "ECK "+op.Version.String(), "", map[string]any{"version": op.Version.String(), "documentedMode": string(expected)})
	}

	k.readConfig(ctx)
	inUse := modeInUse(op, k.cfg)
	k.mode = inUse
	switch {
	case inUse == "" && expected == "":
		k.mode = operator.ModeNative
		k.add(OperatorMode, Fail, "the metrics endpoint is not secured (no metrics-secure, no kube-rbac-proxy)", enableHint+" --mode native|sidecar", nil)
	case inUse == "":
		k.mode = expected
		k.add(OperatorMode, Fail, fmt.Sprintf("the metrics endpoint is not secured (ECK %s documents %s mode)", op.Version, expected), enableHint, map[string]any{"expected": string(expected)})
	case expected != "" && inUse != expected:
		k.add(OperatorMode, Pass, fmt.Sprintf("%s (the docs of this version use %s)", inUse, expected), "", map[string]any{"inUse": string(inUse), "expected": string(expected)})
	default:
		k.add(OperatorMode, Pass, string(inUse), "", map[string]any{"inUse": string(inUse)})
	}
	k.r.Mode = string(k.mode)

	if op.HelmRelease != "" {
		k.add(OperatorHelm, Warn, fmt.Sprintf("Helm release %q manages the operator: a helm upgrade reverts changes made outside the chart", op.HelmRelease),
			helmSecureHint(op), map[string]any{"release": op.HelmRelease})
	} else {
		k.add(OperatorHelm, Pass, "no: installed from manifests", "", nil)
	}
	k.checkGitOps()
}

// checkGitOps warns where Argo CD or Flux syncs the operator's StatefulSet
// or ConfigMap from Git: what enable changes there is reverted on sync.
func (k *checker) checkGitOps() {
	objects := []metav1.Object{k.op.StatefulSet}
	if k.cm != nil {
		objects = append(objects, k.cm)
	}
	g := operator.DetectGitOps(objects...)
	if g == nil {
		k.add(OperatorGitOps, Pass, "no: neither Argo CD nor Flux tracks it", "", nil)
		return
	}
	k.add(OperatorGitOps, Warn, fmt.Sprintf("managed by %s: changes outside Git are reverted on sync", g.Owner()),
		"change it in Git: kubectl eck-metrics enable --local renders what to commit (enable prints the commands for this install)",
		map[string]any{"tool": g.Tool, "controller": g.Controller, "kind": g.Kind, "application": g.App})
}

// modeInUse tells how the endpoint is secured now, from the StatefulSet and
// eck.yaml, "" when it is not.
func modeInUse(op *operator.Operator, cfg *eckconfig.Document) operator.Mode {
	for _, c := range op.StatefulSet.Spec.Template.Spec.Containers {
		if c.Name == patches.SidecarName {
			return operator.ModeSidecar
		}
	}
	if cfg != nil {
		if v, _ := cfg.Get("metrics-secure"); v == "true" {
			return operator.ModeNative
		}
	}
	return ""
}

// readConfig reads eck.yaml once, for the mode and the configuration checks.
func (k *checker) readConfig(ctx context.Context) {
	ref := fmt.Sprintf("ConfigMap %s/%s", k.op.Namespace(), k.op.ConfigMapName)
	cm, err := k.c.Kube.CoreV1().ConfigMaps(k.op.Namespace()).Get(ctx, k.op.ConfigMapName, metav1.GetOptions{})
	if err != nil {
		k.cfgErr = kube.ReadError(ref, err)
		return
	}
	k.cm = cm
	if k.cfg, err = eckconfig.Parse(cm.Data[k.op.ConfigKey]); err != nil {
		k.cfgErr = fmt.Errorf("%s key %s: %v", ref, k.op.ConfigKey, err)
	}
}

func (k *checker) checkConfiguration() {
	if k.cfgErr != nil {
		k.add(ConfigReadable, Fail, k.cfgErr.Error(), "fix the ConfigMap by hand", nil)
		k.skip(ConfigSettings, "eck.yaml unreadable")
		return
	}
	doc := k.cfg
	portText, _ := doc.Get("metrics-port")
	port, _ := strconv.Atoi(portText)
	k.port = int32(port)
	secure, _ := doc.Get("metrics-secure")
	host, hostSet := doc.Get("metrics-host")
	if !hostSet {
		host = "0.0.0.0" // the operator's default
	}
	details := map[string]any{"metrics-port": port, "metrics-host": host, "metrics-secure": secure}
	used := patches.PortsInUse(k.op, doc, k.mode)
	switch {
	case port == 0 && secure == "true":
		k.add(ConfigPort, Fail, "metrics-secure: true with metrics-port: 0 does not turn metrics off: the operator serves them on a random port", enableHint+" --port 8081", details)
	case port == 0:
		k.add(ConfigPort, Fail, "metrics-port is 0: the operator serves no metrics", enableHint, details)
	default:
		msg := strconv.Itoa(port)
		// Say why enable chose another port than the documented one.
		if what, taken := used[patches.DefaultMetricsPort]; taken && port != patches.DefaultMetricsPort {
			msg += fmt.Sprintf(" (%d is %s)", patches.DefaultMetricsPort, what)
		}
		k.add(ConfigPort, Pass, msg, "", details)
	}
	bypassHint := enableHint
	if k.op.HelmRelease != "" {
		bypassHint = helmSecureHint(k.op) // the chart sets metrics-host
	}
	switch {
	case k.mode == operator.ModeSidecar && host != "127.0.0.1":
		k.add(ConfigHost, Fail, fmt.Sprintf("%s: the plain-HTTP endpoint is reachable around kube-rbac-proxy", host), bypassHint, details)
	case k.mode == operator.ModeNative && host != "0.0.0.0":
		k.add(ConfigHost, Fail, fmt.Sprintf("%s: the Service cannot reach the endpoint", host), enableHint, details)
	default:
		k.add(ConfigHost, Pass, host, "", details)
	}
	switch {
	case k.mode == operator.ModeNative && secure != "true":
		k.add(ConfigSecure, Fail, "not true: the endpoint serves plain HTTP without authentication", enableHint, details)
	case k.mode == operator.ModeSidecar && secure == "true":
		k.add(ConfigSecure, Fail, "true in sidecar mode: kube-rbac-proxy's plain-HTTP upstream gets no answer", enableHint+" --mode sidecar", details)
	default:
		k.add(ConfigSecure, Pass, fmt.Sprintf("%q as %s mode needs", secure, k.mode), "", details)
	}
	if flags := k.op.MetricsFlagsOnCommandLine(); len(flags) > 0 {
		k.add(ConfigCommandLine, Fail, fmt.Sprintf("container manager sets %s on its command line, which overrides eck.yaml", strings.Join(flags, " ")), "remove them from the StatefulSet's args, then run: kubectl eck-metrics enable", nil)
	} else {
		k.add(ConfigCommandLine, Pass, "none: eck.yaml decides", "", nil)
	}
	if port > 0 {
		if what, ok := used[int32(port)]; ok {
			k.add(ConfigPortCollision, Fail, fmt.Sprintf("metrics-port %d collides with %s", port, what), enableHint+" --port <free port>", nil)
		} else {
			k.add(ConfigPortCollision, Pass, "none", "", nil)
		}
	}
}

func (k *checker) checkRBAC(ctx context.Context) {
	roleName, bindingName := patches.RBACNames(k.mode, k.op.Name())
	rbac := k.c.Kube.RbacV1()
	role, err := rbac.ClusterRoles().Get(ctx, roleName, metav1.GetOptions{})
	switch {
	case err != nil:
		k.add(RBACRole, Fail, readProblem("ClusterRole "+roleName, err, ""), hintIfMissing(err), nil)
	case !grants(role.Rules, "authentication.k8s.io", "tokenreviews") || !grants(role.Rules, "authorization.k8s.io", "subjectaccessreviews"):
		k.add(RBACRole, Fail, "ClusterRole "+roleName+" does not grant create on tokenreviews and subjectaccessreviews", enableHint, nil)
	default:
		k.add(RBACRole, Pass, "ClusterRole "+roleName, "", nil)
	}
	binding, err := rbac.ClusterRoleBindings().Get(ctx, bindingName, metav1.GetOptions{})
	sa := k.op.Namespace() + "/" + k.op.ServiceAccount
	switch {
	case err != nil:
		k.add(RBACBinding, Fail, readProblem("ClusterRoleBinding "+bindingName, err, ""), hintIfMissing(err), nil)
	case binding.RoleRef.Name != roleName || !slices.ContainsFunc(binding.Subjects, func(s rbacv1.Subject) bool {
		return s.Kind == "ServiceAccount" && s.Namespace == k.op.Namespace() && s.Name == k.op.ServiceAccount
	}):
		k.add(RBACBinding, Fail, fmt.Sprintf("ClusterRoleBinding %s does not bind ClusterRole %s to ServiceAccount %s", bindingName, roleName, sa), enableHint, nil)
	default:
		k.add(RBACBinding, Pass, fmt.Sprintf("ClusterRoleBinding %s -> ServiceAccount %s", bindingName, sa), "", nil)
	}
	// Ask the API server itself: other bindings may grant it, or an
	// admission/authorizer may deny it. Without it every scrape gets 500.
	user := "system:serviceaccount:" + k.op.Namespace() + ":" + k.op.ServiceAccount
	groups := []string{"system:serviceaccounts", "system:serviceaccounts:" + k.op.Namespace(), "system:authenticated"}
	for _, res := range []struct {
		id              CheckID
		group, resource string
	}{{RBACTokenReviews, "authentication.k8s.io", "tokenreviews"}, {RBACSubjectAccessReviews, "authorization.k8s.io", "subjectaccessreviews"}} {
		allowed, reason, err := k.access(ctx, user, groups, &authorizationv1.ResourceAttributes{Group: res.group, Resource: res.resource, Verb: "create"}, nil)
		switch {
		case err != nil:
			k.add(res.id, Warn, "cannot ask the API server: "+err.Error(), "run status as a user who may create subjectaccessreviews", nil)
		case !allowed:
			k.add(res.id, Fail, fmt.Sprintf("ServiceAccount %s may not create %s.%s%s: every scrape gets 500", sa, res.resource, res.group, reason), enableHint, nil)
		default:
			k.add(res.id, Pass, "allowed for ServiceAccount "+sa, "", nil)
		}
	}
}

func (k *checker) access(ctx context.Context, user string, groups []string, res *authorizationv1.ResourceAttributes, nonRes *authorizationv1.NonResourceAttributes) (bool, string, error) {
	sar := &authorizationv1.SubjectAccessReview{Spec: authorizationv1.SubjectAccessReviewSpec{User: user, Groups: groups, ResourceAttributes: res, NonResourceAttributes: nonRes}}
	out, err := k.c.Kube.AuthorizationV1().SubjectAccessReviews().Create(ctx, sar, metav1.CreateOptions{})
	if err != nil {
		return false, "", err
	}
	reason := ""
	if out.Status.Reason != "" {
		reason = " (" + out.Status.Reason + ")"
	}
	return out.Status.Allowed, reason, nil
}

func (k *checker) checkService(ctx context.Context) {
	name := patches.ServiceName(k.op.Name())
	ref := "Service " + k.op.Namespace() + "/" + name
	svc, err := k.c.Kube.CoreV1().Services(k.op.Namespace()).Get(ctx, name, metav1.GetOptions{})
	if err != nil {
		k.add(ServiceExists, Fail, readProblem(ref, err, ""), enableHint, nil)
		k.skip(ServiceSelector, "no Service")
		k.skip(ServiceTargetPort, "no Service")
		return
	}
	k.svc = svc
	k.add(ServiceExists, Pass, ref, "", nil)
	podLabels := k.op.StatefulSet.Spec.Template.Labels
	matches := len(svc.Spec.Selector) > 0
	for key, v := range svc.Spec.Selector {
		if podLabels[key] != v {
			matches = false
		}
	}
	if matches {
		k.add(ServiceSelector, Pass, promselect.LabelsString(svc.Spec.Selector), "", map[string]any{"selector": svc.Spec.Selector})
	} else {
		k.add(ServiceSelector, Fail, fmt.Sprintf("selector %s does not match the pod labels %s", promselect.LabelsString(svc.Spec.Selector), promselect.LabelsString(podLabels)), enableHint, map[string]any{"selector": svc.Spec.Selector, "podLabels": podLabels})
	}
	container, ok := k.metricsContainer()
	var https *corev1.ServicePort
	for i := range svc.Spec.Ports {
		if svc.Spec.Ports[i].Name == patches.ServicePortName {
			https = &svc.Spec.Ports[i]
		}
	}
	switch {
	case https == nil:
		k.add(ServiceTargetPort, Fail, "the Service has no port named https", enableHint, nil)
	case !ok:
		k.add(ServiceTargetPort, Fail, fmt.Sprintf("targetPort %s: the pods have no %s container", https.TargetPort.String(), patches.MetricsContainer(k.mode)), enableHint, nil)
	case !hasPort(container, https.TargetPort.String()):
		k.add(ServiceTargetPort, Fail, fmt.Sprintf("targetPort %s is not a port of container %s", https.TargetPort.String(), container.Name), enableHint, nil)
	default:
		k.add(ServiceTargetPort, Pass, fmt.Sprintf("%d -> %s on container %s", https.Port, https.TargetPort.String(), container.Name), "", nil)
	}
}

// readProblem says why an object is not there: absent (with what that
// breaks), or the reason it could not be read.
func readProblem(ref string, err error, consequence string) string {
	if !apierrors.IsNotFound(err) {
		return kube.ReadError(ref, err).Error()
	}
	if consequence == "" {
		return ref + " not found"
	}
	return ref + " not found: " + consequence
}

// hintIfMissing: enable creates what is absent; it cannot fix a failed read.
func hintIfMissing(err error) string {
	if apierrors.IsNotFound(err) {
		return enableHint
	}
	return ""
}

// grants tells whether rules allow create on group/resource.
func grants(rules []rbacv1.PolicyRule, group, resource string) bool {
	for _, r := range rules {
		if (slices.Contains(r.APIGroups, group) || slices.Contains(r.APIGroups, "*")) &&
			(slices.Contains(r.Resources, resource) || slices.Contains(r.Resources, "*")) &&
			(slices.Contains(r.Verbs, "create") || slices.Contains(r.Verbs, "*")) {
			return true
		}
	}
	return false
}

func hasPort(c *corev1.Container, port string) bool {
	for _, p := range c.Ports {
		if p.Name == port || strconv.Itoa(int(p.ContainerPort)) == port {
			return true
		}
	}
	return false
}

func (k *checker) metricsContainer() (*corev1.Container, bool) {
	spec := &k.op.StatefulSet.Spec.Template.Spec
	for i := range spec.Containers {
		if spec.Containers[i].Name == patches.MetricsContainer(k.mode) {
			return &spec.Containers[i], true
		}
	}
	return nil, false
}

func (k *checker) checkStatefulSet() {
	patched := "patched for " + string(k.mode) + " mode"
	c, ok := k.metricsContainer()
	switch {
	case k.mode == operator.ModeSidecar && !ok:
		k.addNamed(StatefulSetPatched, patched, Fail, "no kube-rbac-proxy container", enableHint+" --mode sidecar", nil)
	case k.mode == operator.ModeSidecar:
		want := fmt.Sprintf("--upstream=http://127.0.0.1:%d", k.port)
		if upstream, local := patches.ProxyUpstreamPort(*c); local && upstream == k.port {
			k.addNamed(StatefulSetPatched, patched, Pass, "kube-rbac-proxy "+c.Image, "", map[string]any{"image": c.Image, "args": c.Args})
		} else {
			k.addNamed(StatefulSetPatched, patched, Fail, fmt.Sprintf("kube-rbac-proxy's args %v lack %s", c.Args, want), enableHint, map[string]any{"args": c.Args})
		}
	default:
		var found *corev1.ContainerPort
		for i := range c.Ports {
			if c.Ports[i].Name == patches.MetricsPortName {
				found = &c.Ports[i]
			}
		}
		switch {
		case found == nil:
			k.addNamed(StatefulSetPatched, patched, Fail, "container manager has no port named metrics for the Service to target", enableHint, nil)
		case k.port > 0 && found.ContainerPort != k.port:
			k.addNamed(StatefulSetPatched, patched, Fail, fmt.Sprintf("port metrics is %d, eck.yaml metrics-port is %d", found.ContainerPort, k.port), enableHint, nil)
		default:
			k.addNamed(StatefulSetPatched, patched, Pass, fmt.Sprintf("container manager port metrics %d", found.ContainerPort), "", nil)
		}
	}

	k.checkSidecarImage(c, ok)

	k.secret = kube.CurrentCertSecret(k.op)
	if k.secret == "" {
		k.add(StatefulSetCertMount, Pass, "none: the self-signed default certificate is served", "", nil)
	} else if ok {
		dir := patches.CertMountDir(k.mode, k.cfg)
		mounted := slices.ContainsFunc(c.VolumeMounts, func(m corev1.VolumeMount) bool {
			return m.Name == patches.CertVolumeName && m.MountPath == dir
		})
		if mounted {
			k.add(StatefulSetCertMount, Pass, fmt.Sprintf("secret %s at %s in container %s", k.secret, dir, c.Name), "", nil)
		} else {
			k.add(StatefulSetCertMount, Fail, fmt.Sprintf("volume %s (secret %s) is not mounted at %s in container %s", patches.CertVolumeName, k.secret, dir, c.Name), "run: kubectl eck-metrics use-cert --secret "+k.secret, nil)
		}
	}

	done, msg := kube.RolloutStatus(k.op.StatefulSet)
	st := k.op.StatefulSet.Status
	details := map[string]any{"replicas": st.Replicas, "updatedReplicas": st.UpdatedReplicas, "readyReplicas": st.ReadyReplicas}
	switch {
	case done:
		k.add(StatefulSetRollout, Pass, msg, "", details)
	case st.ReadyReplicas == 0:
		k.add(StatefulSetRollout, Fail, msg+"; no operator pod is ready", fmt.Sprintf("run: kubectl -n %s describe statefulset %s", k.op.Namespace(), k.op.Name()), details)
	default:
		k.add(StatefulSetRollout, Warn, msg, "wait: kubectl eck-metrics enable --wait", details)
	}
}

func (k *checker) checkCertificate(ctx context.Context) {
	if k.secret == "" {
		k.add(CertificateServing, Pass, "self-signed default (Prometheus must scrape with insecureSkipVerify: true)", "to let Prometheus verify it, run: kubectl eck-metrics use-cert --secret NAME", map[string]any{"selfSigned": true})
		return
	}
	ref := fmt.Sprintf("secret %s/%s", k.op.Namespace(), k.secret)
	s, err := k.readSecret(ctx, k.op.Namespace(), k.secret)
	if err != nil {
		k.add(CertificateServing, Fail, readProblem(ref, err, "the operator pod cannot start"), "run: kubectl eck-metrics use-cert --secret NAME --cert FILE --key FILE", nil)
		return
	}
	k.tlsSecret = s
	serviceDNS := patches.ServiceDNSName(k.op.Name(), k.op.Namespace())
	report, err := certs.Check(s.Data[corev1.TLSCertKey], s.Data[corev1.TLSPrivateKeyKey], certs.Options{ServiceDNS: serviceDNS, Now: k.o.Now})
	if err != nil {
		k.add(CertificateServing, Fail, ref+": "+err.Error(), "renew it, then run: kubectl eck-metrics use-cert --secret "+k.secret+" --cert FILE --key FILE", nil)
		return
	}
	k.cert = report
	details := map[string]any{"secret": k.secret, "subject": report.Subject, "issuer": report.Issuer, "dnsNames": report.DNSNames,
		"notBefore": report.NotBefore.UTC().Format(time.RFC3339), "notAfter": report.NotAfter.UTC().Format(time.RFC3339), "daysLeft": report.DaysLeft(k.o.Now)}
	msg := fmt.Sprintf("%s: %s, valid until %s (%d days left), DNS names %s", ref, report.Subject, report.NotAfter.UTC().Format(time.RFC3339), report.DaysLeft(k.o.Now), strings.Join(report.DNSNames, ", "))
	if len(report.Warnings) > 0 {
		k.add(CertificateServing, Warn, msg+"; "+strings.Join(report.Warnings, "; "), "renew or reissue it, then run: kubectl eck-metrics use-cert --secret "+k.secret+" --cert FILE --key FILE", details)
		return
	}
	k.add(CertificateServing, Pass, msg, "", details)
}

func (k *checker) checkMonitor(ctx context.Context) {
	r := k.readMonitor(ctx)
	sm, err := r.obj, r.err
	if r.servedErr != nil {
		k.add(ServiceMonitorExists, Warn, r.servedErr.Error(), "", nil)
		return
	}
	if !r.served {
		k.skip(ServiceMonitorExists, "monitoring.coreos.com/v1 is not served in this cluster")
		return
	}
	if err != nil {
		ref := "ServiceMonitor " + k.op.Namespace() + "/" + patches.ServiceMonitorName(k.op.Name())
		k.add(ServiceMonitorExists, Fail, readProblem(ref, err, "Prometheus does not scrape the endpoint"), enableHint, nil)
		k.skip(ServiceMonitorSelects, "no ServiceMonitor")
		k.skip(ServiceMonitorTLS, "no ServiceMonitor")
		k.skip(ServiceMonitorCredentials, "no ServiceMonitor")
		return
	}
	kind := sm.GetKind()
	k.add(ServiceMonitorExists, Pass, kind+" "+sm.GetNamespace()+"/"+sm.GetName(), "", map[string]any{"kind": kind})
	ep := r.monitor.Endpoint
	if ep == nil {
		ep = &kube.MonitorEndpoint{}
	}
	if r.monitor.Kind == patches.MonitorPodMonitor {
		k.checkPodMonitorSelects(sm, ep)
	} else {
		k.checkServiceMonitorSelects(sm, ep)
	}
	k.checkMonitorTLS(sm, r.monitor)
	k.checkMonitorCredentials(ctx, sm, ep)
}

func (k *checker) checkServiceMonitorSelects(sm *unstructured.Unstructured, ep *kube.MonitorEndpoint) {
	var svcLabels map[string]string
	if k.svc != nil {
		svcLabels = k.svc.Labels
	}
	matchNames, matchLabels, selects := k.monitorSelects(sm, svcLabels)
	port := ep.Port
	switch {
	case k.svc == nil:
		k.skip(ServiceMonitorSelects, "no metrics Service")
	case !selects:
		k.add(ServiceMonitorSelects, Fail, fmt.Sprintf("selector %s in namespaces %v does not select Service %s (labels %s)", promselect.LabelsString(matchLabels), matchNames, k.svc.Name, promselect.LabelsString(k.svc.Labels)), enableHint, nil)
	case port != patches.ServicePortName:
		k.add(ServiceMonitorSelects, Fail, fmt.Sprintf("endpoint port %q is not the Service's port https", port), enableHint, nil)
	default:
		k.add(ServiceMonitorSelects, Pass, fmt.Sprintf("Service %s, port https", k.svc.Name), "", nil)
	}
}

// metricsReaderHint is the RBAC that lets Prometheus read /metrics.
func metricsReaderHint(ns, name string) string {
	return fmt.Sprintf("run: kubectl create clusterrole eck-metrics-reader --verb=get --non-resource-url=/metrics && kubectl create clusterrolebinding eck-metrics-reader-%s --clusterrole=eck-metrics-reader --serviceaccount=%s:%s", name, ns, name)
}

func (k *checker) prometheusSA() (string, string, bool) {
	ns, name, ok := strings.Cut(k.o.PrometheusSA, "/")
	return ns, name, ok && ns != "" && name != ""
}

func (k *checker) checkPrometheusAccess(ctx context.Context) {
	accounts := k.prometheusAccounts(ctx)
	if len(accounts) == 0 {
		why := "pass --prometheus-sa NAMESPACE/NAME to check"
		if _, err := k.selectingPrometheuses(ctx); err == nil {
			why += " (no Prometheus selects our monitor)"
		}
		k.skip(PrometheusMetrics, why)
		return
	}
	outcome, details := Pass, map[string]any(nil)
	var msgs, hints []string
	for _, a := range accounts {
		allowed, reason, err := k.metricsAccess(ctx, a.namespace, a.name)
		switch {
		case err != nil:
			outcome = worse(outcome, Warn)
			msgs = append(msgs, "cannot ask the API server: "+err.Error())
		case !allowed:
			outcome = Fail
			msgs = append(msgs, fmt.Sprintf("%s may not get /metrics%s: every scrape gets 403", a, reason))
			hints = append(hints, metricsReaderHint(a.namespace, a.name))
			details = map[string]any{"clusterRole": "rules: [{nonResourceURLs: [/metrics], verbs: [get]}]"}
		default:
			msgs = append(msgs, "allowed for "+a.String())
		}
	}
	k.add(PrometheusMetrics, outcome, strings.Join(msgs, "; "), strings.Join(hints, "; "), details)
}

// worse is the graver of two outcomes.
func worse(a, b Outcome) Outcome {
	rank := map[Outcome]int{Pass: 0, Skip: 1, Warn: 2, Fail: 3}
	if rank[b] > rank[a] {
		return b
	}
	return a
}

// checkSidecarImage fails the retired gcr.io kube-rbac-proxy image, which
// no longer pulls: the pod cannot start on its next reschedule.
func (k *checker) checkSidecarImage(c *corev1.Container, found bool) {
	switch {
	case k.mode != operator.ModeSidecar:
		k.add(StatefulSetSidecarImage, Pass, "none: native mode has no sidecar", "", nil)
	case !found:
		k.skip(StatefulSetSidecarImage, "no kube-rbac-proxy container")
	case patches.IsRetiredSidecarImage(c.Image):
		hint := fmt.Sprintf("run: kubectl eck-metrics enable (it replaces the image with --sidecar-image, default %s)", patches.DefaultSidecarImg)
		if expected, err := operator.ChooseMode(k.op.Version, ""); err == nil && expected == operator.ModeNative {
			hint = fmt.Sprintf("run: kubectl eck-metrics enable (ECK %s serves HTTPS itself: enable removes the sidecar)", k.op.Version)
		}
		if k.op.HelmRelease != "" {
			hint = helmSecureHint(k.op)
		}
		k.add(StatefulSetSidecarImage, Fail, c.Image+" is retired: gcr.io/kubebuilder images no longer pull, so the operator pod cannot start on its next reschedule", hint, map[string]any{"image": c.Image})
	default:
		k.add(StatefulSetSidecarImage, Pass, c.Image, "", map[string]any{"image": c.Image})
	}
}

// helmSecureHint is the chart's way for a Helm install: for a chart of the
// sidecar era, an upgrade to 2.16 or later.
func helmSecureHint(op *operator.Operator) string {
	cmd := helmhint.SecureCommand(op, patches.DefaultMetricsPort, "")
	if why := helmhint.SidecarEraChart(op); why != "" {
		return why + ": " + cmd
	}
	return "make them the chart's way: " + cmd
}
