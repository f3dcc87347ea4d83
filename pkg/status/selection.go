package status

// prometheus-selection: does a Prometheus (or PrometheusAgent) that
// prometheus-operator runs pick up our monitor, and can it scrape with it?
// Whether it selects is promselect's (prometheus-operator v0.85.0's rules);
// with arbitraryFSAccessThroughSMs.deny a ServiceMonitor endpoint that reads
// files (bearerTokenFile, tlsConfig caFile/certFile/keyFile) is rejected.

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/eck-metrics/kubectl-eck-metrics/pkg/kube"
	"github.com/eck-metrics/kubectl-eck-metrics/pkg/patches"
	"github.com/eck-metrics/kubectl-eck-metrics/pkg/promselect"
	monitoringv1 "github.com/prometheus-operator/prometheus-operator/pkg/apis/monitoring/v1"
	authorizationv1 "k8s.io/api/authorization/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

const (
	// prometheus-operator mounts spec.secrets and spec.configMaps here.
	promSecretsDir    = "/etc/prometheus/secrets/"
	promConfigMapsDir = "/etc/prometheus/configmaps/"
)

// prometheusObject is a Prometheus or PrometheusAgent, as far as scraping
// our monitor goes: what promselect judges, and what its pods run as.
type prometheusObject struct {
	promselect.Prometheus
	// ServiceAccount runs its pods: spec.serviceAccountName, else the
	// namespace's "default" (prometheus-operator leaves it empty).
	ServiceAccount string
	// PodLabels are on every pod prometheus-operator runs for it (all
	// shards): its selector labels and spec.podMetadata.labels.
	PodLabels map[string]string
}

// resource is its name for kubectl.
func (p prometheusObject) resource() string { return strings.ToLower(p.Kind) }

// ourMonitor is our ServiceMonitor or PodMonitor as read.
type ourMonitor struct {
	kind       string
	namespace  string
	name       string
	labels     map[string]string
	sm         *monitoringv1.ServiceMonitor // nil for a PodMonitor
	secretAuth bool                         // an endpoint takes credentials from a Secret
}

func (m *ourMonitor) ref() string { return m.selectable().Ref() }

// selectable is what a Prometheus selects it by.
func (m *ourMonitor) selectable() promselect.Monitor {
	return promselect.Monitor{Kind: m.kind, Namespace: m.namespace, Name: m.name, Labels: m.labels}
}

// verdict says whether one Prometheus selects our monitor, and if not, why
// and what would make it.
type verdict struct {
	p        prometheusObject
	selected bool
	reasons  []string
	hints    []string
}

// selection is what prometheus-selection found, read once per run.
type selection struct {
	read    bool
	monitor *ourMonitor
	// unknown says why selection cannot be told; warn tells a warning from a skip.
	unknown     string
	unknownHint string
	warn        bool
	// partial says why a kind could not be listed while another was.
	partial  []string
	verdicts []verdict
	// nsLabelsAssumed: the namespace was unreadable, only
	// kubernetes.io/metadata.name was matched.
	nsLabelsAssumed bool
}

func (s *selection) selecting() []prometheusObject {
	var out []prometheusObject
	for _, v := range s.verdicts {
		if v.selected {
			out = append(out, v.p)
		}
	}
	return out
}

// selectingPrometheuses are the Prometheus and PrometheusAgent objects that
// select our monitor (read once per run). The error says why that cannot be
// told (no monitor, API not served, listing forbidden); an empty list with
// no error means none of those status could list selects it (a kind it may
// not list is reported by prometheus-selection.selected, not here).
func (k *checker) selectingPrometheuses(ctx context.Context) ([]prometheusObject, error) {
	s := k.prometheusSelection(ctx)
	if s.unknown != "" {
		return nil, fmt.Errorf("%s", s.unknown)
	}
	return s.selecting(), nil
}

