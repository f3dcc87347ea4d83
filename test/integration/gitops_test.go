package integration

import (
	"bytes"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/eck-metrics/kubectl-eck-metrics/pkg/patches"
	"github.com/eck-metrics/kubectl-eck-metrics/pkg/status"
	"github.com/eck-metrics/kubectl-eck-metrics/test/framework"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/yaml"
)

// gitOpsController applies objects from Git as Argo CD or Flux does:
// server-side apply under its field manager, with its tracking metadata.
type gitOpsController struct {
	name    string
	manager string
	// owner is how the plugin names the application.
	owner string
	track func(obj *unstructured.Unstructured)
}

var gitOpsControllers = []gitOpsController{
	{
		name: "argocd", manager: "argocd-controller", owner: `Argo CD application "eck-operator"`,
		track: func(obj *unstructured.Unstructured) {
			// Argo CD's annotation tracking: <app>:<group>/<kind>:<namespace>/<name>.
			gvk := obj.GroupVersionKind()
			setAnnotation(obj, "argocd.argoproj.io/tracking-id", fmt.Sprintf("eck-operator:%s/%s:%s/%s", gvk.Group, gvk.Kind, obj.GetNamespace(), obj.GetName()))
		},
	},
	{
		name: "flux", manager: "kustomize-controller", owner: "Flux Kustomization flux-system/eck-operator",
		track: func(obj *unstructured.Unstructured) {
			labels := obj.GetLabels()
			if labels == nil {
				labels = map[string]string{}
			}
			labels["kustomize.toolkit.fluxcd.io/name"] = "eck-operator"
			labels["kustomize.toolkit.fluxcd.io/namespace"] = "flux-system"
			obj.SetLabels(labels)
		},
	},
}

func setAnnotation(obj *unstructured.Unstructured, k, v string) {
	a := obj.GetAnnotations()
	if a == nil {
		a = map[string]string{}
	}
	a[k] = v
	obj.SetAnnotations(a)
}

// sync applies the objects as the controller, the way its sync does.
func (c gitOpsController) sync(t testing.TB, objects []*unstructured.Unstructured) {
	t.Helper()
	tracked := make([]*unstructured.Unstructured, len(objects))
	for i, obj := range objects {
		tracked[i] = obj.DeepCopy()
		c.track(tracked[i])
	}
	cluster.ForceApply(t, c.manager, tracked)
}

// fixtureIn is the fixture's objects in namespace ns, as cluster.InstallFixture
// creates them.
func fixtureIn(t testing.TB, file, ns string) ([]*unstructured.Unstructured, framework.Fixture) {
	t.Helper()
	objects := framework.FixtureObjects(t, file)
	var f framework.Fixture
	for _, obj := range objects {
		obj.SetNamespace(ns)
		if obj.GetKind() == "StatefulSet" {
			f = framework.Fixture{Namespace: ns, Name: obj.GetName()}
		}
	}
	return objects, f
}

// installByGitOps syncs the all-in-one into a namespace of its own.
func installByGitOps(t testing.TB, c gitOpsController, prefix string) ([]*unstructured.Unstructured, framework.Fixture) {
	t.Helper()
	ns := cluster.NewNamespace(t, prefix)
	objects, f := fixtureIn(t, "eck-3.5.0-all-in-one.yaml", ns)
	c.sync(t, objects)
	t.Cleanup(func() { cluster.RemoveInstall(t, f) })
	return objects, f
}

// printedCommands are the lines of a refusal that are commands.
func printedCommands(t testing.TB, err error) []string {
	t.Helper()
	var out []string
	for _, line := range strings.Split(err.Error(), "\n") {
		if strings.HasPrefix(line, "  kubectl ") {
			out = append(out, strings.TrimPrefix(line, "  "))
		}
	}
	if len(out) == 0 {
		t.Fatalf("the refusal prints no commands:\n%v", err)
	}
	return out
}

// shellWords splits a printed command as a POSIX shell does for the words
// the plugin prints: blanks, 'single quotes' and "> file".
func shellWords(t testing.TB, line string) (args []string, redirect string) {
	t.Helper()
	var words []string
	var word strings.Builder
	inWord, quoted := false, false
	for _, r := range line {
		switch {
		case quoted && r == '\'':
			quoted = false
		case quoted:
			word.WriteRune(r)
		case r == '\'':
			quoted, inWord = true, true
		case r == ' ':
			if inWord {
				words = append(words, word.String())
				word.Reset()
				inWord = false
			}
		default:
			word.WriteRune(r)
			inWord = true
		}
	}
	if quoted {
		t.Fatalf("unbalanced quote in %q", line)
	}
	if inWord {
		words = append(words, word.String())
	}
	if n := len(words); n >= 2 && words[n-2] == ">" {
		return words[:n-2], words[n-1]
	}
	return words, ""
}

