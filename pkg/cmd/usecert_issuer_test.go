package cmd

import (
	"strings"
	"testing"
	"time"

	"github.com/eck-metrics/kubectl-eck-metrics/pkg/patches"
)

// unitUseCert validates a use-cert command line.
func unitUseCert(t *testing.T, args ...string) (*UseCertOptions, error) {
	t.Helper()
	o, err := unitValidate(t, "use-cert", args...)
	return o.(*UseCertOptions), err
}

func TestIssuerFlags(t *testing.T) {
	o, err := unitUseCert(t, "--issuer", "ca-issuer")
	if err != nil {
		t.Fatalf("--issuer ca-issuer: %v", err)
	}
	if o.issuer.Issuer != "ca-issuer" || o.issuer.IssuerKind != patches.IssuerKind {
		t.Errorf("--issuer-kind defaults to %q, want Issuer", o.issuer.IssuerKind)
	}
	o, err = unitUseCert(t, "--issuer", "internal-ca", "--issuer-kind", "ClusterIssuer", "--duration", "2160h", "--renew-before", "360h")
	if err != nil {
		t.Fatalf("ClusterIssuer with duration: %v", err)
	}
	if o.issuer.IssuerKind != patches.ClusterIssuerKind || o.issuer.Duration != 2160*time.Hour || o.issuer.RenewBefore != 360*time.Hour {
		t.Errorf("parsed %+v", o.issuer)
	}
	if o, err := unitUseCert(t, "--secret", "tls"); err != nil || o.issuer.Issuer != "" {
		t.Errorf("no --issuer: %v, %+v", err, o.issuer)
	}
}

func TestIssuerFlagConflicts(t *testing.T) {
	conflict := "--issuer has cert-manager issue the certificate into secret <service>-tls: drop --secret, --cert, --key and --self-signed"
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"--issuer", "ca", "--secret", "tls"}, conflict},
		{[]string{"--issuer", "ca", "--cert", "a.crt", "--key", "a.key"}, conflict},
		{[]string{"--issuer", "ca", "--self-signed"}, conflict},
		{[]string{"--issuer", "ca", "--issuer-kind", "Certificate"}, `invalid --issuer-kind "Certificate": use Issuer or ClusterIssuer`},
		{[]string{"--issuer", "ca", "--duration", "30m"}, "invalid --duration 30m0s: cert-manager refuses less than 1h0m0s"},
		{[]string{"--issuer", "ca", "--duration", "24h", "--renew-before", "24h"}, "--renew-before 24h0m0s must be shorter than --duration 24h0m0s"},
		{[]string{"--issuer", "ca", "--renew-before", "-1h"}, "--duration and --renew-before must be positive, e.g. --duration 2160h --renew-before 360h"},
		{[]string{"--issuer", "Not_A_Name"}, `invalid --issuer "Not_A_Name"`},
		{[]string{"--issuer-kind", "ClusterIssuer", "--secret", "tls"}, "--issuer-kind, --duration and --renew-before go with --issuer: add --issuer NAME, or drop them"},
		{[]string{"--duration", "48h", "--secret", "tls"}, "--issuer-kind, --duration and --renew-before go with --issuer: add --issuer NAME, or drop them"},
		// Given, even with its default value, it does nothing without --issuer.
		{[]string{"--issuer-kind", "Issuer", "--secret", "tls"}, "--issuer-kind, --duration and --renew-before go with --issuer: add --issuer NAME, or drop them"},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			_, err := unitUseCert(t, tt.args...)
			if err == nil || !strings.HasPrefix(err.Error(), tt.want) || strings.Contains(err.Error(), "\n") {
				t.Errorf("Validate() = %v, want one line starting %q", err, tt.want)
			}
		})
	}
}

// The real command refuses conflicting flags with one line and the exit
// code of bad usage.
func TestUseCertRefusesIssuerWithSecret(t *testing.T) {
	streams, _, errOut := unitStreams()
	if code := Run([]string{"use-cert", "--issuer", "ca", "--secret", "tls"}, streams); code != 2 || errOut.String() != "error: --issuer has cert-manager issue the certificate into secret <service>-tls: drop --secret, --cert, --key and --self-signed\n" {
		t.Errorf("use-cert --issuer --secret: exit %d, stderr %q", code, errOut.String())
	}
	streams, _, errOut = unitStreams()
	if code := Run([]string{"use-cert"}, streams); code != 2 || !strings.Contains(errOut.String(), "--issuer NAME") {
		t.Errorf("use-cert without a choice: exit %d, stderr %q", code, errOut.String())
	}
}
