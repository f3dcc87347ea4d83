package integration

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/eck-metrics/kubectl-eck-metrics/pkg/patches"
	"github.com/eck-metrics/kubectl-eck-metrics/test/framework"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/client-go/tools/clientcmd"
)

// installCompletionHelper puts scripts/kubectl_complete-eck_metrics next
// to the built plugin, as make install does.
func installCompletionHelper(t *testing.T, pluginDir string) {
	t.Helper()
	script, err := os.ReadFile(filepath.Join(framework.RepoRoot(), "scripts", "kubectl_complete-eck_metrics"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(pluginDir, "kubectl_complete-eck_metrics"), script, 0o755); err != nil {
		t.Fatal(err)
	}
}

// Flag values complete from the test apiserver and the kubeconfig, through
// the real kubectl's plugin completion: kubectl runs the helper script,
// which runs the plugin's __complete.
func TestCompletionThroughKubectlFromTheCluster(t *testing.T) {
	ns := cluster.NewNamespace(t, "compl")
	cluster.InstallFixture(t, "eck-3.5.0-all-in-one.yaml", ns)
	cluster.InstallCertManagerCRDs(t)
	createIssuer(t, ns, "ca-issuer", newTestCA(t), true)
	clusterIssuer := "ci-" + ns
	issuers := cluster.Dynamic.Resource(patches.ClusterIssuerGVR)
	if _, err := issuers.Create(cluster.Context(t), &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "cert-manager.io/v1", "kind": "ClusterIssuer",
		"metadata": map[string]any{"name": clusterIssuer},
		"spec":     map[string]any{"selfSigned": map[string]any{}},
	}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = issuers.Delete(cluster.Context(t), clusterIssuer, metav1.DeleteOptions{}) })
	kubeconfig, err := clientcmd.LoadFromFile(cluster.Kubeconfig)
	if err != nil || len(kubeconfig.Contexts) == 0 {
		t.Fatalf("kubeconfig %s: %v, %d contexts", cluster.Kubeconfig, err, len(kubeconfig.Contexts))
	}
	var contexts []string
	for name := range kubeconfig.Contexts {
		contexts = append(contexts, name)
	}
	dir := buildPlugin(t)
	installCompletionHelper(t, dir)

	needsN := "elastic-operator\tECK operator in namespace " + ns + ": add -n " + ns
	for _, tc := range []struct {
		args      []string
		want, not []string
	}{
		{[]string{"enable", "-n", ""}, []string{ns, "default", "kube-system"}, nil},
		{[]string{"status", "--namespace", ns[:len(ns)-2]}, []string{ns}, []string{"default"}},
		{[]string{"enable", "--prometheus-namespace", ""}, []string{ns, "default"}, nil},
		{[]string{"status", "--context", ""}, contexts, nil},
		{[]string{"enable", "-n", ns, "--name", ""}, []string{"elastic-operator"}, []string{needsN}},
		{[]string{"disable", "--name", ""}, []string{needsN}, nil},
		{[]string{"use-cert", "-n", ns, "--issuer", ""}, []string{"ca-issuer", clusterIssuer}, nil},
		{[]string{"use-cert", "-n", ns, "--issuer-kind", "ClusterIssuer", "--issuer", ""}, []string{clusterIssuer}, []string{"ca-issuer"}},
		{[]string{"use-cert", "-n", ns, "--issuer-kind", "Issuer", "--issuer", ""}, []string{"ca-issuer"}, []string{clusterIssuer}},
		{[]string{"status", "--check", ""}, []string{"rbac", "rbac.binding", "network-policy", "live-endpoint.token"}, nil},
		{[]string{"enable", "--scrape-auth", ""}, []string{"file", "secret"}, nil},
		{[]string{"enable", "-o", ""}, []string{"yaml", "json", "name", "jsonpath", "go-template"}, nil},
		{[]string{"status", "-o", ""}, []string{"table", "json"}, nil},
		{[]string{"completion", ""}, []string{"sh", "cmd"}, nil},
	} {
		args := append([]string{"__complete", "eck-metrics"}, tc.args...)
		out, stderr, err := kubectl(t, dir, args...)
		if err != nil {
			t.Errorf("kubectl %v: %v\n%s", args, err, stderr)
			continue
		}
		lines := strings.Split(out, "\n")
		for _, w := range tc.want {
			if !containsLine(lines, w) && !slices.Contains(lines, w) {
				t.Errorf("kubectl %v does not offer %q:\n%s", args, w, out)
			}
		}
		for _, w := range tc.not {
			if slices.Contains(lines, w) || (!strings.Contains(w, "\t") && containsLine(lines, w)) {
				t.Errorf("kubectl %v offers %q:\n%s", args, w, out)
			}
		}
	}
}

// completion prints the helper kubectl runs; a shell's name gets one line
// saying what to run instead (kubectl's own completion).
func TestCompletionCommandPrintsTheHelper(t *testing.T) {
	script, err := os.ReadFile(filepath.Join(framework.RepoRoot(), "scripts", "kubectl_complete-eck_metrics"))
	if err != nil {
		t.Fatal(err)
	}
	if r := mustSucceed(t, cluster.Run(t, "completion")); r.Stdout != string(script) {
		t.Errorf("completion printed\n%s\nwant scripts/kubectl_complete-eck_metrics:\n%s", r.Stdout, script)
	}
	for _, shell := range []string{"bash", "zsh", "fish", "powershell"} {
		framework.ExpectOneLineRefusal(t, cluster.Run(t, "completion", shell), "kubectl completion "+shell)
	}
}