// prometheusSelection reads our monitor, the Prometheus objects and our
// namespace once, and judges each Prometheus.
func (k *checker) prometheusSelection(ctx context.Context) *selection {
	s := &k.sel
	if s.read {
		return s
	}
	s.read = true
	if !k.readOurMonitor(ctx, s) {
		return s
	}
	found := kube.ListPrometheuses(ctx, k.c, k.served)
	listed, failures := found.Listed, found.Failures
	all := make([]prometheusObject, 0, len(found.Items))
	for _, p := range found.Items {
		all = append(all, toPrometheusObject(p))
	}
	switch {
	case listed == 0 && len(failures) > 0:
		s.unknown, s.warn = strings.Join(failures, "; "), true
		s.unknownHint = "run status as a user who may list prometheuses and prometheusagents (monitoring.coreos.com) in all namespaces"
		return s
	case listed == 0:
		s.unknown = "monitoring.coreos.com Prometheus is not served: no prometheus-operator in this cluster"
		return s
	}
	s.partial = failures
	nsLabels, fallback := k.namespaceLabels(ctx, s.monitor.namespace)
	s.nsLabelsAssumed = fallback != ""
	for _, p := range all {
		s.verdicts = append(s.verdicts, judge(p, s.monitor, nsLabels))
	}
	return s
}

// readOurMonitor finds our ServiceMonitor, else our PodMonitor.
func (k *checker) readOurMonitor(ctx context.Context, s *selection) bool {
	r := k.readMonitor(ctx)
	obj, served, servedErr, err := r.obj, r.served, r.servedErr, r.err
	switch {
	case servedErr != nil:
		s.unknown, s.warn = servedErr.Error(), true
		return false
	case !served:
		s.unknown = "monitoring.coreos.com/v1 is not served in this cluster"
		return false
	case err != nil && !apierrors.IsNotFound(err):
		s.unknown, s.warn = kube.ReadError("ServiceMonitor "+k.op.Namespace()+"/"+patches.ServiceMonitorName(k.op.Name()), err).Error(), true
		return false
	}
	if err != nil { // not found: neither kind exists
		s.unknown = fmt.Sprintf("no ServiceMonitor or PodMonitor %s/%s to be selected", k.op.Namespace(), patches.ServiceMonitorName(k.op.Name()))
		return false
	}
	kind := promselect.KindServiceMonitor
	if obj.GetKind() == promselect.KindPodMonitor {
		kind = promselect.KindPodMonitor
	}
	m := &ourMonitor{kind: kind, namespace: obj.GetNamespace(), name: obj.GetName(), labels: obj.GetLabels()}
	if kind == promselect.KindServiceMonitor {
		sm := &monitoringv1.ServiceMonitor{}
		if err := runtime.DefaultUnstructuredConverter.FromUnstructured(obj.Object, sm); err != nil {
			s.unknown, s.warn = fmt.Sprintf("ServiceMonitor %s/%s unreadable: %v", m.namespace, m.name, err), true
			return false
		}
		m.sm = sm
	}
	m.secretAuth = r.monitor.Auth() == patches.ScrapeAuthSecret
	s.monitor = m
	return true
}

func toPrometheusObject(found promselect.Prometheus) prometheusObject {
	p := prometheusObject{Prometheus: found}
	p.ServiceAccount = p.Spec.ServiceAccountName
	if p.ServiceAccount == "" {
		p.ServiceAccount = "default"
	}
	p.PodLabels = map[string]string{}
	if p.Spec.PodMetadata != nil {
		for key, v := range p.Spec.PodMetadata.Labels {
			p.PodLabels[key] = v
		}
	}
	// The selector labels prometheus-operator v0.85.0 sets on the pods
	// (makeSelectorLabels of pkg/prometheus/server and agent); they win
	// over podMetadata's.
	appName := "prometheus"
	if p.Kind == "PrometheusAgent" {
		appName = "prometheus-agent"
	} else {
		p.PodLabels["prometheus"] = p.Name
	}
	p.PodLabels["app.kubernetes.io/name"] = appName
	p.PodLabels["app.kubernetes.io/managed-by"] = "prometheus-operator"
	p.PodLabels["app.kubernetes.io/instance"] = p.Name
	p.PodLabels["operator.prometheus.io/name"] = p.Name
	return p
}

// judge applies prometheus-operator's selection (promselect) to one
// Prometheus, with a hint for each reason it does not select our monitor.
func judge(p prometheusObject, m *ourMonitor, nsLabels map[string]string) verdict {
	pv := promselect.Judge(p.Prometheus, m.selectable(), nsLabels)
	v := verdict{p: p, selected: pv.Selected, reasons: pv.Reasons()}
	ref := p.Ref()
	for _, miss := range pv.Misses {
		var hint string
		switch miss.Problem {
		case promselect.SpecUnreadable:
			hint = fmt.Sprintf("fix the spec of %s", ref)
		case promselect.NoSelector:
			hint = fmt.Sprintf("set spec.%s of %s ({} selects every %s)", miss.Field, ref, m.kind)
		case promselect.InvalidSelector, promselect.InvalidNamespaceSelector:
			hint = fmt.Sprintf("fix spec.%s of %s", miss.Field, ref)
		case promselect.LabelsMismatch:
			hint = monitorLabelHint(m, miss.Add, miss.Remove)
		case promselect.OwnNamespaceOnly:
			hint = fmt.Sprintf("set spec.%s of %s to {matchLabels: {%s: %s}} (or {} for every namespace)", miss.Field, ref, corev1.LabelMetadataName, m.namespace)
		case promselect.NamespaceMismatch:
			hint = namespaceLabelHint(m.namespace, miss.Field, ref, miss.Add, miss.Remove)
		}
		v.hints = append(v.hints, hint)
	}
	return v
}

