package integration

// QA of issue 11 (monitor kinds, scrape auth, selection, NetworkPolicies,
// scrape configs): bad input, switches with their dry runs, objects of
// others with our names, and status's table against its JSON.

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/eck-metrics/kubectl-eck-metrics/pkg/patches"
	"github.com/eck-metrics/kubectl-eck-metrics/pkg/status"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

// Monitor and network-policy input that the cluster refuses, on enable and
// use-cert, on a cluster that serves ServiceMonitor but not PodMonitor.
// Refusals of the flags alone are unit tests: pkg/cmd's TestFlagRefusals.
func TestQAIssue11BadInput(t *testing.T) {
	installServiceMonitorCRD(t)
	ns := newNamespace(t, "qabad")
	f := installFixture(t, "eck-3.5.0-all-in-one.yaml", ns)
	t.Cleanup(func() { removeInstall(t, f) })
	ca := newTestCA(t)
	leaf := ca.goodLeaf(t, ns)
	createTLSSecret(t, ns, "eck-metrics-tls", corev1.SecretTypeTLS, leaf.data())

	cases := []struct {
		name string
		args []string
		want string
	}{
		{"timeout over the default interval", []string{"--scrape-timeout", "31s"}, "--scrape-timeout 31s is longer than the scrape interval 30s"},
		{"PodMonitor not served", []string{"--monitor", "podmonitor"}, "--monitor podmonitor, but this cluster does not serve monitoring.coreos.com/v1 PodMonitor"},
		{"PodMonitor not served, server dry run", []string{"--monitor", "podmonitor", "--dry-run=server"}, "does not serve monitoring.coreos.com/v1 PodMonitor"},
		{"PodMonitor not served, client dry run", []string{"--monitor", "podmonitor", "--dry-run=client"}, "does not serve monitoring.coreos.com/v1 PodMonitor"},
		// Without --prometheus-namespace, newer versions look for the selecting Prometheus's; here there is none (and the pod is not isolated).
		{"network policy without namespace", []string{"--network-policy"}, "--network-policy"},
		{"network policy on an unisolated pod", []string{"--network-policy", "--prometheus-namespace", "monitoring"}, "--network-policy: no NetworkPolicy isolates the pods of " + ns + "/elastic-operator for ingress"},
		{"network policy, server dry run", []string{"--network-policy", "--prometheus-namespace", "monitoring", "--dry-run=server"}, "no NetworkPolicy isolates the pods"},
	}
	for _, command := range [][]string{{"enable"}, {"use-cert", "--secret", "eck-metrics-tls"}} {
		for _, tc := range cases {
			t.Run(command[0]+"/"+tc.name, func(t *testing.T) {
				before := snapshot(t, ns)
				args := append(append(append([]string{}, command...), "-n", ns), tc.args...)
				r := run(t, args...)
				expectOneLineRefusal(t, r, tc.want)
				assertNoKeyMaterial(t, r, leaf.keyPEM)
				assertUnchanged(t, before, snapshot(t, ns))
			})
		}
	}
	before := snapshot(t, ns)

	// Valid edge values are accepted: a timeout equal to the interval, an
	// annotation key with capitals (as Kubernetes allows).
	r := mustSucceed(t, run(t, "enable", "-n", ns, "--dry-run=client", "--interval", "30s", "--scrape-timeout", "30s", "--monitor-annotation", "Team/Owner=x"))
	for _, want := range []string{"scrapeTimeout: 30s", "Team/Owner: x"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("dry run prints no %q:\n%s", want, r.stdout)
		}
	}
	assertUnchanged(t, before, snapshot(t, ns))
}

// An empty label or annotation value is valid in Kubernetes (and the flag
// accepts it): the monitor must carry it, not drop it without a word.
func TestQAIssue11EmptyLabelValue(t *testing.T) {
	installServiceMonitorCRD(t)
	ns := newNamespace(t, "qaempty")
	f := installFixture(t, "eck-3.5.0-all-in-one.yaml", ns)
	t.Cleanup(func() { removeInstall(t, f) })
	mustSucceed(t, run(t, "enable", "-n", ns, "--monitor-label", "canary=", "--monitor-label", "release=p", "--monitor-annotation", "note="))
	sm := getMonitor(t, patches.ServiceMonitorGVR, ns)
	if sm == nil {
		t.Fatal("no ServiceMonitor")
	}
	if sm.GetLabels()["release"] != "p" {
		t.Fatalf("labels %v", sm.GetLabels())
	}
	_, hasLabel := sm.GetLabels()["canary"]
	_, hasAnnotation := sm.GetAnnotations()["note"]
	if !hasLabel || !hasAnnotation {
		t.Fatalf("--monitor-label canary= and --monitor-annotation note= were dropped: labels %v annotations %v", sm.GetLabels(), sm.GetAnnotations())
	}
	before := snapshot(t, ns)
	mustSucceed(t, run(t, "enable", "-n", ns))
	assertUnchanged(t, before, snapshot(t, ns))
}

