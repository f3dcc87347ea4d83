package integration

import (
	"encoding/json"
	"github.com/eck-metrics/kubectl-eck-metrics/test/framework"
	"reflect"
	"strings"
	"testing"

	"github.com/eck-metrics/kubectl-eck-metrics/pkg/cmd"
	"sigs.k8s.io/yaml"
)

// version shows the operator's ECK version and the mode enable would use,
// as kubectl version shows the server's; --client asks no cluster.
func TestVersionShowsOperator(t *testing.T) {
	for _, tc := range []struct {
		fixture, line string
		operator      map[string]any
	}{
		{"eck-3.5.0-all-in-one.yaml", "3.5.0, native mode", map[string]any{"version": "3.5.0", "mode": "native"}},
		{"eck-2.15.0-all-in-one.yaml", "2.15.0, sidecar mode", map[string]any{"version": "2.15.0", "mode": "sidecar"}},
		{"eck-2.11.0-all-in-one.yaml", "2.11.0, not supported (securing the endpoint needs ECK 2.12 or later)", map[string]any{"version": "2.11.0"}},
	} {
		t.Run(tc.fixture, func(t *testing.T) {
			ns := cluster.NewNamespace(t, "version")
			cluster.InstallFixture(t, tc.fixture, ns)
			r := mustSucceed(t, cluster.Run(t, "version", "-n", ns))
			if want := "kubectl-eck-metrics dev\nECK operator " + ns + "/elastic-operator: " + tc.line + "\n"; r.Stdout != want {
				t.Errorf("version printed %q, want %q", r.Stdout, want)
			}
			want := map[string]any{"clientVersion": "dev", "operator": map[string]any{"namespace": ns, "name": "elastic-operator"}}
			for k, v := range tc.operator {
				want["operator"].(map[string]any)[k] = v
			}
			var fromJSON, fromYAML map[string]any
			if err := json.Unmarshal([]byte(mustSucceed(t, cluster.Run(t, "version", "-n", ns, "-o", "json")).Stdout), &fromJSON); err != nil {
				t.Fatal(err)
			}
			if err := yaml.Unmarshal([]byte(mustSucceed(t, cluster.Run(t, "version", "-n", ns, "-o", "yaml")).Stdout), &fromYAML); err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(fromJSON, want) || !reflect.DeepEqual(fromYAML, want) {
				t.Errorf("version -o json = %v, -o yaml = %v; want %v", fromJSON, fromYAML, want)
			}
		})
	}
}

func TestVersionClientAsksNoCluster(t *testing.T) {
	for format, want := range map[string]string{"": "kubectl-eck-metrics dev\n", "json": "{\n    \"clientVersion\": \"dev\"\n}\n", "yaml": "clientVersion: dev\n"} {
		args := []string{"version", "--client"}
		if format != "" {
			args = append(args, "-o", format)
		}
		r := mustSucceed(t, cluster.Run(t, args...))
		if r.Stdout != want || r.Stderr != "" || r.Requests != 0 {
			t.Errorf("%s: stdout %q, stderr %q, %d requests; want %q and no request", strings.Join(args, " "), r.Stdout, r.Stderr, r.Requests, want)
		}
	}
}

// No operator is no failure of version: the plugin's version, and a warning.
func TestVersionWithoutOperator(t *testing.T) {
	ns := cluster.NewNamespace(t, "versionnone")
	r := cluster.Run(t, "version", "-n", ns)
	if code := cmd.ExitCode(r.Err); code != 0 || r.Stdout != "kubectl-eck-metrics dev\n" ||
		!strings.HasPrefix(r.Stderr, "Warning: no ECK operator StatefulSet found in namespace \""+ns+"\"") || strings.Count(r.Stderr, "\n") != 1 {
		t.Errorf("version without an operator: exit %d, stdout %q, stderr %q", code, r.Stdout, r.Stderr)
	}
	r = cluster.Run(t, "version", "--client", "--name", "x")
	if code := cmd.ExitCode(r.Err); code != 2 || r.Err == nil || !strings.Contains(r.Err.Error(), "--name picks the operator, which --client does not look for") {
		t.Errorf("version --client --name: exit %d, err %v", code, r.Err)
	}
}

// --operator-version takes the forms users type: 3.5, 3.5.0 and v3.5.0
// render the same; anything else gets one line saying what it wants.
func TestOperatorVersionForms(t *testing.T) {
	render := func(v string) framework.Result {
		return cluster.Run(t, "enable", "--local", "--operator-version", v)
	}
	want := mustSucceed(t, render("3.5.0"))
	if !strings.Contains(want.Stderr, "Rendered for ECK 3.5.0 in native mode") {
		t.Fatalf("3.5.0 render said %q", want.Stderr)
	}
	for _, v := range []string{"3.5", "v3.5.0", "v3.5"} {
		r := mustSucceed(t, render(v))
		if r.Stdout != want.Stdout || r.Stderr != want.Stderr {
			t.Errorf("--operator-version %s renders otherwise than 3.5.0:\n%s\n%s", v, r.Stderr, r.Stdout)
		}
	}
	for _, v := range []string{"3", "3.x", "latest", "3.5.0-rc1"} {
		r := render(v)
		if code := cmd.ExitCode(r.Err); code != 2 || r.Err == nil || strings.Contains(r.Err.Error(), "\n") ||
			r.Err.Error() != `invalid --operator-version: "`+v+`" is not an ECK version: use MAJOR.MINOR[.PATCH], e.g. 3.5 or 3.5.0` || r.Stdout != "" {
			t.Errorf("--operator-version %s: exit %d, err %v, stdout %q", v, code, r.Err, r.Stdout)
		}
	}
	// use-cert --local parses it the same way.
	r := mustSucceed(t, cluster.Run(t, "use-cert", "--local", "--operator-version", "v3.5", "--self-signed"))
	if !strings.Contains(r.Stderr, "ECK 3.5.0") {
		t.Errorf("use-cert --local --operator-version v3.5 said %q", r.Stderr)
	}
}
