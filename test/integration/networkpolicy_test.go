package integration

import (
	"slices"
	"strings"
	"testing"

	"github.com/eck-metrics/kubectl-eck-metrics/pkg/status"
	"github.com/eck-metrics/kubectl-eck-metrics/test/framework"
	networkingv1 "k8s.io/api/networking/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// installNetworkPolicies creates the NetworkPolicies of testdata/fixtures/FILE
// in namespace ns, as kubectl apply would.
func installNetworkPolicies(t testing.TB, file, ns string) {
	t.Helper()
	for _, obj := range framework.FixtureObjects(t, file) {
		if obj.GetKind() != "NetworkPolicy" {
			t.Fatalf("fixture %s: %s is not a NetworkPolicy", file, obj.GetKind())
		}
		obj.SetNamespace(ns)
		if _, err := cluster.Dynamic.Resource(networkingv1.SchemeGroupVersion.WithResource("networkpolicies")).Namespace(ns).Create(cluster.Context(t), obj, metav1.CreateOptions{FieldManager: "kubectl-client-side-apply"}); err != nil {
			t.Fatalf("fixture %s: create NetworkPolicy %s: %v", file, obj.GetName(), err)
		}
	}
}

func networkPolicyExists(t testing.TB, ns, name string) bool {
	t.Helper()
	_, err := cluster.Kube.NetworkingV1().NetworkPolicies(ns).Get(cluster.Context(t), name, metav1.GetOptions{})
	if err != nil && !apierrors.IsNotFound(err) {
		t.Fatal(err)
	}
	return err == nil
}

// A default-deny namespace silently drops every scrape: status fails with
// the command that admits Prometheus; that command, in both modes, makes it
// pass; its dry runs write nothing, a rerun changes nothing, and disable
// deletes our policy and no other.
func TestNetworkPolicyDefaultDeny(t *testing.T) {
	for _, tc := range []struct{ file, port string }{
		{"eck-3.5.0-all-in-one.yaml", "8081/TCP"},
		{"eck-2.15.0-all-in-one.yaml", "8080/TCP"}, // sidecar mode: kube-rbac-proxy's port
	} {
		t.Run(tc.file, func(t *testing.T) {
			ns := cluster.NewNamespace(t, "netpol")
			monitoring := cluster.NewNamespace(t, "monitoring")
			cluster.InstallFixture(t, tc.file, ns)
			mustSucceed(t, cluster.Run(t, "enable", "-n", ns))
			installNetworkPolicies(t, "networkpolicies-default-deny.yaml", ns)
			check := []string{"-n", ns, "--prometheus-namespace", monitoring, "--check", string(status.NetworkPolicyMetricsPort)}
			ours := "elastic-operator-metrics"

			rep, r := statusOf(t, cluster.Kubeconfig, check...)
			if r.Err == nil {
				t.Error("status exited 0 with the scrape blocked")
			}
			expectOutcome(t, rep, status.NetworkPolicyMetricsPort, status.Fail,
				"NetworkPolicies default-deny-ingress, elastic-operator-webhook isolate the operator pod and no rule admits port metrics ("+tc.port+") from namespace "+monitoring+": every scrape times out")
			hint := "run: kubectl eck-metrics enable --network-policy --prometheus-namespace " + monitoring
			if got := find(t, rep, status.NetworkPolicyMetricsPort).Hint; got != hint {
				t.Errorf("hint %q, want %q", got, hint)
			}

			enable := []string{"enable", "-n", ns, "--network-policy", "--prometheus-namespace", monitoring}
			before := cluster.Snapshot(t, ns)
			r = mustSucceed(t, cluster.Run(t, append(enable, "--dry-run=server")...))
			if want := "[6/6] NetworkPolicy: NetworkPolicy " + ns + "/" + ours + " created (server dry run): admits namespace " + monitoring + " to port metrics"; !strings.Contains(r.Stderr, want) {
				t.Errorf("stderr lacks %q:\n%s", want, r.Stderr)
			}
			if !strings.Contains(r.Stdout, "kind: NetworkPolicy") {
				t.Errorf("the server dry run printed no NetworkPolicy:\n%s", r.Stdout)
			}
			r = mustSucceed(t, cluster.Run(t, append(enable, "--dry-run=client")...))
			if !strings.Contains(r.Stdout, "kubernetes.io/metadata.name: "+monitoring) {
				t.Errorf("the client dry run printed no namespace selector:\n%s", r.Stdout)
			}
			framework.AssertUnchanged(t, before, cluster.Snapshot(t, ns))

			r = mustSucceed(t, cluster.Run(t, enable...))
			want := "[6/6] NetworkPolicy: NetworkPolicy " + ns + "/" + ours + " created: admits namespace " + monitoring + " to port metrics (the pods are isolated by NetworkPolicies default-deny-ingress, elastic-operator-webhook)"
			if !strings.Contains(r.Stdout, want) {
				t.Errorf("stdout lacks %q:\n%s", want, r.Stdout)
			}
			rep, r = statusOf(t, cluster.Kubeconfig, check...)
			if r.Err != nil {
				t.Errorf("status: %v", r.Err)
			}
			expectOutcome(t, rep, status.NetworkPolicyMetricsPort, status.Pass,
				"NetworkPolicy "+ours+" admits port metrics ("+tc.port+") from namespace "+monitoring+" (from namespaces kubernetes.io/metadata.name="+monitoring+")")

			before = cluster.Snapshot(t, ns)
			r = mustSucceed(t, cluster.Run(t, enable...))
			if want := "[6/6] NetworkPolicy: NetworkPolicy " + ns + "/" + ours + " unchanged"; !strings.Contains(r.Stdout, want) {
				t.Errorf("rerun: stdout lacks %q:\n%s", want, r.Stdout)
			}
			// enable without the flag leaves the policy alone.
			r = mustSucceed(t, cluster.Run(t, "enable", "-n", ns))
			if strings.Contains(r.Stdout, "NetworkPolicy") {
				t.Errorf("enable without --network-policy planned a NetworkPolicy:\n%s", r.Stdout)
			}
			framework.AssertUnchanged(t, before, cluster.Snapshot(t, ns))

			r = mustSucceed(t, cluster.Run(t, "disable", "-n", ns, "--dry-run=server"))
			if want := "NetworkPolicy " + ns + "/" + ours + " deleted (server dry run)"; !strings.Contains(r.Stderr, want) {
				t.Errorf("disable --dry-run=server: stderr lacks %q:\n%s", want, r.Stderr)
			}
			framework.AssertUnchanged(t, before, cluster.Snapshot(t, ns))
			r = mustSucceed(t, cluster.Run(t, "disable", "-n", ns))
			if want := "[6/6] NetworkPolicy: NetworkPolicy " + ns + "/" + ours + " deleted"; !strings.Contains(r.Stdout, want) {
				t.Errorf("disable: stdout lacks %q:\n%s", want, r.Stdout)
			}
			if networkPolicyExists(t, ns, ours) {
				t.Error("disable left our NetworkPolicy")
			}
			for _, theirs := range []string{"default-deny-ingress", "elastic-operator-webhook"} {
				if !networkPolicyExists(t, ns, theirs) {
					t.Errorf("disable deleted NetworkPolicy %s, which is not ours", theirs)
				}
			}
			r = mustSucceed(t, cluster.Run(t, "disable", "-n", ns))
			if strings.Contains(r.Stdout, "NetworkPolicy") {
				t.Errorf("a second disable planned a NetworkPolicy:\n%s", r.Stdout)
			}
		})
	}
}

// Where nothing isolates the operator pod, --network-policy would isolate
// it: refused in one line, nothing changed, an egress-only policy
// notwithstanding. Bad flag combinations are refused the same way.
func TestEnableNetworkPolicyRefused(t *testing.T) {
	ns := cluster.NewNamespace(t, "netpol-open")
	cluster.InstallFixture(t, "eck-3.5.0-all-in-one.yaml", ns)
	installNetworkPolicies(t, "networkpolicies-egress-only.yaml", ns)
	before := cluster.Snapshot(t, ns)
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"enable", "-n", ns, "--network-policy", "--prometheus-namespace", "monitoring"},
			"--network-policy: no NetworkPolicy isolates the pods of " + ns + "/elastic-operator for ingress, so scrapes already reach them; a policy selecting them would isolate them and deny their webhook traffic and everything else it does not admit: nothing was changed"},
		{[]string{"enable", "-n", ns, "--network-policy", "--prometheus-namespace", "monitoring", "--dry-run=server"},
			"--network-policy: no NetworkPolicy isolates the pods of " + ns + "/elastic-operator"},
		// Without --prometheus-namespace, the isolation refusal comes before any search for Prometheus.
		{[]string{"enable", "-n", ns, "--network-policy"},
			"--network-policy: no NetworkPolicy isolates the pods of " + ns + "/elastic-operator for ingress"},
		{[]string{"enable", "-n", ns, "--network-policy", "--monitor", "none"},
			"--network-policy admits the namespaces of the Prometheus objects that select the monitor, which --monitor none leaves out: give --prometheus-namespace"},
		{[]string{"enable", "-n", ns, "--prometheus-namespace", "monitoring"},
			"--prometheus-namespace is the namespace --network-policy admits: add --network-policy, or drop it"},
		{[]string{"enable", "-n", ns, "--network-policy", "--prometheus-namespace", "Monitoring"},
			`invalid --prometheus-namespace "Monitoring"`},
		{[]string{"enable", "--local", "--operator-version", "3.5.0", "--network-policy", "--prometheus-namespace", "monitoring"},
			"--network-policy needs the cluster: it applies only where NetworkPolicies already isolate the operator pod, which --local cannot see; drop one of them"},
	} {
		framework.ExpectOneLineRefusal(t, cluster.Run(t, tc.args...), tc.want)
	}
	framework.AssertUnchanged(t, before, cluster.Snapshot(t, ns))

	rep, _ := statusOf(t, cluster.Kubeconfig, "-n", ns, "--check", string(status.NetworkPolicyMetricsPort))
	expectOutcome(t, rep, status.NetworkPolicyMetricsPort, status.Pass, "no NetworkPolicy isolates the operator pod")
}