// --local and --scrape-config: the job's own auth is accepted, with no
// request. (Refused combinations are pkg/cmd's TestFlagRefusals.)
func TestQAIssue11LocalBadInput(t *testing.T) {
	local := []string{"--local", "--operator-version", "3.5.0"}
	// The job's own auth, given explicitly, is accepted.
	r := mustSucceed(t, run(t, append([]string{"enable", "--scrape-config", "prometheus", "--scrape-auth", "file"}, local...)...))
	if !strings.Contains(r.stdout, "credentials_file: /var/run/secrets/kubernetes.io/serviceaccount/token") || r.requests != 0 {
		t.Errorf("--scrape-config with --scrape-auth file (%d requests):\n%s", r.requests, r.stdout)
	}
}

// monitorState is what a switch leaves: which kind exists, its auth, and
// whether the reader objects of secret auth exist.
func monitorState(t *testing.T, ns string) string {
	t.Helper()
	var kinds []string
	var auth string
	for _, k := range []struct {
		kind string
		obj  *unstructured.Unstructured
	}{{"ServiceMonitor", getMonitor(t, patches.ServiceMonitorGVR, ns)}, {"PodMonitor", getMonitor(t, patches.PodMonitorGVR, ns)}} {
		if k.obj == nil {
			continue
		}
		kinds = append(kinds, k.kind)
		ep := monitorEndpoint(t, k.obj)
		switch {
		case ep["bearerTokenFile"] != nil && ep["authorization"] == nil:
			auth = "file"
		case ep["bearerTokenFile"] == nil && hasReaderCredentials(ep):
			auth = "secret"
		default:
			auth = fmt.Sprintf("mixed %v", ep)
		}
		if k.obj.GetLabels()["release"] != "p" || ep["interval"] != "1m" || ep["scrapeTimeout"] != "20s" {
			t.Errorf("%s lost the label, interval or timeout: %v %v", k.kind, k.obj.GetLabels(), ep)
		}
	}
	var readers []string
	for kind, exists := range readerObjects(t, ns) {
		if exists {
			readers = append(readers, kind)
		}
	}
	return fmt.Sprintf("%s/%s reader objects %d", strings.Join(kinds, "+"), auth, len(readers))
}

func hasReaderCredentials(ep map[string]any) bool {
	name, _, _ := unstructured.NestedString(ep, "authorization", "credentials", "name")
	return name == patches.ReaderTokenSecretName("elastic-operator")
}

// --scrape-timeout alone is weighed against the interval an earlier run
// set and keeps (not the default 30s), and so is --interval alone against
// the kept timeout; refusals name the interval that counts.
func TestQAIssue11TimeoutAgainstKeptInterval(t *testing.T) {
	installServiceMonitorCRD(t)
	ns := newNamespace(t, "qakept")
	f := installFixture(t, "eck-3.5.0-all-in-one.yaml", ns)
	t.Cleanup(func() { removeInstall(t, f) })
	mustSucceed(t, run(t, "enable", "-n", ns, "--interval", "1m", "--scrape-timeout", "50s"))
	r := run(t, "enable", "-n", ns, "--scrape-timeout", "45s")
	if r.err != nil {
		t.Fatalf("--scrape-timeout 45s under the kept interval 1m refused: %v", r.err)
	}
	ep := monitorEndpoint(t, getMonitor(t, patches.ServiceMonitorGVR, ns))
	if ep["interval"] != "1m" || ep["scrapeTimeout"] != "45s" {
		t.Errorf("endpoint %v, want interval 1m, scrapeTimeout 45s", ep)
	}
	before := snapshot(t, ns)
	expectOneLineRefusal(t, run(t, "enable", "-n", ns, "--scrape-timeout", "2m"), "--scrape-timeout 2m is longer than the scrape interval 1m")
	expectOneLineRefusal(t, run(t, "enable", "-n", ns, "--interval", "30s"), "--scrape-timeout 45s is longer than the scrape interval 30s")
	expectOneLineRefusal(t, run(t, "enable", "-n", ns, "--interval", "30s", "--dry-run=server"), "nothing was changed")
	assertUnchanged(t, before, snapshot(t, ns))
	// A render knows no earlier run: the default interval counts.
	expectOneLineRefusal(t, run(t, "enable", "--local", "--operator-version", "3.5.0", "--scrape-timeout", "31s"), "--scrape-timeout 31s is longer than the scrape interval 30s")
}

