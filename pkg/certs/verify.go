package certs

import (
	"crypto/x509"
	"fmt"
	"time"
)

// Verify tells whether caPEM (a bundle) verifies the serving certificate of
// certPEM (leaf first, then intermediates) for server auth at now, as
// Prometheus would with that CA file.
func Verify(certPEM, caPEM []byte, now time.Time) error {
	leaf, err := ParseCertificate(certPEM)
	if err != nil {
		return err
	}
	roots := x509.NewCertPool()
	if !roots.AppendCertsFromPEM(caPEM) {
		return fmt.Errorf("ca.crt holds no PEM certificate")
	}
	verify := serverAuthOptions(leaf, certPEM, now)
	verify.Roots = roots
	_, err = leaf.Verify(verify)
	return err
}
