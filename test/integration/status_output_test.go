package integration

import (
	"encoding/json"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/eck-metrics/kubectl-eck-metrics/pkg/cmd"
	"github.com/eck-metrics/kubectl-eck-metrics/pkg/status"
	"sigs.k8s.io/yaml"
)

// Every -o of status renders the same report: table and wide for people
// (wide adds the IDs and details), json, yaml and jsonpath for scripts, as
// kubectl get takes them.
func TestStatusOutputFormats(t *testing.T) {
	ns := cluster.NewNamespace(t, "stout")
	cluster.InstallFixture(t, "eck-3.5.0-all-in-one.yaml", ns)
	mustSucceed(t, cluster.Run(t, "enable", "-n", ns))
	rolledOut(t, ns, "elastic-operator")

	rep, r := statusOf(t, cluster.Kubeconfig, "-n", ns)
	if r.Err != nil {
		t.Fatalf("status -o json: %v", r.Err)
	}
	found := find(t, rep, status.OperatorFound)

	table := mustSucceed(t, cluster.Run(t, "status", "-n", ns, "-o", "table")).Stdout
	if !strings.Contains(table, "operator\n--------\n[ok]   operator found: StatefulSet "+ns+"/elastic-operator\n") {
		t.Errorf("-o table lacks the operator section:\n%s", table)
	}
	if strings.Contains(table, string(status.OperatorFound)) || strings.Contains(table, "details:") {
		t.Errorf("-o table shows IDs or details:\n%s", table)
	}
	if plain := mustSucceed(t, cluster.Run(t, "status", "-n", ns)).Stdout; plain != table {
		t.Errorf("status without -o differs from -o table:\n%s\n---\n%s", plain, table)
	}

	wide := mustSucceed(t, cluster.Run(t, "status", "-n", ns, "-o", "wide")).Stdout
	// The IDs of a category are one column, as wide as its longest ID plus
	// two spaces.
	width := 0
	for _, id := range status.ChecksOf(status.CategoryOperator) {
		width = max(width, len(id))
	}
	wantLine := "[ok]   " + string(status.OperatorFound) + strings.Repeat(" ", width-len(status.OperatorFound)+2) + "operator found: StatefulSet " + ns + "/elastic-operator\n"
	if !strings.Contains(wide, wantLine) {
		t.Errorf("-o wide lacks %q:\n%s", wantLine, wide)
	}
	wantDetails := "details: image=" + found.Details["image"].(string) + " name=elastic-operator namespace=" + ns + " serviceAccount=" + found.Details["serviceAccount"].(string) + "\n"
	if !strings.Contains(wide, wantDetails) {
		t.Errorf("-o wide lacks the details %q:\n%s", wantDetails, wide)
	}
	for _, c := range rep.Checks {
		if !strings.Contains(wide, string(c.ID)+" ") {
			t.Errorf("-o wide lacks check %s", c.ID)
		}
	}

	// yaml is the same object as json.
	var fromJSON, fromYAML map[string]any
	if err := json.Unmarshal([]byte(r.Stdout), &fromJSON); err != nil {
		t.Fatal(err)
	}
	y := mustSucceed(t, cluster.Run(t, "status", "-n", ns, "-o", "yaml")).Stdout
	if err := yaml.Unmarshal([]byte(y), &fromYAML); err != nil {
		t.Fatalf("-o yaml: %v\n%s", err, y)
	}
	if !reflect.DeepEqual(fromJSON, fromYAML) {
		t.Errorf("-o yaml is not the object of -o json:\n%s\n---\n%s", y, r.Stdout)
	}

	// jsonpath reads the same object.
	for template, want := range map[string]string{
		"{.summary.pass}": strconv.Itoa(rep.Summary.Pass),
		"{.operator}":     ns + "/elastic-operator",
		`{.checks[?(@.id=="operator.found")].outcome}`: "pass",
		`{range .checks[*]}{.id}{"\n"}{end}`:           joinIDs(rep.Checks),
	} {
		got := mustSucceed(t, cluster.Run(t, "status", "-n", ns, "-o", "jsonpath="+template)).Stdout
		if got != want {
			t.Errorf("-o jsonpath=%s printed %q, want %q", template, got, want)
		}
	}

	// The exit code follows the checks, whatever the format.
	disabled := cluster.NewNamespace(t, "stoutoff")
	cluster.InstallFixture(t, "eck-3.5.0-all-in-one.yaml", disabled)
	for _, format := range []string{"table", "wide", "json", "yaml", "jsonpath={.summary.ok}"} {
		r := cluster.Run(t, "status", "-n", disabled, "-o", format)
		if code := cmd.ExitCode(r.Err); code != 1 || r.Stdout == "" {
			t.Errorf("-o %s on an unsecured operator: exit %d, stdout %q; want 1 and the report", format, code, r.Stdout)
		}
	}

	for _, format := range []string{"xml", "name", "jsonpath={.unclosed"} {
		r := cluster.Run(t, "status", "-n", ns, "-o", format)
		if code := cmd.ExitCode(r.Err); code != 2 || r.Err == nil || strings.Contains(r.Err.Error(), "\n") || !strings.HasPrefix(r.Err.Error(), "invalid -o ") {
			t.Errorf("-o %s: exit %d, err %v; want 2 and one line", format, code, r.Err)
		}
	}
}

func joinIDs(checks []status.Check) string {
	var b strings.Builder
	for _, c := range checks {
		b.WriteString(string(c.ID) + "\n")
	}
	return b.String()
}

// --check takes a category for all its checks, next to check IDs.
func TestStatusCheckCategory(t *testing.T) {
	ns := cluster.NewNamespace(t, "stcat")
	cluster.InstallFixture(t, "eck-3.5.0-all-in-one.yaml", ns)
	mustSucceed(t, cluster.Run(t, "enable", "-n", ns))
	rep, r := statusOf(t, cluster.Kubeconfig, "-n", ns, "--check", "rbac", "--check", "service.exists")
	if r.Err != nil {
		t.Fatalf("status --check rbac: %v", r.Err)
	}
	var ids []status.CheckID
	for _, c := range rep.Checks {
		ids = append(ids, c.ID)
	}
	want := append(status.ChecksOf(status.CategoryRBAC), status.ServiceExists)
	if !slices.Equal(ids, want) {
		t.Errorf("--check rbac --check service.exists reported %v, want %v", ids, want)
	}
	expectOutcome(t, rep, status.RBACBinding, status.Pass, "ClusterRoleBinding elastic-operator-metrics-auth-rolebinding")

	r = cluster.Run(t, "status", "-n", ns, "--check", "rbacs")
	if code := cmd.ExitCode(r.Err); code != 2 || r.Err == nil {
		t.Fatalf("--check rbacs: exit %d, err %v", code, r.Err)
	}
	// One short line: the categories, and where the check IDs are listed.
	if msg := r.Err.Error(); len(msg) > 300 || strings.Contains(msg, "\n") || strings.Contains(msg, string(status.RBACBinding)) ||
		!strings.Contains(msg, "prometheus-selection") || !strings.Contains(msg, "-o json") {
		t.Errorf("--check rbacs said (%d characters) %q", len(msg), msg)
	}
}