// Kind switches (ServiceMonitor -> PodMonitor -> ServiceMonitor) and auth
// switches (file -> secret -> file -> secret -> file): each server dry run
// writes nothing and says what the real run then does; each rerun without
// flags is a no-op and keeps kind, auth, label, interval and timeout.
func TestQAIssue11SwitchesDryRunFirst(t *testing.T) {
	installMonitoringCRDs(t, "servicemonitors", "podmonitors")
	ns := newNamespace(t, "qaswitch")
	f := installFixture(t, "eck-3.5.0-all-in-one.yaml", ns)
	t.Cleanup(func() { removeInstall(t, f) })
	mustSucceed(t, run(t, "enable", "-n", ns, "--monitor-label", "release=p", "--interval", "1m", "--scrape-timeout", "20s"))
	if got, want := monitorState(t, ns), "ServiceMonitor/file reader objects 0"; got != want {
		t.Fatalf("after enable: %s, want %s", got, want)
	}
	sm, pm := "ServiceMonitor "+ns+"/elastic-operator", "PodMonitor "+ns+"/elastic-operator"
	reader := "ServiceAccount " + ns + "/elastic-operator-metrics-reader"
	for _, tc := range []struct {
		flags []string
		says  []string // in the step line, " (server dry run)" after the state
		state string
	}{
		{[]string{"--monitor", "podmonitor"}, []string{reader + " created", pm + " created", sm + " deleted"}, "PodMonitor/secret reader objects 4"},
		{[]string{"--monitor", "servicemonitor"}, []string{reader + " unchanged", sm + " created", pm + " deleted"}, "ServiceMonitor/secret reader objects 4"},
		{[]string{"--scrape-auth", "file"}, []string{sm + " configured", reader + " deleted"}, "ServiceMonitor/file reader objects 0"},
		{[]string{"--scrape-auth", "secret"}, []string{reader + " created", sm + " configured"}, "ServiceMonitor/secret reader objects 4"},
		{[]string{"--scrape-auth", "file"}, []string{sm + " configured", reader + " deleted"}, "ServiceMonitor/file reader objects 0"},
	} {
		name := strings.Join(tc.flags, " ")
		before := snapshot(t, ns)
		stateBefore := monitorState(t, ns)
		r := mustSucceed(t, run(t, append([]string{"enable", "-n", ns, "--dry-run=server"}, tc.flags...)...))
		assertUnchanged(t, before, snapshot(t, ns))
		if got := monitorState(t, ns); got != stateBefore {
			t.Errorf("%s --dry-run=server changed the monitor: %s -> %s", name, stateBefore, got)
		}
		for _, want := range tc.says {
			if !strings.Contains(r.stderr, want+" (server dry run)") {
				t.Errorf("%s --dry-run=server does not say %q:\n%s", name, want+" (server dry run)", r.stderr)
			}
		}
		r = mustSucceed(t, run(t, append([]string{"enable", "-n", ns}, tc.flags...)...))
		for _, want := range tc.says {
			if !strings.Contains(r.stdout, want) {
				t.Errorf("%s does not say %q:\n%s", name, want, r.stdout)
			}
		}
		if got := monitorState(t, ns); got != tc.state {
			t.Errorf("after %s: %s, want %s", name, got, tc.state)
		}
		if strings.Contains(tc.state, "secret") {
			fillToken(t, ns) // the token controller's data keeps nothing from changing on a rerun
		}
		before = snapshot(t, ns)
		r = mustSucceed(t, run(t, "enable", "-n", ns))
		assertUnchanged(t, before, snapshot(t, ns))
		if strings.Contains(r.stdout, "configured") || strings.Contains(r.stdout, "created") || strings.Contains(r.stdout, "deleted") {
			t.Errorf("rerun after %s is not a no-op:\n%s", name, r.stdout)
		}
		if got := monitorState(t, ns); got != tc.state {
			t.Errorf("rerun after %s: %s, want %s", name, got, tc.state)
		}
	}
}

