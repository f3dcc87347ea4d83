package integration

import (
	"encoding/json"
	"net"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/eck-metrics/kubectl-eck-metrics/pkg/cmd"
	"github.com/eck-metrics/kubectl-eck-metrics/test/framework"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
)

// fleetSetup is three real API servers in one kubeconfig: "native" (this
// package's cluster, ECK 3.5.0), "sidecar" (a control plane of its own, ECK
// 2.15.0) and "stopped" (a control plane started, then stopped).
type fleetSetup struct {
	kubeconfig string
	sidecar    *framework.Cluster
	// servers by context.
	servers map[string]string
	// sidecarNS holds the sidecar install, not enabled yet.
	sidecarNS, sidecarName string
}

// startFleet starts the two more control planes (the caller's cleanup
// stops the one left running) and installs ECK in the live ones; native is
// enabled and rolled out, sidecar only installed.
func startFleet(t testing.TB) *fleetSetup {
	t.Helper()
	sidecar, err := framework.Start(framework.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = sidecar.Stop() })
	stopped, err := framework.Start(framework.Options{})
	if err != nil {
		t.Fatal(err)
	}
	stoppedConfig, err := clientcmd.LoadFromFile(stopped.Kubeconfig)
	if err != nil {
		t.Fatal(err)
	}
	if err := stopped.Stop(); err != nil {
		t.Fatal(err)
	}

	cluster.InstallServiceMonitorCRD(t)
	ns := cluster.NewNamespace(t, "fleet")
	f := cluster.InstallFixture(t, "eck-3.5.0-all-in-one.yaml", ns)
	mustSucceed(t, cluster.Run(t, "enable", "-n", ns))
	rolledOut(t, ns, f.Name)

	sidecar.InstallServiceMonitorCRD(t)
	sns := sidecar.NewNamespace(t, "fleet")
	sf := sidecar.InstallFixture(t, "eck-2.15.0-all-in-one.yaml", sns)

	s := &fleetSetup{sidecar: sidecar, sidecarNS: sns, sidecarName: sf.Name, servers: map[string]string{}}
	merged := clientcmdapi.NewConfig()
	for name, file := range map[string]string{"native": cluster.Kubeconfig, "sidecar": sidecar.Kubeconfig} {
		cfg, err := clientcmd.LoadFromFile(file)
		if err != nil {
			t.Fatal(err)
		}
		s.addContext(merged, name, cfg)
	}
	s.addContext(merged, "stopped", stoppedConfig)
	s.kubeconfig = writeKubeconfig(t, merged)
	return s
}

// addContext adds the current context of cfg under name.
func (s *fleetSetup) addContext(merged *clientcmdapi.Config, name string, cfg *clientcmdapi.Config) {
	ctx := cfg.Contexts[cfg.CurrentContext]
	merged.Clusters[name] = cfg.Clusters[ctx.Cluster]
	merged.AuthInfos[name] = cfg.AuthInfos[ctx.AuthInfo]
	merged.Contexts[name] = &clientcmdapi.Context{Cluster: name, AuthInfo: name}
	merged.CurrentContext = name
	s.servers[name] = strings.TrimSuffix(cfg.Clusters[ctx.Cluster].Server, "/")
}

func writeKubeconfig(t testing.TB, cfg *clientcmdapi.Config) string {
	t.Helper()
	path := t.TempDir() + "/kubeconfig"
	if err := clientcmd.WriteToFile(*cfg, path); err != nil {
		t.Fatal(err)
	}
	return path
}

