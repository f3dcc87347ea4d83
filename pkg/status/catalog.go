package status

import (
	"context"
	"slices"
	"sync"
)

// Category groups the checks of one part of the setup.
type Category string

// Categories in the order they are checked.
const (
	CategoryOperator       Category = "operator"
	CategoryConfiguration  Category = "configuration"
	CategoryRBAC           Category = "rbac"
	CategoryService        Category = "service"
	CategoryStatefulSet    Category = "statefulset"
	CategoryCertificate    Category = "certificate"
	CategoryServiceMonitor Category = "servicemonitor"
	CategorySelection      Category = "prometheus-selection"
	CategoryTargets        Category = "prometheus-targets"
	CategoryPrometheus     Category = "prometheus-access"
	CategoryNetworkPolicy  Category = "network-policy"
	CategoryEndpoint       Category = "live-endpoint"
)

// CheckID names a check for good: -o json, --check, the tests and the
// README's troubleshooting table refer to it; the display name may change.
type CheckID string

const (
	OperatorFound   CheckID = "operator.found"
	OperatorVersion CheckID = "operator.version"
	OperatorMode    CheckID = "operator.mode"
	OperatorHelm    CheckID = "operator.helm"
	OperatorGitOps  CheckID = "operator.gitops"

	ConfigReadable      CheckID = "configuration.readable"
	ConfigSettings      CheckID = "configuration.settings"
	ConfigPort          CheckID = "configuration.metrics-port"
	ConfigHost          CheckID = "configuration.metrics-host"
	ConfigSecure        CheckID = "configuration.metrics-secure"
	ConfigCommandLine   CheckID = "configuration.command-line"
	ConfigPortCollision CheckID = "configuration.port-collisions"

	RBACRole                 CheckID = "rbac.role"
	RBACBinding              CheckID = "rbac.binding"
	RBACTokenReviews         CheckID = "rbac.tokenreviews"
	RBACSubjectAccessReviews CheckID = "rbac.subjectaccessreviews"

	ServiceExists     CheckID = "service.exists"
	ServiceSelector   CheckID = "service.selector"
	ServiceTargetPort CheckID = "service.target-port"

	StatefulSetPatched   CheckID = "statefulset.patched"
	StatefulSetCertMount CheckID = "statefulset.certificate-mount"
	StatefulSetRollout   CheckID = "statefulset.rollout"

	// StatefulSetSidecarImage fails the retired gcr.io kube-rbac-proxy image.
	StatefulSetSidecarImage CheckID = "statefulset.sidecar-image"

	CertificateServing CheckID = "certificate.serving"
	CertificateIssuer  CheckID = "certificate.cert-manager"
	CertificateCACopy  CheckID = "certificate.ca-copy"

	ServiceMonitorExists  CheckID = "servicemonitor.exists"
	ServiceMonitorSelects CheckID = "servicemonitor.selects"
	ServiceMonitorTLS     CheckID = "servicemonitor.tls"
	// ServiceMonitorCredentials: the token the monitor's endpoint sends.
	ServiceMonitorCredentials CheckID = "servicemonitor.credentials"

	// Does a Prometheus (or PrometheusAgent) pick up our monitor (selection.go)?
	SelectionSelected       CheckID = "prometheus-selection.selected"
	SelectionFileAccess     CheckID = "prometheus-selection.file-access"
	SelectionSecrets        CheckID = "prometheus-selection.secrets"
	SelectionServiceAccount CheckID = "prometheus-selection.service-account"
	// SelectionRules: the PrometheusRule of --alerts is loaded by a
	// Prometheus that selects the monitor (rules.go).
	SelectionRules CheckID = "prometheus-selection.rules"

	// Prometheus's own verdict on our scrape pool (targets.go).
	TargetsAnswered CheckID = "prometheus-targets.answered"
	TargetsPool     CheckID = "prometheus-targets.pool"
	TargetsUp       CheckID = "prometheus-targets.up"

	PrometheusMetrics CheckID = "prometheus-access.metrics"

	// NetworkPolicyMetricsPort fails when NetworkPolicies isolate the
	// operator pod and none admits Prometheus on the metrics port.
	NetworkPolicyMetricsPort CheckID = "network-policy.metrics-port"

	EndpointReachable   CheckID = "live-endpoint.reachable"
	EndpointAnonymous   CheckID = "live-endpoint.anonymous-refused"
	EndpointToken       CheckID = "live-endpoint.token"
	EndpointCertificate CheckID = "live-endpoint.certificate"
	EndpointCertMatch   CheckID = "live-endpoint.served-matches-secret"
)

// checkSpec declares one check: its ID and the name the table shows.
type checkSpec struct {
	ID   CheckID
	Name string
}

// category declares the checks of a category, the categories whose findings
// they read, and the function that runs them.
type category struct {
	Name   Category
	Needs  []Category
	Checks []checkSpec
	run    func(*checker, context.Context)
}

