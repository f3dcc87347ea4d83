package patches

import (
	"fmt"
	"time"

	monitoringv1 "github.com/prometheus-operator/prometheus-operator/pkg/apis/monitoring/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/utils/ptr"
)

// PrometheusRuleGVR is the API of enable --alerts.
var PrometheusRuleGVR = schema.GroupVersionResource{Group: "monitoring.coreos.com", Version: "v1", Resource: "prometheusrules"}

const (
	// AlertsGroup is the rule group of the PrometheusRule.
	AlertsGroup = "eck-operator-metrics"
	// AlertTargetAbsent and the other alert names are what users route on:
	// never renamed once released.
	AlertTargetAbsent       = "EckOperatorMetricsTargetAbsent"
	AlertTargetDown         = "EckOperatorMetricsTargetDown"
	AlertScrapeRejected     = "EckOperatorMetricsScrapeRejected"
	AlertCertificateExpires = "EckOperatorMetricsCertificateNotRenewed"
	// AlertFor is how long a target must be down or absent.
	AlertFor = "10m"
	// certificateAlertFor gives cert-manager time to renew once the window opens.
	certificateAlertFor = "1h"
	// certManagerDefaultRenewBefore is cert-manager's renewal window when
	// neither duration nor renewBefore is set: a third of its 90-day default.
	certManagerDefaultRenewBefore = 720 * time.Hour
)

// Alerts are the facts the PrometheusRule's expressions rest on.
type Alerts struct {
	// Kind is the monitor's: it decides the job label of the target.
	Kind MonitorKind
	// Labels are the monitor's: a Prometheus whose ruleSelector matches the
	// labels its monitor selector does (kube-prometheus-stack's
	// release=...) selects both.
	Labels map[string]string
	// Certificate, when cert-manager issues the endpoint's certificate.
	Certificate *CertificateParams
}

// PrometheusRuleName is the name of the PrometheusRule, next to the monitor.
func PrometheusRuleName(name string) string { return MonitorName(name) }

// ScrapeJob is the job label prometheus-operator v0.85.0 gives the targets
// of our monitor (we set no jobLabel): the Service's name for a
// ServiceMonitor, "<namespace>/<name>" for a PodMonitor.
func ScrapeJob(kind MonitorKind, namespace, name string) string {
	if kind == MonitorPodMonitor {
		return namespace + "/" + MonitorName(name)
	}
	return ServiceName(name)
}

// RenewalWindow is how long before expiry cert-manager renews the
// Certificate: renewBefore, else a third of the duration (cert-manager's
// rule), else a third of its default 90 days.
func RenewalWindow(c CertificateParams) time.Duration {
	switch {
	case c.RenewBefore > 0:
		return c.RenewBefore
	case c.Duration > 0:
		return c.Duration / 3
	}
	return certManagerDefaultRenewBefore
}

