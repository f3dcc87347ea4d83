package certs

import (
	"crypto/x509"
	"encoding/pem"
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
	intermediates := x509.NewCertPool()
	for rest := certPEM; ; {
		var block *pem.Block
		if block, rest = pem.Decode(rest); block == nil {
			break
		}
		if c, err := x509.ParseCertificate(block.Bytes); err == nil && !c.Equal(leaf) {
			intermediates.AddCert(c)
		}
	}
	_, err = leaf.Verify(x509.VerifyOptions{Roots: roots, Intermediates: intermediates, CurrentTime: now, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}})
	return err
}
