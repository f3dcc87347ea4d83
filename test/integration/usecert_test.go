package integration

import (
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/eck-metrics/kubectl-eck-metrics/pkg/patches"
	"github.com/eck-metrics/kubectl-eck-metrics/test/framework"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func certVolume(t testing.TB, ns, name string) *corev1.Volume {
	t.Helper()
	for _, v := range getStatefulSet(t, ns, name).Spec.Template.Spec.Volumes {
		if v.Name == "tls-certificate" {
			return &v
		}
	}
	return nil
}

func TestUseCertNative(t *testing.T) {
	ns := cluster.NewNamespace(t, "certnative")
	f := cluster.InstallFixture(t, "eck-3.5.0-all-in-one.yaml", ns)
	ca := newTestCA(t)
	good := ca.goodLeaf(t, ns)
	createTLSSecret(t, ns, "eck-metrics-tls", corev1.SecretTypeTLS, good.data())
	stsBefore := getStatefulSet(t, ns, f.Name)

	// Not enabled yet: use-cert runs the enable steps first.
	r := mustSucceed(t, cluster.Run(t, "use-cert", "--secret", "eck-metrics-tls", "-n", ns))
	framework.AssertNoKeyMaterial(t, r, good.keyPEM)
	for _, want := range []string{
		"[1/5] ConfigMap eck.yaml: ConfigMap " + ns + "/elastic-operator configured",
		"[4/5] StatefulSet: StatefulSet " + ns + "/elastic-operator configured: container manager port metrics 8081, certificate from secret eck-metrics-tls",
		"Certificate CN=elastic-operator-metrics: DNS names elastic-operator-metrics." + ns + ".svc",
	} {
		if !strings.Contains(r.Stdout, want) {
			t.Errorf("output lacks %q:\n%s", want, r.Stdout)
		}
	}
	if !strings.Contains(r.Stderr, `Warning: the certificate is signed by "CN=eck-metrics test CA", a CA this machine does not trust, and no --ca-secret was given`) {
		t.Errorf("no unknown-CA warning:\n%s", r.Stderr)
	}
	if strings.Contains(r.Stderr, "SANs") || strings.Contains(r.Stderr, "expires in") {
		t.Errorf("unexpected warnings:\n%s", r.Stderr)
	}
	v := certVolume(t, ns, f.Name)
	if v == nil || v.Secret == nil || v.Secret.SecretName != "eck-metrics-tls" {
		t.Fatalf("volume %+v", v)
	}
	manager := container(t, getStatefulSet(t, ns, f.Name), "manager")
	var mount *corev1.VolumeMount
	for i := range manager.VolumeMounts {
		if manager.VolumeMounts[i].Name == "tls-certificate" {
			mount = &manager.VolumeMounts[i]
		}
	}
	if mount == nil || mount.MountPath != "/tmp/k8s-metrics-server/serving-certs" || !mount.ReadOnly {
		t.Errorf("mount %+v", mount)
	}
	if n := len(getStatefulSet(t, ns, f.Name).Spec.Template.Spec.Volumes); n != len(stsBefore.Spec.Template.Spec.Volumes)+1 {
		t.Errorf("%d volumes, want the user's plus one", n)
	}

	// Rerun is a no-op; so is enable, which keeps the certificate.
	before := cluster.Snapshot(t, ns)
	mustSucceed(t, cluster.Run(t, "use-cert", "--secret", "eck-metrics-tls", "-n", ns))
	r = mustSucceed(t, cluster.Run(t, "enable", "-n", ns))
	framework.AssertUnchanged(t, before, cluster.Snapshot(t, ns))
	if strings.Count(r.Stdout, " unchanged") != 5 {
		t.Errorf("enable after use-cert:\n%s", r.Stdout)
	}

	// Back to the generated certificate: the volume and mount leave.
	r = mustSucceed(t, cluster.Run(t, "use-cert", "--self-signed", "-n", ns))
	if !strings.Contains(r.Stdout, "self-signed certificate") {
		t.Errorf("output:\n%s", r.Stdout)
	}
	if certVolume(t, ns, f.Name) != nil {
		t.Error("--self-signed left the certificate volume")
	}
	sts := getStatefulSet(t, ns, f.Name)
	if !jsonEqual(container(t, sts, "manager").VolumeMounts, container(t, stsBefore, "manager").VolumeMounts) {
		t.Errorf("mounts %+v", container(t, sts, "manager").VolumeMounts)
	}
	if !jsonEqual(sts.Spec.Template.Spec.Volumes, stsBefore.Spec.Template.Spec.Volumes) {
		t.Errorf("volumes %+v", sts.Spec.Template.Spec.Volumes)
	}
}

func TestUseCertNativeMetricsCertDir(t *testing.T) {
	ns := cluster.NewNamespace(t, "certdir")
	f := cluster.InstallFixture(t, "eck-3.5.0-all-in-one.yaml", ns)
	cm := getConfigMap(t, ns, "elastic-operator")
	cm.Data["eck.yaml"] += "\nmetrics-cert-dir: /etc/eck/metrics-tls"
	if _, err := cluster.Kube.CoreV1().ConfigMaps(ns).Update(cluster.Context(t), cm, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	ca := newTestCA(t)
	createTLSSecret(t, ns, "mine", corev1.SecretTypeTLS, ca.goodLeaf(t, ns).data())
	mustSucceed(t, cluster.Run(t, "use-cert", "--secret", "mine", "-n", ns))
	for _, m := range container(t, getStatefulSet(t, ns, f.Name), "manager").VolumeMounts {
		if m.Name == "tls-certificate" {
			if m.MountPath != "/etc/eck/metrics-tls" {
				t.Errorf("mounted at %s, want metrics-cert-dir", m.MountPath)
			}
			return
		}
	}
	t.Error("no certificate mount")
}

func TestUseCertSidecar(t *testing.T) {
	ns := cluster.NewNamespace(t, "certsidecar")
	f := cluster.InstallFixture(t, "eck-2.15.0-all-in-one.yaml", ns)
	ca := newTestCA(t)
	good := ca.goodLeaf(t, ns)
	createTLSSecret(t, ns, "eck-metrics-tls", corev1.SecretTypeTLS, good.data())
	mustSucceed(t, cluster.Run(t, "enable", "-n", ns))

	r := mustSucceed(t, cluster.Run(t, "use-cert", "--secret", "eck-metrics-tls", "-n", ns))
	framework.AssertNoKeyMaterial(t, r, good.keyPEM)
	proxy := container(t, getStatefulSet(t, ns, f.Name), "kube-rbac-proxy")
	wantArgs := []string{"--secure-listen-address=0.0.0.0:8080", "--upstream=http://127.0.0.1:8081", "--logtostderr=true", "--v=0", "--tls-cert-file=/tls/tls.crt", "--tls-private-key-file=/tls/tls.key"}
	if !jsonEqual(proxy.Args, wantArgs) {
		t.Errorf("args %v", proxy.Args)
	}
	if !jsonEqual(proxy.VolumeMounts, []corev1.VolumeMount{{Name: "tls-certificate", MountPath: "/tls", ReadOnly: true}}) {
		t.Errorf("mounts %+v", proxy.VolumeMounts)
	}
	if v := certVolume(t, ns, f.Name); v == nil || v.Secret.SecretName != "eck-metrics-tls" {
		t.Errorf("volume %+v", v)
	}
	if ms := container(t, getStatefulSet(t, ns, f.Name), "manager").VolumeMounts; len(ms) != 2 {
		t.Errorf("sidecar mode mounted into manager: %+v", ms)
	}

	mustSucceed(t, cluster.Run(t, "use-cert", "--self-signed", "-n", ns))
	proxy = container(t, getStatefulSet(t, ns, f.Name), "kube-rbac-proxy")
	if len(proxy.Args) != 4 || len(proxy.VolumeMounts) != 0 || certVolume(t, ns, f.Name) != nil {
		t.Errorf("--self-signed left %v %+v", proxy.Args, proxy.VolumeMounts)
	}
}

func TestUseCertBadSecrets(t *testing.T) {
	ns := cluster.NewNamespace(t, "badcert")
	cluster.InstallFixture(t, "eck-3.5.0-all-in-one.yaml", ns)
	ca := newTestCA(t)
	good := ca.goodLeaf(t, ns)
	other := ca.goodLeaf(t, ns)
	expired := ca.issue(t, []string{"elastic-operator-metrics." + ns + ".svc"}, time.Now().Add(-48*time.Hour), time.Now().Add(-24*time.Hour))
	future := ca.issue(t, []string{"elastic-operator-metrics." + ns + ".svc"}, time.Now().Add(24*time.Hour), time.Now().Add(48*time.Hour))
	createTLSSecret(t, ns, "opaque", corev1.SecretTypeOpaque, good.data())
	createTLSSecret(t, ns, "no-key", corev1.SecretTypeTLS, map[string][]byte{corev1.TLSCertKey: good.certPEM, corev1.TLSPrivateKeyKey: nil})
	createTLSSecret(t, ns, "garbage", corev1.SecretTypeTLS, map[string][]byte{corev1.TLSCertKey: []byte("not a certificate"), corev1.TLSPrivateKeyKey: good.keyPEM})
	createTLSSecret(t, ns, "mismatch", corev1.SecretTypeTLS, map[string][]byte{corev1.TLSCertKey: good.certPEM, corev1.TLSPrivateKeyKey: other.keyPEM})
	createTLSSecret(t, ns, "expired", corev1.SecretTypeTLS, expired.data())
	createTLSSecret(t, ns, "future", corev1.SecretTypeTLS, future.data())

	for _, tc := range []struct{ secret, want string }{
		{"missing", "secret " + ns + "/missing not found: create it with 'kubectl create secret tls missing -n " + ns + " --cert=FILE --key=FILE', or pass --cert and --key"},
		{"opaque", `secret ` + ns + `/opaque has type "Opaque", want "kubernetes.io/tls"`},
		{"no-key", "secret " + ns + "/no-key has no tls.key"},
		{"garbage", "secret " + ns + "/garbage: tls.crt is not a PEM certificate; nothing was changed"},
		{"mismatch", "secret " + ns + "/mismatch: tls.key does not match the certificate in tls.crt; nothing was changed"},
		{"expired", "secret " + ns + "/expired: the certificate expired on"},
		{"future", "secret " + ns + "/future: the certificate is not valid yet"},
	} {
		t.Run(tc.secret, func(t *testing.T) {
			before := cluster.Snapshot(t, ns)
			r := cluster.Run(t, "use-cert", "--secret", tc.secret, "-n", ns)
			framework.ExpectOneLineRefusal(t, r, tc.want)
			framework.AssertNoKeyMaterial(t, r, good.keyPEM, other.keyPEM)
			framework.AssertUnchanged(t, before, cluster.Snapshot(t, ns))
		})
	}
	// Flag combinations.
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--secret", "a", "--ca-secret", "ca"}, "--ca-secret lives in Prometheus's namespace: give --prometheus-namespace"},
	} {
		before := cluster.Snapshot(t, ns)
		r := cluster.Run(t, append([]string{"use-cert", "-n", ns}, tc.args...)...)
		if r.Err == nil || !strings.Contains(r.Err.Error(), tc.want) {
			t.Errorf("%v: err = %v, want %q", tc.args, r.Err, tc.want)
		}
		framework.AssertUnchanged(t, before, cluster.Snapshot(t, ns))
	}
}

func TestUseCertWarnings(t *testing.T) {
	ns := cluster.NewNamespace(t, "certwarn")
	cluster.InstallFixture(t, "eck-3.5.0-all-in-one.yaml", ns)
	ca := newTestCA(t)
	soon := ca.issue(t, []string{"elastic-operator-metrics." + ns + ".svc"}, time.Now().Add(-time.Hour), time.Now().Add(10*24*time.Hour))
	wrongName := ca.issue(t, []string{"metrics.example.com", "eck.example.com"}, time.Now().Add(-time.Hour), time.Now().Add(365*24*time.Hour))
	createTLSSecret(t, ns, "soon", corev1.SecretTypeTLS, soon.data())
	createTLSSecret(t, ns, "wrong-name", corev1.SecretTypeTLS, wrongName.data())

	r := mustSucceed(t, cluster.Run(t, "use-cert", "--secret", "soon", "-n", ns))
	if !strings.Contains(r.Stderr, "Warning: the certificate expires in 9 days") && !strings.Contains(r.Stderr, "Warning: the certificate expires in 10 days") {
		t.Errorf("no expiry warning:\n%s", r.Stderr)
	}
	if v := certVolume(t, ns, "elastic-operator"); v == nil || v.Secret.SecretName != "soon" {
		t.Error("a warning must not stop the apply")
	}
	r = mustSucceed(t, cluster.Run(t, "use-cert", "--secret", "wrong-name", "-n", ns))
	want := "Warning: the certificate's SANs (metrics.example.com, eck.example.com) do not contain elastic-operator-metrics." + ns + ".svc, so Prometheus's verification will fail"
	if !strings.Contains(r.Stderr, want) {
		t.Errorf("stderr lacks %q:\n%s", want, r.Stderr)
	}
}

func TestUseCertFromFilesWithCA(t *testing.T) {
	cluster.InstallServiceMonitorCRD(t)
	ns := cluster.NewNamespace(t, "certfiles")
	prom := cluster.NewNamespace(t, "monitoring")
	f := cluster.InstallFixture(t, "eck-3.5.0-all-in-one.yaml", ns)
	ca := newTestCA(t)
	good := ca.goodLeaf(t, ns)
	dir := writeFiles(t, map[string][]byte{"tls.crt": good.certPEM, "tls.key": good.keyPEM, "ca.crt": ca.certPEM})
	args := []string{"use-cert", "-n", ns, "--secret", "eck-metrics-tls",
		"--cert", filepath.Join(dir, "tls.crt"), "--key", filepath.Join(dir, "tls.key"),
		"--ca-secret", "eck-metrics-ca", "--ca", filepath.Join(dir, "ca.crt"), "--prometheus-namespace", prom}

	// Both dry runs: nothing moves, no key material.
	before, beforeProm := cluster.Snapshot(t, ns), cluster.Snapshot(t, prom)
	for _, dry := range []string{"--dry-run=client", "--dry-run=server"} {
		for _, out := range []string{"yaml", "json"} {
			r := mustSucceed(t, cluster.Run(t, append(args, dry, "-o", out)...))
			framework.AssertNoKeyMaterial(t, r, good.keyPEM)
			if !strings.Contains(r.Stdout, "REDACTED") || !strings.Contains(r.Stdout, "kubernetes.io/tls") {
				t.Errorf("%s -o %s: the Secret is not printed redacted:\n%s", dry, out, r.Stdout)
			}
		}
	}
	framework.AssertUnchanged(t, before, cluster.Snapshot(t, ns))
	framework.AssertUnchanged(t, beforeProm, cluster.Snapshot(t, prom))

	r := mustSucceed(t, cluster.Run(t, args...))
	framework.AssertNoKeyMaterial(t, r, good.keyPEM)
	if strings.Contains(r.Stderr, "Warning") {
		t.Errorf("a certificate signed by the given CA should not warn:\n%s", r.Stderr)
	}
	for _, want := range []string{
		"[1/6] Secrets: Secret " + ns + "/eck-metrics-tls created; Secret " + prom + "/eck-metrics-ca created",
		"[6/6] ServiceMonitor: ServiceMonitor " + ns + "/elastic-operator created",
		"mount secret eck-metrics-ca in your Prometheus resource (namespace " + prom + "):\n  spec:\n    secrets:\n    - eck-metrics-ca",
	} {
		if !strings.Contains(r.Stdout, want) {
			t.Errorf("output lacks %q:\n%s", want, r.Stdout)
		}
	}
	secret, err := cluster.Kube.CoreV1().Secrets(ns).Get(cluster.Context(t), "eck-metrics-tls", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if secret.Type != corev1.SecretTypeTLS || string(secret.Data["tls.crt"]) != string(good.certPEM) || string(secret.Data["tls.key"]) != string(good.keyPEM) {
		t.Errorf("secret %s with keys %d", secret.Type, len(secret.Data))
	}
	caSecret, err := cluster.Kube.CoreV1().Secrets(prom).Get(cluster.Context(t), "eck-metrics-ca", metav1.GetOptions{})
	if err != nil || string(caSecret.Data["ca.crt"]) != string(ca.certPEM) {
		t.Errorf("CA secret: %v", err)
	}
	sm, err := cluster.Dynamic.Resource(patches.ServiceMonitorGVR).Namespace(ns).Get(cluster.Context(t), "elastic-operator", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	tls := sm.Object["spec"].(map[string]any)["endpoints"].([]any)[0].(map[string]any)["tlsConfig"]
	wantTLS := map[string]any{"insecureSkipVerify": false, "caFile": "/etc/prometheus/secrets/eck-metrics-ca/ca.crt", "serverName": "elastic-operator-metrics." + ns + ".svc"}
	if !jsonEqual(tls, wantTLS) {
		t.Errorf("tlsConfig %v, want %v", tls, wantTLS)
	}

	// Rerun: a no-op; enable keeps the CA setup too.
	before, beforeProm = cluster.Snapshot(t, ns), cluster.Snapshot(t, prom)
	mustSucceed(t, cluster.Run(t, args...))
	mustSucceed(t, cluster.Run(t, "enable", "-n", ns))
	framework.AssertUnchanged(t, before, cluster.Snapshot(t, ns))
	framework.AssertUnchanged(t, beforeProm, cluster.Snapshot(t, prom))

	// --self-signed: back to insecureSkipVerify.
	mustSucceed(t, cluster.Run(t, "use-cert", "--self-signed", "-n", ns))
	sm, _ = cluster.Dynamic.Resource(patches.ServiceMonitorGVR).Namespace(ns).Get(cluster.Context(t), "elastic-operator", metav1.GetOptions{})
	tls = sm.Object["spec"].(map[string]any)["endpoints"].([]any)[0].(map[string]any)["tlsConfig"]
	if !jsonEqual(tls, map[string]any{"insecureSkipVerify": true}) {
		t.Errorf("tlsConfig after --self-signed: %v", tls)
	}
	if certVolume(t, ns, f.Name) != nil {
		t.Error("volume left")
	}
	// The CA given must have signed the certificate.
	otherCA := newTestCA(t)
	dir2 := writeFiles(t, map[string][]byte{"ca.crt": otherCA.certPEM})
	r = cluster.Run(t, "use-cert", "-n", ns, "--secret", "eck-metrics-tls", "--ca-secret", "other-ca", "--ca", filepath.Join(dir2, "ca.crt"), "--prometheus-namespace", prom)
	if r.Err == nil || !strings.Contains(r.Err.Error(), "the certificate is not signed by the given CA") {
		t.Errorf("err = %v", r.Err)
	}
}

func TestUseCertDryRunGolden(t *testing.T) {
	for _, tc := range []struct{ file, golden string }{
		{"eck-3.5.0-all-in-one.yaml", "use-cert-native.yaml"},
		{"eck-2.15.0-all-in-one.yaml", "use-cert-sidecar.yaml"},
	} {
		t.Run(tc.golden, func(t *testing.T) {
			ns := "golden-" + strings.TrimSuffix(tc.golden, ".yaml")
			cluster.EnsureNamespace(t, ns)
			cluster.InstallFixture(t, tc.file, ns)
			ca := newTestCA(t)
			good := ca.goodLeaf(t, ns)
			dir := writeFiles(t, map[string][]byte{"tls.crt": good.certPEM, "tls.key": good.keyPEM})
			before := cluster.Snapshot(t, ns)
			r := mustSucceed(t, cluster.Run(t, "use-cert", "-n", ns, "--secret", "eck-metrics-tls", "--cert", filepath.Join(dir, "tls.crt"), "--key", filepath.Join(dir, "tls.key"), "--dry-run=client"))
			framework.AssertUnchanged(t, before, cluster.Snapshot(t, ns))
			framework.AssertNoKeyMaterial(t, r, good.keyPEM)
			compareGolden(t, filepath.Join("use-cert", tc.golden), r.Stdout)
		})
	}
}
