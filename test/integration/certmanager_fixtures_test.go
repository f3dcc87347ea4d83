package integration

// cert-manager's real CRDs (from its module, deploy/crds) and a stand-in
// for its controller, which the module proxy does not serve here: the test
// issues the Certificate's Secret and writes its status as cert-manager's
// CA issuer does.

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/eck-metrics/kubectl-eck-metrics/pkg/patches"
	corev1 "k8s.io/api/core/v1"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/util/wait"
	"sigs.k8s.io/yaml"
)

// certManagerModule holds cert-manager's CRDs in deploy/crds: plain
// controller-gen output (the Helm chart templates its own copy).
const certManagerModule = "github.com/cert-manager/cert-manager@v1.21.2"

var certManagerCRDFiles = []string{"cert-manager.io_certificates.yaml", "cert-manager.io_issuers.yaml", "cert-manager.io_clusterissuers.yaml"}

var certManagerCRDs = sync.OnceValues(func() ([]*apiextensionsv1.CustomResourceDefinition, error) {
	cmd := exec.Command("go", "mod", "download", "-json", certManagerModule)
	cmd.Dir = repoRoot()
	out, err := cmd.Output()
	if err != nil {
		return nil, err
	}
	var mod struct{ Dir string }
	if err := json.Unmarshal(out, &mod); err != nil {
		return nil, err
	}
	var crds []*apiextensionsv1.CustomResourceDefinition
	for _, f := range certManagerCRDFiles {
		raw, err := os.ReadFile(filepath.Join(mod.Dir, "deploy", "crds", f))
		if err != nil {
			return nil, err
		}
		crd := &apiextensionsv1.CustomResourceDefinition{}
		if err := yaml.Unmarshal(raw, crd); err != nil {
			return nil, err
		}
		crds = append(crds, crd)
	}
	return crds, nil
})

// installCertManagerCRDs installs cert-manager's real CRDs for one test and
// removes them after.
func installCertManagerCRDs(t testing.TB) {
	t.Helper()
	crds, err := certManagerCRDs()
	if err != nil {
		t.Fatalf("cert-manager CRDs from %s: %v", certManagerModule, err)
	}
	installCRDs(t, crds)
}

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
	res := cluster.dynamic.Resource(patches.IssuerGVR).Namespace(ns)
	created, err := res.Create(ctx(t), issuer, metav1.CreateOptions{})
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
	if _, err := res.UpdateStatus(ctx(t), created, metav1.UpdateOptions{FieldManager: "cert-manager-issuers"}); err != nil {
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
	notAfter, err := signCertificate(ctx(t), ns, name, ca, validFor)
	if err != nil {
		t.Fatal(err)
	}
	return notAfter
}

// signCertificate is issueCertificate for goroutines other than the test's,
// which must not call t.Fatal.
func signCertificate(c context.Context, ns, name string, ca *testCA, validFor time.Duration) (time.Time, error) {
	res := cluster.dynamic.Resource(patches.CertificateGVR).Namespace(ns)
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
	secrets := cluster.kube.CoreV1().Secrets(ns)
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
		res := cluster.dynamic.Resource(patches.CertificateGVR).Namespace(ns)
		err := wait.PollUntilContextTimeout(ctx(t), 50*time.Millisecond, time.Minute, true, func(c context.Context) (bool, error) {
			_, err := res.Get(c, name, metav1.GetOptions{})
			return err == nil, nil
		})
		if err != nil {
			t.Errorf("the Certificate %s/%s was never applied: %v", ns, name, err)
			return
		}
		if _, err := signCertificate(ctx(t), ns, name, ca, 90*24*time.Hour); err != nil {
			t.Errorf("issuing the Certificate %s/%s: %v", ns, name, err)
		}
	}()
	return done
}

// snapshotWithCertificates is snapshot plus the Certificates and Issuers.
func snapshotWithCertificates(t testing.TB, ns string) map[string]string {
	t.Helper()
	out := snapshot(t, ns)
	for kind, res := range map[string]interface {
		List(context.Context, metav1.ListOptions) (*unstructured.UnstructuredList, error)
	}{
		"Certificate": cluster.dynamic.Resource(patches.CertificateGVR).Namespace(ns),
		"Issuer":      cluster.dynamic.Resource(patches.IssuerGVR).Namespace(ns),
	} {
		list, err := res.List(ctx(t), metav1.ListOptions{})
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
