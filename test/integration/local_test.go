package integration

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// --local renders for GitOps without a single API request.
func TestEnableLocalGolden(t *testing.T) {
	eck := filepath.Join(repoRoot(), "testdata", "gitops", "eck.yaml")
	ca := newTestCA(t)
	good := ca.goodLeaf(t, "eck")
	dir := writeFiles(t, map[string][]byte{"tls.crt": good.certPEM, "tls.key": good.keyPEM})
	for _, tc := range []struct {
		golden string
		args   []string
	}{
		{"enable-native-with-eck-yaml.yaml", []string{"enable", "--local", "--operator-version", "3.5.0", "-f", eck}},
		{"enable-native-keys-only.yaml", []string{"enable", "--local", "--operator-version", "3.5.0"}},
		{"enable-sidecar-custom.yaml", []string{"enable", "--local", "--operator-version", "2.15.0", "-n", "eck", "--name", "my-eck", "--service-account", "eck-operator-sa", "--service-monitor-label", "release=prometheus"}},
		{"enable-native-patches.yaml", []string{"enable", "--local", "--operator-version", "3.5.0", "-f", eck, "--local-part", "patches"}},
		{"enable-native-resources.yaml", []string{"enable", "--local", "--operator-version", "3.5.0", "--local-part", "resources"}},
		{"use-cert-native.yaml", []string{"use-cert", "--local", "--operator-version", "3.5.0", "-n", "eck", "--secret", "eck-metrics-tls", "--cert", filepath.Join(dir, "tls.crt"), "--key", filepath.Join(dir, "tls.key"), "--ca-secret", "eck-metrics-ca", "--prometheus-namespace", "monitoring"}},
		{"use-cert-sidecar.yaml", []string{"use-cert", "--local", "--operator-version", "2.15.0", "--secret", "eck-metrics-tls"}},
		{"enable-podmonitor-resources.yaml", []string{"enable", "--local", "--operator-version", "3.5.0", "--local-part", "resources", "--monitor", "podmonitor",
			"--monitor-label", "release=prometheus", "--monitor-annotation", "team=platform", "--interval", "1m", "--scrape-timeout", "20s"}},
		{"use-cert-secret-auth.yaml", []string{"use-cert", "--local", "--operator-version", "3.5.0", "--local-part", "resources", "--secret", "eck-metrics-tls", "--ca-secret", "eck-metrics-ca", "--scrape-auth", "secret"}},
	} {
		t.Run(tc.golden, func(t *testing.T) {
			r := mustSucceed(t, run(t, tc.args...))
			if r.requests != 0 {
				t.Errorf("--local sent %d API requests", r.requests)
			}
			assertNoKeyMaterial(t, r, good.keyPEM)
			compareGolden(t, filepath.Join("gitops", tc.golden), r.stdout)
		})
	}
	r := mustSucceed(t, run(t, "enable", "--local", "--operator-version", "3.5.0"))
	if !strings.Contains(r.stderr, "Warning: without -f, the ConfigMap holds only the metrics keys") {
		t.Errorf("stderr:\n%s", r.stderr)
	}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"enable", "--local"}, "--local needs --operator-version"},
		{[]string{"enable", "--local", "--operator-version", "banana"}, `invalid --operator-version: "banana" is not an ECK version: use MAJOR.MINOR[.PATCH], e.g. 3.5 or 3.5.0`},
		{[]string{"enable", "--local", "--operator-version", "2.11.0"}, "ECK 2.11.0 is not supported"},
		{[]string{"enable", "--local", "--operator-version", "3.5.0", "--local-part", "some"}, `invalid --local-part "some"`},
		{[]string{"enable", "--local", "--operator-version", "3.5.0", "--dry-run=server"}, "--local only renders"},
		{[]string{"enable", "--operator-version", "3.5.0"}, "--operator-version is for --local rendering"},
		{[]string{"enable", "--local", "--operator-version", "3.5.0", "-f", "/nonexistent/eck.yaml"}, "cannot read -f"},
		{[]string{"enable", "--local", "--operator-version", "3.5.0", "--port", "9443", "-f", eck}, "--port 9443 collides with the webhook port"},
	} {
		r := run(t, tc.args...)
		if r.err == nil || !strings.Contains(r.err.Error(), tc.want) || r.requests != 0 {
			t.Errorf("%v: err = %v (requests %d), want %q", tc.args, r.err, r.requests, tc.want)
		}
	}
}

// The README's kustomize flow, run by real kubectl's built-in kustomize: the
// rendered resources and patches on top of an all-in-one install.
func TestLocalRenderWithKustomize(t *testing.T) {
	dir := t.TempDir()
	base, err := os.ReadFile(filepath.Join(repoRoot(), "testdata", "fixtures", "eck-3.5.0-all-in-one.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	files := map[string]string{"operator.yaml": string(base)}
	eck := filepath.Join(repoRoot(), "testdata", "gitops", "eck.yaml")
	for part, file := range map[string]string{"resources": "eck-metrics-resources.yaml", "patches": "eck-metrics-patches.yaml"} {
		r := mustSucceed(t, run(t, "enable", "--local", "--operator-version", "3.5.0", "-f", eck, "--local-part", part))
		files[file] = r.stdout
	}
	files["kustomization.yaml"] = `apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
resources:
- operator.yaml
- eck-metrics-resources.yaml
patches:
- path: eck-metrics-patches.yaml
`
	for name, content := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	out, stderr, err := kubectl(t, t.TempDir(), "kustomize", dir)
	if err != nil {
		t.Fatalf("kubectl kustomize: %v\n%s", err, stderr)
	}
	for _, want := range []string{
		"metrics-port: 8081", "metrics-secure: true", "max-concurrent-reconciles: 3 # raised after incident 1337",
		"containerPort: 9443", "containerPort: 8081", "name: WEBHOOK_SECRET", "kind: ClusterRoleBinding", "name: elastic-operator-metrics", "kind: ServiceMonitor",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("kustomize output lacks %q:\n%s", want, out)
		}
	}
}
