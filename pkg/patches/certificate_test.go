package patches

import (
	"slices"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

func TestGoldenCertificate(t *testing.T) {
	tests := []struct {
		file string
		p    CertificateParams
	}{
		{"certificate-issuer.yaml", CertificateParams{Namespace: "elastic-system", Name: "elastic-operator", Issuer: "ca-issuer", IssuerKind: IssuerKind}},
		{"certificate-clusterissuer.yaml", CertificateParams{Namespace: "elastic-system", Name: "elastic-operator", Issuer: "internal-ca", IssuerKind: ClusterIssuerKind,
			Duration: 2160 * time.Hour, RenewBefore: 360 * time.Hour}},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			checkGolden(t, tt.file, toYAML(t, Certificate(tt.p).Object))
		})
	}
}

func TestCertificateNamesTheService(t *testing.T) {
	c := Certificate(CertificateParams{Namespace: "eck", Name: "op", Issuer: "ca", IssuerKind: IssuerKind})
	dns, _, _ := unstructured.NestedStringSlice(c.Object, "spec", "dnsNames")
	if want := []string{ServiceDNSName("op", "eck"), "op-metrics.eck.svc.cluster.local"}; !slices.Equal(dns, want) {
		t.Errorf("dnsNames %v, want %v", dns, want)
	}
	usages, _, _ := unstructured.NestedStringSlice(c.Object, "spec", "usages")
	if !slices.Contains(usages, "server auth") {
		t.Errorf("usages %v lack server auth", usages)
	}
	if s, _, _ := unstructured.NestedString(c.Object, "spec", "secretName"); s != "op-metrics-tls" {
		t.Errorf("secretName %q, want op-metrics-tls", s)
	}
	if _, found, _ := unstructured.NestedString(c.Object, "spec", "duration"); found {
		t.Error("duration set although not given: the issuer's default must apply")
	}
	long := Certificate(CertificateParams{Namespace: "a-namespace-with-a-rather-long-name-indeed", Name: "elastic-operator", Issuer: "ca", IssuerKind: IssuerKind})
	if _, found, _ := unstructured.NestedString(long.Object, "spec", "commonName"); found {
		t.Error("commonName longer than 64 characters: cert-manager refuses it")
	}
}