// enableSidecar enables and rolls out the sidecar install.
func (s *fleetSetup) enableSidecar(t testing.TB) {
	t.Helper()
	mustSucceed(t, s.sidecar.Run(t, "enable", "-n", s.sidecarNS))
	sts, err := s.sidecar.Kube.AppsV1().StatefulSets(s.sidecarNS).Get(s.sidecar.Context(t), s.sidecarName, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	sts.Status = appsStatus(sts.Generation)
	if _, err := s.sidecar.Kube.AppsV1().StatefulSets(s.sidecarNS).UpdateStatus(s.sidecar.Context(t), sts, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
}

// hungServer accepts connections and never answers, as a cluster behind a
// dead load balancer does; its address is a context "hung".
func hungServer(t testing.TB, s *fleetSetup) {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var conns []net.Conn
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			conns = append(conns, c)
		}
	}()
	t.Cleanup(func() {
		_ = l.Close()
		<-done
		for _, c := range conns {
			_ = c.Close()
		}
	})
	cfg, err := clientcmd.LoadFromFile(s.kubeconfig)
	if err != nil {
		t.Fatal(err)
	}
	cfg.Clusters["hung"] = &clientcmdapi.Cluster{Server: "https://" + l.Addr().String(), InsecureSkipTLSVerify: true}
	cfg.AuthInfos["hung"] = &clientcmdapi.AuthInfo{Token: "t"}
	cfg.Contexts["hung"] = &clientcmdapi.Context{Cluster: "hung", AuthInfo: "hung"}
	s.servers["hung"] = "https://" + l.Addr().String()
	if err := clientcmd.WriteToFile(*cfg, s.kubeconfig); err != nil {
		t.Fatal(err)
	}
}

// fleetEntry is an entry of status's list, as a script reads it.
type fleetEntry struct {
	Context   string   `json:"context"`
	Server    string   `json:"server"`
	Namespace string   `json:"namespace"`
	Name      string   `json:"name"`
	Operator  string   `json:"operator"`
	Version   string   `json:"version"`
	Mode      string   `json:"mode"`
	Verdict   string   `json:"verdict"`
	Reason    string   `json:"reason"`
	Failed    []string `json:"failed"`
	Checks    []struct {
		ID      string `json:"id"`
		Outcome string `json:"outcome"`
	} `json:"checks"`
}

func decodeEntries(t testing.TB, r framework.Result) map[string]fleetEntry {
	t.Helper()
	var list []fleetEntry
	if err := json.Unmarshal([]byte(r.Stdout), &list); err != nil {
		t.Fatalf("not a JSON list: %v\n%s\nstderr:\n%s", err, r.Stdout, r.Stderr)
	}
	byKey := map[string]fleetEntry{}
	for _, e := range list {
		key := e.Context
		if key == "" {
			key = e.Namespace
		}
		if _, dup := byKey[key]; dup {
			t.Errorf("two entries for %s:\n%s", key, r.Stdout)
		}
		byKey[key] = e
	}
	return byKey
}

// expectChecked: the entry is that operator, with its checks and verdict.
func expectChecked(t testing.TB, e fleetEntry, server, version, mode, verdict string) {
	t.Helper()
	if e.Server != server || e.Version != version || e.Mode != mode || e.Verdict != verdict {
		t.Errorf("%s: server %q ECK %q mode %q verdict %q, want %q %q %q %q", e.Context, e.Server, e.Version, e.Mode, e.Verdict, server, version, mode, verdict)
	}
	if e.Operator == "" || e.Operator != e.Namespace+"/"+e.Name || len(e.Checks) == 0 || e.Reason != "" {
		t.Errorf("%s: operator %q (%s/%s), %d checks, reason %q", e.Context, e.Operator, e.Namespace, e.Name, len(e.Checks), e.Reason)
	}
	var failed []string
	for _, c := range e.Checks {
		if c.Outcome == "fail" {
			failed = append(failed, c.ID)
		}
	}
	if strings.Join(failed, ",") != strings.Join(e.Failed, ",") {
		t.Errorf("%s: failed %v, but the checks that failed are %v", e.Context, e.Failed, failed)
	}
}

