package docs

import (
	"bytes"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/eck-metrics/kubectl-eck-metrics/pkg/cmd"
	"k8s.io/cli-runtime/pkg/genericiooptions"
	"sigs.k8s.io/yaml"
)

const (
	fleetPage     = "docs/fleet.md"
	fleetExamples = "docs/examples/fleet"
)

// fleetRender is one render command of the fleet page: the plugin's
// arguments and the file its output goes to, relative to fleetExamples.
type fleetRender struct {
	args   []string
	target string
}

// fleetRenders are the page's `kubectl eck-metrics enable --local ... > FILE` lines.
func fleetRenders(t *testing.T) []fleetRender {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join(repoRoot, fleetPage))
	if err != nil {
		t.Fatal(err)
	}
	var out []fleetRender
	for _, line := range strings.Split(string(raw), "\n") {
		rest, ok := strings.CutPrefix(line, pluginCommand+" ")
		if !ok || !strings.Contains(rest, "--local") {
			continue
		}
		command, target, ok := strings.Cut(rest, " > ")
		if !ok {
			t.Fatalf("%s: %q writes no file", fleetPage, line)
		}
		out = append(out, fleetRender{args: strings.Fields(command), target: strings.TrimSpace(target)})
	}
	if len(out) == 0 {
		t.Fatalf("%s shows no render command", fleetPage)
	}
	return out
}

// runPlugin runs the plugin's root command in process, in dir (paths of
// -f are relative to it).
func runPlugin(t *testing.T, dir string, args []string) []byte {
	t.Helper()
	args = append([]string{}, args...)
	for i := range args {
		if (args[i] == "-f" || args[i] == "--filename") && i+1 < len(args) {
			args[i+1] = filepath.Join(dir, args[i+1])
		}
	}
	var out, errOut bytes.Buffer
	root := cmd.NewCmdRoot(genericiooptions.IOStreams{In: strings.NewReader(""), Out: &out, ErrOut: &errOut})
	root.SetArgs(args)
	root.SetOut(io.Discard)
	if err := root.Execute(); err != nil {
		t.Fatalf("%s %s: %v\n%s", pluginCommand, strings.Join(args, " "), err, errOut.String())
	}
	return out.Bytes()
}

// TestFleetExamples: the renders in docs/examples/fleet are what the
// page's commands print today; each version's directory builds with the
// real kubectl kustomize into the install of that version's mode; the
// ApplicationSet and the Flux Kustomizations lead to those directories;
// the page shows the files as they are.
func TestFleetExamples(t *testing.T) {
	dir := filepath.Join(repoRoot, fleetExamples)
	versions := map[string]bool{}
	for _, r := range fleetRenders(t) {
		got := runPlugin(t, dir, r.args)
		want, err := os.ReadFile(filepath.Join(dir, r.target))
		if err != nil {
			t.Fatalf("%s: %v (run the page's commands in %s)", fleetPage, err, fleetExamples)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("%s/%s is not what `%s %s` renders today: rerun the commands of %s in %s and commit", fleetExamples, r.target, pluginCommand, strings.Join(r.args, " "), fleetPage, fleetExamples)
		}
		versions[filepath.Dir(r.target)] = true
	}
	if len(versions) < 2 {
		t.Fatalf("the page renders %d ECK versions, want a sidecar one and a native one", len(versions))
	}

	checkFleetRoutes(t, dir, versions)
	checkFleetSnippets(t, dir)

	kubectl := filepath.Join(repoRoot, "bin", "k8s", "kubectl")
	if _, err := os.Stat(kubectl); err != nil {
		t.Skipf("bin/k8s/kubectl is missing (make test builds it into bin/k8s): the kustomizations of %s were not built", fleetExamples)
	}
	for v := range versions {
		t.Run(v, func(t *testing.T) {
			version := strings.TrimPrefix(filepath.Base(v), "eck-")
			build := filepath.Join(t.TempDir(), filepath.Base(v))
			if err := os.CopyFS(build, os.DirFS(filepath.Join(dir, v))); err != nil {
				t.Fatal(err)
			}
			operator, err := os.ReadFile(filepath.Join(repoRoot, "testdata", "fixtures", "eck-"+version+"-all-in-one.yaml"))
			if err != nil {
				t.Fatalf("no fixture of ECK %s to stand for operator.yaml: %v", version, err)
			}
			if err := os.WriteFile(filepath.Join(build, "operator.yaml"), operator, 0o600); err != nil {
				t.Fatal(err)
			}
			c := exec.Command(kubectl, "kustomize", build)
			var stderr bytes.Buffer
			c.Stderr = &stderr
			out, err := c.Output()
			if err != nil {
				t.Fatalf("kubectl kustomize %s: %v\n%s", v, err, stderr.String())
			}
			checkFleetBuild(t, version, out)
		})
	}
}