// monitorLabelHint is the enable command that labels our monitor so the
// selector matches. --monitor-label given again replaces the labels given
// before, so the command repeats the monitor's other labels of the user's.
func monitorLabelHint(m *ourMonitor, add map[string]string, remove []string) string {
	cmd := "run: kubectl eck-metrics enable -n " + m.namespace
	if m.kind == promselect.KindPodMonitor {
		cmd += " --monitor podmonitor"
	}
	if m.secretAuth {
		cmd += " --scrape-auth secret"
	}
	cmd += monitorLabelFlags(m, add, remove)
	var parts []string
	if len(add) > 0 {
		parts = append(parts, "add "+promselect.LabelsString(add))
	}
	if len(remove) > 0 {
		parts = append(parts, "remove "+strings.Join(remove, ","))
	}
	return fmt.Sprintf("%s (labels of %s: %s)", cmd, m.ref(), strings.Join(parts, "; "))
}

// monitorLabelFlags are the --monitor-label flags that give our monitor
// its labels of the user's, plus add, minus remove: --monitor-label given
// again replaces the labels given before.
func monitorLabelFlags(m *ourMonitor, add map[string]string, remove []string) string {
	want := map[string]string{}
	for key, v := range m.labels {
		if key != patches.ManagedByLabel {
			want[key] = v
		}
	}
	maps.Copy(want, add)
	for _, key := range remove {
		delete(want, key)
	}
	var flags string
	for _, key := range slices.Sorted(maps.Keys(want)) {
		flags += " --monitor-label " + key + "=" + want[key]
	}
	return flags
}

// namespaceLabelHint is the kubectl label command that makes our namespace
// match; kubernetes.io/metadata.name is the API server's, so for it the
// Prometheus's selector has to change instead.
func namespaceLabelHint(ns, field, ref string, add map[string]string, remove []string) string {
	if _, ok := add[corev1.LabelMetadataName]; ok {
		return fmt.Sprintf("add %s to spec.%s of %s (%s is set by the API server)", ns, field, ref, corev1.LabelMetadataName)
	}
	keys := make([]string, 0, len(add))
	for key := range add {
		keys = append(keys, key)
	}
	slices.Sort(keys)
	cmd := "run: kubectl label namespace " + ns
	for _, key := range keys {
		cmd += " " + key + "=" + add[key]
	}
	for _, key := range remove {
		cmd += " " + key + "-"
	}
	return cmd
}

// monitorFiles are the files our ServiceMonitor's endpoints read from the
// Prometheus pod's file system (prometheus-operator's testForArbitraryFSAccess).
func monitorFiles(sm *monitoringv1.ServiceMonitor) []string {
	var files []string
	for i, e := range sm.Spec.Endpoints {
		at := func(field string) string { return fmt.Sprintf("endpoints[%d].%s", i, field) }
		//lint:ignore SA1019 the deprecated field is what deny-mode rejects
		if e.BearerTokenFile != "" {
			files = append(files, at("bearerTokenFile"))
		}
		if t := e.TLSConfig; t != nil {
			for field, f := range map[string]string{"tlsConfig.caFile": t.CAFile, "tlsConfig.certFile": t.CertFile, "tlsConfig.keyFile": t.KeyFile} {
				if f != "" {
					files = append(files, at(field))
				}
			}
		}
	}
	slices.Sort(files)
	return files
}

