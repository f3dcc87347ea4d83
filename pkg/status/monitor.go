package status

import (
	"context"
	"fmt"
	"slices"

	"github.com/eck-metrics/kubectl-eck-metrics/pkg/kube"
	"github.com/eck-metrics/kubectl-eck-metrics/pkg/patches"
	"github.com/eck-metrics/kubectl-eck-metrics/pkg/promselect"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

// The checks of a monitor of either kind (ServiceMonitor, or the PodMonitor
// of --monitor podmonitor) and of --scrape-auth secret.

// monitorSelects tells whether a monitor of either kind selects objects
// with these labels in the operator's namespace: its namespaceSelector
// (any, matchNames, else its own namespace) takes that namespace in and its
// non-empty selector.matchLabels are all among them.
func (k *checker) monitorSelects(obj *unstructured.Unstructured, targetLabels map[string]string) (matchNames []string, matchLabels map[string]string, selects bool) {
	matchNames, _, _ = unstructured.NestedStringSlice(obj.Object, "spec", "namespaceSelector", "matchNames")
	anyNS, _, _ := unstructured.NestedBool(obj.Object, "spec", "namespaceSelector", "any")
	matchLabels, _, _ = unstructured.NestedStringMap(obj.Object, "spec", "selector", "matchLabels")
	ns := k.op.Namespace()
	selects = (anyNS || slices.Contains(matchNames, ns) || len(matchNames) == 0 && obj.GetNamespace() == ns) && len(matchLabels) > 0
	for key, v := range matchLabels {
		if targetLabels[key] != v {
			selects = false
		}
	}
	return matchNames, matchLabels, selects
}

// checkPodMonitorSelects: the PodMonitor selects the operator's pods in
// its namespace, on the container port our StatefulSet patch names.
func (k *checker) checkPodMonitorSelects(pm *unstructured.Unstructured, ep *kube.MonitorEndpoint) {
	podLabels := k.op.StatefulSet.Spec.Template.Labels
	matchNames, matchLabels, selects := k.monitorSelects(pm, podLabels)
	port := ep.Port
	hasPort := false
	for _, c := range k.op.StatefulSet.Spec.Template.Spec.Containers {
		for _, p := range c.Ports {
			hasPort = hasPort || p.Name == port && port != ""
		}
	}
	switch {
	case !selects:
		k.add(ServiceMonitorSelects, Fail, fmt.Sprintf("selector %s in namespaces %v does not select the pods of StatefulSet %s (labels %s)", promselect.LabelsString(matchLabels), matchNames, k.op.Name(), promselect.LabelsString(podLabels)), enableHint, nil)
	case port != patches.MetricsPortName || !hasPort:
		k.add(ServiceMonitorSelects, Fail, fmt.Sprintf("endpoint port %q is not the operator pod's container port %s", port, patches.MetricsPortName), enableHint, nil)
	default:
		k.add(ServiceMonitorSelects, Pass, fmt.Sprintf("pods of StatefulSet %s (%s), port %s", k.op.Name(), promselect.LabelsString(matchLabels), port), "", nil)
	}
}

func (k *checker) checkMonitorTLS(sm *unstructured.Unstructured, m *kube.Monitor) {
	var tls kube.MonitorTLS
	if m.Endpoint != nil {
		tls = m.Endpoint.TLS
	}
	skipVerify, serverName, caFile := tls.InsecureSkipVerify, tls.ServerName, tls.CAFile
	// The CA Secret of secret auth lives in the monitor's namespace; that
	// of a caFile in Prometheus's, which the path does not name.
	caName, caNamespace := m.CASecret(sm.GetNamespace(), "")
	inMonitorNS := caName != "" && caNamespace != ""
	details := map[string]any{"insecureSkipVerify": skipVerify, "caFile": caFile, "serverName": serverName}
	verifiesWith := caFile
	caHint := " --prometheus-namespace NS"
	if inMonitorNS {
		details["caSecret"] = caNamespace + "/" + caName
		verifiesWith = fmt.Sprintf("secret %s/%s (tlsConfig.ca)", caNamespace, caName)
		caHint = ""
	}
	switch {
	case k.secret == "" && !skipVerify:
		k.add(ServiceMonitorTLS, Fail, "verifies the certificate, but the endpoint serves its self-signed one: every scrape fails", "run: kubectl eck-metrics use-cert --secret NAME --ca-secret NAME, or use-cert --self-signed", details)
	case k.secret == "":
		k.add(ServiceMonitorTLS, Pass, "insecureSkipVerify: true, as the self-signed certificate needs", "", details)
	case skipVerify:
		k.add(ServiceMonitorTLS, Warn, "insecureSkipVerify: true although the endpoint serves your certificate", "to verify it, run: kubectl eck-metrics use-cert --secret "+k.secret+" --ca-secret NAME"+caHint, details)
	case caFile == "" && !inMonitorNS:
		k.add(ServiceMonitorTLS, Warn, "verifies with Prometheus's system CAs (no caFile or tlsConfig.ca)", "", details)
	case k.cert != nil && serverName != "" && !k.cert.HasName(serverName):
		k.add(ServiceMonitorTLS, Fail, fmt.Sprintf("serverName %s is not among the certificate's DNS names %v", serverName, k.cert.DNSNames), "reissue the certificate for "+serverName, details)
	default:
		k.add(ServiceMonitorTLS, Pass, fmt.Sprintf("verifies with %s, serverName %s", verifiesWith, serverName), "", details)
	}
}

// monitorReader is the ServiceAccount whose token the monitor's
// credentials Secret holds (--scrape-auth secret), as the Secret names it.
func (k *checker) monitorReader(ctx context.Context) (ns, name string, ok bool) {
	r := k.readMonitor(ctx)
	if r.err != nil || r.obj == nil || r.monitor.Auth() != patches.ScrapeAuthSecret {
		return "", "", false
	}
	sm, secretName := r.obj, r.monitor.Endpoint.CredentialsSecret
	s, err := k.readSecret(ctx, sm.GetNamespace(), secretName)
	if err != nil || s.Annotations[corev1.ServiceAccountNameKey] == "" {
		return "", "", false
	}
	return sm.GetNamespace(), s.Annotations[corev1.ServiceAccountNameKey], true
}

// checkMonitorCredentials checks the token the endpoint sends: Prometheus's
// own (bearerTokenFile, file auth), or a service-account-token Secret of
// the monitor's namespace holding a token of a ServiceAccount allowed to
// get /metrics (secret auth).
func (k *checker) checkMonitorCredentials(ctx context.Context, sm *unstructured.Unstructured, ep *kube.MonitorEndpoint) {
	ns := sm.GetNamespace()
	secretName, key, tokenFile := ep.CredentialsSecret, ep.CredentialsKey, ep.BearerTokenFile
	secretHint := fmt.Sprintf("run: kubectl eck-metrics enable -n %s --scrape-auth secret", k.op.Namespace())
	switch {
	case secretName == "" && tokenFile != "":
		k.add(ServiceMonitorCredentials, Pass, "file auth: Prometheus's own ServiceAccount token ("+tokenFile+"); see "+string(PrometheusMetrics), "", map[string]any{"scrapeAuth": "file", "bearerTokenFile": tokenFile})
		return
	case secretName == "":
		k.add(ServiceMonitorCredentials, Fail, sm.GetKind()+" sends no token: every scrape gets 401", secretHint, nil)
		return
	}
	if key == "" {
		key = corev1.ServiceAccountTokenKey
	}
	ref := fmt.Sprintf("Secret %s/%s", ns, secretName)
	details := map[string]any{"scrapeAuth": "secret", "secret": ns + "/" + secretName, "key": key}
	s, err := k.readSecret(ctx, ns, secretName)
	if err != nil {
		k.add(ServiceMonitorCredentials, Fail, readProblem(ref, err, "prometheus-operator drops the endpoint"), hintIfMissingOr(err, secretHint), details)
		return
	}
	sa := s.Annotations[corev1.ServiceAccountNameKey]
	switch {
	case s.Type != corev1.SecretTypeServiceAccountToken || sa == "":
		k.add(ServiceMonitorCredentials, Fail, fmt.Sprintf("%s has type %q, want %s for a ServiceAccount", ref, s.Type, corev1.SecretTypeServiceAccountToken), "delete it, then "+secretHint, details)
		return
	case len(s.Data[key]) == 0:
		k.add(ServiceMonitorCredentials, Fail, fmt.Sprintf("%s holds no %s yet: the token controller of kube-controller-manager fills it in; until then every scrape gets 401", ref, key),
			fmt.Sprintf("check that ServiceAccount %s/%s exists and kube-controller-manager runs: kubectl describe secret -n %s %s", ns, sa, ns, secretName), details)
		return
	}
	details["serviceAccount"] = ns + "/" + sa
	allowed, reason, err := k.metricsAccess(ctx, ns, sa)
	switch {
	case err != nil:
		k.add(ServiceMonitorCredentials, Warn, fmt.Sprintf("%s holds a token of ServiceAccount %s/%s; cannot ask the API server whether it may get /metrics: %v", ref, ns, sa, err), "run status as a user who may create subjectaccessreviews", details)
	case !allowed:
		k.add(ServiceMonitorCredentials, Fail, fmt.Sprintf("%s holds a token of ServiceAccount %s/%s, which may not get /metrics%s: every scrape gets 403", ref, ns, sa, reason), secretHint, details)
	default:
		k.add(ServiceMonitorCredentials, Pass, fmt.Sprintf("secret auth: %s holds a token of ServiceAccount %s/%s, allowed to get /metrics", ref, ns, sa), "", details)
	}
}

func hintIfMissingOr(err error, hint string) string {
	if h := hintIfMissing(err); h != "" {
		return hint
	}
	return ""
}