// status --contexts over three real API servers and a hung one: each
// cluster's own result, the worst exit code, and the dead ones cost no
// more than their time limit.
func TestStatusContexts(t *testing.T) {
	s := startFleet(t)

	// The sidecar install is not enabled yet: not ready (1) beats ready (0).
	r := cluster.RunAs(t, s.kubeconfig, "status", "--contexts", "native,sidecar", "-o", "json")
	if code := cmd.ExitCode(r.Err); code != 1 {
		t.Errorf("exit %d, want 1 (a check failed in sidecar): %v", code, r.Err)
	}
	got := decodeEntries(t, r)
	expectChecked(t, got["native"], s.servers["native"], "3.5.0", "native", "ready")
	expectChecked(t, got["sidecar"], s.servers["sidecar"], "2.15.0", "sidecar", "not ready")
	if e := got["sidecar"]; len(e.Failed) == 0 || e.Failed[0] != "operator.mode" {
		t.Errorf("sidecar: failed %v, want operator.mode first (not enabled)", e.Failed)
	}

	s.enableSidecar(t)
	r = cluster.RunAs(t, s.kubeconfig, "status", "--contexts", "native,sidecar", "-o", "json")
	if r.Err != nil {
		t.Errorf("both enabled: %v\n%s", r.Err, r.Stdout)
	}
	got = decodeEntries(t, r)
	expectChecked(t, got["native"], s.servers["native"], "3.5.0", "native", "ready")
	expectChecked(t, got["sidecar"], s.servers["sidecar"], "2.15.0", "sidecar", "ready")

	hungServer(t, s)
	// Under the transport's TLS handshake timeout (10s): the limit ends the hung one.
	const limit = 8 * time.Second
	start := time.Now()
	r = cluster.RunAs(t, s.kubeconfig, "status", "--all-contexts", "--cluster-timeout", limit.String(), "-o", "json")
	elapsed := time.Since(start)
	// A bound, not a benchmark: the hung cluster ends at its limit and the
	// others ran meanwhile.
	if elapsed > limit+10*time.Second {
		t.Errorf("took %s: more than --cluster-timeout %s and slack", elapsed, limit)
	}
	if code := cmd.ExitCode(r.Err); code != 2 {
		t.Errorf("exit %d, want 2 (could not check stopped and hung): %v", code, r.Err)
	}
	got = decodeEntries(t, r)
	if len(got) != 4 {
		t.Errorf("%d entries, want 4:\n%s", len(got), r.Stdout)
	}
	expectChecked(t, got["native"], s.servers["native"], "3.5.0", "native", "ready")
	expectChecked(t, got["sidecar"], s.servers["sidecar"], "2.15.0", "sidecar", "ready")
	for name, want := range map[string]string{"stopped": "cannot reach the Kubernetes API server at " + s.servers["stopped"], "hung": "no answer within --cluster-timeout 8s from the API server at " + s.servers["hung"]} {
		e := got[name]
		if e.Verdict != "could not check" || !strings.Contains(e.Reason, want) || strings.Contains(e.Reason, "\n") || len(e.Checks) != 0 || e.Server != s.servers[name] {
			t.Errorf("%s: verdict %q, reason %q, %d checks, server %q; want could not check, %q", name, e.Verdict, e.Reason, len(e.Checks), e.Server, want)
		}
	}

	// The table: a summary of every cluster first, then what is not ready.
	r = cluster.RunAs(t, s.kubeconfig, "status", "--contexts", "native,stopped,sidecar", "--parallel", "1")
	if code := cmd.ExitCode(r.Err); code != 2 {
		t.Errorf("table: exit %d, want 2", code)
	}
	lines := strings.Split(r.Stdout, "\n")
	if len(lines) < 5 || !strings.HasPrefix(lines[0], "CONTEXT") || !strings.Contains(lines[0], "VERDICT") {
		t.Fatalf("no summary table first:\n%s", r.Stdout)
	}
	for i, want := range []string{"native", "stopped", "sidecar"} {
		if fields := strings.Fields(lines[i+1]); fields[0] != want {
			t.Errorf("summary row %d is %q, want context %s (in the order given)", i+1, lines[i+1], want)
		}
	}
	if !strings.Contains(r.Stdout, "\ncontext stopped\n") || !strings.Contains(r.Stdout, "could not check: cannot reach") {
		t.Errorf("no details of the stopped cluster:\n%s", r.Stdout)
	}
	if strings.Contains(r.Stdout, "context native:") {
		t.Errorf("details of a ready cluster:\n%s", r.Stdout)
	}
}

