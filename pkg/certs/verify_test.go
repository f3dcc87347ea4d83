package certs_test

import (
	"crypto/x509"
	"strings"
	"testing"

	"github.com/eck-metrics/kubectl-eck-metrics/pkg/certs"
)

// Verify judges a CA copy as Prometheus would: the leaf (and the chain
// after it) against that CA alone, at a given time, for server auth.
func TestVerify(t *testing.T) {
	root := testCA(t, "Root")
	intermediate := mustIssue(t, spec{cn: "Intermediate", isCA: true, parent: root, notAfter: now.Add(5 * 365 * day)})
	direct := leaf(t, root, spec{})
	chained := leaf(t, intermediate, spec{})
	rotated := testCA(t, "Rotated Root")

	for _, tc := range []struct {
		name           string
		certPEM, caPEM []byte
		want           string // "" verifies
	}{
		{"signed by the CA", direct.certPEM, root.certPEM, ""},
		{"chain in tls.crt", cat(chained.certPEM, intermediate.certPEM), root.certPEM, ""},
		{"CA bundle holding the old and the new root", direct.certPEM, cat(rotated.certPEM, root.certPEM), ""},
		{"the CA rotated", direct.certPEM, rotated.certPEM, "unknown authority"},
		{"chain missing", chained.certPEM, root.certPEM, "unknown authority"},
		{"expired", leaf(t, root, spec{notBefore: now.Add(-90 * day), notAfter: now.Add(-day)}).certPEM, root.certPEM, "expired"},
		{"client certificate", leaf(t, root, spec{extUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}).certPEM, root.certPEM, "usage"},
		{"no PEM in ca.crt", direct.certPEM, []byte("not PEM"), "ca.crt holds no PEM certificate"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := certs.Verify(tc.certPEM, tc.caPEM, now)
			switch {
			case tc.want == "" && err != nil:
				t.Errorf("Verify() = %v, want nil", err)
			case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
				t.Errorf("Verify() = %v, want an error with %q", err, tc.want)
			}
		})
	}
}
