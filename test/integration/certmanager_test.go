package integration

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/eck-metrics/kubectl-eck-metrics/pkg/patches"
	"github.com/eck-metrics/kubectl-eck-metrics/pkg/status"
	"github.com/eck-metrics/kubectl-eck-metrics/test/framework"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/metrics/filters"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"
)

func getCertificate(t testing.TB, ns, name string) *unstructured.Unstructured {
	t.Helper()
	c, err := cluster.Dynamic.Resource(patches.CertificateGVR).Namespace(ns).Get(cluster.Context(t), name, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// use-cert --issuer in both modes: the Certificate names the Service, the
// Secret cert-manager issues is mounted where each mode reads it, the CA
// copy is the Secret's ca.crt; a second run changes nothing; disable
// deletes the Certificate and reports the Secret.
func TestUseCertIssuer(t *testing.T) {
	for _, tc := range []struct {
		fixture, container, mountPath string
	}{
		{"eck-3.5.0-all-in-one.yaml", "manager", patches.DefaultCertDir},
		{"eck-2.15.0-all-in-one.yaml", patches.SidecarName, "/tls"},
	} {
		t.Run(tc.fixture, func(t *testing.T) {
			cluster.InstallCertManagerCRDs(t)
			cluster.InstallServiceMonitorCRD(t)
			ns := cluster.NewNamespace(t, "issuer")
			promNS := cluster.NewNamespace(t, "prom")
			f := cluster.InstallFixture(t, tc.fixture, ns)
			ca := newTestCA(t)
			createIssuer(t, ns, "ca-issuer", ca, true)

			issued := issueWhenApplied(t, ns, "elastic-operator-metrics", ca)
			r := cluster.Run(t, "use-cert", "-n", ns, "--issuer", "ca-issuer", "--ca-secret", "eck-metrics-ca", "--prometheus-namespace", promNS, "--timeout", "1m")
			<-issued
			mustSucceed(t, r)
			for _, want := range []string{
				"[1/7] Certificate: Certificate " + ns + "/elastic-operator-metrics created: DNS names elastic-operator-metrics." + ns + ".svc, elastic-operator-metrics." + ns + ".svc.cluster.local from Issuer " + ns + "/ca-issuer, into secret elastic-operator-metrics-tls",
				"Certificate " + ns + "/elastic-operator-metrics is Ready",
				"[2/7] Secrets: Secret " + promNS + "/eck-metrics-ca created",
				"certificate from secret elastic-operator-metrics-tls",
				"[7/7] ServiceMonitor: ServiceMonitor " + ns + "/elastic-operator created",
			} {
				if !strings.Contains(r.Stdout, want) {
					t.Errorf("output lacks %q:\n%s", want, r.Stdout)
				}
			}
			if strings.Contains(r.Stderr, "Warning") {
				t.Errorf("unexpected warnings:\n%s", r.Stderr)
			}

			cert := getCertificate(t, ns, "elastic-operator-metrics")
			dns, _, _ := unstructured.NestedStringSlice(cert.Object, "spec", "dnsNames")
			if want := []string{"elastic-operator-metrics." + ns + ".svc", "elastic-operator-metrics." + ns + ".svc.cluster.local"}; !slices.Equal(dns, want) {
				t.Errorf("dnsNames %v, want %v", dns, want)
			}
			usages, _, _ := unstructured.NestedStringSlice(cert.Object, "spec", "usages")
			kind, _, _ := unstructured.NestedString(cert.Object, "spec", "issuerRef", "kind")
			if !slices.Contains(usages, "server auth") || kind != "Issuer" {
				t.Errorf("usages %v, issuer kind %q", usages, kind)
			}
			if got := fieldsOf(cert, patches.FieldManager); got == "" {
				t.Error("the Certificate is not applied by our field manager")
			}

			v := certVolume(t, ns, f.Name)
			if v == nil || v.Secret == nil || v.Secret.SecretName != "elastic-operator-metrics-tls" {
				t.Fatalf("certificate volume %+v", v)
			}
			mounted := false
			for _, m := range container(t, getStatefulSet(t, ns, f.Name), tc.container).VolumeMounts {
				mounted = mounted || (m.Name == patches.CertVolumeName && m.MountPath == tc.mountPath)
			}
			if !mounted {
				t.Errorf("secret not mounted at %s in %s", tc.mountPath, tc.container)
			}
			caCopy, err := cluster.Kube.CoreV1().Secrets(promNS).Get(cluster.Context(t), "eck-metrics-ca", metav1.GetOptions{})
			if err != nil || !bytes.Equal(caCopy.Data[patches.CAKey], ca.certPEM) {
				t.Errorf("CA copy %v: not the issued Secret's ca.crt", err)
			}

			// Again: everything is up to date, the Certificate Ready.
			before := snapshotWithCertificates(t, ns)
			r = mustSucceed(t, cluster.Run(t, "use-cert", "-n", ns, "--issuer", "ca-issuer", "--ca-secret", "eck-metrics-ca", "--prometheus-namespace", promNS))
			if !strings.Contains(r.Stdout, "[1/7] Certificate: Certificate "+ns+"/elastic-operator-metrics unchanged") {
				t.Errorf("second run:\n%s", r.Stdout)
			}
			framework.AssertUnchanged(t, before, snapshotWithCertificates(t, ns))

			r = mustSucceed(t, cluster.Run(t, "disable", "-n", ns))
			for _, want := range []string{
				"[6/6] Certificate: Certificate " + ns + "/elastic-operator-metrics deleted",
				"left Secret " + ns + "/elastic-operator-metrics-tls: cert-manager keeps it",
				"left Secret eck-metrics-ca in Prometheus's namespace: it holds your CA",
			} {
				if !strings.Contains(r.Stdout, want) {
					t.Errorf("disable output lacks %q:\n%s", want, r.Stdout)
				}
			}
			if n := strings.Count(r.Stdout, "left Secret "+ns+"/elastic-operator-metrics-tls"); n != 1 {
				t.Errorf("disable reports cert-manager's Secret %d times:\n%s", n, r.Stdout)
			}
			if _, err := cluster.Dynamic.Resource(patches.CertificateGVR).Namespace(ns).Get(cluster.Context(t), "elastic-operator-metrics", metav1.GetOptions{}); !apierrors.IsNotFound(err) {
				t.Errorf("the Certificate is still there after disable: %v", err)
			}
			if _, err := cluster.Kube.CoreV1().Secrets(ns).Get(cluster.Context(t), "elastic-operator-metrics-tls", metav1.GetOptions{}); err != nil {
				t.Errorf("disable deleted cert-manager's Secret: %v", err)
			}
		})
	}
}

// use-cert --issuer runs its plan in two parts (the Certificate, then, once
// issued, the rest): each step is numbered in one sequence whose length
// counts the NetworkPolicy of --network-policy and the CA copy of
// --ca-secret.
func TestUseCertIssuerNetworkPolicyNumbersEachStep(t *testing.T) {
	cluster.InstallCertManagerCRDs(t)
	cluster.InstallServiceMonitorCRD(t)
	for _, tc := range []struct {
		name  string
		extra []string
		want  []string
	}{
		{"without --ca-secret", nil,
			[]string{"Certificate", "ConfigMap eck.yaml", "RBAC", "Service", "StatefulSet", "ServiceMonitor", "NetworkPolicy"}},
		{"with --ca-secret", []string{"--ca-secret", "eck-metrics-ca"},
			[]string{"Certificate", "Secrets", "ConfigMap eck.yaml", "RBAC", "Service", "StatefulSet", "ServiceMonitor", "NetworkPolicy"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ns := cluster.NewNamespace(t, "issuer-np")
			promNS := cluster.NewNamespace(t, "prom")
			cluster.InstallFixture(t, "eck-3.5.0-all-in-one.yaml", ns)
			installNetworkPolicies(t, "networkpolicies-default-deny.yaml", ns)
			ca := newTestCA(t)
			createIssuer(t, ns, "ca-issuer", ca, true)

			issued := issueWhenApplied(t, ns, "elastic-operator-metrics", ca)
			args := append([]string{"use-cert", "-n", ns, "--issuer", "ca-issuer", "--network-policy", "--prometheus-namespace", promNS, "--timeout", "1m"}, tc.extra...)
			r := cluster.Run(t, args...)
			<-issued
			mustSucceed(t, r)
			var numbered []string
			for _, line := range strings.Split(r.Stdout, "\n") {
				if strings.HasPrefix(line, "[") {
					numbered = append(numbered, line)
				}
			}
			if len(numbered) != len(tc.want) {
				t.Fatalf("%d numbered lines, want %d:\n%s", len(numbered), len(tc.want), r.Stdout)
			}
			for i, title := range tc.want {
				if prefix := fmt.Sprintf("[%d/%d] %s: ", i+1, len(tc.want), title); !strings.HasPrefix(numbered[i], prefix) {
					t.Errorf("line %d is %q, want it to start with %q", i+1, numbered[i], prefix)
				}
			}
			if !networkPolicyExists(t, ns, "elastic-operator-metrics") {
				t.Error("the NetworkPolicy was not applied")
			}
		})
	}
}

// No cert-manager, no issuer, an issuer not Ready: one line, nothing changed.
func TestUseCertIssuerRefused(t *testing.T) {
	ns := cluster.NewNamespace(t, "issuer-refused")
	cluster.InstallFixture(t, "eck-3.5.0-all-in-one.yaml", ns)
	before := snapshotWithCertificates(t, ns)
	r := cluster.Run(t, "use-cert", "-n", ns, "--issuer", "ca-issuer")
	if r.Err == nil || !strings.Contains(r.Err.Error(), "cert-manager.io/v1 Certificate is not served in this cluster: install cert-manager first; nothing was changed") {
		t.Errorf("without cert-manager: %v", r.Err)
	}
	framework.AssertUnchanged(t, before, snapshotWithCertificates(t, ns))

	cluster.InstallCertManagerCRDs(t)
	ca := newTestCA(t)
	createIssuer(t, ns, "broken", ca, false)
	before = snapshotWithCertificates(t, ns)
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--issuer", "ca-issuer"}, "Issuer " + ns + "/ca-issuer not found: an Issuer must live in the operator's namespace; create it, or name a ClusterIssuer with --issuer-kind ClusterIssuer; nothing was changed"},
		{[]string{"--issuer", "ca-issuer", "--issuer-kind", "ClusterIssuer"}, "ClusterIssuer ca-issuer not found: create it, or name an Issuer of namespace " + ns + " with --issuer-kind Issuer; nothing was changed"},
		{[]string{"--issuer", "broken"}, "Issuer " + ns + "/broken is not Ready (Ready=False (ErrGetKeyPair): Error getting keypair for CA issuer: secrets \"broken-ca\" not found): fix it first (kubectl describe issuer -n " + ns + " broken); nothing was changed"},
		{[]string{"--issuer", "broken", "--secret", "tls"}, "--issuer has cert-manager issue the certificate into secret <service>-tls: drop --secret, --cert, --key and --self-signed"},
	} {
		r := cluster.Run(t, append([]string{"use-cert", "-n", ns}, tc.args...)...)
		if r.Err == nil || r.Err.Error() != tc.want {
			t.Errorf("use-cert %v:\n  got  %v\n  want %s", tc.args, r.Err, tc.want)
		}
	}
	framework.AssertUnchanged(t, before, snapshotWithCertificates(t, ns))
}

// Both dry runs print the Certificate, wait for nothing and change nothing.
func TestUseCertIssuerDryRuns(t *testing.T) {
	cluster.InstallCertManagerCRDs(t)
	ns := cluster.NewNamespace(t, "issuer-dry")
	cluster.InstallFixture(t, "eck-3.5.0-all-in-one.yaml", ns)
	createIssuer(t, ns, "ca-issuer", newTestCA(t), true)
	before := snapshotWithCertificates(t, ns)
	for _, mode := range []string{"client", "server"} {
		r := mustSucceed(t, cluster.Run(t, "use-cert", "-n", ns, "--issuer", "ca-issuer", "--dry-run="+mode))
		label := "(dry run)"
		if mode == "server" {
			label = "(server dry run)"
		}
		for _, want := range []string{
			"[1/6] Certificate: Certificate " + ns + "/elastic-operator-metrics created " + label,
			"secret elastic-operator-metrics-tls is not issued yet, so its certificate is not checked",
		} {
			if !strings.Contains(r.Stderr, want) {
				t.Errorf("--dry-run=%s: progress lacks %q:\n%s", mode, want, r.Stderr)
			}
		}
		if !strings.Contains(r.Stdout, "kind: Certificate") || !strings.Contains(r.Stdout, "- elastic-operator-metrics."+ns+".svc.cluster.local") {
			t.Errorf("--dry-run=%s does not print the Certificate:\n%s", mode, r.Stdout)
		}
		if strings.Contains(r.Stderr, "Waiting for") {
			t.Errorf("--dry-run=%s waited:\n%s", mode, r.Stderr)
		}
	}
	framework.AssertUnchanged(t, before, snapshotWithCertificates(t, ns))
}

// --local renders the Certificate before what use-cert applies, without a
// single API request.
func TestUseCertIssuerLocalGolden(t *testing.T) {
	r := mustSucceed(t, cluster.Run(t, "use-cert", "--local", "--operator-version", "3.5.0", "-n", "eck", "--issuer", "internal-ca", "--issuer-kind", "ClusterIssuer",
		"--duration", "2160h", "--renew-before", "360h", "--ca-secret", "eck-metrics-ca", "--prometheus-namespace", "monitoring"))
	if r.Requests != 0 {
		t.Errorf("--local sent %d API requests", r.Requests)
	}
	if !strings.Contains(r.Stderr, "Warning: --local renders no Secret: copy the ca.crt of secret eck/elastic-operator-metrics-tls, once issued, to secret monitoring/eck-metrics-ca") {
		t.Errorf("stderr:\n%s", r.Stderr)
	}
	compareGolden(t, "gitops/use-cert-issuer.yaml", r.Stdout)
	r = mustSucceed(t, cluster.Run(t, "use-cert", "--local", "--operator-version", "3.5.0", "--issuer", "ca", "--local-part", "patches"))
	if strings.Contains(r.Stdout, "kind: Certificate") {
		t.Errorf("--local-part patches renders the Certificate, a new object:\n%s", r.Stdout)
	}
}

func certificateNotAfter(t testing.TB, ns, name string) string {
	t.Helper()
	s, _, _ := unstructured.NestedString(getCertificate(t, ns, name).Object, "status", "notAfter")
	if s == "" {
		t.Fatalf("Certificate %s/%s has no status.notAfter", ns, name)
	}
	return s
}

// status follows the certificate cert-manager issues: a renewal shows the
// new notAfter; a renewal under a rotated CA leaves the CA copy stale, which
// status warns about with the command that refreshes it, and that command
// does refresh it.
func TestStatusFollowsCertManager(t *testing.T) {
	cluster.InstallCertManagerCRDs(t)
	cluster.InstallServiceMonitorCRD(t)
	ns := cluster.NewNamespace(t, "cm-status")
	promNS := cluster.NewNamespace(t, "cm-prom")
	f := cluster.InstallFixture(t, "eck-3.5.0-all-in-one.yaml", ns)
	ca := newTestCA(t)
	createIssuer(t, ns, "ca-issuer", ca, true)
	issued := issueWhenApplied(t, ns, "elastic-operator-metrics", ca)
	r := cluster.Run(t, "use-cert", "-n", ns, "--issuer", "ca-issuer", "--ca-secret", "eck-metrics-ca", "--prometheus-namespace", promNS)
	<-issued
	mustSucceed(t, r)
	rolledOut(t, ns, f.Name)

	first := certificateNotAfter(t, ns, "elastic-operator-metrics")
	rep, _ := statusOf(t, cluster.Kubeconfig, "-n", ns, "--prometheus-namespace", promNS)
	expectOutcome(t, rep, status.CertificateIssuer, status.Pass, "Certificate "+ns+"/elastic-operator-metrics Ready, notAfter "+first+", renewal at ")
	expectOutcome(t, rep, status.CertificateIssuer, status.Pass, "from Issuer "+ns+"/ca-issuer")
	expectOutcome(t, rep, status.CertificateCACopy, status.Pass, "CA secret "+promNS+"/eck-metrics-ca verifies the certificate of secret elastic-operator-metrics-tls")

	// cert-manager renews: a new certificate from the same CA.
	renewed := issueCertificate(t, ns, "elastic-operator-metrics", ca, 120*24*time.Hour).UTC().Format(time.RFC3339)
	if renewed == first {
		t.Fatal("the renewal did not change notAfter")
	}
	rep, r = statusOf(t, cluster.Kubeconfig, "-n", ns, "--prometheus-namespace", promNS)
	if r.Err != nil {
		t.Errorf("status after a renewal: %v", r.Err)
	}
	expectOutcome(t, rep, status.CertificateIssuer, status.Pass, "notAfter "+renewed)
	expectOutcome(t, rep, status.CertificateServing, status.Pass, "valid until "+renewed)
	expectOutcome(t, rep, status.CertificateCACopy, status.Pass, "verifies")

	// The issuer's CA rotates and cert-manager renews under the new one:
	// Prometheus's copy of the old CA no longer verifies it.
	rotated := newTestCA(t)
	issueCertificate(t, ns, "elastic-operator-metrics", rotated, 90*24*time.Hour)
	rep, r = statusOf(t, cluster.Kubeconfig, "-n", ns, "--prometheus-sa", promNS+"/prometheus", "--check", string(status.CertificateCACopy))
	if r.Err != nil {
		t.Errorf("a stale CA copy is a warning, not a failure: %v", r.Err)
	}
	expectOutcome(t, rep, status.CertificateCACopy, status.Warn, "CA secret "+promNS+"/eck-metrics-ca no longer verifies the certificate of secret elastic-operator-metrics-tls")
	fix := "kubectl eck-metrics use-cert -n " + ns + " --issuer ca-issuer --ca-secret eck-metrics-ca --prometheus-namespace " + promNS
	if c := find(t, rep, status.CertificateCACopy); c.Hint != "refresh the copy: "+fix {
		t.Fatalf("hint %q, want the command %q", c.Hint, fix)
	}
	table := cluster.Run(t, "status", "-n", ns, "--prometheus-namespace", promNS, "--check", string(status.CertificateCACopy))
	if !strings.Contains(table.Stdout, "[warn] CA copy in Prometheus's namespace: ") || !strings.Contains(table.Stdout, "hint: refresh the copy: "+fix) {
		t.Errorf("status table:\n%s", table.Stdout)
	}

	// The fix, run as the hint says.
	r = mustSucceed(t, cluster.Run(t, strings.Fields(strings.TrimPrefix(fix, "kubectl eck-metrics "))...))
	if !strings.Contains(r.Stdout, "Secret "+promNS+"/eck-metrics-ca configured") {
		t.Errorf("the fix did not refresh the copy:\n%s", r.Stdout)
	}
	rep, _ = statusOf(t, cluster.Kubeconfig, "-n", ns, "--prometheus-namespace", promNS)
	expectOutcome(t, rep, status.CertificateCACopy, status.Pass, "verifies")
}

// controllerRuntimeMetricsServer runs controller-runtime's own secure metrics
// server, as the native-mode operator does, reading tls.crt/tls.key from
// certDir at start-up; it returns its /metrics URL.
func controllerRuntimeMetricsServer(t testing.TB, certDir string) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	_ = l.Close()
	httpClient, err := rest.HTTPClientFor(cluster.Config)
	if err != nil {
		t.Fatal(err)
	}
	srv, err := metricsserver.NewServer(metricsserver.Options{SecureServing: true, BindAddress: addr, CertDir: certDir,
		FilterProvider: filters.WithAuthenticationAndAuthorization}, cluster.Config, httpClient)
	if err != nil {
		t.Fatal(err)
	}
	c, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); _ = srv.Start(c) }()
	t.Cleanup(func() { cancel(); <-done })
	url := "https://" + addr + "/metrics"
	err = wait.PollUntilContextTimeout(cluster.Context(t), 50*time.Millisecond, 30*time.Second, true, func(context.Context) (bool, error) {
		conn, err := net.Dial("tcp", addr)
		if err == nil {
			_ = conn.Close()
		}
		return err == nil, nil
	})
	if err != nil {
		t.Fatalf("metrics server at %s: %v", addr, err)
	}
	return url
}