// Someone else's PodMonitor of our name: --monitor podmonitor is refused
// before anything is written and the PodMonitor is left as it was; the
// server dry run says nothing was changed (not "steps 1-4 are applied");
// enable (a ServiceMonitor) and disable leave it.
func TestQAIssue11OthersPodMonitor(t *testing.T) {
	installMonitoringCRDs(t, "servicemonitors", "podmonitors")
	ns := newNamespace(t, "qaotherpm")
	f := installFixture(t, "eck-3.5.0-all-in-one.yaml", ns)
	t.Cleanup(func() { removeInstall(t, f) })
	other := &unstructured.Unstructured{Object: map[string]any{"apiVersion": "monitoring.coreos.com/v1", "kind": "PodMonitor",
		"metadata": map[string]any{"name": "elastic-operator", "namespace": ns, "labels": map[string]any{"team": "obs"}},
		"spec": map[string]any{"selector": map[string]any{"matchLabels": map[string]any{"control-plane": "elastic-operator"}},
			"podMetricsEndpoints": []any{map[string]any{"port": "metrics", "interval": "10s"}}}}}
	if _, err := cluster.dynamic.Resource(patches.PodMonitorGVR).Namespace(ns).Create(ctx(t), other, metav1.CreateOptions{FieldManager: "kubectl-create"}); err != nil {
		t.Fatal(err)
	}
	before := snapshot(t, ns)
	r := run(t, "enable", "-n", ns, "--monitor", "podmonitor", "--dry-run=server")
	expectOneLineRefusal(t, r, "PodMonitor "+ns+"/elastic-operator: another field manager owns .spec.podMetricsEndpoints")
	if strings.Contains(r.err.Error(), "are applied") || !strings.Contains(r.err.Error(), "nothing was changed") {
		t.Errorf("a server dry run's failure claims earlier steps applied, or does not say nothing changed: %v", r.err)
	}
	assertUnchanged(t, before, snapshot(t, ns))
	r = run(t, "enable", "-n", ns, "--monitor", "podmonitor")
	expectOneLineRefusal(t, r, "nothing was changed: PodMonitor "+ns+"/elastic-operator: another field manager owns .spec.podMetricsEndpoints")
	assertUnchanged(t, before, snapshot(t, ns))

	// The default ServiceMonitor goes next to it, and says it leaves it;
	// so does disable.
	for _, command := range []string{"enable", "disable"} {
		r = mustSucceed(t, run(t, command, "-n", ns))
		if command == "enable" && !strings.Contains(r.stdout, "[5/5] ServiceMonitor: ServiceMonitor "+ns+"/elastic-operator created") {
			t.Errorf("enable next to another's PodMonitor applies no ServiceMonitor:\n%s", r.stdout)
		}
		if !strings.Contains(r.stdout, "left PodMonitor "+ns+"/elastic-operator: not created by kubectl-eck-metrics") {
			t.Errorf("%s next to another's PodMonitor:\n%s", command, r.stdout)
		}
		pmObj := getMonitor(t, patches.PodMonitorGVR, ns)
		if pmObj == nil || pmObj.GetLabels()["team"] != "obs" || pmObj.GetLabels()[patches.ManagedByLabel] != "" || pmObj.GetResourceVersion() != before["PodMonitor/"+ns+"/elastic-operator"] {
			t.Errorf("%s changed another's PodMonitor: %v", command, pmObj)
		}
	}
}

// Someone else's ServiceAccount of the reader's name (made with kubectl
// create: no field of it is managed): enable --scrape-auth secret must not
// take it over silently, and neither a switch to file auth nor disable may
// delete it.
func TestQAIssue11OthersReaderServiceAccount(t *testing.T) {
	installMonitoringCRDs(t, "servicemonitors", "podmonitors")
	ns := newNamespace(t, "qaothersa")
	f := installFixture(t, "eck-3.5.0-all-in-one.yaml", ns)
	t.Cleanup(func() { removeInstall(t, f) })
	name := patches.ReaderName("elastic-operator")
	sa, err := cluster.kube.CoreV1().ServiceAccounts(ns).Create(ctx(t), &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns}}, metav1.CreateOptions{FieldManager: "kubectl-create"})
	if err != nil {
		t.Fatal(err)
	}
	before := snapshot(t, ns)
	r := run(t, "enable", "-n", ns, "--scrape-auth", "secret")
	notOurs := "ServiceAccount " + ns + "/" + name
	expectOneLineRefusal(t, r, notOurs+" exists and was not created by kubectl-eck-metrics")
	assertUnchanged(t, before, snapshot(t, ns))
	got, err := cluster.kube.CoreV1().ServiceAccounts(ns).Get(ctx(t), name, metav1.GetOptions{})
	if err != nil || got.UID != sa.UID || got.Labels[patches.ManagedByLabel] != "" {
		t.Errorf("another's ServiceAccount %s was changed: %v %v", name, err, got.Labels)
	}
}

