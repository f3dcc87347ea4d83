package integration

import (
	"github.com/eck-metrics/kubectl-eck-metrics/test/framework"
	"path/filepath"
	"strings"
	"testing"

	"github.com/eck-metrics/kubectl-eck-metrics/pkg/cmd"
	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
)

// kubeconfigFor writes a kubeconfig of one context, "it", for a server and
// a bearer token.
func kubeconfigFor(t testing.TB, server string, ca []byte, token string) string {
	t.Helper()
	cfg := clientcmdapi.NewConfig()
	cfg.Clusters["it"] = &clientcmdapi.Cluster{Server: server, CertificateAuthorityData: ca}
	cfg.AuthInfos["it"] = &clientcmdapi.AuthInfo{Token: token}
	cfg.Contexts["it"] = &clientcmdapi.Context{Cluster: "it", AuthInfo: "it"}
	cfg.CurrentContext = "it"
	path := filepath.Join(t.TempDir(), "kubeconfig")
	if err := clientcmd.WriteToFile(*cfg, path); err != nil {
		t.Fatal(err)
	}
	return path
}

// commandsThatLook are every command that reads the cluster, each with
// what it needs to get as far as looking for the operator.
func commandsThatLook(ns string) [][]string {
	return [][]string{
		{"status", "-n", ns},
		{"enable", "-n", ns},
		{"use-cert", "-n", ns, "--secret", "tls"},
		{"disable", "-n", ns},
		{"version", "-n", ns},
	}
}

// expectCouldNotLook: exit 2, one line that says want, and no report: a
// script tells "could not look" (2) from "a check failed" (1).
func expectCouldNotLook(t testing.TB, r framework.Result, args []string, want ...string) {
	t.Helper()
	if code := cmd.ExitCode(r.Err); code != 2 {
		t.Errorf("%s: exit %d, want 2; err %v\nstdout:\n%s", strings.Join(args, " "), code, r.Err, r.Stdout)
	}
	if r.Err == nil {
		return
	}
	msg := r.Err.Error()
	if strings.Contains(msg, "\n") {
		t.Errorf("%s: not one line: %q", args[0], msg)
	}
	for _, w := range want {
		if !strings.Contains(msg, w) {
			t.Errorf("%s: %q does not say %q", args[0], msg, w)
		}
	}
	// version prints the plugin's version first, as kubectl version does;
	// the others print nothing (status no 11 sections of skips).
	wantOut := ""
	if args[0] == "version" {
		wantOut = "kubectl-eck-metrics dev\n"
	}
	if r.Stdout != wantOut {
		t.Errorf("%s printed %q, want %q", args[0], r.Stdout, wantOut)
	}
}

// server is the test apiserver's URL as the one line names it.
func server() string { return strings.TrimSuffix(cluster.Config.Host, "/") }

func TestExitCodeUnreachableServer(t *testing.T) {
	// Port 1 on loopback: privileged, nothing listens, refused at once.
	kc := kubeconfigFor(t, "https://127.0.0.1:1", nil, "x")
	for _, args := range commandsThatLook("elastic-system") {
		r := cluster.RunAs(t, kc, args...)
		expectCouldNotLook(t, r, args, `cannot reach the Kubernetes API server at https://127.0.0.1:1 (context "it")`, "connection refused", "check --kubeconfig, --context and that the cluster is up")
	}
}

func TestExitCodeCredentialsRefused(t *testing.T) {
	kc := kubeconfigFor(t, cluster.Config.Host, cluster.Config.CAData, "not-a-token")
	for _, args := range commandsThatLook("elastic-system") {
		r := cluster.RunAs(t, kc, args...)
		expectCouldNotLook(t, r, args, "the Kubernetes API server at "+server()+` (context "it") refused the credentials (Unauthorized)`, "log in again")
	}
}

