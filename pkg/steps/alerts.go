package steps

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/eck-metrics/kubectl-eck-metrics/pkg/apply"
	"github.com/eck-metrics/kubectl-eck-metrics/pkg/kube"
	"github.com/eck-metrics/kubectl-eck-metrics/pkg/patches"
	"github.com/eck-metrics/kubectl-eck-metrics/pkg/promselect"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

// PrometheusRuleNotServed says why --alerts cannot apply here.
const PrometheusRuleNotServed = "monitoring.coreos.com/v1 PrometheusRule is not served in this cluster: install the prometheus-operator CRDs, or drop --alerts"

// planAlerts is the step after the monitor with --alerts: the
// PrometheusRule next to the monitor, alerting on its target and, when
// cert-manager issues the certificate (certSecret is the Certificate's),
// on a Certificate not renewed.
func planAlerts(ctx context.Context, c kube.Clients, p patches.Params, o EnableOptions, monitor *promselect.Monitor, certSecret string) (*apply.Step, error) {
	if monitor == nil {
		return nil, fmt.Errorf("--alerts watches the monitor's scrape target, but no monitor is applied (--monitor none, or monitoring.coreos.com/v1 is not served): drop --alerts or apply a monitor; nothing was changed")
	}
	served, err := kube.Served(c, patches.PrometheusRuleGVR)
	if err != nil {
		return nil, err
	}
	if !served {
		return nil, fmt.Errorf("%s; nothing was changed", PrometheusRuleNotServed)
	}
	cert := o.AlertsCertificate
	if cert == nil {
		cert = o.Cert.Issuer
	}
	if cert == nil && certSecret == patches.CertificateSecretName(p.Name) {
		if cert, err = liveCertificate(ctx, c, p.Namespace, p.Name); err != nil {
			return nil, err
		}
	}
	desired, err := patches.PrometheusRule(p, patches.Alerts{Kind: patches.MonitorKind(kindFlag(monitor.Kind)), Labels: monitor.Labels, Certificate: cert})
	if err != nil {
		return nil, err
	}
	res := c.Dynamic.Resource(patches.PrometheusRuleGVR).Namespace(p.Namespace)
	live, owned, err := apply.ReadCustom(ctx, res, fmt.Sprintf("PrometheusRule %s/%s", p.Namespace, desired.GetName()), desired.GetName())
	if err != nil {
		return nil, err
	}
	if live != nil && !patches.CreatedByUs(live.GetLabels()) {
		return nil, fmt.Errorf("PrometheusRule %s/%s exists and was not created by kubectl-eck-metrics: --alerts needs that name; rename or delete it, or drop --alerts; nothing was changed", p.Namespace, desired.GetName())
	}
	a, err := apply.NewCustomAction(res, desired, live, owned)
	if err != nil {
		return nil, err
	}
	a.Detail = "alerts on job " + patches.ScrapeJob(patches.MonitorKind(kindFlag(monitor.Kind)), p.Namespace, p.Name)
	if cert != nil {
		a.Detail += " and Certificate " + patches.CertificateName(p.Name)
	}
	return &apply.Step{Title: "PrometheusRule", Actions: []*apply.Action{a}}, nil
}

// kindFlag is the --monitor value of an API kind.
func kindFlag(kind string) string {
	if kind == patches.MonitorPodMonitor.Kind() {
		return string(patches.MonitorPodMonitor)
	}
	return string(patches.MonitorServiceMonitor)
}

// liveCertificate is the Certificate use-cert --issuer applied, as the
// alert needs it (nil: none of ours, or cert-manager not served).
func liveCertificate(ctx context.Context, c kube.Clients, namespace, name string) (*patches.CertificateParams, error) {
	served, err := kube.CertManagerServed(c)
	if err != nil || !served {
		return nil, err
	}
	certName := patches.CertificateName(name)
	live, _, err := apply.ReadCustom(ctx, c.Dynamic.Resource(patches.CertificateGVR).Namespace(namespace), fmt.Sprintf("Certificate %s/%s", namespace, certName), certName)
	if err != nil || live == nil || !patches.CreatedByUs(live.GetLabels()) {
		return nil, err
	}
	return CertificateParamsOf(live), nil
}

// CertificateParamsOf reads back the choices of a Certificate Certificate built.
func CertificateParamsOf(cert *unstructured.Unstructured) *patches.CertificateParams {
	p := &patches.CertificateParams{Namespace: cert.GetNamespace(), Name: cert.GetName()}
	if n, found := strings.CutSuffix(cert.GetName(), patches.CertificateName("")); found {
		p.Name = n
	}
	p.Issuer, _, _ = unstructured.NestedString(cert.Object, "spec", "issuerRef", "name")
	p.IssuerKind, _, _ = unstructured.NestedString(cert.Object, "spec", "issuerRef", "kind")
	if s, _, _ := unstructured.NestedString(cert.Object, "spec", "duration"); s != "" {
		p.Duration, _ = time.ParseDuration(s)
	}
	if s, _, _ := unstructured.NestedString(cert.Object, "spec", "renewBefore"); s != "" {
		p.RenewBefore, _ = time.ParseDuration(s)
	}
	return p
}

// planDeletePrometheusRule deletes the PrometheusRule of --alerts when we
// alone manage it; nil when there is none (or the API is not served).
func planDeletePrometheusRule(ctx context.Context, c kube.Clients, namespace, name string) (*apply.Step, error) {
	served, err := kube.Served(c, patches.PrometheusRuleGVR)
	if err != nil || !served {
		return nil, err
	}
	step := &apply.Step{Title: "PrometheusRule"}
	ruleName := patches.PrometheusRuleName(name)
	res := c.Dynamic.Resource(patches.PrometheusRuleGVR).Namespace(namespace)
	if err := planDelete(ctx, step, "PrometheusRule", namespace+"/"+ruleName,
		func(ctx context.Context) (metav1.Object, error) { return res.Get(ctx, ruleName, metav1.GetOptions{}) },
		func(ctx context.Context, o metav1.DeleteOptions) error { return res.Delete(ctx, ruleName, o) }); err != nil {
		return nil, err
	}
	if len(step.Actions) == 0 && len(step.Notes) == 0 {
		return nil, nil
	}
	return step, nil
}
