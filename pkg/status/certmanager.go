package status

import (
	"context"
	"fmt"
	"time"

	"github.com/eck-metrics/kubectl-eck-metrics/pkg/certs"
	"github.com/eck-metrics/kubectl-eck-metrics/pkg/kube"
	"github.com/eck-metrics/kubectl-eck-metrics/pkg/patches"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// issuedBy is the cert-manager Certificate and issuer named by the
// annotations cert-manager writes on the Secrets it issues.
type issuedBy struct {
	certificate, issuer, issuerKind string
}

func (k *checker) issuedBy() (issuedBy, bool) {
	if k.tlsSecret == nil {
		return issuedBy{}, false
	}
	a := k.tlsSecret.Annotations
	i := issuedBy{certificate: a[patches.CertManagerCertificateNameAnnotation], issuer: a[patches.CertManagerIssuerNameAnnotation], issuerKind: a[patches.CertManagerIssuerKindAnnotation]}
	return i, i.certificate != ""
}

// useCertIssuerCommand is the use-cert command that (re)applies the
// Certificate with the same issuer; extra flags follow.
func (k *checker) useCertIssuerCommand(i issuedBy, extra string) string {
	cmd := fmt.Sprintf("kubectl eck-metrics use-cert -n %s --issuer %s", k.op.Namespace(), i.issuer)
	if i.issuer == "" {
		cmd = fmt.Sprintf("kubectl eck-metrics use-cert -n %s --issuer ISSUER", k.op.Namespace())
	}
	if i.issuerKind == patches.ClusterIssuerKind {
		cmd += " --issuer-kind ClusterIssuer"
	}
	return cmd + extra
}

// checkCertManager follows the Certificate that issues the served Secret:
// its Ready condition, notAfter and renewalTime as cert-manager reports them.
func (k *checker) checkCertManager(ctx context.Context) {
	switch {
	case k.secret == "":
		k.add(CertificateIssuer, Pass, "none: the self-signed default is served", "", nil)
		return
	case k.tlsSecret == nil:
		k.skip(CertificateIssuer, "secret "+k.secret+" unreadable")
		return
	}
	i, ok := k.issuedBy()
	if !ok {
		k.add(CertificateIssuer, Pass, "none: secret "+k.secret+" is not issued by cert-manager", "", nil)
		return
	}
	ns := k.op.Namespace()
	ref := fmt.Sprintf("Certificate %s/%s", ns, i.certificate)
	details := map[string]any{"certificate": i.certificate, "issuer": i.issuer, "issuerKind": i.issuerKind}
	served, err := k.served(patches.CertificateGVR)
	switch {
	case err != nil:
		k.add(CertificateIssuer, Warn, err.Error(), "", details)
		return
	case !served:
		k.add(CertificateIssuer, Warn, fmt.Sprintf("secret %s was issued by %s, but cert-manager.io/v1 is not served any more: nothing renews it", k.secret, ref), "reinstall cert-manager, then run: "+k.useCertIssuerCommand(i, ""), details)
		return
	}
	cert, err := k.c.Dynamic.Resource(patches.CertificateGVR).Namespace(ns).Get(ctx, i.certificate, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		k.add(CertificateIssuer, Warn, fmt.Sprintf("%s, which issued secret %s, no longer exists: nothing renews the certificate", ref, k.secret), "run: "+k.useCertIssuerCommand(i, ""), details)
		return
	}
	if err != nil {
		k.add(CertificateIssuer, Warn, kube.ReadError(ref, err).Error(), "", details)
		return
	}
	ready := kube.ReadyCondition(cert)
	notAfter, renewal, err := kube.CertificateTimes(cert)
	if err != nil {
		k.add(CertificateIssuer, Warn, ref+": "+err.Error(), "see: kubectl describe certificate -n "+ns+" "+i.certificate, details)
		return
	}
	details["ready"], details["reason"], details["readyMessage"] = ready.Status, ready.Reason, ready.Message
	times := ""
	if !notAfter.IsZero() {
		details["notAfter"] = notAfter.UTC().Format(time.RFC3339)
		times += ", notAfter " + notAfter.UTC().Format(time.RFC3339)
	}
	if !renewal.IsZero() {
		details["renewalTime"] = renewal.UTC().Format(time.RFC3339)
		times += ", renewal at " + renewal.UTC().Format(time.RFC3339)
	}
	if !ready.IsTrue() {
		k.add(CertificateIssuer, Warn, fmt.Sprintf("%s is not Ready (%s)%s", ref, ready, times), "see why: kubectl describe certificate -n "+ns+" "+i.certificate+" (and the issuer it names)", details)
		return
	}
	issuer := i.issuerKind + " " + i.issuer
	if i.issuerKind == "" || i.issuerKind == patches.IssuerKind {
		issuer = "Issuer " + ns + "/" + i.issuer
	}
	k.add(CertificateIssuer, Pass, fmt.Sprintf("%s Ready%s, from %s", ref, times, issuer), "", details)
}

// checkCACopy checks that the CA secret Prometheus verifies with still
// verifies the served Secret's certificate: a renewal under a rotated CA
// leaves the copy stale, and every scrape fails.
func (k *checker) checkCACopy(ctx context.Context) {
	switch {
	case k.secret == "":
		k.add(CertificateCACopy, Pass, "none: the self-signed default is served", "", nil)
		return
	case k.tlsSecret == nil:
		k.skip(CertificateCACopy, "secret "+k.secret+" unreadable")
		return
	case k.cert == nil:
		k.skip(CertificateCACopy, "the certificate of secret "+k.secret+" is unusable (see "+string(CertificateServing)+")")
		return
	}
	caSecret, monitorNS, ok := k.monitorCASecret(ctx)
	if !ok {
		k.add(CertificateCACopy, Pass, "none: the ServiceMonitor verifies with no CA secret of ours", "", nil)
		return
	}
	// With --scrape-auth secret the monitor names a Secret of its own
	// namespace; with caFile, the copy is in Prometheus's.
	promNS, nsFlag := monitorNS, ""
	if promNS == "" {
		promNS = k.o.PrometheusNamespace
		if promNS == "" {
			promNS, _, _ = k.prometheusSA()
		}
		nsFlag = " --prometheus-namespace " + promNS
	}
	if promNS == "" {
		// The one Prometheus that selects our monitor is where the copy belongs.
		if ps, err := k.selectingPrometheuses(ctx); err == nil && len(ps) == 1 {
			promNS = ps[0].Namespace
		}
	}
	if promNS == "" {
		k.skip(CertificateCACopy, "pass --prometheus-namespace (or --prometheus-sa) to check the copy of secret "+caSecret)
		return
	}
	add := k.add
	if monitorNS != "" {
		// Not a copy in Prometheus's namespace: the monitor names it.
		add = func(id CheckID, outcome Outcome, message, hint string, details map[string]any) {
			k.addNamed(id, "CA secret next to the monitor", outcome, message, hint, details)
		}
	}
	ref := fmt.Sprintf("CA secret %s/%s", promNS, caSecret)
	details := map[string]any{"caSecret": promNS + "/" + caSecret, "secret": k.secret}
	refresh := fmt.Sprintf("kubectl eck-metrics use-cert -n %s --secret %s --ca-secret %s%s --ca FILE", k.op.Namespace(), k.secret, caSecret, nsFlag)
	if i, ok := k.issuedBy(); ok {
		refresh = k.useCertIssuerCommand(i, fmt.Sprintf(" --ca-secret %s%s", caSecret, nsFlag))
	}
	s, err := k.readSecret(ctx, promNS, caSecret)
	if err != nil {
		add(CertificateCACopy, Fail, readProblem(ref, err, "Prometheus cannot verify the endpoint"), "run: "+refresh, details)
		return
	}
	if err := certs.Verify(k.tlsSecret.Data[corev1.TLSCertKey], s.Data[patches.CAKey], k.o.Now); err != nil {
		add(CertificateCACopy, Warn, fmt.Sprintf("%s no longer verifies the certificate of secret %s (%v): Prometheus's scrapes fail", ref, k.secret, err), "refresh the copy: "+refresh, details)
		return
	}
	add(CertificateCACopy, Pass, fmt.Sprintf("%s verifies the certificate of secret %s", ref, k.secret), "", details)
}

// monitorCASecret is the CA secret our monitor verifies with: the one its
// caFile names (namespace "": Prometheus's), or its tlsConfig.ca secret
// (namespace: the monitor's).
func (k *checker) monitorCASecret(ctx context.Context) (string, string, bool) {
	r := k.readMonitor(ctx)
	if r.servedErr != nil || !r.served || r.err != nil || r.monitor.Endpoint == nil || r.monitor.Endpoint.TLS.InsecureSkipVerify {
		return "", "", false
	}
	name, namespace := r.monitor.CASecret(r.obj.GetNamespace(), "")
	if name == "" {
		return "", "", false
	}
	return name, namespace, true
}
