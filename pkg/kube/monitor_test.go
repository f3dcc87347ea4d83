package kube

import (
	"testing"

	"github.com/eck-metrics/kubectl-eck-metrics/pkg/patches"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

// serviceMonitorWith is a ServiceMonitor whose endpoint is ep (nil: none).
func serviceMonitorWith(ep map[string]any) *unstructured.Unstructured {
	spec := map[string]any{}
	if ep != nil {
		spec["endpoints"] = []any{ep}
	}
	return &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "monitoring.coreos.com/v1", "kind": "ServiceMonitor",
		"metadata": map[string]any{"name": "elastic-operator", "namespace": "elastic-system"},
		"spec":     spec,
	}}
}

// AppliedTLS reads back only the caFile use-cert writes
// (<mount dir>/<secret>/ca.crt): another caFile names no CA secret of ours.
func TestAppliedTLS(t *testing.T) {
	fileEP := func(caFile string) map[string]any {
		return map[string]any{"tlsConfig": map[string]any{"caFile": caFile}}
	}
	for _, tc := range []struct {
		name string
		ep   map[string]any
		tls  patches.ServiceMonitorTLS
		auth patches.ScrapeAuth
	}{
		{"no endpoint", nil, patches.ServiceMonitorTLS{}, ""},
		{"no CA", map[string]any{"tlsConfig": map[string]any{"insecureSkipVerify": true}}, patches.ServiceMonitorTLS{}, ""},
		{"secret auth", map[string]any{"tlsConfig": map[string]any{"ca": map[string]any{"secret": map[string]any{"name": "eck-ca", "key": "ca.crt"}}}}, patches.ServiceMonitorTLS{CASecret: "eck-ca"}, patches.ScrapeAuthSecret},
		{"file auth", fileEP("/etc/prometheus/secrets/eck-ca/ca.crt"), patches.ServiceMonitorTLS{CASecret: "eck-ca", CAMountDir: "/etc/prometheus/secrets"}, patches.ScrapeAuthFile},
		{"file auth, other mount dir", fileEP("/certs/eck-ca/ca.crt"), patches.ServiceMonitorTLS{CASecret: "eck-ca", CAMountDir: "/certs"}, patches.ScrapeAuthFile},
		{"a caFile not named ca.crt", fileEP("/etc/ssl/ca.pem"), patches.ServiceMonitorTLS{}, ""},
		{"ca.crt at the root", fileEP("/ca.crt"), patches.ServiceMonitorTLS{}, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m, err := ReadMonitor(serviceMonitorWith(tc.ep))
			if err != nil {
				t.Fatal(err)
			}
			tls, auth := m.AppliedTLS()
			if tls != tc.tls || auth != tc.auth {
				t.Errorf("AppliedTLS() = %+v, %q; want %+v, %q", tls, auth, tc.tls, tc.auth)
			}
		})
	}
}

// One reader for both kinds: the PodMonitor's podMetricsEndpoints, its
// credentials Secret and its CA Secret, with the namespace rule of the CA.
func TestReadMonitorPodMonitor(t *testing.T) {
	pm := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "monitoring.coreos.com/v1", "kind": "PodMonitor",
		"metadata": map[string]any{"name": "elastic-operator", "namespace": "elastic-system"},
		"spec": map[string]any{"podMetricsEndpoints": []any{map[string]any{
			"port": "metrics", "interval": "30s", "scrapeTimeout": "10s",
			"authorization": map[string]any{"credentials": map[string]any{"name": "reader-token", "key": "token"}},
			"tlsConfig":     map[string]any{"ca": map[string]any{"secret": map[string]any{"name": "eck-ca", "key": "ca.crt"}}, "serverName": "svc.ns.svc"},
		}}},
	}}
	m, err := ReadMonitor(pm)
	if err != nil {
		t.Fatal(err)
	}
	want := MonitorEndpoint{Port: "metrics", Interval: "30s", ScrapeTimeout: "10s", CredentialsSecret: "reader-token", CredentialsKey: "token",
		TLS: MonitorTLS{CASecret: "eck-ca", ServerName: "svc.ns.svc"}}
	if m.Kind != patches.MonitorPodMonitor || m.Endpoint == nil || *m.Endpoint != want {
		t.Fatalf("ReadMonitor() = %+v %+v, want a PodMonitor with %+v", m, m.Endpoint, want)
	}
	if m.Auth() != patches.ScrapeAuthSecret {
		t.Errorf("Auth() = %q, want secret", m.Auth())
	}
	if name, ns := m.CASecret("elastic-system", "monitoring"); name != "eck-ca" || ns != "elastic-system" {
		t.Errorf("CASecret() = %s/%s, want elastic-system/eck-ca (the monitor's namespace)", ns, name)
	}

	file, err := ReadMonitor(serviceMonitorWith(map[string]any{"port": "https", "bearerTokenFile": patches.BearerTokenFile,
		"tlsConfig": map[string]any{"caFile": "/etc/prometheus/secrets/eck-ca/ca.crt", "insecureSkipVerify": false}}))
	if err != nil {
		t.Fatal(err)
	}
	if file.Auth() != patches.ScrapeAuthFile {
		t.Errorf("Auth() = %q, want file", file.Auth())
	}
	if name, ns := file.CASecret("elastic-system", "monitoring"); name != "eck-ca" || ns != "monitoring" {
		t.Errorf("CASecret() = %s/%s, want monitoring/eck-ca (Prometheus's namespace)", ns, name)
	}
	if _, err := ReadMonitor(&unstructured.Unstructured{Object: map[string]any{"apiVersion": "v1", "kind": "Service"}}); err == nil {
		t.Error("ReadMonitor(Service) returned no error")
	}
}
