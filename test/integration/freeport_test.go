package integration

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/eck-metrics/kubectl-eck-metrics/pkg/status"
	"github.com/eck-metrics/kubectl-eck-metrics/test/framework"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

// ECK's chart at the upstream head serves health probes on :8081, the
// documented metrics-port: a plain enable takes the next free port, says
// which and why, and status passes; an explicit --port 8081 stays refused.
func TestEnableFreePortOnECK36(t *testing.T) {
	cluster.InstallServiceMonitorCRD(t)
	ns := cluster.NewNamespace(t, "freeport")
	f := cluster.InstallFixture(t, "eck-3.6.0-SNAPSHOT-all-in-one.yaml", ns)

	before := cluster.Snapshot(t, ns)
	framework.ExpectOneLineRefusal(t, cluster.Run(t, "enable", "-n", ns, "--port", "8081"), `--port 8081 collides with container port "health-probe" of container manager`)
	for _, dryRun := range []string{"client", "server"} {
		r := mustSucceed(t, cluster.Run(t, "enable", "-n", ns, "--dry-run="+dryRun))
		if !strings.Contains(r.Stderr, `metrics-port: 0 -> 8082`) || !strings.Contains(r.Stderr, `metrics-port 8082 chosen: 8081 is container port "health-probe" of container manager`) {
			t.Errorf("--dry-run=%s does not say the port:\n%s", dryRun, r.Stderr)
		}
	}
	framework.AssertUnchanged(t, before, cluster.Snapshot(t, ns))

	r := mustSucceed(t, cluster.Run(t, "enable", "-n", ns))
	if !strings.Contains(r.Stdout, "Operator "+ns+"/elastic-operator: ECK 3.6.0, native mode") ||
		!strings.Contains(r.Stdout, `metrics-port 8082 chosen: 8081 is container port "health-probe" of container manager`) ||
		!strings.Contains(r.Stdout, "container manager port metrics 8082") {
		t.Errorf("enable:\n%s", r.Stdout)
	}
	eck := getConfigMap(t, ns, "elastic-operator").Data["eck.yaml"]
	if !strings.Contains(eck, "metrics-port: 8082\n") || !strings.Contains(eck, "probes-bind-address: :8081\n") {
		t.Errorf("eck.yaml:\n%s", eck)
	}
	ports := map[string]int32{}
	for _, p := range container(t, getStatefulSet(t, ns, f.Name), "manager").Ports {
		if _, dup := ports[p.Name]; dup {
			t.Errorf("duplicate port name %s", p.Name)
		}
		ports[p.Name] = p.ContainerPort
	}
	if ports["metrics"] != 8082 || ports["health-probe"] != 8081 {
		t.Errorf("manager ports %v", ports)
	}
	// A rerun keeps the port and changes nothing.
	r = mustSucceed(t, cluster.Run(t, "enable", "-n", ns))
	if strings.Count(r.Stdout, " unchanged") != 6 {
		t.Errorf("second enable:\n%s", r.Stdout)
	}

	rolledOut(t, ns, f.Name)
	sa := prometheusSA(t, ns, true)
	rep, sr := statusOf(t, cluster.Kubeconfig, "-n", ns, "--prometheus-sa", sa)
	if sr.Err != nil || !rep.Summary.OK {
		t.Errorf("status: %v %+v", sr.Err, rep.Summary)
	}
	expectAllPass(t, rep)
	expectOutcome(t, rep, status.ConfigPort, status.Pass, `8082 (8081 is container port "health-probe" of container manager)`)
}

// --local has no StatefulSet to read ports from: the health probes' :8081
// comes from --operator-version alone (the plugin never reads eck.yaml's
// probes-bind-address), so 3.6.0 takes 8082, with the 3.6 install's
// eck.yaml (kept as it is) or without one, and 3.5.0 keeps 8081.
func TestEnableLocalHealthPortFromVersion(t *testing.T) {
	var eckYAML string
	for _, obj := range framework.FixtureObjects(t, "eck-3.6.0-SNAPSHOT-all-in-one.yaml") {
		if obj.GetKind() == "ConfigMap" {
			eckYAML, _, _ = unstructured.NestedString(obj.Object, "data", "eck.yaml")
		}
	}
	if !strings.Contains(eckYAML, "probes-bind-address: :8081\n") {
		t.Fatalf("the 3.6 fixture's eck.yaml sets no probes-bind-address :8081:\n%s", eckYAML)
	}
	dir := writeFiles(t, map[string][]byte{"eck.yaml": []byte(eckYAML)})
	const chosen = "metrics-port 8082 chosen: 8081 is the health-probe port (ECK 3.6.0 serves its health probes on :8081 by default)"
	for _, args := range [][]string{{"-f", filepath.Join(dir, "eck.yaml")}, nil} {
		r := mustSucceed(t, cluster.Run(t, append([]string{"enable", "--local", "--operator-version", "3.6.0"}, args...)...))
		if !strings.Contains(r.Stderr, chosen) || !strings.Contains(r.Stdout, "metrics-port: 8082\n") || !strings.Contains(r.Stdout, "containerPort: 8082\n") {
			t.Errorf("3.6.0 render %v:\nstdout:\n%s\nstderr:\n%s", args, r.Stdout, r.Stderr)
		}
		if args != nil && !strings.Contains(r.Stdout, "probes-bind-address: :8081\n") {
			t.Errorf("the install's eck.yaml is not rendered:\n%s", r.Stdout)
		}
	}
	r := mustSucceed(t, cluster.Run(t, "enable", "--local", "--operator-version", "3.5.0"))
	if !strings.Contains(r.Stderr, "metrics-port 8081;") || !strings.Contains(r.Stdout, "metrics-port: 8081\n") {
		t.Errorf("3.5.0 render:\n%s\n%s", r.Stdout, r.Stderr)
	}
}