// runPrinted runs the printed commands as a shell would, in dir: kubectl
// is the real kubectl, "kubectl eck-metrics" the real root command.
// It returns the files they wrote.
func runPrinted(t *testing.T, dir string, commands []string) map[string]string {
	t.Helper()
	t.Chdir(dir)
	files := map[string]string{}
	for _, line := range commands {
		args, redirect := shellWords(t, line)
		var stdout string
		switch {
		case len(args) > 1 && args[0] == "kubectl" && args[1] == "eck-metrics":
			stdout = mustSucceed(t, cluster.Run(t, args[2:]...)).Stdout
		case args[0] == "kubectl":
			out, stderr, err := kubectl(t, t.TempDir(), args[1:]...)
			if err != nil {
				t.Fatalf("%s: %v\n%s", line, err, stderr)
			}
			stdout = out
		default:
			t.Fatalf("not a command the plugin prints: %q", line)
		}
		if redirect == "" {
			t.Fatalf("%q writes no file", line)
		}
		if err := os.WriteFile(filepath.Join(dir, redirect), []byte(stdout), 0o644); err != nil {
			t.Fatal(err)
		}
		files[redirect] = stdout
	}
	return files
}

// byRef indexes objects by kind, namespace and name, without the
// resourceVersion precondition.
func byRef(objects []*unstructured.Unstructured) map[string]map[string]any {
	out := map[string]map[string]any{}
	for _, obj := range objects {
		obj = obj.DeepCopy()
		unstructured.RemoveNestedField(obj.Object, "metadata", "resourceVersion")
		out[obj.GetKind()+" "+obj.GetNamespace()+"/"+obj.GetName()] = obj.Object
	}
	return out
}

func refsOf(m map[string]map[string]any) []string {
	return slices.Sorted(maps.Keys(m))
}

// assertRendersWhatIsApplied runs the printed commands as printed and
// compares the objects they render with what the command of args (a
// client dry run of it) would apply.
func assertRendersWhatIsApplied(t *testing.T, commands []string, args ...string) {
	t.Helper()
	rendered := runPrinted(t, t.TempDir(), commands)
	var renderedObjects []*unstructured.Unstructured
	for _, file := range []string{"eck-metrics-resources.yaml", "eck-metrics-patches.yaml"} {
		renderedObjects = append(renderedObjects, framework.DecodeObjects(t, rendered[file])...)
	}
	wouldApply := mustSucceed(t, cluster.Run(t, append(args, "--dry-run=client", "-o", "json")...))
	got, want := byRef(renderedObjects), byRef(framework.DecodeObjects(t, wouldApply.Stdout))
	if len(want) == 0 {
		t.Fatalf("%v --dry-run=client -o json prints no objects to compare with", args)
	}
	if strings.Join(refsOf(got), ", ") != strings.Join(refsOf(want), ", ") {
		t.Fatalf("rendered %v, %v applies %v", refsOf(got), args, refsOf(want))
	}
	for ref, obj := range want {
		if !equality.Semantic.DeepEqual(got[ref], obj) {
			a, _ := yaml.Marshal(got[ref])
			b, _ := yaml.Marshal(obj)
			t.Errorf("%s: rendered\n%s\n%v applies\n%s", ref, a, args, b)
		}
	}
}