// tableLine is how the table prints a check.
func tableLine(c status.Check) string {
	mark := map[status.Outcome]string{status.Pass: "[ok]  ", status.Warn: "[warn]", status.Fail: "[FAIL]", status.Skip: "[skip]"}[c.Outcome]
	line := mark + " " + c.Name
	if c.Message != "" {
		line += ": " + c.Message
	}
	return line
}

// assertTableAgrees runs status as a table and as JSON and checks that each
// check of the JSON is a line of the table (with its hint when not passed),
// that the table has no other check lines, and that the counts agree; it
// returns the report.
func assertTableAgrees(t *testing.T, args ...string) *status.Report {
	t.Helper()
	rep, rj := statusOf(t, cluster.kubeconfig, args...)
	rt := run(t, append([]string{"status"}, args...)...)
	if (rj.err == nil) != (rt.err == nil) {
		t.Errorf("exit of -o json %v, of the table %v", rj.err, rt.err)
	}
	lines := strings.Split(rt.stdout, "\n")
	have := map[string]bool{}
	checkLines := 0
	for _, l := range lines {
		have[l] = true
		for _, m := range []string{"[ok] ", "[warn]", "[FAIL]", "[skip]"} {
			if strings.HasPrefix(l, m) {
				checkLines++
			}
		}
	}
	for _, c := range rep.Checks {
		if !have[tableLine(c)] {
			t.Errorf("%s: the table lacks %q:\n%s", c.ID, tableLine(c), rt.stdout)
		}
		if (c.Outcome == status.Fail || c.Outcome == status.Warn) && c.Hint == "" {
			t.Errorf("%s is %s without a hint", c.ID, c.Outcome)
		}
		if c.Hint != "" && c.Outcome != status.Pass && !have["       hint: "+c.Hint] {
			t.Errorf("%s: the table lacks the hint %q", c.ID, c.Hint)
		}
	}
	if checkLines != len(rep.Checks) {
		t.Errorf("the table has %d checks, the JSON %d", checkLines, len(rep.Checks))
	}
	s := rep.Summary
	if want := fmt.Sprintf("%d passed, %d warnings, %d failed, %d skipped", s.Pass, s.Warn, s.Fail, s.Skip); !strings.Contains(rt.stdout, want) {
		t.Errorf("the table's summary is not %q:\n%s", want, rt.stdout)
	}
	return rep
}

// status's table and -o json agree on servicemonitor.credentials,
// prometheus-selection and network-policy, failing and then passing.
func TestQAIssue11StatusTableAgreesWithJSON(t *testing.T) {
	installPrometheusCRDs(t)
	ns := newNamespace(t, "qastatus")
	f := installFixture(t, "eck-3.5.0-all-in-one.yaml", ns)
	t.Cleanup(func() { removeInstall(t, f) })
	mustSucceed(t, run(t, "enable", "-n", ns, "--scrape-auth", "secret"))
	rolledOut(t, ns, f.Name)
	installNetworkPolicies(t, "networkpolicies-default-deny.yaml", ns)
	prom := newNamespace(t, "qaprom")
	createPrometheus(t, "Prometheus", prom, "k8s", `
serviceAccountName: prometheus
serviceMonitorSelector: {matchLabels: {release: kps}}
serviceMonitorNamespaceSelector: {}`)

	rep := assertTableAgrees(t, "-n", ns)
	expectOutcome(t, rep, status.ServiceMonitorCredentials, status.Fail, "holds no token yet")
	expectOutcome(t, rep, status.SelectionSelected, status.Fail, "spec.serviceMonitorSelector release=kps of Prometheus "+prom+"/k8s does not match")
	expectOutcome(t, rep, status.NetworkPolicyMetricsPort, status.Fail, "isolate the operator pod")
	if c := find(t, rep, status.SelectionSelected); !strings.Contains(c.Hint, "--monitor-label release=kps") {
		t.Errorf("selection hint %q", c.Hint)
	}

	// Follow the hints: the label, the token, the NetworkPolicy.
	mustSucceed(t, run(t, "enable", "-n", ns, "--monitor-label", "release=kps"))
	fillToken(t, ns)
	mustSucceed(t, run(t, "enable", "-n", ns, "--network-policy", "--prometheus-namespace", prom))
	rep = assertTableAgrees(t, "-n", ns)
	expectOutcome(t, rep, status.ServiceMonitorCredentials, status.Pass, "")
	expectOutcome(t, rep, status.SelectionSelected, status.Pass, "Prometheus "+prom+"/k8s selects ServiceMonitor "+ns+"/elastic-operator")
	expectOutcome(t, rep, status.NetworkPolicyMetricsPort, status.Pass, "admits port metrics")
	// --check limits both renderings alike.
	rep = assertTableAgrees(t, "-n", ns, "--check", string(status.SelectionSelected), "--check", string(status.NetworkPolicyMetricsPort), "--check", string(status.ServiceMonitorCredentials))
	if len(rep.Checks) != 3 {
		t.Errorf("--check thrice gave %d checks", len(rep.Checks))
	}
}