func TestExitCodeOperatorForbidden(t *testing.T) {
	ns := cluster.NewNamespace(t, "forbid")
	cluster.InstallFixture(t, "eck-3.5.0-all-in-one.yaml", ns)
	// May read namespaces, not StatefulSets.
	kc := cluster.UserWithRules(t, "no-statefulsets", rbacv1.PolicyRule{APIGroups: []string{""}, Resources: []string{"namespaces"}, Verbs: []string{"get", "list"}})
	before := cluster.Snapshot(t, ns)
	for _, args := range commandsThatLook(ns) {
		r := cluster.RunAs(t, kc, args...)
		expectCouldNotLook(t, r, args, "cannot look for the ECK operator at "+server()+` (context "envtest")`, `User "no-statefulsets" cannot list resource "statefulsets"`, "ask for get and list on statefulsets.apps")
	}
	// By name: the get is forbidden the same way.
	r := cluster.RunAs(t, kc, "status", "-n", ns, "--name", "elastic-operator")
	expectCouldNotLook(t, r, []string{"status"}, "cannot read StatefulSet "+ns+"/elastic-operator", `cannot get resource "statefulsets"`)
	framework.AssertUnchanged(t, before, cluster.Snapshot(t, ns))
}

func TestExitCodeWrongContext(t *testing.T) {
	for _, args := range commandsThatLook("elastic-system") {
		r := cluster.Run(t, append(args, "--context", "no-such-context")...)
		if code := cmd.ExitCode(r.Err); code != 2 || r.Err == nil || strings.Contains(r.Err.Error(), "\n") ||
			!strings.Contains(r.Err.Error(), `context "no-such-context" does not exist: check --context (kubectl config get-contexts lists them)`) {
			t.Errorf("%s --context no-such-context: exit %d, err %v", args[0], code, r.Err)
		}
	}
}

// 0 when every check passed, 1 when one failed; --fail-on warning turns a
// warning into exit 1, for CI; bad usage is 2.
func TestExitCodeStatusOutcomes(t *testing.T) {
	ns := cluster.NewNamespace(t, "exitst")
	cluster.InstallFixture(t, "eck-3.5.0-all-in-one.yaml", ns)
	if r := cluster.Run(t, "status", "-n", ns); cmd.ExitCode(r.Err) != 1 {
		t.Errorf("status before enable: exit %d, want 1 (the endpoint is not secured)", cmd.ExitCode(r.Err))
	}
	mustSucceed(t, cluster.Run(t, "enable", "-n", ns))
	rolledOut(t, ns, "elastic-operator")
	if r := cluster.Run(t, "status", "-n", ns); cmd.ExitCode(r.Err) != 0 {
		t.Fatalf("status after enable: exit %d, want 0\n%s", cmd.ExitCode(r.Err), r.Stdout)
	}
	// A reader may not ask the API server's questions: warnings, no failure.
	kc := readOnlyUser(t, "exit-reader")
	rep, r := statusOf(t, kc, "-n", ns)
	if code := cmd.ExitCode(r.Err); code != 0 || rep.Summary.Warn == 0 || rep.Summary.Fail != 0 {
		t.Fatalf("status as a reader: exit %d, summary %+v; want 0 with warnings", code, rep.Summary)
	}
	if r := cluster.RunAs(t, kc, "status", "-n", ns, "--fail-on", "warning"); cmd.ExitCode(r.Err) != 1 {
		t.Errorf("status --fail-on warning with %d warnings: exit %d, want 1", rep.Summary.Warn, cmd.ExitCode(r.Err))
	}
	if r := cluster.RunAs(t, kc, "status", "-n", ns, "--fail-on", "failure"); cmd.ExitCode(r.Err) != 0 {
		t.Errorf("status --fail-on failure: exit %d, want 0", cmd.ExitCode(r.Err))
	}
	for _, args := range [][]string{
		{"status", "-n", ns, "--fail-on", "warnings"},
		{"status", "-n", ns, "--bogus"},
		{"status", "-n", ns, "extra"},
		{"enable", "-n", ns, "--port", "0"},
		{"disable", "-n", ns, "--dry-run=maybe"},
	} {
		r := cluster.Run(t, args...)
		if code := cmd.ExitCode(r.Err); code != 2 || r.Err == nil || strings.Contains(r.Err.Error(), "\n") {
			t.Errorf("%s: exit %d, err %v; want 2 and one line", strings.Join(args, " "), code, r.Err)
		}
	}
	// A change refused is 1, as a failed check.
	if r := cluster.Run(t, "enable", "-n", ns, "--port", "9443"); cmd.ExitCode(r.Err) != 1 {
		t.Errorf("enable --port 9443 (the webhook's): exit %d, err %v; want 1", cmd.ExitCode(r.Err), r.Err)
	}
}