// An operator Argo CD or Flux syncs from Git: enable is refused and
// changes nothing; the printed --local commands render what enable would
// apply; --allow-gitops proceeds; dry runs run and say what a real run
// would refuse.
func TestGitOpsRefusal(t *testing.T) {
	cluster.InstallServiceMonitorCRD(t)
	for _, c := range gitOpsControllers {
		t.Run(c.name, func(t *testing.T) {
			_, f := installByGitOps(t, c, "gitops-"+c.name)
			ns := f.Namespace
			before := cluster.Snapshot(t, ns)

			r := cluster.Run(t, "enable", "-n", ns)
			framework.AssertUnchanged(t, before, cluster.Snapshot(t, ns))
			if r.Err == nil {
				t.Fatalf("enable of a GitOps-managed operator succeeded:\n%s%s", r.Stdout, r.Stderr)
			}
			first, _, _ := strings.Cut(r.Err.Error(), "\n")
			want := fmt.Sprintf("%s/%s is managed by %s, whose next sync reverts changes made outside Git: nothing was changed; commit what these render instead:", ns, f.Name, c.owner)
			if first != want {
				t.Errorf("first line of the refusal:\n%s\nwant\n%s", first, want)
			}
			if !strings.HasSuffix(r.Err.Error(), "\nor pass --allow-gitops to change it anyway") {
				t.Errorf("refusal does not offer --allow-gitops:\n%v", r.Err)
			}
			commands := printedCommands(t, r.Err)
			wantCommands := []string{
				fmt.Sprintf("kubectl get configmap elastic-operator -n %s -o yaml > eck-configmap.yaml", ns),
				fmt.Sprintf("kubectl eck-metrics enable --local --operator-version 3.5.0 -n %s --name elastic-operator -f eck-configmap.yaml --local-part resources > eck-metrics-resources.yaml", ns),
				fmt.Sprintf("kubectl eck-metrics enable --local --operator-version 3.5.0 -n %s --name elastic-operator -f eck-configmap.yaml --local-part patches > eck-metrics-patches.yaml", ns),
			}
			if strings.Join(commands, "\n") != strings.Join(wantCommands, "\n") {
				t.Errorf("printed commands:\n%s\nwant\n%s", strings.Join(commands, "\n"), strings.Join(wantCommands, "\n"))
			}

			// disable has nothing to undo here, so it is not refused.
			mustSucceed(t, cluster.Run(t, "disable", "-n", ns))
			framework.AssertUnchanged(t, before, cluster.Snapshot(t, ns))

			for _, dryRun := range []string{"--dry-run=client", "--dry-run=server"} {
				r := mustSucceed(t, cluster.Run(t, "enable", "-n", ns, dryRun))
				if !strings.Contains(r.Stderr, "Warning: without --dry-run this is refused: "+ns+"/elastic-operator is managed by "+c.owner) {
					t.Errorf("%s does not say a real run is refused:\n%s", dryRun, r.Stderr)
				}
				if !strings.Contains(r.Stderr, "ConfigMap "+ns+"/elastic-operator configured") {
					t.Errorf("%s:\n%s", dryRun, r.Stderr)
				}
				framework.AssertUnchanged(t, before, cluster.Snapshot(t, ns))
			}

			// The commands, run as printed, render what enable would apply.
			assertRendersWhatIsApplied(t, commands, "enable", "-n", ns)
			framework.AssertUnchanged(t, before, cluster.Snapshot(t, ns))

			r = mustSucceed(t, cluster.Run(t, "enable", "-n", ns, "--allow-gitops"))
			if !strings.Contains(r.Stderr, "Warning: "+ns+"/elastic-operator is managed by "+c.owner+", whose next sync reverts changes made outside Git: --allow-gitops changes it anyway") {
				t.Errorf("--allow-gitops gives no warning:\n%s", r.Stderr)
			}
			if cm := getConfigMap(t, ns, "elastic-operator"); !strings.Contains(cm.Data["eck.yaml"], "metrics-secure: true") {
				t.Errorf("--allow-gitops did not enable:\n%s", cm.Data["eck.yaml"])
			}
		})
	}
}