func (k *checker) checkPrometheusSelection(ctx context.Context) {
	s := k.prometheusSelection(ctx)
	ids := []CheckID{SelectionSelected, SelectionFileAccess, SelectionSecrets, SelectionServiceAccount, SelectionRules}
	// Where the first check cannot be judged, its line says why for the
	// category; the others are reported only when chosen with --check.
	skipRest := func(why string) {
		for _, id := range ids[1:] {
			if len(k.o.Checks) > 0 {
				k.skip(id, why)
			}
		}
	}
	if s.unknown != "" {
		if s.warn {
			k.add(SelectionSelected, Warn, s.unknown, s.unknownHint, nil)
		} else {
			k.skip(SelectionSelected, s.unknown)
		}
		skipRest(s.unknown)
		return
	}
	details := map[string]any{"monitor": s.monitor.ref(), "prometheuses": k.selectionDetails(s)}
	if s.nsLabelsAssumed {
		details["namespaceLabelsAssumed"] = true
	}
	selecting := s.selecting()
	partial := ""
	if len(s.partial) > 0 {
		partial = " (" + strings.Join(s.partial, "; ") + ")"
	}
	switch {
	case len(s.verdicts) == 0 && partial != "":
		k.add(SelectionSelected, Warn, "no Prometheus found that selects "+s.monitor.ref()+partial, "run status as a user who may list prometheuses and prometheusagents (monitoring.coreos.com) in all namespaces", details)
	case len(s.verdicts) == 0:
		k.add(SelectionSelected, Warn, "no Prometheus or PrometheusAgent in any namespace: nothing run by prometheus-operator scrapes "+s.monitor.ref(),
			fmt.Sprintf("create a Prometheus whose spec.%s matches the labels of %s (%s), or scrape the endpoint another way", selectorField(s.monitor), s.monitor.ref(), promselect.LabelsString(s.monitor.labels)), details)
	case len(selecting) == 0:
		var reasons, hints []string
		for _, v := range s.verdicts {
			reasons = append(reasons, v.reasons...)
			hints = append(hints, v.hints...)
		}
		outcome := Fail
		if partial != "" {
			outcome = Warn
		}
		k.add(SelectionSelected, outcome, "no Prometheus selects "+s.monitor.ref()+": "+strings.Join(reasons, "; ")+partial+k.assumedNote(s), strings.Join(hints, "; or "), details)
	default:
		k.add(SelectionSelected, Pass, fmt.Sprintf("%s %s %s%s%s", refs(selecting), selectVerb(selecting), s.monitor.ref(), partial, k.assumedNote(s)), "", details)
	}
	if len(selecting) == 0 {
		skipRest("no Prometheus selects " + s.monitor.ref())
		return
	}
	k.checkFileAccess(s, selecting)
	k.checkPrometheusSecrets(ctx, s, selecting)
	defer k.checkRuleSelection(ctx, s, selecting)
	if s.monitor.secretAuth {
		k.skip(SelectionServiceAccount, "the monitor sends its reader's token, not Prometheus's own: see "+string(ServiceMonitorCredentials))
		return
	}
	k.checkSelectingServiceAccounts(ctx, selecting)
}

func (k *checker) assumedNote(s *selection) string {
	if !s.nsLabelsAssumed {
		return ""
	}
	return fmt.Sprintf(" (namespace %s unreadable: its labels taken as %s=%s only)", s.monitor.namespace, corev1.LabelMetadataName, s.monitor.namespace)
}

func selectorField(m *ourMonitor) string { return m.selectable().SelectorField() }

func selectVerb(ps []prometheusObject) string {
	if len(ps) == 1 {
		return "selects"
	}
	return "select"
}

func refs(ps []prometheusObject) string {
	out := make([]string, 0, len(ps))
	for _, p := range ps {
		out = append(out, p.Ref())
	}
	return strings.Join(out, ", ")
}

func (k *checker) selectionDetails(s *selection) []map[string]any {
	out := []map[string]any{}
	for _, v := range s.verdicts {
		d := map[string]any{"kind": v.p.Kind, "namespace": v.p.Namespace, "name": v.p.Name, "selected": v.selected,
			"serviceAccount": v.p.ServiceAccount, "podLabels": v.p.PodLabels}
		if len(v.reasons) > 0 {
			d["reasons"] = v.reasons
		}
		out = append(out, d)
	}
	return out
}