// PrometheusRule is the monitoring.coreos.com/v1 PrometheusRule of enable
// --alerts, in the monitor's namespace: the operator's metrics target down,
// absent or rejecting the scrape, and a cert-manager certificate not
// renewed in its window.
func PrometheusRule(p Params, a Alerts) (*unstructured.Unstructured, error) {
	if a.Kind != MonitorServiceMonitor && a.Kind != MonitorPodMonitor {
		return nil, fmt.Errorf("--alerts watches the monitor's scrape target: it needs --monitor servicemonitor or podmonitor")
	}
	status := fmt.Sprintf("kubectl eck-metrics status -n %s --name %s", p.Namespace, p.Name)
	target := fmt.Sprintf(`up{job=%q,namespace=%q}`, ScrapeJob(a.Kind, p.Namespace, p.Name), p.Namespace)
	// kube-state-metrics tells a Ready pod (the process answers its probes)
	// from a dead one; Prometheus keeps the scrape's error (401, 403, TLS)
	// only on its targets page, never as a series.
	ready := fmt.Sprintf(`kube_pod_status_ready{namespace=%q,condition="true"} == 1`, p.Namespace)
	operator := fmt.Sprintf("ECK operator %s/%s", p.Namespace, p.Name)
	rules := []monitoringv1.Rule{
		{
			Alert:  AlertTargetAbsent,
			Expr:   intstr.FromString(fmt.Sprintf("absent(%s)", target)),
			For:    ptr.To(monitoringv1.Duration(AlertFor)),
			Labels: map[string]string{"severity": "warning"},
			Annotations: map[string]string{
				"summary":     fmt.Sprintf("Prometheus has no metrics target of the %s", operator),
				"description": fmt.Sprintf("No Prometheus target with job %q in namespace %s for %s: the %s is not selected by this Prometheus, or its Service or pod is gone. Run: %s", ScrapeJob(a.Kind, p.Namespace, p.Name), p.Namespace, AlertFor, a.Kind.Kind(), status),
			},
		},
		{
			Alert:  AlertTargetDown,
			Expr:   intstr.FromString(fmt.Sprintf("(%s == 0) unless on(namespace, pod) (%s)", target, ready)),
			For:    ptr.To(monitoringv1.Duration(AlertFor)),
			Labels: map[string]string{"severity": "warning"},
			Annotations: map[string]string{
				"summary":     fmt.Sprintf("The metrics endpoint of the %s is down", operator),
				"description": fmt.Sprintf("Every scrape of {{ $labels.instance }} failed for %s and kube-state-metrics does not report its pod {{ $labels.pod }} Ready (or is not scraped): the operator is not running or not listening. Run: %s", AlertFor, status),
			},
		},
		{
			Alert:  AlertScrapeRejected,
			Expr:   intstr.FromString(fmt.Sprintf("(%s == 0) and on(namespace, pod) (%s)", target, ready)),
			For:    ptr.To(monitoringv1.Duration(AlertFor)),
			Labels: map[string]string{"severity": "warning"},
			Annotations: map[string]string{
				"summary":     fmt.Sprintf("The metrics endpoint of the %s rejects Prometheus's scrapes", operator),
				"description": fmt.Sprintf("Pod {{ $labels.pod }} is Ready, yet every scrape of {{ $labels.instance }} failed for %s: most often 401/403 (Prometheus's token is not accepted or its grant to get /metrics was revoked), else TLS verification or a NetworkPolicy; the exact error is on Prometheus's targets page (lastError). Run: %s", AlertFor, status),
			},
		},
	}
	if c := a.Certificate; c != nil {
		name := CertificateName(c.Name)
		// cert-manager labels the series with the Certificate's namespace;
		// scraped without honorLabels that label becomes exported_namespace.
		expiry := fmt.Sprintf(`(certmanager_certificate_expiration_timestamp_seconds{name=%q,namespace=%q} or certmanager_certificate_expiration_timestamp_seconds{name=%q,exported_namespace=%q})`, name, c.Namespace, name, c.Namespace)
		window := RenewalWindow(*c)
		rules = append(rules, monitoringv1.Rule{
			Alert:  AlertCertificateExpires,
			Expr:   intstr.FromString(fmt.Sprintf("%s - time() < %d", expiry, int64(window.Seconds()))),
			For:    ptr.To(monitoringv1.Duration(certificateAlertFor)),
			Labels: map[string]string{"severity": "warning"},
			Annotations: map[string]string{
				"summary":     fmt.Sprintf("The metrics certificate of the %s was not renewed", operator),
				"description": fmt.Sprintf("Certificate %s/%s expires in {{ $value | humanizeDuration }}, inside its renewal window (%s) for %s: cert-manager did not renew it (issuer %s %s). When it expires Prometheus's scrapes fail. Run: %s, and kubectl describe certificate -n %s %s", c.Namespace, name, window, certificateAlertFor, c.IssuerKind, c.Issuer, status, c.Namespace, name),
			},
		})
	}
	rule := &monitoringv1.PrometheusRule{
		TypeMeta:   metav1.TypeMeta{APIVersion: "monitoring.coreos.com/v1", Kind: "PrometheusRule"},
		ObjectMeta: metav1.ObjectMeta{Name: PrometheusRuleName(p.Name), Namespace: p.Namespace, Labels: alertLabels(a.Labels)},
		Spec:       monitoringv1.PrometheusRuleSpec{Groups: []monitoringv1.RuleGroup{{Name: AlertsGroup, Rules: rules}}},
	}
	return applyObject(rule, rule.ObjectMeta)
}

// alertLabels are ours and the monitor's.
func alertLabels(monitor map[string]string) map[string]string {
	labels := ourLabels()
	for k, v := range monitor {
		labels[k] = v
	}
	return labels
}
