// Package certs checks a TLS certificate and key before the metrics endpoint
// is pointed at them. Pure: it never prints or returns key material.
package certs

import (
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"slices"
	"strings"
	"time"
)

// ExpiryWarning is how close to expiry a certificate earns a warning.
const ExpiryWarning = 30 * 24 * time.Hour

// Options say what the certificate must satisfy.
type Options struct {
	// ServiceDNS is the name Prometheus verifies: <service>.<namespace>.svc.
	ServiceDNS string
	// CA, when set, must have signed the certificate (PEM).
	CA []byte
	// Now is the time validity is judged at.
	Now time.Time
}

// Report is what the checks found about a usable certificate.
type Report struct {
	Subject   string
	Issuer    string
	DNSNames  []string
	NotBefore time.Time
	NotAfter  time.Time
	// TrustedBy says who verifies it: "the given CA", "the system roots" or "".
	TrustedBy string
	Warnings  []string
}

// DaysLeft until the certificate expires.
func (r *Report) DaysLeft(now time.Time) int {
	return int(r.NotAfter.Sub(now).Hours() / 24)
}

// firstBlock finds the first PEM block whose type contains want, skipping
// others (openssl writes EC PARAMETERS before an EC key), as crypto/tls does.
func firstBlock(data []byte, want string) *pem.Block {
	for {
		var block *pem.Block
		block, data = pem.Decode(data)
		if block == nil {
			return nil
		}
		if strings.Contains(block.Type, want) {
			return block
		}
	}
}

// ParseCertificate reads the first certificate of a PEM bundle.
func ParseCertificate(certPEM []byte) (*x509.Certificate, error) {
	block := firstBlock(certPEM, "CERTIFICATE")
	if block == nil {
		return nil, fmt.Errorf("tls.crt is not a PEM certificate")
	}
	cert, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		return nil, fmt.Errorf("tls.crt does not parse: %v", err)
	}
	return cert, nil
}

// Check validates a certificate and its key. Errors make the pair unusable;
// warnings are returned in the report.
func Check(certPEM, keyPEM []byte, o Options) (*Report, error) {
	cert, err := ParseCertificate(certPEM)
	if err != nil {
		return nil, err
	}
	if firstBlock(keyPEM, "PRIVATE KEY") == nil {
		return nil, fmt.Errorf("tls.key is not a PEM private key")
	}
	if _, err := tls.X509KeyPair(certPEM, keyPEM); err != nil {
		// The error text of crypto/tls never holds key bytes.
		if strings.Contains(err.Error(), "does not match") {
			return nil, fmt.Errorf("tls.key does not match the certificate in tls.crt")
		}
		return nil, fmt.Errorf("tls.key does not parse: %v", err)
	}
	r := &Report{
		Subject:   cert.Subject.String(),
		Issuer:    cert.Issuer.String(),
		DNSNames:  cert.DNSNames,
		NotBefore: cert.NotBefore,
		NotAfter:  cert.NotAfter,
	}
	now := o.Now
	switch {
	case now.Before(cert.NotBefore):
		return nil, fmt.Errorf("the certificate is not valid yet: valid from %s", cert.NotBefore.UTC().Format(time.RFC3339))
	case now.After(cert.NotAfter):
		return nil, fmt.Errorf("the certificate expired on %s", cert.NotAfter.UTC().Format(time.RFC3339))
	case cert.NotAfter.Sub(now) < ExpiryWarning:
		r.Warnings = append(r.Warnings, fmt.Sprintf("the certificate expires in %d days (%s): renew it soon", r.DaysLeft(now), cert.NotAfter.UTC().Format(time.RFC3339)))
	}
	if o.ServiceDNS != "" && cert.VerifyHostname(o.ServiceDNS) != nil {
		names := "no DNS names"
		if len(cert.DNSNames) > 0 {
			names = strings.Join(cert.DNSNames, ", ")
		}
		r.Warnings = append(r.Warnings, fmt.Sprintf("the certificate's SANs (%s) do not contain %s, so Prometheus's verification will fail", names, o.ServiceDNS))
	}

	verify := serverAuthOptions(cert, certPEM, now)
	if len(o.CA) > 0 {
		roots := x509.NewCertPool()
		if !roots.AppendCertsFromPEM(o.CA) {
			return nil, fmt.Errorf("the CA certificate (ca.crt) is not PEM")
		}
		verify.Roots = roots
		if _, err := cert.Verify(verify); err != nil {
			return nil, fmt.Errorf("the certificate is not signed by the given CA (%v): Prometheus would refuse it", err)
		}
		r.TrustedBy = "the given CA"
		return r, nil
	}
	if _, err := cert.Verify(verify); err == nil {
		r.TrustedBy = "the system roots"
	}
	return r, nil
}

// serverAuthOptions verify cert for server auth at now, with the
// certificates after it in certPEM as intermediates, as a TLS client is
// sent them; the caller sets the roots.
func serverAuthOptions(cert *x509.Certificate, certPEM []byte, now time.Time) x509.VerifyOptions {
	intermediates := x509.NewCertPool()
	for rest := certPEM; ; {
		var block *pem.Block
		if block, rest = pem.Decode(rest); block == nil {
			break
		}
		if c, err := x509.ParseCertificate(block.Bytes); err == nil && !c.Equal(cert) {
			intermediates.AddCert(c)
		}
	}
	return x509.VerifyOptions{Intermediates: intermediates, CurrentTime: now, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
}

// UnknownCAWarning is the warning for a certificate no --ca-secret vouches for.
func UnknownCAWarning(r *Report) string {
	return fmt.Sprintf("the certificate is signed by %q, a CA this machine does not trust, and no --ca-secret was given: Prometheus can only scrape with insecureSkipVerify; pass --ca-secret (and --ca) to verify", r.Issuer)
}

// HasName tells whether the certificate names host.
func (r *Report) HasName(host string) bool { return slices.Contains(r.DNSNames, host) }
