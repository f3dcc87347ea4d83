package patches

import (
	"time"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

// cert-manager's API, used unstructured: the plugin does not depend on
// cert-manager's Go module.
var (
	CertificateGVR   = schema.GroupVersionResource{Group: "cert-manager.io", Version: "v1", Resource: "certificates"}
	IssuerGVR        = schema.GroupVersionResource{Group: "cert-manager.io", Version: "v1", Resource: "issuers"}
	ClusterIssuerGVR = schema.GroupVersionResource{Group: "cert-manager.io", Version: "v1", Resource: "clusterissuers"}
)

const (
	IssuerKind        = "Issuer"
	ClusterIssuerKind = "ClusterIssuer"

	// The annotations cert-manager writes on the Secrets it issues.
	CertManagerCertificateNameAnnotation = "cert-manager.io/certificate-name"
	CertManagerIssuerNameAnnotation      = "cert-manager.io/issuer-name"
	CertManagerIssuerKindAnnotation      = "cert-manager.io/issuer-kind"
)

// CertificateName is the name of the Certificate use-cert --issuer applies:
// the metrics Service's, as the certificate is issued for it.
func CertificateName(name string) string { return ServiceName(name) }

// CertificateSecretName is the Secret cert-manager writes the certificate to.
func CertificateSecretName(name string) string { return ServiceName(name) + "-tls" }

// ServiceDNSNames are the names of the metrics Service Prometheus may use:
// the one it verifies (ServiceDNSName) and its fully qualified form.
func ServiceDNSNames(name, namespace string) []string {
	short := ServiceDNSName(name, namespace)
	return []string{short, short + ".cluster.local"}
}

// CertificateParams are the choices of use-cert --issuer.
type CertificateParams struct {
	Namespace string
	Name      string // the operator StatefulSet
	Issuer    string
	// IssuerKind is Issuer or ClusterIssuer.
	IssuerKind string
	// Duration and RenewBefore, when non-zero, override the issuer's defaults.
	Duration, RenewBefore time.Duration
}

// Certificate is the cert-manager.io/v1 Certificate of the metrics Service:
// a server certificate for its DNS names, written to CertificateSecretName.
func Certificate(p CertificateParams) *unstructured.Unstructured {
	names := ServiceDNSNames(p.Name, p.Namespace)
	dnsNames := make([]any, len(names))
	for i, n := range names {
		dnsNames[i] = n
	}
	spec := map[string]any{
		"secretName": CertificateSecretName(p.Name),
		"dnsNames":   dnsNames,
		"usages":     []any{"server auth", "digital signature", "key encipherment"},
		"issuerRef":  map[string]any{"group": CertificateGVR.Group, "kind": p.IssuerKind, "name": p.Issuer},
	}
	if len(names[0]) <= 64 { // the limit of a certificate's CN
		spec["commonName"] = names[0]
	}
	if p.Duration > 0 {
		spec["duration"] = p.Duration.String()
	}
	if p.RenewBefore > 0 {
		spec["renewBefore"] = p.RenewBefore.String()
	}
	u := &unstructured.Unstructured{Object: map[string]any{"spec": spec}}
	u.SetAPIVersion(CertificateGVR.GroupVersion().String())
	u.SetKind("Certificate")
	u.SetNamespace(p.Namespace)
	u.SetName(CertificateName(p.Name))
	u.SetLabels(ourLabels())
	return u
}