// checkFleetBuild checks what kustomize built for an ECK version: the
// metrics keys in eck.yaml, the StatefulSet of the version's mode, and the
// PrometheusRule selected like the monitor.
func checkFleetBuild(t *testing.T, version string, out []byte) {
	t.Helper()
	objs := map[string]map[string]any{}
	for _, doc := range strings.Split(string(out), "\n---\n") {
		var o map[string]any
		if err := yaml.Unmarshal([]byte(doc), &o); err != nil {
			t.Fatalf("kustomize output is not YAML: %v", err)
		}
		if o != nil {
			objs[o["kind"].(string)] = o
		}
	}
	for _, kind := range []string{"ConfigMap", "StatefulSet", "Service", "ServiceMonitor", "PrometheusRule", "ClusterRole"} {
		if objs[kind] == nil {
			t.Fatalf("ECK %s: the build has no %s", version, kind)
		}
	}
	eckYAML := objs["ConfigMap"]["data"].(map[string]any)["eck.yaml"].(string)
	native := !strings.HasPrefix(version, "2.")
	wantKeys := []string{"metrics-port: 8081", "metrics-host: 127.0.0.1", "ubi-only: false"}
	if native {
		wantKeys = []string{"metrics-port: 8081", "metrics-secure: true", "metrics-host: 0.0.0.0", "ubi-only: false"}
	}
	for _, want := range wantKeys {
		if !strings.Contains(eckYAML, want) {
			t.Errorf("ECK %s: eck.yaml lacks %q (the install's keys are kept):\n%s", version, want, eckYAML)
		}
	}
	sts, err := yaml.Marshal(objs["StatefulSet"])
	if err != nil {
		t.Fatal(err)
	}
	hasSidecar := strings.Contains(string(sts), "name: kube-rbac-proxy")
	if hasSidecar == native {
		t.Errorf("ECK %s: kube-rbac-proxy sidecar %v, want it only in sidecar mode:\n%s", version, hasSidecar, sts)
	}
	for _, kind := range []string{"ServiceMonitor", "PrometheusRule"} {
		labels, _ := objs[kind]["metadata"].(map[string]any)["labels"].(map[string]any)
		if labels["release"] != "prometheus" {
			t.Errorf("ECK %s: %s labels %v, want release=prometheus", version, kind, labels)
		}
	}
}

