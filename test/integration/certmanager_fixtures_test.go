package integration

// A stand-in for cert-manager's controller (its CRDs are installed by
// cluster.InstallCertManagerCRDs), which the module proxy does not serve
// here: the test issues the Certificate's Secret and writes its status as
// cert-manager's CA issuer does.

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/eck-metrics/kubectl-eck-metrics/pkg/patches"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/util/wait"
)

// createIssuer creates a CA Issuer (its CA in secret NAME-ca) and sets its
// Ready condition as cert-manager would after reading that secret.
func createIssuer(t testing.TB, ns, name string, ca *testCA, ready bool) {
	t.Helper()
	createTLSSecret(t, ns, name+"-ca", corev1.SecretTypeOpaque, map[string][]byte{corev1.TLSCertKey: ca.certPEM})
	issuer := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "cert-manager.io/v1", "kind": "Issuer",
		"metadata": map[string]any{"name": name, "namespace": ns},
		"spec":     map[string]any{"ca": map[string]any{"secretName": name + "-ca"}},
	}}
	res := cluster.Dynamic.Resource(patches.IssuerGVR).Namespace(ns)
	created, err := res.Create(cluster.Context(t), issuer, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	status, reason, message := "True", "KeyPairVerified", "Signing CA verified"
	if !ready {
		status, reason, message = "False", "ErrGetKeyPair", "Error getting keypair for CA issuer: secrets \""+name+"-ca\" not found"
	}
	created.Object["status"] = map[string]any{"conditions": []any{map[string]any{
		"type": "Ready", "status": status, "reason": reason, "message": message,
		"lastTransitionTime": time.Now().UTC().Format(time.RFC3339), "observedGeneration": created.GetGeneration(),
	}}}
	if _, err := res.UpdateStatus(cluster.Context(t), created, metav1.UpdateOptions{FieldManager: "cert-manager-issuers"}); err != nil {
		t.Fatal(err)
	}
}

// issueCertificate does what cert-manager's CA issuer does for a
// Certificate: a key and a certificate for its DNS names signed by ca in its
// secretName (with ca.crt and cert-manager's annotations), then Ready,
// notBefore, notAfter and renewalTime (two thirds through) in its status.
// It returns the certificate's notAfter.
func issueCertificate(t testing.TB, ns, name string, ca *testCA, validFor time.Duration) time.Time {
	t.Helper()
	notAfter, err := signCertificate(cluster.Context(t), ns, name, ca, validFor)
	if err != nil {
		t.Fatal(err)
	}
	return notAfter
}