// An install whose Git already holds the procedure (the README's kustomize
// flow, from the commands the refusal prints) reports every step
// unchanged, owned by the GitOps controller, and sends no write; status
// warns and passes the rest.
func TestGitOpsInstallHoldsProcedure(t *testing.T) {
	cluster.InstallServiceMonitorCRD(t)
	for _, c := range gitOpsControllers {
		t.Run(c.name, func(t *testing.T) {
			base, f := installByGitOps(t, c, "gitops-held-"+c.name)
			ns := f.Namespace
			r := cluster.Run(t, "enable", "-n", ns)
			if r.Err == nil {
				t.Fatal("enable was not refused")
			}
			dir := t.TempDir()
			runPrinted(t, dir, printedCommands(t, r.Err))
			var operatorYAML bytes.Buffer
			for _, obj := range base {
				raw, err := yaml.Marshal(obj.Object)
				if err != nil {
					t.Fatal(err)
				}
				operatorYAML.WriteString("---\n")
				operatorYAML.Write(raw)
			}
			kustomization := "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources:\n- operator.yaml\n- eck-metrics-resources.yaml\npatches:\n- path: eck-metrics-patches.yaml\n"
			for name, content := range map[string]string{"operator.yaml": operatorYAML.String(), "kustomization.yaml": kustomization} {
				if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			built, stderr, err := kubectl(t, t.TempDir(), "kustomize", dir)
			if err != nil {
				t.Fatalf("kubectl kustomize: %v\n%s", err, stderr)
			}
			c.sync(t, framework.DecodeObjects(t, built))
			rolledOut(t, ns, f.Name)
			before := cluster.Snapshot(t, ns)

			for _, args := range [][]string{{"--dry-run=server"}, {"--dry-run=client"}, nil} {
				r := mustSucceed(t, cluster.Run(t, append([]string{"enable", "-n", ns}, args...)...))
				suffix := map[string]string{"--dry-run=server": " (server dry run)", "--dry-run=client": " (dry run)"}[strings.Join(args, "")]
				owned := "unchanged (owned by " + c.manager + ")" + suffix
				want := []string{
					fmt.Sprintf("[1/5] ConfigMap eck.yaml: ConfigMap %s/elastic-operator %s", ns, owned),
					fmt.Sprintf("[2/5] RBAC: ClusterRole elastic-operator-metrics-auth-role %s; ClusterRoleBinding elastic-operator-metrics-auth-rolebinding %s", owned, owned),
					fmt.Sprintf("[3/5] Service: Service %s/elastic-operator-metrics %s", ns, owned),
					fmt.Sprintf("[4/5] StatefulSet: StatefulSet %s/elastic-operator %s", ns, owned),
					fmt.Sprintf("[5/5] ServiceMonitor: ServiceMonitor %s/elastic-operator %s", ns, owned),
				}
				progress := r.Stdout
				if args != nil {
					progress = r.Stderr
				}
				for _, line := range want {
					if !strings.Contains(progress, line+"\n") {
						t.Errorf("enable %v lacks\n%s\nin\n%s", args, line, progress)
					}
				}
				if strings.Contains(r.Stderr, "refused") || strings.Contains(r.Stderr, "Warning") {
					t.Errorf("enable %v, which changes nothing, warns:\n%s", args, r.Stderr)
				}
				framework.AssertUnchanged(t, before, cluster.Snapshot(t, ns))
			}
			// Nothing of it is ours: no field of our manager appears.
			if fields := fieldsOf(getStatefulSet(t, ns, f.Name), patches.FieldManager); fields != "" {
				t.Errorf("enable took fields of the StatefulSet: %s", fields)
			}

			rep, sr := statusOf(t, cluster.Kubeconfig, "-n", ns)
			if sr.Err != nil {
				t.Errorf("status failed: %v", sr.Err)
			}
			expectOutcome(t, rep, status.OperatorGitOps, status.Warn, "managed by "+c.owner+": changes outside Git are reverted on sync")
			for _, check := range rep.Checks {
				if check.ID != status.OperatorGitOps && check.Outcome != status.Pass && check.Category != status.CategoryEndpoint && check.Category != status.CategoryPrometheus && !((check.Category == status.CategorySelection || check.Category == status.CategoryTargets) && check.Outcome == status.Skip) {
					t.Errorf("%s: %s %s", check.ID, check.Outcome, check.Message)
				}
			}

			// A change to what Git holds: the commands render it from the
			// live ConfigMap, keeping the values the first render recorded.
			r = cluster.Run(t, "enable", "-n", ns, "--port", "9090")
			if r.Err == nil {
				t.Fatal("enable --port 9090 was not refused")
			}
			framework.AssertUnchanged(t, before, cluster.Snapshot(t, ns))
			assertRendersWhatIsApplied(t, printedCommands(t, r.Err), "enable", "-n", ns, "--port", "9090")
			framework.AssertUnchanged(t, before, cluster.Snapshot(t, ns))

			// disable would undo what Git declares: refused, nothing changed.
			r = cluster.Run(t, "disable", "-n", ns)
			if r.Err == nil || !strings.Contains(r.Err.Error(), "is managed by "+c.owner) || !strings.Contains(r.Err.Error(), "turn metrics off in Git instead") {
				t.Errorf("disable: %v", r.Err)
			}
			framework.AssertUnchanged(t, before, cluster.Snapshot(t, ns))
			for _, dryRun := range []string{"--dry-run=client", "--dry-run=server"} {
				r = mustSucceed(t, cluster.Run(t, "disable", "-n", ns, dryRun))
				if !strings.Contains(r.Stderr, "Warning: without --dry-run this is refused: "+ns+"/elastic-operator is managed by "+c.owner) {
					t.Errorf("disable %s does not say a real run is refused:\n%s", dryRun, r.Stderr)
				}
				framework.AssertUnchanged(t, before, cluster.Snapshot(t, ns))
			}
		})
	}
}

// A chart Argo CD renders (Helm's labels, no Helm release to upgrade): the
// refusal is the GitOps one, with the chart's values to set in Git, not a
// helm upgrade.
func TestGitOpsHelmChartRenderedByArgoCD(t *testing.T) {
	argo := gitOpsControllers[0]
	ns := cluster.NewNamespace(t, "gitops-chart")
	objects, f := fixtureIn(t, "eck-3.5.0-helm.yaml", ns)
	argo.sync(t, objects)
	t.Cleanup(func() { cluster.RemoveInstall(t, f) })
	before := cluster.Snapshot(t, ns)
	r := cluster.Run(t, "enable", "-n", ns)
	want := fmt.Sprintf("%s/%s is managed by %s, whose next sync reverts changes made outside Git: nothing was changed; set the chart's values in Git instead: config.metrics.secureMode.enabled=true, config.metrics.port=8081\nor pass --allow-gitops to change it anyway", ns, f.Name, argo.owner)
	if r.Err == nil || r.Err.Error() != want {
		t.Errorf("enable: %v\nwant %s", r.Err, want)
	}
	framework.AssertUnchanged(t, before, cluster.Snapshot(t, ns))
	// --allow-gitops is enough: there is no helm upgrade to run.
	mustSucceed(t, cluster.Run(t, "enable", "-n", ns, "--allow-gitops"))
	if eck := getConfigMap(t, ns, f.Name).Data["eck.yaml"]; !strings.Contains(eck, "metrics-secure: true") {
		t.Errorf("--allow-gitops did not enable: eck.yaml\n%s", eck)
	}
}

// use-cert on an operator Argo CD syncs: refused with the use-cert --local
// commands, which, run as printed, render what use-cert would apply.
func TestGitOpsUseCertRefusal(t *testing.T) {
	cluster.InstallServiceMonitorCRD(t)
	argo := gitOpsControllers[0]
	_, f := installByGitOps(t, argo, "gitops-cert")
	ns := f.Namespace
	good := newTestCA(t).goodLeaf(t, ns)
	createTLSSecret(t, ns, "eck-metrics-tls", corev1.SecretTypeTLS, good.data())
	before := cluster.Snapshot(t, ns)
	r := cluster.Run(t, "use-cert", "-n", ns, "--secret", "eck-metrics-tls")
	framework.AssertUnchanged(t, before, cluster.Snapshot(t, ns))
	if r.Err == nil || !strings.Contains(r.Err.Error(), "is managed by "+argo.owner) {
		t.Fatalf("use-cert: %v", r.Err)
	}
	commands := printedCommands(t, r.Err)
	want := fmt.Sprintf("kubectl eck-metrics use-cert --local --operator-version 3.5.0 -n %s --name elastic-operator --secret eck-metrics-tls -f eck-configmap.yaml --local-part patches > eck-metrics-patches.yaml", ns)
	if !slices.Contains(commands, want) {
		t.Errorf("printed commands:\n%s\nlack\n%s", strings.Join(commands, "\n"), want)
	}
	assertRendersWhatIsApplied(t, commands, "use-cert", "-n", ns, "--secret", "eck-metrics-tls")
	framework.AssertUnchanged(t, before, cluster.Snapshot(t, ns))

	// After use-cert (allowed), enable keeps the certificate: its refusal
	// prints use-cert --local with that secret.
	mustSucceed(t, cluster.Run(t, "use-cert", "-n", ns, "--secret", "eck-metrics-tls", "--allow-gitops"))
	r = cluster.Run(t, "enable", "-n", ns, "--port", "9090")
	want = fmt.Sprintf("kubectl eck-metrics use-cert --local --operator-version 3.5.0 -n %s --name elastic-operator --port 9090 --secret eck-metrics-tls -f eck-configmap.yaml --local-part resources > eck-metrics-resources.yaml", ns)
	if r.Err == nil || !slices.Contains(printedCommands(t, r.Err), want) {
		t.Errorf("enable --port 9090: %v\nwant the command\n%s", r.Err, want)
	}
}