// The connection drops in step 5 of a switch to a PodMonitor: at the
// PodMonitor's apply (after the reader's objects), then at the old
// ServiceMonitor's delete (after the PodMonitor's apply). Each time the
// error says what is applied, and rerunning the command completes the switch.
func TestQAIssue11SwitchFaultRerunCompletes(t *testing.T) {
	installMonitoringCRDs(t, "servicemonitors", "podmonitors")
	for _, tc := range []struct {
		name string
		drop func(r *http.Request) bool
	}{
		{"PodMonitor apply", func(r *http.Request) bool {
			return r.Method == http.MethodPatch && strings.Contains(r.URL.Path, "/podmonitors/")
		}},
		// A delete carries dryRun in its body: the first is the dry-run pass.
		{"ServiceMonitor delete", func() func(r *http.Request) bool {
			var deletes atomic.Int32
			return func(r *http.Request) bool {
				return r.Method == http.MethodDelete && strings.Contains(r.URL.Path, "/servicemonitors/") && deletes.Add(1) == 2
			}
		}()},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ns := newNamespace(t, "qafault")
			f := installFixture(t, "eck-3.5.0-all-in-one.yaml", ns)
			t.Cleanup(func() { removeInstall(t, f) })
			mustSucceed(t, run(t, "enable", "-n", ns, "--monitor-label", "release=p", "--interval", "1m", "--scrape-timeout", "20s"))
			var failed atomic.Bool
			drop := func(next http.RoundTripper) http.RoundTripper {
				return roundTripFunc(func(r *http.Request) (*http.Response, error) {
					if isWrite(r) && tc.drop(r) && failed.CompareAndSwap(false, true) {
						return nil, errors.New("connection reset by peer")
					}
					return next.RoundTrip(r)
				})
			}
			r := runWith(t, cluster.kubeconfig, drop, "enable", "-n", ns, "--monitor", "podmonitor")
			expectOneLineRefusal(t, r, "step 5/5 (PodMonitor) failed, steps 1-4 are applied; fix this and rerun to complete")
			if !failed.Load() {
				t.Fatal("no request was dropped")
			}
			// Both monitors are ours now where the delete failed: a plain
			// enable cannot tell which was being switched to, and says so.
			if tc.name == "ServiceMonitor delete" {
				before := snapshot(t, ns)
				expectOneLineRefusal(t, run(t, "enable", "-n", ns), "a switch of --monitor that did not finish): rerun with --monitor servicemonitor or --monitor podmonitor to keep one; nothing was changed")
				assertUnchanged(t, before, snapshot(t, ns))
			}
			r = mustSucceed(t, run(t, "enable", "-n", ns, "--monitor", "podmonitor"))
			if got, want := monitorState(t, ns), "PodMonitor/secret reader objects 4"; got != want {
				t.Errorf("rerun left %s, want %s:\n%s", got, want, r.stdout)
			}
			before := snapshot(t, ns)
			mustSucceed(t, run(t, "enable", "-n", ns))
			assertUnchanged(t, before, snapshot(t, ns))
		})
	}
}