// checkFleetRoutes: the ApplicationSet's path, for each version it
// selects, and each Flux Kustomization's path lead to a rendered version.
func checkFleetRoutes(t *testing.T, dir string, versions map[string]bool) {
	t.Helper()
	var appSet struct {
		Spec struct {
			Generators []struct {
				Clusters struct {
					Selector struct {
						MatchExpressions []struct {
							Key    string   `json:"key"`
							Values []string `json:"values"`
						} `json:"matchExpressions"`
					} `json:"selector"`
				} `json:"clusters"`
			} `json:"generators"`
			Template struct {
				Spec struct {
					Source struct {
						Path string `json:"path"`
					} `json:"source"`
				} `json:"spec"`
			} `json:"template"`
		} `json:"spec"`
	}
	readYAML(t, filepath.Join(dir, "argocd", "applicationset.yaml"), &appSet)
	const label = `{{index .metadata.labels "eck-version"}}`
	path := appSet.Spec.Template.Spec.Source.Path
	if !strings.Contains(path, label) || len(appSet.Spec.Generators) != 1 || len(appSet.Spec.Generators[0].Clusters.Selector.MatchExpressions) != 1 {
		t.Fatalf("the ApplicationSet's path %q does not come from the cluster's eck-version label, or its selector changed shape", path)
	}
	selected := appSet.Spec.Generators[0].Clusters.Selector.MatchExpressions[0].Values
	for _, v := range selected {
		checkFleetPath(t, strings.ReplaceAll(path, label, v), versions, "the ApplicationSet for eck-version "+v)
	}
	if len(selected) != len(versions) {
		t.Errorf("the ApplicationSet selects versions %v, the page renders %v", selected, versions)
	}
	fluxFiles, err := filepath.Glob(filepath.Join(dir, "flux", "clusters", "*", "*.yaml"))
	if err != nil || len(fluxFiles) < 2 {
		t.Fatalf("Flux Kustomizations %v, %v: want one per cluster, two at least", fluxFiles, err)
	}
	seen := map[string]bool{}
	for _, f := range fluxFiles {
		var k struct {
			Kind string `json:"kind"`
			Spec struct {
				Path string `json:"path"`
			} `json:"spec"`
		}
		readYAML(t, f, &k)
		if k.Kind != "Kustomization" {
			t.Errorf("%s is a %s, not a Flux Kustomization", f, k.Kind)
		}
		seen[checkFleetPath(t, strings.TrimPrefix(k.Spec.Path, "./"), versions, f)] = true
	}
	if len(seen) != len(versions) {
		t.Errorf("the Flux clusters use %v, the page renders %v: show each version", seen, versions)
	}
}

// checkFleetPath: a repository path leads to a version's directory; it
// returns that directory, relative to fleetExamples.
func checkFleetPath(t *testing.T, path string, versions map[string]bool, who string) string {
	t.Helper()
	rel, ok := strings.CutPrefix(path, fleetExamples+"/")
	if !ok || !versions[rel] {
		t.Errorf("%s syncs %q, which is no rendered version's directory (%v)", who, path, versions)
	}
	if _, err := os.Stat(filepath.Join(repoRoot, path, "kustomization.yaml")); err != nil {
		t.Errorf("%s syncs %q: %v", who, path, err)
	}
	return rel
}

// checkFleetSnippets: the page shows the ApplicationSet, a Flux
// Kustomization and a version's kustomization as the files hold them
// (less their leading comments).
func checkFleetSnippets(t *testing.T, dir string) {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join(repoRoot, fleetPage))
	if err != nil {
		t.Fatal(err)
	}
	var blocks []string
	for _, part := range strings.Split(string(raw), "```yaml\n")[1:] {
		block, _, _ := strings.Cut(part, "```")
		blocks = append(blocks, block)
	}
	for _, f := range []string{"argocd/applicationset.yaml", "flux/clusters/edge-1/eck-operator.yaml", "versions/eck-2.15.0/kustomization.yaml"} {
		content, err := os.ReadFile(filepath.Join(dir, f))
		if err != nil {
			t.Fatal(err)
		}
		lines := strings.Split(string(content), "\n")
		for len(lines) > 0 && strings.HasPrefix(lines[0], "#") {
			lines = lines[1:]
		}
		body := strings.Join(lines, "\n")
		found := false
		for _, b := range blocks {
			found = found || b == body
		}
		if !found {
			t.Errorf("%s does not show %s/%s as it is:\n%s", fleetPage, fleetExamples, f, body)
		}
	}
}

func readYAML(t *testing.T, path string, into any) {
	t.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := yaml.Unmarshal(raw, into); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
}