// Without the permission to list NetworkPolicies, status warns: it cannot
// tell, which is no failure.
func TestStatusNetworkPolicyUnreadable(t *testing.T) {
	ns := cluster.NewNamespace(t, "netpol-ro")
	cluster.InstallFixture(t, "eck-3.5.0-all-in-one.yaml", ns)
	mustSucceed(t, cluster.Run(t, "enable", "-n", ns))
	kc := readOnlyUser(t, "netpol-reader") // core, apps, rbac: no networking.k8s.io
	rep, _ := statusOf(t, kc, "-n", ns, "--check", string(status.NetworkPolicyMetricsPort))
	expectOutcome(t, rep, status.NetworkPolicyMetricsPort, status.Warn, "cannot list the NetworkPolicies of namespace "+ns)
	if !rep.Summary.OK {
		t.Errorf("summary %+v: a warning failed status", rep.Summary)
	}
}

// namespaceSelectors match the Namespace's labels as the API server has
// them; a user who may not read Namespaces gets a match by name only, and
// is told so.
func TestStatusNetworkPolicyNamespaceLabels(t *testing.T) {
	ns := cluster.NewNamespace(t, "netpol-labels")
	labelled, plain := cluster.NewNamespace(t, "observability"), cluster.NewNamespace(t, "plain")
	nsObj, err := cluster.Kube.CoreV1().Namespaces().Get(cluster.Context(t), labelled, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	nsObj.Labels["team"] = "observability"
	if _, err := cluster.Kube.CoreV1().Namespaces().Update(cluster.Context(t), nsObj, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	cluster.InstallFixture(t, "eck-3.5.0-all-in-one.yaml", ns)
	mustSucceed(t, cluster.Run(t, "enable", "-n", ns))
	installNetworkPolicies(t, "networkpolicies-default-deny.yaml", ns)
	installNetworkPolicies(t, "networkpolicies-allow-team.yaml", ns)
	check := []string{"-n", ns, "--check", string(status.NetworkPolicyMetricsPort)}

	rep, _ := statusOf(t, cluster.Kubeconfig, append(check, "--prometheus-sa", labelled+"/prometheus")...)
	expectOutcome(t, rep, status.NetworkPolicyMetricsPort, status.Pass, "NetworkPolicy allow-observability admits port metrics (8081/TCP) from namespace "+labelled+" (from namespaces team=observability)")
	rep, _ = statusOf(t, cluster.Kubeconfig, append(check, "--prometheus-namespace", plain)...)
	expectOutcome(t, rep, status.NetworkPolicyMetricsPort, status.Fail, "no rule admits port metrics (8081/TCP) from namespace "+plain)

	// Everything status reads but Namespaces.
	kc := cluster.UserWithRules(t, "netpol-no-namespaces", []rbacv1.PolicyRule{
		{APIGroups: []string{""}, Resources: []string{"configmaps", "services", "secrets", "pods"}, Verbs: []string{"get", "list"}},
		{APIGroups: []string{"apps"}, Resources: []string{"statefulsets"}, Verbs: []string{"get", "list"}},
		{APIGroups: []string{"networking.k8s.io"}, Resources: []string{"networkpolicies"}, Verbs: []string{"list"}},
	}...)
	rep, _ = statusOf(t, kc, append(check, "--prometheus-namespace", labelled)...)
	expectOutcome(t, rep, status.NetworkPolicyMetricsPort, status.Fail,
		"from namespace "+labelled+": every scrape times out; cannot read Namespace "+labelled+" (namespaces \""+labelled+"\" is forbidden: ")
	expectOutcome(t, rep, status.NetworkPolicyMetricsPort, status.Fail, "matched by its name (kubernetes.io/metadata.name) only")
}

// Once the namespace's own policies are gone, ours is the only one that
// isolates the pod: a rerun is refused and says how to remove it.
func TestEnableNetworkPolicyOnlyOursLeft(t *testing.T) {
	ns := cluster.NewNamespace(t, "netpol-left")
	cluster.InstallFixture(t, "eck-3.5.0-all-in-one.yaml", ns)
	installNetworkPolicies(t, "networkpolicies-default-deny.yaml", ns)
	enable := []string{"enable", "-n", ns, "--network-policy", "--prometheus-namespace", "monitoring"}
	mustSucceed(t, cluster.Run(t, enable...))
	for _, name := range []string{"default-deny-ingress", "elastic-operator-webhook"} {
		if err := cluster.Kube.NetworkingV1().NetworkPolicies(ns).Delete(cluster.Context(t), name, metav1.DeleteOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	before := cluster.Snapshot(t, ns)
	r := cluster.Run(t, enable...)
	want := "(NetworkPolicy elastic-operator-metrics, applied by an earlier enable --network-policy, is the only one selecting them: kubectl eck-metrics disable deletes it)"
	if r.Err == nil || !strings.Contains(r.Err.Error(), want) {
		t.Errorf("err = %v, want it to end %q", r.Err, want)
	}
	framework.AssertUnchanged(t, before, cluster.Snapshot(t, ns))

	rep, _ := statusOf(t, cluster.Kubeconfig, "-n", ns, "--prometheus-namespace", "monitoring", "--check", string(status.NetworkPolicyMetricsPort))
	expectOutcome(t, rep, status.NetworkPolicyMetricsPort, status.Warn, "only NetworkPolicy elastic-operator-metrics, applied by enable --network-policy, isolates the operator pod")
	if got, want := find(t, rep, status.NetworkPolicyMetricsPort).Hint, "run: kubectl delete networkpolicy -n "+ns+" elastic-operator-metrics"; got != want {
		t.Errorf("hint %q, want %q", got, want)
	}
}

// Without --prometheus-namespace, enable --network-policy admits the
// namespaces of the Prometheus objects that select the monitor this same
// run applies (found, not typed); none selecting is a one-line refusal;
// --prometheus-namespace given wins. prometheus-operator's real CRDs,
// installed once for the cases, which run in order.
func TestEnableNetworkPolicyFindsPrometheus(t *testing.T) {
	installPrometheusCRDs(t)
	ns := cluster.NewNamespace(t, "netpol-find")
	promA, promB := cluster.NewNamespace(t, "np-prom-a"), cluster.NewNamespace(t, "np-prom-b")
	f := cluster.InstallFixture(t, "eck-3.5.0-all-in-one.yaml", ns)
	mustSucceed(t, cluster.Run(t, "enable", "-n", ns, "--monitor-label", "release=prometheus"))
	rolledOut(t, ns, f.Name)
	installNetworkPolicies(t, "networkpolicies-default-deny.yaml", ns)
	ours := "elastic-operator-metrics"
	monitor := "ServiceMonitor " + ns + "/elastic-operator"
	isolated := "the pods are isolated by NetworkPolicies default-deny-ingress, elastic-operator-webhook"
	check := []string{"-n", ns, "--check", string(status.NetworkPolicyMetricsPort)}
	enable := []string{"enable", "-n", ns, "--network-policy"}
	refused := func(t *testing.T, want string, args ...string) {
		t.Helper()
		before := cluster.Snapshot(t, ns)
		framework.ExpectOneLineRefusal(t, cluster.Run(t, args...), want)
		framework.AssertUnchanged(t, before, cluster.Snapshot(t, ns))
	}
	// admitted reads our policy back: the namespaces its peers admit, in order.
	admitted := func(t *testing.T) []string {
		t.Helper()
		np, err := cluster.Kube.NetworkingV1().NetworkPolicies(ns).Get(cluster.Context(t), ours, metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, rule := range np.Spec.Ingress {
			for _, peer := range rule.From {
				out = append(out, peer.NamespaceSelector.MatchLabels["kubernetes.io/metadata.name"])
			}
		}
		return out
	}

	t.Run("NoneSelects", func(t *testing.T) {
		refused(t, "--network-policy: no Prometheus or PrometheusAgent in any namespace, so there is no Prometheus namespace to admit: give --prometheus-namespace; nothing was changed", enable...)
		createPrometheus(t, "Prometheus", promA, "k8s", `
serviceMonitorSelector: {matchLabels: {release: kube-prometheus-stack}}
serviceMonitorNamespaceSelector: {}`)
		refused(t, "--network-policy: no Prometheus selects "+monitor+": spec.serviceMonitorSelector release=kube-prometheus-stack of Prometheus "+promA+"/k8s does not match the labels of "+monitor+" (app.kubernetes.io/managed-by=kubectl-eck-metrics,release=prometheus), so there is no Prometheus namespace to admit: give --prometheus-namespace; nothing was changed", enable...)
		refused(t, "no Prometheus selects "+monitor, append(enable, "--dry-run=server")...)
		// The labels are those this run applies: with --monitor-label
		// release=kube-prometheus-stack the same Prometheus selects it.
		r := mustSucceed(t, cluster.Run(t, append(enable, "--monitor-label", "release=kube-prometheus-stack", "--dry-run=client")...))
		if !strings.Contains(r.Stdout, "kubernetes.io/metadata.name: "+promA) {
			t.Errorf("the client dry run admits no %s:\n%s", promA, r.Stdout)
		}
	})

	t.Run("ListForbidden", func(t *testing.T) {
		createPrometheus(t, "Prometheus", promA, "k8s", `
serviceMonitorSelector: {matchLabels: {release: prometheus}}
serviceMonitorNamespaceSelector: {}`)
		// May read everything enable plans from, but no Prometheus or PrometheusAgent.
		kc := cluster.UserWithRules(t, "netpol-no-prometheus", []rbacv1.PolicyRule{
			{APIGroups: []string{"", "apps", "rbac.authorization.k8s.io", "networking.k8s.io"}, Resources: []string{"*"}, Verbs: []string{"get", "list"}},
			{APIGroups: []string{"monitoring.coreos.com"}, Resources: []string{"servicemonitors", "podmonitors"}, Verbs: []string{"get", "list"}},
		}...)
		before := cluster.Snapshot(t, ns)
		r := cluster.RunAs(t, kc, enable...)
		want := "--network-policy: cannot find the Prometheus that selects " + monitor + ": cannot list prometheuses.monitoring.coreos.com in all namespaces: prometheuses.monitoring.coreos.com is forbidden: User \"netpol-no-prometheus\" cannot list resource \"prometheuses\""
		if r.Err == nil || !strings.Contains(r.Err.Error(), want) || !strings.HasSuffix(r.Err.Error(), "so there is no Prometheus namespace to admit: give --prometheus-namespace; nothing was changed") || strings.Contains(r.Err.Error(), "\n") {
			t.Errorf("err %v, want one line with %q", r.Err, want)
		}
		framework.AssertUnchanged(t, before, cluster.Snapshot(t, ns))
	})

	t.Run("FoundOne", func(t *testing.T) {
		createPrometheus(t, "Prometheus", promA, "k8s", `
serviceMonitorSelector: {matchLabels: {release: prometheus}}
serviceMonitorNamespaceSelector: {}`)
		// Another Prometheus that selects nothing of ours is not admitted.
		createPrometheus(t, "Prometheus", promB, "other", `serviceMonitorSelector: {matchLabels: {team: other}}`)
		found := "admits namespace " + promA + " to port metrics (Prometheus " + promA + "/k8s selects " + monitor + "; " + isolated + ")"
		// status finds the same Prometheus, and its hint needs no flag.
		rep, _ := statusOf(t, cluster.Kubeconfig, check...)
		expectOutcome(t, rep, status.NetworkPolicyMetricsPort, status.Fail, "no rule admits port metrics (8081/TCP) from Prometheus "+promA+"/k8s")
		if c := find(t, rep, status.NetworkPolicyMetricsPort); c.Hint != "run: kubectl eck-metrics enable --network-policy (it admits the namespaces of the Prometheus objects that select the monitor)" {
			t.Errorf("hint %q", c.Hint)
		}
		before := cluster.Snapshot(t, ns)
		r := mustSucceed(t, cluster.Run(t, append(enable, "--dry-run=server")...))
		if want := "[6/6] NetworkPolicy: NetworkPolicy " + ns + "/" + ours + " created (server dry run): " + found; !strings.Contains(r.Stderr, want) {
			t.Errorf("stderr lacks %q:\n%s", want, r.Stderr)
		}
		r = mustSucceed(t, cluster.Run(t, append(enable, "--dry-run=client")...))
		if !strings.Contains(r.Stdout, "kubernetes.io/metadata.name: "+promA) || strings.Contains(r.Stdout, promB) {
			t.Errorf("the client dry run should admit %s only:\n%s", promA, r.Stdout)
		}
		framework.AssertUnchanged(t, before, cluster.Snapshot(t, ns))
		r = mustSucceed(t, cluster.Run(t, enable...))
		if want := "[6/6] NetworkPolicy: NetworkPolicy " + ns + "/" + ours + " created: " + found; !strings.Contains(r.Stdout, want) {
			t.Errorf("stdout lacks %q:\n%s", want, r.Stdout)
		}
		if got := admitted(t); !slices.Equal(got, []string{promA}) {
			t.Errorf("admitted %v, want [%s]", got, promA)
		}
		rep, r = statusOf(t, cluster.Kubeconfig, check...)
		if r.Err != nil {
			t.Errorf("status: %v", r.Err)
		}
		expectOutcome(t, rep, status.NetworkPolicyMetricsPort, status.Pass,
			"NetworkPolicy "+ours+" admits port metrics (8081/TCP) from Prometheus "+promA+"/k8s (from namespaces kubernetes.io/metadata.name="+promA+")")
	})

	t.Run("FoundTwo", func(t *testing.T) {
		createPrometheus(t, "Prometheus", promA, "k8s", `
serviceMonitorSelector: {matchLabels: {release: prometheus}}
serviceMonitorNamespaceSelector: {}`)
		createPrometheus(t, "PrometheusAgent", promB, "edge", `
serviceMonitorSelector: {}
serviceMonitorNamespaceSelector: {matchLabels: {kubernetes.io/metadata.name: `+ns+`}}`)
		r := mustSucceed(t, cluster.Run(t, enable...))
		want := "[6/6] NetworkPolicy: NetworkPolicy " + ns + "/" + ours + " configured: admits namespaces " + promA + ", " + promB + " to port metrics (Prometheus " + promA + "/k8s, PrometheusAgent " + promB + "/edge select " + monitor + "; " + isolated + ")"
		if !strings.Contains(r.Stdout, want) {
			t.Errorf("stdout lacks %q:\n%s", want, r.Stdout)
		}
		if got := admitted(t); !slices.Equal(got, []string{promA, promB}) {
			t.Errorf("admitted %v, want [%s %s]", got, promA, promB)
		}
		rep, r := statusOf(t, cluster.Kubeconfig, check...)
		if r.Err != nil {
			t.Errorf("status: %v", r.Err)
		}
		expectOutcome(t, rep, status.NetworkPolicyMetricsPort, status.Pass,
			"NetworkPolicy "+ours+" admits port metrics (8081/TCP) from Prometheus "+promA+"/k8s (from namespaces kubernetes.io/metadata.name="+promA+"); NetworkPolicy "+ours+" admits port metrics (8081/TCP) from PrometheusAgent "+promB+"/edge (from namespaces kubernetes.io/metadata.name="+promB+")")
		before := cluster.Snapshot(t, ns)
		r = mustSucceed(t, cluster.Run(t, enable...))
		if want := "[6/6] NetworkPolicy: NetworkPolicy " + ns + "/" + ours + " unchanged"; !strings.Contains(r.Stdout, want) {
			t.Errorf("rerun: stdout lacks %q:\n%s", want, r.Stdout)
		}
		framework.AssertUnchanged(t, before, cluster.Snapshot(t, ns))
	})

	t.Run("ExplicitWins", func(t *testing.T) {
		createPrometheus(t, "Prometheus", promA, "k8s", `
serviceMonitorSelector: {matchLabels: {release: prometheus}}
serviceMonitorNamespaceSelector: {}`)
		typed := cluster.NewNamespace(t, "np-typed")
		r := mustSucceed(t, cluster.Run(t, append(enable, "--prometheus-namespace", typed)...))
		want := "[6/6] NetworkPolicy: NetworkPolicy " + ns + "/" + ours + " configured: admits namespace " + typed + " to port metrics (" + isolated + ")"
		if !strings.Contains(r.Stdout, want) {
			t.Errorf("stdout lacks %q:\n%s", want, r.Stdout)
		}
		if got := admitted(t); !slices.Equal(got, []string{typed}) {
			t.Errorf("admitted %v, want [%s] only", got, typed)
		}
	})
}
