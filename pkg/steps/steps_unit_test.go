package steps

import (
	"testing"

	"github.com/eck-metrics/kubectl-eck-metrics/pkg/patches"
)

// liveTLS reads back only the caFile use-cert writes
// (<mount dir>/<secret>/ca.crt): another caFile names no CA secret of ours.
func TestLiveTLS(t *testing.T) {
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
			tls, auth := liveTLS(tc.ep)
			if tls != tc.tls || auth != tc.auth {
				t.Errorf("liveTLS() = %+v, %q; want %+v, %q", tls, auth, tc.tls, tc.auth)
			}
		})
	}
}