// --probe tells the certificate of the Secret from controller-runtime's
// fallback, which it serves when the files are missing at start-up.
func TestStatusProbeServedCertificate(t *testing.T) {
	cluster.InstallCertManagerCRDs(t)
	ns := cluster.NewNamespace(t, "cm-probe")
	f := cluster.InstallFixture(t, "eck-3.5.0-all-in-one.yaml", ns)
	ca := newTestCA(t)
	createIssuer(t, ns, "ca-issuer", ca, true)
	issued := issueWhenApplied(t, ns, "elastic-operator-metrics", ca)
	r := cluster.Run(t, "use-cert", "-n", ns, "--issuer", "ca-issuer")
	<-issued
	mustSucceed(t, r)
	rolledOut(t, ns, f.Name)

	// Started before the kubelet wrote the files: the localhost fallback.
	empty := controllerRuntimeMetricsServer(t, t.TempDir())
	rep, _ := statusOf(t, cluster.Kubeconfig, "-n", ns, "--metrics-url", empty, "--check", string(status.EndpointCertMatch))
	expectOutcome(t, rep, status.EndpointCertMatch, status.Warn, "the operator serves its generated certificate for localhost, not the one of secret elastic-operator-metrics-tls")
	if c := find(t, rep, status.EndpointCertMatch); !strings.Contains(c.Hint, "kubectl -n "+ns+" rollout restart statefulset elastic-operator") {
		t.Errorf("hint %q", c.Hint)
	}

	// Started with the Secret's files in its directory, as mounted.
	s, err := cluster.Kube.CoreV1().Secrets(ns).Get(cluster.Context(t), "elastic-operator-metrics-tls", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	dir := writeFiles(t, map[string][]byte{"tls.crt": s.Data["tls.crt"], "tls.key": s.Data["tls.key"]})
	mounted := controllerRuntimeMetricsServer(t, dir)
	rep, _ = statusOf(t, cluster.Kubeconfig, "-n", ns, "--metrics-url", mounted, "--check", string(status.EndpointCertMatch))
	expectOutcome(t, rep, status.EndpointCertMatch, status.Pass, "the certificate of secret elastic-operator-metrics-tls")
}

// A Certificate that never becomes Ready: use-cert stops at --timeout,
// says why and that the Certificate stays; nothing else changed.
func TestUseCertIssuerTimeout(t *testing.T) {
	cluster.InstallCertManagerCRDs(t)
	ns := cluster.NewNamespace(t, "issuer-timeout")
	cluster.InstallFixture(t, "eck-3.5.0-all-in-one.yaml", ns)
	createIssuer(t, ns, "ca-issuer", newTestCA(t), true)
	before := cluster.Snapshot(t, ns)
	r := cluster.Run(t, "use-cert", "-n", ns, "--issuer", "ca-issuer", "--timeout", "2s")
	want := "Certificate " + ns + "/elastic-operator-metrics is not Ready after 2s (no Ready condition yet): see kubectl describe certificate -n " + ns + " elastic-operator-metrics; the Certificate stays applied: rerun this command once it is Ready"
	if r.Err == nil || r.Err.Error() != want {
		t.Errorf("got %v\nwant %s", r.Err, want)
	}
	framework.AssertUnchanged(t, before, cluster.Snapshot(t, ns))
	getCertificate(t, ns, "elastic-operator-metrics")
}

// An ACME issuer writes no ca.crt: --ca-secret needs --ca, said before
// anything is written.
func TestUseCertIssuerACMENeedsCA(t *testing.T) {
	cluster.InstallCertManagerCRDs(t)
	ns := cluster.NewNamespace(t, "issuer-acme")
	cluster.InstallFixture(t, "eck-3.5.0-all-in-one.yaml", ns)
	issuer := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "cert-manager.io/v1", "kind": "Issuer",
		"metadata": map[string]any{"name": "letsencrypt", "namespace": ns},
		"spec": map[string]any{"acme": map[string]any{"server": "https://acme-v02.api.letsencrypt.org/directory",
			"privateKeySecretRef": map[string]any{"name": "letsencrypt-account"},
			"solvers":             []any{map[string]any{"http01": map[string]any{"ingress": map[string]any{}}}}}},
	}}
	res := cluster.Dynamic.Resource(patches.IssuerGVR).Namespace(ns)
	created, err := res.Create(cluster.Context(t), issuer, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	created.Object["status"] = map[string]any{"conditions": []any{map[string]any{"type": "Ready", "status": "True", "reason": "ACMEAccountRegistered",
		"message": "The ACME account was registered with the ACME server", "lastTransitionTime": time.Now().UTC().Format(time.RFC3339)}}}
	if _, err := res.UpdateStatus(cluster.Context(t), created, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	before := snapshotWithCertificates(t, ns)
	r := cluster.Run(t, "use-cert", "-n", ns, "--issuer", "letsencrypt", "--ca-secret", "eck-metrics-ca", "--prometheus-namespace", "monitoring")
	want := "Issuer " + ns + "/letsencrypt is an ACME issuer, whose Secrets hold no ca.crt: pass --ca FILE with the CA that signs its certificates for --ca-secret; nothing was changed"
	if r.Err == nil || r.Err.Error() != want {
		t.Errorf("got %v\nwant %s", r.Err, want)
	}
	framework.AssertUnchanged(t, before, snapshotWithCertificates(t, ns))
}

// An issuer that writes no ca.crt, found out once the Certificate is issued:
// --ca-secret says what to pass instead, and nothing but the Certificate
// was applied.
func TestUseCertIssuerWithoutCAKey(t *testing.T) {
	cluster.InstallCertManagerCRDs(t)
	ns := cluster.NewNamespace(t, "issuer-noca")
	cluster.InstallFixture(t, "eck-3.5.0-all-in-one.yaml", ns)
	ca := newTestCA(t)
	withoutCAKey[ca] = true
	createIssuer(t, ns, "ca-issuer", ca, true)
	before := cluster.Snapshot(t, ns)
	issued := issueWhenApplied(t, ns, "elastic-operator-metrics", ca)
	r := cluster.Run(t, "use-cert", "-n", ns, "--issuer", "ca-issuer", "--ca-secret", "eck-metrics-ca", "--prometheus-namespace", "monitoring")
	<-issued
	want := "secret " + ns + "/elastic-operator-metrics-tls has no ca.crt: Issuer " + ns + "/ca-issuer writes none (ACME issuers, for one, do not): pass --ca FILE with the CA that signed it; the Certificate is applied, nothing else was changed"
	if r.Err == nil || r.Err.Error() != want {
		t.Errorf("got %v\nwant %s", r.Err, want)
	}
	after := cluster.Snapshot(t, ns)
	delete(after, "Secret/"+ns+"/elastic-operator-metrics-tls") // written by the issuer, not by use-cert
	framework.AssertUnchanged(t, before, after)

	// With --ca it goes through.
	dir := writeFiles(t, map[string][]byte{"ca.crt": ca.certPEM})
	mustSucceed(t, cluster.Run(t, "use-cert", "-n", ns, "--issuer", "ca-issuer", "--ca-secret", "eck-metrics-ca", "--prometheus-namespace", ns, "--ca", dir+"/ca.crt"))
}

// An operator Argo CD syncs from Git: use-cert --issuer is refused before
// the Certificate is applied, and names the --local render with --issuer.
func TestUseCertIssuerGitOpsRefusal(t *testing.T) {
	cluster.InstallCertManagerCRDs(t)
	argo := gitOpsControllers[0]
	_, f := installByGitOps(t, argo, "gitops-issuer")
	ns := f.Namespace
	createIssuer(t, ns, "ca-issuer", newTestCA(t), true)
	before := snapshotWithCertificates(t, ns)
	r := cluster.Run(t, "use-cert", "-n", ns, "--issuer", "ca-issuer", "--issuer-kind", "Issuer", "--duration", "2160h")
	framework.AssertUnchanged(t, before, snapshotWithCertificates(t, ns))
	if r.Err == nil || !strings.Contains(r.Err.Error(), "is managed by "+argo.owner) {
		t.Fatalf("use-cert --issuer: %v", r.Err)
	}
	want := "--issuer ca-issuer --duration 2160h0m0s"
	if !strings.Contains(r.Err.Error(), "use-cert --local --operator-version 3.5.0 -n "+ns+" --name elastic-operator "+want) {
		t.Errorf("the refusal does not name the render with %q:\n%v", want, r.Err)
	}
}

// use-cert --issuer reads cert-manager's Secret once for its certificate
// and its ca.crt (a dry run does not wait, a run waits with reads of its
// own first), and a user who may not read it gets the one-line read error.
func TestUseCertIssuerReadsSecretOnce(t *testing.T) {
	cluster.InstallCertManagerCRDs(t)
	cluster.InstallServiceMonitorCRD(t)
	ns := cluster.NewNamespace(t, "issuer-reads")
	promNS := cluster.NewNamespace(t, "prom")
	cluster.InstallFixture(t, "eck-3.5.0-all-in-one.yaml", ns)
	ca := newTestCA(t)
	createIssuer(t, ns, "ca-issuer", ca, true)
	args := []string{"use-cert", "-n", ns, "--issuer", "ca-issuer", "--ca-secret", "eck-metrics-ca", "--prometheus-namespace", promNS}
	issued := issueWhenApplied(t, ns, "elastic-operator-metrics", ca)
	r := cluster.Run(t, append(args, "--timeout", "1m")...)
	<-issued
	mustSucceed(t, r)

	secretGET := "GET /api/v1/namespaces/" + ns + "/secrets/elastic-operator-metrics-tls"
	for _, tc := range []struct {
		args  []string
		reads int
	}{
		{[]string{"--dry-run=client"}, 1},
		{[]string{"--dry-run=server"}, 1},
		// WaitForCertificate's check that the Secret holds a certificate, then the read.
		{nil, 2},
	} {
		var log requestLog
		mustSucceed(t, cluster.RunWith(t, cluster.Kubeconfig, log.wrap, append(args, tc.args...)...))
		if n := strings.Count(strings.Join(log.paths, "\n")+"\n", secretGET+"\n"); n != tc.reads {
			t.Errorf("use-cert %v read the issued Secret %d times, want %d:\n%s", tc.args, n, tc.reads, strings.Join(log.paths, "\n"))
		}
	}

	// Everything use-cert --dry-run reads but Secrets.
	noSecrets := cluster.UserWithRules(t, "issuer-no-secrets", rbacv1.PolicyRule{APIGroups: []string{""}, Resources: []string{"configmaps", "services", "serviceaccounts", "pods", "namespaces", "endpoints"}, Verbs: []string{"get", "list"}},
		rbacv1.PolicyRule{APIGroups: []string{"apps", "rbac.authorization.k8s.io", "cert-manager.io", "monitoring.coreos.com"}, Resources: []string{"*"}, Verbs: []string{"get", "list"}})
	before := snapshotWithCertificates(t, ns)
	r = cluster.RunAs(t, noSecrets, append(args, "--dry-run=client")...)
	want := "cannot read secret " + ns + "/elastic-operator-metrics-tls: secrets \"elastic-operator-metrics-tls\" is forbidden: User \"issuer-no-secrets\" cannot get resource \"secrets\" in API group \"\" in the namespace \"" + ns + "\": ask for that permission or run as a user who has it"
	if r.Err == nil || r.Err.Error() != want {
		t.Errorf("without the right to read secrets:\n  got  %v\n  want %s", r.Err, want)
	}
	framework.AssertUnchanged(t, before, snapshotWithCertificates(t, ns))
}
