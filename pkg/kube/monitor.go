package kube

import (
	"fmt"

	"github.com/eck-metrics/kubectl-eck-metrics/pkg/patches"
	monitoringv1 "github.com/prometheus-operator/prometheus-operator/pkg/apis/monitoring/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
)

// Monitor is what a ServiceMonitor or PodMonitor says about how Prometheus
// scrapes the endpoint: the one reader of a monitor of either kind, for the
// steps (what an earlier run applied) and for status (what is live).
type Monitor struct {
	Kind patches.MonitorKind
	// Endpoint is the first endpoint; nil when the monitor has none.
	Endpoint *MonitorEndpoint
}

// MonitorEndpoint is the first endpoint of a monitor of either kind.
type MonitorEndpoint struct {
	Port                    string
	Interval, ScrapeTimeout string
	// BearerTokenFile is file auth's token (ServiceMonitor only).
	BearerTokenFile string
	// CredentialsSecret and CredentialsKey name the token Secret of secret
	// auth (authorization.credentials), in the monitor's namespace.
	CredentialsSecret, CredentialsKey string
	TLS                               MonitorTLS
}

// MonitorTLS is the endpoint's tlsConfig.
type MonitorTLS struct {
	// CASecret is tlsConfig.ca.secret (secret auth's CA, in the monitor's
	// namespace); CAFile is a path in Prometheus's container (file auth).
	CASecret, CAFile   string
	ServerName         string
	InsecureSkipVerify bool
}

// ReadMonitor decodes a ServiceMonitor or PodMonitor (as read, or the part
// our field manager applied of it) with prometheus-operator's types.
func ReadMonitor(obj *unstructured.Unstructured) (*Monitor, error) {
	switch obj.GetKind() {
	case "ServiceMonitor":
		var sm monitoringv1.ServiceMonitor
		if err := runtime.DefaultUnstructuredConverter.FromUnstructured(obj.Object, &sm); err != nil {
			return nil, fmt.Errorf("ServiceMonitor %s/%s: %w", obj.GetNamespace(), obj.GetName(), err)
		}
		m := &Monitor{Kind: patches.MonitorServiceMonitor}
		if len(sm.Spec.Endpoints) > 0 {
			ep := sm.Spec.Endpoints[0]
			m.Endpoint = &MonitorEndpoint{Port: ep.Port, Interval: string(ep.Interval), ScrapeTimeout: string(ep.ScrapeTimeout)}
			//lint:ignore SA1019 file auth is what the deprecated field does: Prometheus's own token
			m.Endpoint.BearerTokenFile = ep.BearerTokenFile
			m.Endpoint.setAuthorization(ep.Authorization)
			if ep.TLSConfig != nil {
				m.Endpoint.TLS = tlsOf(ep.TLSConfig.SafeTLSConfig)
				m.Endpoint.TLS.CAFile = ep.TLSConfig.CAFile
			}
		}
		return m, nil
	case "PodMonitor":
		var pm monitoringv1.PodMonitor
		if err := runtime.DefaultUnstructuredConverter.FromUnstructured(obj.Object, &pm); err != nil {
			return nil, fmt.Errorf("PodMonitor %s/%s: %w", obj.GetNamespace(), obj.GetName(), err)
		}
		m := &Monitor{Kind: patches.MonitorPodMonitor}
		if len(pm.Spec.PodMetricsEndpoints) > 0 {
			ep := pm.Spec.PodMetricsEndpoints[0]
			m.Endpoint = &MonitorEndpoint{Interval: string(ep.Interval), ScrapeTimeout: string(ep.ScrapeTimeout)}
			if ep.Port != nil {
				m.Endpoint.Port = *ep.Port
			}
			m.Endpoint.setAuthorization(ep.Authorization)
			if ep.TLSConfig != nil {
				m.Endpoint.TLS = tlsOf(*ep.TLSConfig)
			}
		}
		return m, nil
	}
	return nil, fmt.Errorf("%s %s/%s is not a ServiceMonitor or PodMonitor", obj.GetKind(), obj.GetNamespace(), obj.GetName())
}

func (e *MonitorEndpoint) setAuthorization(a *monitoringv1.SafeAuthorization) {
	if a != nil && a.Credentials != nil {
		e.CredentialsSecret, e.CredentialsKey = a.Credentials.Name, a.Credentials.Key
	}
}

func tlsOf(t monitoringv1.SafeTLSConfig) MonitorTLS {
	var out MonitorTLS
	if t.CA.Secret != nil {
		out.CASecret = t.CA.Secret.Name
	}
	if t.ServerName != nil {
		out.ServerName = *t.ServerName
	}
	if t.InsecureSkipVerify != nil {
		out.InsecureSkipVerify = *t.InsecureSkipVerify
	}
	return out
}

// Auth is the scrape auth the endpoint uses: secret with a credentials
// Secret, file with a token file, "" with neither (or no endpoint).
func (m *Monitor) Auth() patches.ScrapeAuth {
	switch {
	case m == nil || m.Endpoint == nil:
		return ""
	case m.Endpoint.CredentialsSecret != "":
		return patches.ScrapeAuthSecret
	case m.Endpoint.BearerTokenFile != "":
		return patches.ScrapeAuthFile
	}
	return ""
}

// AppliedTLS reads back the CA setup use-cert gave the monitor and the
// scrape auth it was for: ca.secret (secret auth), or a caFile as
// patches.CAFile writes it (file auth); any other caFile names no CA
// secret of ours.
func (m *Monitor) AppliedTLS() (patches.ServiceMonitorTLS, patches.ScrapeAuth) {
	if m == nil || m.Endpoint == nil {
		return patches.ServiceMonitorTLS{}, ""
	}
	if name := m.Endpoint.TLS.CASecret; name != "" {
		return patches.ServiceMonitorTLS{CASecret: name}, patches.ScrapeAuthSecret
	}
	tls, ok := patches.ParseCAFile(m.Endpoint.TLS.CAFile)
	if !ok {
		return patches.ServiceMonitorTLS{}, ""
	}
	return tls, patches.ScrapeAuthFile
}

// CASecret is the CA Secret the endpoint verifies with and its namespace,
// by the one rule of where it lives (ScrapeAuth.CANamespace): the
// monitor's for ca.secret, prometheusNamespace ("" when unknown) for the
// secret a caFile of Prometheus's spec.secrets names.
func (m *Monitor) CASecret(monitorNamespace, prometheusNamespace string) (name, namespace string) {
	tls, auth := m.AppliedTLS()
	if tls.CASecret == "" {
		return "", ""
	}
	return tls.CASecret, auth.CANamespace(monitorNamespace, prometheusNamespace)
}