// Ctrl-C stops every cluster's work at once and prints what finished.
func TestStatusContextsInterrupted(t *testing.T) {
	s := &fleetSetup{servers: map[string]string{}}
	cfg, err := clientcmd.LoadFromFile(cluster.Kubeconfig)
	if err != nil {
		t.Fatal(err)
	}
	merged := clientcmdapi.NewConfig()
	s.addContext(merged, "native", cfg)
	s.kubeconfig = writeKubeconfig(t, merged)
	hungServer(t, s)

	c := exec.Command(os.Args[0], "--kubeconfig", s.kubeconfig, "status", "--all-contexts", "--cluster-timeout", "10m", "-o", "json")
	c.Env = append(os.Environ(), runPluginEnv+"=1")
	var out, errOut strings.Builder
	c.Stdout, c.Stderr = &out, &errOut
	if err := c.Start(); err != nil {
		t.Fatal(err)
	}
	time.Sleep(3 * time.Second)
	if err := c.Process.Signal(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	waited := make(chan error, 1)
	go func() { waited <- c.Wait() }()
	select {
	case err = <-waited:
	case <-time.After(time.Minute):
		_ = c.Process.Kill()
		t.Fatalf("still running a minute after SIGINT:\n%s", errOut.String())
	}
	if code := c.ProcessState.ExitCode(); code != 2 {
		t.Errorf("exit %d (%v), want 2 (hung could not be checked)\n%s", code, err, errOut.String())
	}
	got := decodeEntries(t, framework.Result{Stdout: out.String(), Stderr: errOut.String()})
	if e := got["hung"]; e.Verdict != "could not check" || e.Reason != "interrupted before it finished" {
		t.Errorf("hung: %q %q, want interrupted", e.Verdict, e.Reason)
	}
	if _, ok := got["native"]; !ok {
		t.Errorf("no entry of native:\n%s", out.String())
	}
}

// Without -A several operators are a question of usage (one line, exit
// 2); with -A each is checked and listed with its namespace and name.
func TestStatusAllNamespaces(t *testing.T) {
	a := cluster.NewNamespace(t, "tenant-a")
	b := cluster.NewNamespace(t, "tenant-b")
	fa := cluster.InstallFixture(t, "eck-3.5.0-all-in-one.yaml", a)
	cluster.InstallFixture(t, "eck-3.5.0-all-in-one.yaml", b)
	mustSucceed(t, cluster.Run(t, "enable", "-n", a))
	rolledOut(t, a, fa.Name)

	r := cluster.Run(t, "status")
	expectCouldNotLook(t, r, []string{"status"}, "found 2 ECK operators ("+a+"/elastic-operator, "+b+"/elastic-operator)", "-n NAMESPACE and --name NAME", "-A")
	if r.Stdout != "" {
		t.Errorf("printed a report:\n%s", r.Stdout)
	}

	r = cluster.Run(t, "status", "-A", "-o", "json")
	if code := cmd.ExitCode(r.Err); code != 1 {
		t.Errorf("-A: exit %d, want 1 (%s is not enabled)", code, b)
	}
	got := decodeEntries(t, r)
	if len(got) != 2 || got[a].Name != "elastic-operator" || got[b].Name != "elastic-operator" {
		t.Fatalf("entries %v, want %s and %s", got, a, b)
	}
	if got[a].Verdict != "ready" || got[b].Verdict != "not ready" || got[a].Context != "" || got[a].Server != "" {
		t.Errorf("verdicts %q and %q (context %q), want ready and not ready, no context", got[a].Verdict, got[b].Verdict, got[a].Context)
	}
	if got[a].Operator != a+"/elastic-operator" || len(got[a].Checks) == 0 || len(got[b].Checks) == 0 {
		t.Errorf("entries without their reports:\n%s", r.Stdout)
	}

	r = cluster.Run(t, "status", "-A")
	for _, ns := range []string{a, b} {
		heading := ns + "/elastic-operator\n" + strings.Repeat("=", len(ns+"/elastic-operator")) + "\noperator\n"
		if !strings.Contains(r.Stdout, heading) {
			t.Errorf("no section of %s:\n%s", ns, r.Stdout)
		}
	}
	if strings.Count(r.Stdout, "\nStatus: ") != 2 {
		t.Errorf("want one Status line per operator:\n%s", r.Stdout)
	}
}

// Bad fleet input: one line, exit 2, no request sent.
func TestStatusFleetRefusals(t *testing.T) {
	cfg, err := clientcmd.LoadFromFile(cluster.Kubeconfig)
	if err != nil {
		t.Fatal(err)
	}
	s := &fleetSetup{servers: map[string]string{}}
	merged := clientcmdapi.NewConfig()
	s.addContext(merged, "dev-a", cfg)
	s.addContext(merged, "dev-b", cfg)
	s.kubeconfig = writeKubeconfig(t, merged)
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--contexts", "dev-a,prod"}, `unknown context "prod" in --contexts: the kubeconfig has "dev-a", "dev-b"`},
		{[]string{"--all-contexts", "--context-selector", "prod-*"}, `--context-selector "prod-*" matches none of the contexts of the kubeconfig ("dev-a", "dev-b")`},
		{[]string{"--all-contexts", "--context-selector", "[dev"}, `invalid --context-selector "[dev"`},
		{[]string{"--contexts", "dev-a", "--parallel", "0"}, "invalid --parallel 0: check at least 1 cluster at a time"},
		{[]string{"--all-contexts", "--cluster-timeout", "0s"}, "invalid --cluster-timeout 0s"},
		{[]string{"--contexts", "dev-a", "--context", "dev-b"}, "--contexts names the contexts to check: drop --context"},
		{[]string{"--contexts", "dev-a", "--all-contexts"}, "--contexts names the contexts to check: drop --all-contexts"},
		{[]string{"--all-contexts", "--context", "dev-a"}, "--all-contexts checks every context: drop --context"},
		{[]string{"--context-selector", "dev-*"}, "--context-selector picks among --all-contexts: add --all-contexts, or drop it"},
		{[]string{"--parallel", "2"}, "--parallel is for checking several clusters: add --contexts or --all-contexts, or drop it"},
		{[]string{"-A", "--name", "elastic-operator"}, "--all-namespaces checks every operator: drop --name"},
		{[]string{"-A", "-n", "elastic-system"}, "--all-namespaces checks every operator: drop --namespace"},
	} {
		args := append([]string{"status"}, tc.args...)
		r := cluster.RunAs(t, s.kubeconfig, args...)
		framework.ExpectOneLineRefusal(t, r, tc.want)
		if code := cmd.ExitCode(r.Err); code != 2 {
			t.Errorf("%v: exit %d, want 2", tc.args, code)
		}
		if r.Requests != 0 {
			t.Errorf("%v: %d requests sent", tc.args, r.Requests)
		}
	}
	// Mutations stay per cluster.
	for _, command := range []string{"enable", "use-cert", "disable"} {
		r := cluster.RunAs(t, s.kubeconfig, command, "--contexts", "dev-a")
		if code := cmd.ExitCode(r.Err); code != 2 || !strings.Contains(r.Err.Error(), "unknown flag: --contexts") {
			t.Errorf("%s --contexts: exit %d, %v", command, code, r.Err)
		}
	}
}