func (k *checker) checkFileAccess(s *selection, selecting []prometheusObject) {
	if s.monitor.sm == nil {
		k.add(SelectionFileAccess, Pass, "none: a PodMonitor reads no files (arbitraryFSAccessThroughSMs concerns ServiceMonitors)", "", nil)
		return
	}
	files := monitorFiles(s.monitor.sm)
	if len(files) == 0 {
		k.add(SelectionFileAccess, Pass, s.monitor.ref()+" reads no files", "", nil)
		return
	}
	var denying []prometheusObject
	for _, p := range selecting {
		if p.Spec.ArbitraryFSAccessThroughSMs.Deny {
			denying = append(denying, p)
		}
	}
	details := map[string]any{"files": files}
	if len(denying) > 0 {
		k.add(SelectionFileAccess, Fail, fmt.Sprintf("%s %s arbitraryFSAccessThroughSMs.deny: true and drops %s, which reads files (%s)", refs(denying), hasVerb(denying), s.monitor.ref(), strings.Join(files, ", ")),
			"run: kubectl eck-metrics enable -n "+s.monitor.namespace+" --scrape-auth secret (credentials from Secrets, no file paths)", details)
		return
	}
	k.add(SelectionFileAccess, Pass, fmt.Sprintf("allowed: %s reads files (%s) and no selecting Prometheus denies it", s.monitor.ref(), strings.Join(files, ", ")), "", details)
}

func hasVerb(ps []prometheusObject) string {
	if len(ps) == 1 {
		return "has"
	}
	return "have"
}

// caFileSource tells what prometheus-operator mounts at caFile's directory:
// a secret of spec.secrets or a ConfigMap of spec.configMaps.
func caFileSource(caFile string) (kind, name string, ok bool) {
	for _, d := range []struct{ dir, kind string }{{promSecretsDir, "secrets"}, {promConfigMapsDir, "configMaps"}} {
		if rest, found := strings.CutPrefix(caFile, d.dir); found {
			name, _, ok = strings.Cut(rest, "/")
			return d.kind, name, ok && name != ""
		}
	}
	return "", "", false
}

func (k *checker) checkPrometheusSecrets(ctx context.Context, s *selection, selecting []prometheusObject) {
	caFile := ""
	if s.monitor.sm != nil {
		for _, e := range s.monitor.sm.Spec.Endpoints {
			if e.TLSConfig != nil && e.TLSConfig.CAFile != "" {
				caFile = e.TLSConfig.CAFile
			}
		}
	}
	if caFile == "" {
		k.add(SelectionSecrets, Pass, "none needed: "+s.monitor.ref()+" reads no CA file", "", nil)
		return
	}
	field, name, ok := caFileSource(caFile)
	if !ok {
		k.add(SelectionSecrets, Warn, fmt.Sprintf("caFile %s is not under %s or %s: cannot tell whether the Prometheus pods have it", caFile, promSecretsDir, promConfigMapsDir),
			"mount it into the Prometheus pods, or let use-cert --ca-secret write the caFile", map[string]any{"caFile": caFile})
		return
	}
	var missing, hints []string
	for _, p := range selecting {
		have := p.Spec.Secrets
		if field == "configMaps" {
			have = p.Spec.ConfigMaps
		}
		if slices.Contains(have, name) {
			continue
		}
		missing = append(missing, p.Ref())
		list, _ := json.Marshal(append(slices.Clone(have), name))
		hint := fmt.Sprintf("run: kubectl patch %s %s -n %s --type merge -p '{\"spec\":{\"%s\":%s}}'", p.resource(), p.Name, p.Namespace, field, list)
		if field == "secrets" {
			if _, err := k.readSecret(ctx, p.Namespace, name); apierrors.IsNotFound(err) {
				hint = fmt.Sprintf("copy the CA first (secret %s/%s does not exist: kubectl eck-metrics use-cert --ca-secret %s --prometheus-namespace %s ...), then %s", p.Namespace, name, name, p.Namespace, hint)
			}
		}
		hints = append(hints, hint)
	}
	details := map[string]any{"caFile": caFile, field: name}
	if len(missing) > 0 {
		k.add(SelectionSecrets, Fail, fmt.Sprintf("spec.%s of %s lacks %s: its pods have no %s, so scrapes fail", field, strings.Join(missing, ", "), name, caFile), strings.Join(hints, "; "), details)
		return
	}
	k.add(SelectionSecrets, Pass, fmt.Sprintf("%s %s %s in spec.%s (for %s)", refs(selecting), hasVerb(selecting), name, field, caFile), "", details)
}