// signCertificate is issueCertificate for goroutines other than the test's,
// which must not call t.Fatal.
func signCertificate(c context.Context, ns, name string, ca *testCA, validFor time.Duration) (time.Time, error) {
	res := cluster.Dynamic.Resource(patches.CertificateGVR).Namespace(ns)
	cert, err := res.Get(c, name, metav1.GetOptions{})
	if err != nil {
		return time.Time{}, err
	}
	dnsNames, _, _ := unstructured.NestedStringSlice(cert.Object, "spec", "dnsNames")
	secretName, _, _ := unstructured.NestedString(cert.Object, "spec", "secretName")
	issuerName, _, _ := unstructured.NestedString(cert.Object, "spec", "issuerRef", "name")
	issuerKind, _, _ := unstructured.NestedString(cert.Object, "spec", "issuerRef", "kind")
	notBefore := time.Now().Add(-time.Minute).Truncate(time.Second)
	notAfter := notBefore.Add(validFor)
	l, err := ca.sign(dnsNames, notBefore, notAfter)
	if err != nil {
		return time.Time{}, err
	}

	secret := &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Name: secretName, Namespace: ns, Annotations: map[string]string{
			patches.CertManagerCertificateNameAnnotation: name,
			patches.CertManagerIssuerNameAnnotation:      issuerName,
			patches.CertManagerIssuerKindAnnotation:      issuerKind,
			"cert-manager.io/issuer-group":               "cert-manager.io",
			"cert-manager.io/alt-names":                  strings.Join(dnsNames, ","),
		}},
		Type: corev1.SecretTypeTLS,
		Data: map[string][]byte{corev1.TLSCertKey: l.certPEM, corev1.TLSPrivateKeyKey: l.keyPEM, patches.CAKey: ca.certPEM},
	}
	if withoutCAKey[ca] {
		delete(secret.Data, patches.CAKey) // as issuers that do not know their CA's chain
	}
	secrets := cluster.Kube.CoreV1().Secrets(ns)
	opts := metav1.UpdateOptions{FieldManager: "cert-manager-certificates-issuing"}
	if _, err := secrets.Update(c, secret, opts); apierrors.IsNotFound(err) {
		if _, err := secrets.Create(c, secret, metav1.CreateOptions{FieldManager: opts.FieldManager}); err != nil {
			return time.Time{}, err
		}
	} else if err != nil {
		return time.Time{}, err
	}

	revision, _, _ := unstructured.NestedInt64(cert.Object, "status", "revision")
	cert.Object["status"] = map[string]any{
		"conditions": []any{map[string]any{
			"type": "Ready", "status": "True", "reason": "Ready", "message": "Certificate is up to date and has not expired",
			"lastTransitionTime": time.Now().UTC().Format(time.RFC3339), "observedGeneration": cert.GetGeneration(),
		}},
		"notBefore":   notBefore.UTC().Format(time.RFC3339),
		"notAfter":    notAfter.UTC().Format(time.RFC3339),
		"renewalTime": notBefore.Add(validFor * 2 / 3).UTC().Format(time.RFC3339),
		"revision":    revision + 1,
	}
	if _, err := res.UpdateStatus(c, cert, metav1.UpdateOptions{FieldManager: "cert-manager-certificates-readiness"}); err != nil {
		return time.Time{}, err
	}
	return notAfter, nil
}

// withoutCAKey marks the CAs whose issuer writes no ca.crt (set before the
// issuing goroutine starts).
var withoutCAKey = map[*testCA]bool{}

// issueWhenApplied plays cert-manager while a command runs: once the
// Certificate exists, it is issued (valid for 90 days). Wait for the
// returned channel before the test ends.
func issueWhenApplied(t testing.TB, ns, name string, ca *testCA) <-chan struct{} {
	done := make(chan struct{})
	go func() {
		defer close(done)
		res := cluster.Dynamic.Resource(patches.CertificateGVR).Namespace(ns)
		err := wait.PollUntilContextTimeout(cluster.Context(t), 50*time.Millisecond, time.Minute, true, func(c context.Context) (bool, error) {
			_, err := res.Get(c, name, metav1.GetOptions{})
			return err == nil, nil
		})
		if err != nil {
			t.Errorf("the Certificate %s/%s was never applied: %v", ns, name, err)
			return
		}
		if _, err := signCertificate(cluster.Context(t), ns, name, ca, 90*24*time.Hour); err != nil {
			t.Errorf("issuing the Certificate %s/%s: %v", ns, name, err)
		}
	}()
	return done
}

// snapshotWithCertificates is cluster.Snapshot plus the Certificates and Issuers.
func snapshotWithCertificates(t testing.TB, ns string) map[string]string {
	t.Helper()
	out := cluster.Snapshot(t, ns)
	for kind, res := range map[string]interface {
		List(context.Context, metav1.ListOptions) (*unstructured.UnstructuredList, error)
	}{
		"Certificate": cluster.Dynamic.Resource(patches.CertificateGVR).Namespace(ns),
		"Issuer":      cluster.Dynamic.Resource(patches.IssuerGVR).Namespace(ns),
	} {
		list, err := res.List(cluster.Context(t), metav1.ListOptions{})
		if apierrors.IsNotFound(err) {
			continue // cert-manager's CRDs are not installed
		}
		if err != nil {
			t.Fatalf("snapshot: list %s: %v", kind, err)
		}
		for _, item := range list.Items {
			out[kind+"/"+item.GetNamespace()+"/"+item.GetName()] = item.GetResourceVersion()
		}
	}
	return out
}
