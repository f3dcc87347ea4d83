package integration

import (
	"bytes"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// runPluginProcess runs the plugin as its own process (the test binary
// re-executed), so what klog writes to the process's stderr is seen too.
func runPluginProcess(t testing.TB, args ...string) (string, string, error) {
	t.Helper()
	c := exec.Command(os.Args[0], append([]string{"--kubeconfig", cluster.Kubeconfig}, args...)...)
	c.Env = append(os.Environ(), runPluginEnv+"=1")
	var out, errOut bytes.Buffer
	c.Stdout, c.Stderr = &out, &errOut
	err := c.Run()
	return out.String(), errOut.String(), err
}

// klogLine is the header klog puts before each line (I1125 17:34:06.727212 ...).
var klogLine = regexp.MustCompile(`(?m)^[IWEF]\d{4} \d\d:\d\d:\d\d\.\d+ `)

// The API server's warnings read as kubectl prints them: "Warning: ...",
// once per message, though the StatefulSet is sent twice (the server dry
// run, then the apply) and both answers carry it; never as a klog line.
func TestServerWarningsAsKubectlPrintsThem(t *testing.T) {
	ns := cluster.NewNamespace(t, "warn")
	f := cluster.InstallFixture(t, "eck-3.5.0-all-in-one.yaml", ns)
	sts := getStatefulSet(t, ns, f.Name)
	// A deprecated node label: the API server warns on every write of the template.
	sts.Spec.Template.Spec.NodeSelector = map[string]string{"beta.kubernetes.io/os": "linux"}
	if _, err := cluster.Kube.AppsV1().StatefulSets(ns).Update(cluster.Context(t), sts, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	stdout, stderr, err := runPluginProcess(t, "enable", "-n", ns, "--service-monitor=never")
	if err != nil {
		t.Fatalf("enable: %v\n%s\n%s", err, stdout, stderr)
	}
	var warnings []string
	for _, line := range strings.Split(stderr, "\n") {
		if strings.Contains(line, "beta.kubernetes.io/os") {
			warnings = append(warnings, line)
		}
	}
	if len(warnings) != 1 || !strings.HasPrefix(warnings[0], "Warning: spec.template.spec.nodeSelector[beta.kubernetes.io/os]: deprecated") {
		t.Errorf("want the warning once as kubectl prints it, got %q\nstderr:\n%s", warnings, stderr)
	}
	if klogLine.MatchString(stderr) || strings.Contains(stdout, "beta.kubernetes.io/os") {
		t.Errorf("a klog line or a warning on stdout:\nstdout:\n%s\nstderr:\n%s", stdout, stderr)
	}
	if !strings.Contains(stdout, "[4/5] StatefulSet: StatefulSet "+ns+"/"+f.Name+" configured") {
		t.Errorf("stdout:\n%s", stdout)
	}
}

// -v/--v are klog's, as kubectl's: -v=6 logs each request with its status;
// without it nothing is logged.
func TestVerbosityShowsRequests(t *testing.T) {
	ns := cluster.NewNamespace(t, "verbose")
	f := cluster.InstallFixture(t, "eck-3.5.0-all-in-one.yaml", ns)
	request := regexp.MustCompile(`verb="GET" url="https://[^"]+/apis/apps/v1/namespaces/` + ns + `/statefulsets/` + f.Name + `" status="200 OK"`)
	for _, flag := range []string{"-v=6", "--v=6"} {
		_, stderr, _ := runPluginProcess(t, flag, "status", "-n", ns, "--name", f.Name)
		if !request.MatchString(stderr) || !klogLine.MatchString(stderr) {
			t.Errorf("%s: no request line for the StatefulSet in stderr:\n%s", flag, stderr)
		}
	}
	stdout, stderr, _ := runPluginProcess(t, "status", "-n", ns, "--name", f.Name)
	if !strings.Contains(stdout, "operator found: StatefulSet "+ns+"/"+f.Name) {
		t.Fatalf("status did not run:\n%s\n%s", stdout, stderr)
	}
	if klogLine.MatchString(stderr) {
		t.Errorf("without -v, klog lines:\n%s", stderr)
	}
}