// metricsAccess asks once per run whether a ServiceAccount may get /metrics.
func (k *checker) metricsAccess(ctx context.Context, ns, name string) (bool, string, error) {
	key := ns + "/" + name
	if r, ok := k.metricsAccessed[key]; ok {
		return r.allowed, r.reason, r.err
	}
	user := "system:serviceaccount:" + ns + ":" + name
	allowed, reason, err := k.access(ctx, user, []string{"system:serviceaccounts", "system:serviceaccounts:" + ns, "system:authenticated"}, nil, &authorizationv1.NonResourceAttributes{Path: "/metrics", Verb: "get"})
	if k.metricsAccessed == nil {
		k.metricsAccessed = map[string]accessResult{}
	}
	k.metricsAccessed[key] = accessResult{allowed, reason, err}
	return allowed, reason, err
}

type accessResult struct {
	allowed bool
	reason  string
	err     error
}

func (k *checker) checkSelectingServiceAccounts(ctx context.Context, selecting []prometheusObject) {
	var allowed, denied, unasked, hints []string
	for _, p := range selecting {
		sa := p.Namespace + "/" + p.ServiceAccount
		ok, reason, err := k.metricsAccess(ctx, p.Namespace, p.ServiceAccount)
		switch {
		case err != nil:
			unasked = append(unasked, fmt.Sprintf("cannot ask the API server about ServiceAccount %s of %s: %v", sa, p.Ref(), err))
		case !ok:
			denied = append(denied, fmt.Sprintf("ServiceAccount %s of %s may not get /metrics%s", sa, p.Ref(), reason))
			hints = append(hints, metricsReaderHint(p.Namespace, p.ServiceAccount))
		default:
			allowed = append(allowed, fmt.Sprintf("ServiceAccount %s of %s", sa, p.Ref()))
		}
	}
	switch {
	case len(denied) > 0:
		k.add(SelectionServiceAccount, Fail, strings.Join(denied, "; ")+": every scrape gets 403", strings.Join(hints, "; "), nil)
	case len(unasked) > 0:
		k.add(SelectionServiceAccount, Warn, strings.Join(unasked, "; "), "run status as a user who may create subjectaccessreviews", nil)
	default:
		k.add(SelectionServiceAccount, Pass, "may get /metrics: "+strings.Join(allowed, ", "), "", nil)
	}
}

// prometheusAccount is a ServiceAccount Prometheus scrapes with: typed with
// --prometheus-sa, or found as that of a Prometheus that selects our monitor.
type prometheusAccount struct {
	namespace, name string
	// of names the Prometheus it was found from, "" when typed.
	of string
	// reader: the ServiceAccount of the monitor's credentials (secret auth).
	reader bool
}

func (a prometheusAccount) String() string {
	s := "ServiceAccount " + a.namespace + "/" + a.name
	if a.reader {
		s += " (the monitor's credentials)"
	}
	if a.of != "" {
		s += " (of " + a.of + ", which selects our monitor)"
	}
	return s
}

// prometheusAccounts are --prometheus-sa, else the ServiceAccounts of the
// Prometheus objects that select our monitor (one each).
func (k *checker) prometheusAccounts(ctx context.Context) []prometheusAccount {
	if ns, name, ok := k.prometheusSA(); ok {
		return []prometheusAccount{{namespace: ns, name: name}}
	}
	// With --scrape-auth secret every Prometheus scrapes with the reader's
	// token, not its own.
	if ns, name, ok := k.monitorReader(ctx); ok {
		return []prometheusAccount{{namespace: ns, name: name, reader: true}}
	}
	selecting, err := k.selectingPrometheuses(ctx)
	if err != nil {
		return nil
	}
	var out []prometheusAccount
	for _, p := range selecting {
		if !slices.ContainsFunc(out, func(a prometheusAccount) bool { return a.namespace == p.Namespace && a.name == p.ServiceAccount }) {
			out = append(out, prometheusAccount{namespace: p.Namespace, name: p.ServiceAccount, of: p.Ref()})
		}
	}
	return out
}

// discovered is discovery's answer for one group-version.
type discovered struct {
	list *metav1.APIResourceList
	err  error
}

// served asks discovery about each group-version once per run
// (ServiceMonitor, PodMonitor and Prometheus share monitoring.coreos.com/v1).
func (k *checker) served(gvr schema.GroupVersionResource) (bool, error) {
	gv := gvr.GroupVersion().String()
	d, ok := k.discovered[gv]
	if !ok {
		d.list, d.err = k.c.Kube.Discovery().ServerResourcesForGroupVersion(gv)
		if k.discovered == nil {
			k.discovered = map[string]discovered{}
		}
		k.discovered[gv] = d
	}
	return kube.ServedIn(gvr, d.list, d.err)
}