// allCategories is every check status runs, in order, in one place.
func allCategories() []category {
	return []category{
		{CategoryOperator, nil, []checkSpec{
			{OperatorFound, "operator found"},
			{OperatorVersion, "version"},
			{OperatorMode, "mode in use"},
			{OperatorHelm, "managed by Helm"},
			{OperatorGitOps, "synced from Git"},
		}, (*checker).checkOperator},
		{CategoryConfiguration, nil, []checkSpec{
			{ConfigReadable, "eck.yaml readable"},
			{ConfigSettings, "metrics settings"},
			{ConfigPort, "metrics-port"},
			{ConfigHost, "metrics-host"},
			{ConfigSecure, "metrics-secure"},
			{ConfigCommandLine, "command-line overrides"},
			{ConfigPortCollision, "port collisions"},
		}, func(k *checker, _ context.Context) { k.checkConfiguration() }},
		{CategoryRBAC, nil, []checkSpec{
			{RBACRole, "auth ClusterRole"},
			{RBACBinding, "binding to the operator's ServiceAccount"},
			{RBACTokenReviews, "operator may create tokenreviews"},
			{RBACSubjectAccessReviews, "operator may create subjectaccessreviews"},
		}, (*checker).checkRBAC},
		{CategoryService, nil, []checkSpec{
			{ServiceExists, "metrics Service"},
			{ServiceSelector, "selector matches the operator's pods"},
			{ServiceTargetPort, "target port"},
		}, (*checker).checkService},
		{CategoryStatefulSet, []Category{CategoryConfiguration}, []checkSpec{
			{StatefulSetPatched, "patched for the mode"}, // named after the mode when run
			{StatefulSetSidecarImage, "kube-rbac-proxy image"},
			{StatefulSetCertMount, "certificate mount"},
			{StatefulSetRollout, "rollout"},
		}, func(k *checker, _ context.Context) { k.checkStatefulSet() }},
		{CategoryCertificate, []Category{CategoryStatefulSet}, []checkSpec{
			{CertificateServing, "serving certificate"},
			{CertificateIssuer, "cert-manager Certificate"},
			{CertificateCACopy, "CA copy in Prometheus's namespace"},
		}, func(k *checker, ctx context.Context) {
			k.checkCertificate(ctx)
			k.checkCertManager(ctx)
			k.checkCACopy(ctx)
		}},
		{CategoryServiceMonitor, []Category{CategoryService, CategoryCertificate}, []checkSpec{
			{ServiceMonitorExists, "ServiceMonitor"},
			{ServiceMonitorSelects, "selects the Service"},
			{ServiceMonitorTLS, "TLS settings"},
			{ServiceMonitorCredentials, "scrape credentials"},
		}, (*checker).checkMonitor},
		{CategorySelection, nil, []checkSpec{
			{SelectionSelected, "selected by a Prometheus"},
			{SelectionFileAccess, "file access"},
			{SelectionSecrets, "CA secret in spec.secrets"},
			{SelectionServiceAccount, "ServiceAccount of the selecting Prometheus"},
			{SelectionRules, "PrometheusRule loaded with the monitor"},
		}, (*checker).checkPrometheusSelection},
		{CategoryTargets, []Category{CategorySelection, CategoryCertificate}, []checkSpec{
			{TargetsAnswered, "Prometheus answers"},
			{TargetsPool, "scrape pool in Prometheus's config"},
			{TargetsUp, "targets up, as Prometheus sees them"},
		}, (*checker).checkPrometheusTargets},
		{CategoryPrometheus, nil, []checkSpec{
			{PrometheusMetrics, "Prometheus may get /metrics"},
		}, (*checker).checkPrometheusAccess},
		{CategoryNetworkPolicy, nil, []checkSpec{
			{NetworkPolicyMetricsPort, "NetworkPolicies admit the scrape"},
		}, (*checker).checkNetworkPolicy},
		{CategoryEndpoint, []Category{CategoryStatefulSet}, []checkSpec{
			{EndpointReachable, "endpoint reachable"},
			{EndpointAnonymous, "request without a token is refused"},
			{EndpointToken, "Prometheus's token is accepted"},
			{EndpointCertificate, "certificate served"},
			{EndpointCertMatch, "served certificate is the secret's"},
		}, (*checker).checkEndpoint},
	}
}

type specEntry struct {
	category Category
	name     string
}

var (
	specsOnce sync.Once
	specIndex map[CheckID]specEntry
)

// specs indexes allCategories by ID.
func specs() map[CheckID]specEntry {
	specsOnce.Do(func() {
		specIndex = map[CheckID]specEntry{}
		for _, c := range allCategories() {
			for _, s := range c.Checks {
				specIndex[s.ID] = specEntry{c.Name, s.Name}
			}
		}
	})
	return specIndex
}

// CheckIDs lists every check's ID, in the order the checks run.
func CheckIDs() []CheckID {
	var ids []CheckID
	for _, c := range allCategories() {
		for _, s := range c.Checks {
			ids = append(ids, s.ID)
		}
	}
	return ids
}

// Categories lists the categories, in the order they run.
func Categories() []Category {
	var names []Category
	for _, c := range allCategories() {
		names = append(names, c.Name)
	}
	return names
}

// ChecksOf lists the checks of a category, nil for an unknown one.
func ChecksOf(name Category) []CheckID {
	for _, c := range allCategories() {
		if c.Name == name {
			ids := make([]CheckID, 0, len(c.Checks))
			for _, s := range c.Checks {
				ids = append(ids, s.ID)
			}
			return ids
		}
	}
	return nil
}

// IsCheckID tells whether id names a declared check.
func IsCheckID(id string) bool {
	_, ok := specs()[CheckID(id)]
	return ok
}

// categoriesFor are the categories that run for the chosen checks: theirs
// and those whose findings they read (all when none are chosen).
func categoriesFor(only []CheckID) map[Category]bool {
	all := allCategories()
	run := map[Category]bool{}
	if len(only) == 0 {
		for _, c := range all {
			run[c.Name] = true
		}
		return run
	}
	var add func(Category)
	add = func(name Category) {
		if run[name] {
			return
		}
		run[name] = true
		for _, c := range all {
			if c.Name == name {
				for _, n := range c.Needs {
					add(n)
				}
			}
		}
	}
	add(CategoryOperator) // every check reads the operator
	for _, id := range only {
		add(specs()[id].category)
	}
	return run
}

// selected tells whether a check is reported.
func selected(only []CheckID, id CheckID) bool {
	return len(only) == 0 || slices.Contains(only, id)
}
