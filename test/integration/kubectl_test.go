package integration

import (
	"bytes"
	"github.com/eck-metrics/kubectl-eck-metrics/test/framework"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// buildPlugin builds the plugin binary under the name kubectl looks for.
func buildPlugin(t testing.TB) string {
	t.Helper()
	dir := t.TempDir()
	bin := filepath.Join(dir, "kubectl-eck_metrics")
	build := exec.Command("go", "build", "-o", bin, "./cmd/kubectl-eck-metrics")
	build.Dir = framework.RepoRoot()
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return dir
}

// kubectl runs the real kubectl (built from source by make test) with the
// plugin's folder first on PATH.
func kubectl(t testing.TB, pluginDir string, args ...string) (string, string, error) {
	t.Helper()
	kubectlBin := filepath.Join(framework.RepoRoot(), "bin", "k8s", "kubectl")
	if _, err := os.Stat(kubectlBin); err != nil {
		t.Fatalf("missing %s: run 'make test', which builds it", kubectlBin)
	}
	c := exec.Command(kubectlBin, args...)
	// Only the plugin's folder and the system's: a plugin installed on this
	// machine (make install) would overshadow the one under test.
	c.Env = append(os.Environ(), "PATH="+pluginDir+":/usr/bin:/bin", "KUBECONFIG="+cluster.Kubeconfig)
	var out, errOut bytes.Buffer
	c.Stdout, c.Stderr = &out, &errOut
	err := c.Run()
	return out.String(), errOut.String(), err
}

func TestKubectlFindsAndRunsPlugin(t *testing.T) {
	ns := cluster.NewNamespace(t, "kubectl")
	cluster.InstallFixture(t, "eck-3.5.0-all-in-one.yaml", ns)
	dir := buildPlugin(t)

	out, _, err := kubectl(t, dir, "plugin", "list")
	if err != nil || !strings.Contains(out, filepath.Join(dir, "kubectl-eck_metrics")) {
		t.Errorf("kubectl plugin list: %v\n%s", err, out)
	}

	before := cluster.Snapshot(t, ns)
	out, stderr, err := kubectl(t, dir, "eck-metrics", "enable", "--dry-run=client", "-n", ns)
	if err != nil {
		t.Fatalf("kubectl eck-metrics enable --dry-run=client: %v\n%s", err, stderr)
	}
	for _, want := range []string{"kind: ConfigMap", "metrics-secure: true", "kind: StatefulSet", "containerPort: 8081"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	if !strings.Contains(stderr, "[4/5] StatefulSet") {
		t.Errorf("stderr:\n%s", stderr)
	}
	framework.AssertUnchanged(t, before, cluster.Snapshot(t, ns))

	// Help names the command as the user types it.
	out, _, err = kubectl(t, dir, "eck-metrics", "--help")
	if err != nil || !strings.Contains(out, "kubectl eck-metrics [command]") {
		t.Errorf("help: %v\n%s", err, out)
	}
}

// kubectl completes "kubectl eck-metrics ..." through the
// kubectl_complete-eck_metrics script shipped next to the plugin.
func TestKubectlCompletesPlugin(t *testing.T) {
	ns := cluster.NewNamespace(t, "complete")
	cluster.InstallFixture(t, "eck-3.5.0-all-in-one.yaml", ns)
	ca := newTestCA(t)
	createTLSSecret(t, ns, "metrics-tls-a", "kubernetes.io/tls", ca.goodLeaf(t, ns).data())
	createTLSSecret(t, ns, "metrics-tls-b", "kubernetes.io/tls", ca.goodLeaf(t, ns).data())
	createTLSSecret(t, ns, "not-tls", "Opaque", map[string][]byte{"x": []byte("y")})
	dir := buildPlugin(t)
	script, err := os.ReadFile(filepath.Join(framework.RepoRoot(), "scripts", "kubectl_complete-eck_metrics"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "kubectl_complete-eck_metrics"), script, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		args []string
		want []string
		not  []string
	}{
		{[]string{"__complete", "eck-metrics", ""}, []string{"enable", "use-cert", "status", "disable", "completion", "version"}, nil},
		{[]string{"__complete", "eck-metrics", "enable", "--mode", ""}, []string{"native", "sidecar"}, nil},
		{[]string{"__complete", "eck-metrics", "enable", "--dry-run="}, []string{"none", "client", "server"}, nil},
		{[]string{"__complete", "eck-metrics", "use-cert", "-n", ns, "--secret", ""}, []string{"metrics-tls-a", "metrics-tls-b"}, []string{"not-tls"}},
	} {
		out, stderr, err := kubectl(t, dir, tc.args...)
		if err != nil {
			t.Errorf("kubectl %v: %v\n%s", tc.args, err, stderr)
			continue
		}
		lines := strings.Split(out, "\n")
		for _, w := range tc.want {
			if !containsLine(lines, w) {
				t.Errorf("kubectl %v does not offer %q:\n%s", tc.args, w, out)
			}
		}
		for _, w := range tc.not {
			if containsLine(lines, w) {
				t.Errorf("kubectl %v offers %q:\n%s", tc.args, w, out)
			}
		}
	}
}

// containsLine matches a completion line (cobra adds "\tdescription").
func containsLine(lines []string, want string) bool {
	for _, l := range lines {
		if l == want || strings.HasPrefix(l, want+"\t") {
			return true
		}
	}
	return false
}
