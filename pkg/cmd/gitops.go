package cmd

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/eck-metrics/kubectl-eck-metrics/pkg/apply"
	"github.com/eck-metrics/kubectl-eck-metrics/pkg/helmhint"
	"github.com/eck-metrics/kubectl-eck-metrics/pkg/operator"
	"github.com/eck-metrics/kubectl-eck-metrics/pkg/patches"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"sigs.k8s.io/yaml"
)

// gitOpsOf tells who syncs the operator from Git, from its StatefulSet and
// the ConfigMap the plan read.
func gitOpsOf(op *operator.Operator, plan []*apply.Step) *operator.GitOps {
	objects := []metav1.Object{op.StatefulSet}
	for _, s := range plan {
		for _, a := range s.Actions {
			if a.Kind != "ConfigMap" || a.Namespace != op.Namespace() || a.Name != op.ConfigMapName || a.Live == nil {
				continue
			}
			if m, ok := a.Live.(metav1.Object); ok {
				objects = append(objects, m)
			}
		}
	}
	return operator.DetectGitOps(objects...)
}

// writes tells whether running the plan would change anything.
func writes(plan []*apply.Step) bool {
	for _, s := range plan {
		for _, a := range s.Actions {
			if a.Delete || !a.UpToDate {
				return true
			}
		}
	}
	return false
}

// guardGitOps refuses to change an operator that Argo CD or Flux syncs
// from Git without --allow-gitops: the next sync reverts the change, and
// fields we co-own would be removed by disable though Git still declares
// them. A plan that writes nothing passes. instead says what to commit.
// Dry runs go on and say what a real run would refuse.
func (m *mutateCommand) guardGitOps(op *operator.Operator, plan []*apply.Step, instead string) error {
	g := gitOpsOf(op, plan)
	if g == nil || !writes(plan) {
		return nil
	}
	managed := fmt.Sprintf("%s/%s is managed by %s, whose next sync reverts changes made outside Git", op.Namespace(), op.Name(), g.Owner())
	switch {
	case m.AllowGitOps:
		fmt.Fprintf(m.ErrOut, "Warning: %s: --allow-gitops changes it anyway; commit the change to Git too\n", managed)
	case m.DryRun != apply.DryRunNone:
		fmt.Fprintf(m.ErrOut, "Warning: without --dry-run this is refused: %s; pass --allow-gitops to change it anyway\n", managed)
	default:
		return fmt.Errorf("%s: nothing was changed; %s\nor pass --allow-gitops to change it anyway", managed, instead)
	}
	return nil
}

// gitOpsEnableInstead is what to commit instead of enable or use-cert: the
// chart's values where Helm renders the install (Argo CD or Flux with a
// chart), else the --local commands, filled in from the live install, that
// render the objects and patches, with the eck.yaml they start from.
// certArgs are use-cert's flags (nil for enable); certSecret is the
// certificate secret the run serves.
func (o *EnableOptions) gitOpsEnableInstead(op *operator.Operator, mode operator.Mode, plan []*apply.Step, certSecret string, certArgs []string) string {
	if op.HelmRelease != "" {
		return "set the chart's values in Git instead: " + strings.Join(helmhint.MetricsValues(o.helmPort(), certSecret), ", ")
	}
	if certArgs == nil && certSecret != "" {
		// enable keeps the certificate use-cert configured: so must the render.
		certArgs = []string{"--secret", certSecret}
	}
	verb := "enable"
	if certArgs != nil {
		verb = "use-cert"
	}
	args := []string{"kubectl eck-metrics", verb, "--local"}
	if op.Version != nil {
		args = append(args, "--operator-version", op.Version.String())
	} else {
		args = append(args, "--operator-version", "VERSION")
	}
	args = append(args, "-n", op.Namespace(), "--name", op.Name())
	if op.ServiceAccount != op.Name() {
		args = append(args, "--service-account", op.ServiceAccount)
	}
	if selector := labels.Set(op.PodSelector).String(); selector != operator.AllInOneSelector {
		args = append(args, "--selector", selector)
	}
	if o.install.Mode != "" {
		args = append(args, "--mode", string(mode))
	}
	if o.install.Port != 0 { // else the render chooses the port as enable does
		args = append(args, "--port", strconv.Itoa(o.install.Port))
	}
	if mode == operator.ModeSidecar && o.install.SidecarImage != patches.DefaultSidecarImg {
		args = append(args, "--sidecar-image", o.install.SidecarImage)
	}
	args = append(args, o.localMonitorArgs(plan)...)
	args = append(args, certArgs...)
	args = append(args, "-f", "eck-configmap.yaml")
	base := strings.Join(args, " ")
	return fmt.Sprintf("commit what these render instead:\n  kubectl get configmap %s -n %s -o yaml > eck-configmap.yaml\n  %s --local-part resources > eck-metrics-resources.yaml\n  %s --local-part patches > eck-metrics-patches.yaml",
		op.ConfigMapName, op.Namespace(), base, base)
}

// localEckConfig reads -f of --local: the install's eck.yaml, or its
// ConfigMap, whose record of the values enable replaced a render keeps
// (recorded again from an eck.yaml that holds them, it would make disable
// restore the metrics settings themselves).
func localEckConfig(raw []byte, key string) (text, record string, err error) {
	var head struct {
		APIVersion string `json:"apiVersion"`
		Kind       string `json:"kind"`
	}
	if yaml.Unmarshal(raw, &head) != nil || head.APIVersion != "v1" || head.Kind != "ConfigMap" {
		return string(raw), "", nil
	}
	var cm corev1.ConfigMap
	if err := yaml.Unmarshal(raw, &cm); err != nil {
		return "", "", err
	}
	text, ok := cm.Data[key]
	if !ok {
		return "", "", fmt.Errorf("ConfigMap %s has no key %s", cm.Name, key)
	}
	return text, cm.Annotations[patches.PreviousSettingsAnnotation], nil
}

// localMonitorArgs are the monitor flags of a render of what plan
// applies: a render leaves the monitor out (--monitor none, or the API is
// not served) only when told, and cannot read back what an earlier run set.
func (o *EnableOptions) localMonitorArgs(plan []*apply.Step) []string {
	var args []string
	for _, s := range plan {
		switch {
		case s.Title == "ServiceMonitor" && s.Skipped != "":
			return []string{"--monitor", "none"}
		case s.Title == "PodMonitor":
			args = append(args, "--monitor", "podmonitor")
		}
	}
	m := o.monitor
	if m.Auth == patches.ScrapeAuthSecret || monitorAuth(plan) == patches.ScrapeAuthSecret {
		args = append(args, "--scrape-auth", "secret")
	}
	for _, kv := range []struct {
		flag   string
		values map[string]string
	}{{"--monitor-label", m.Labels}, {"--monitor-annotation", m.Annotations}} {
		var pairs []string
		for k, v := range kv.values {
			pairs = append(pairs, k+"="+v)
		}
		slices.Sort(pairs)
		for _, p := range pairs {
			args = append(args, kv.flag, p)
		}
	}
	if m.Interval != "" {
		args = append(args, "--interval", m.Interval)
	}
	if m.ScrapeTimeout != "" {
		args = append(args, "--scrape-timeout", m.ScrapeTimeout)
	}
	if m.Alerts {
		args = append(args, "--alerts")
	}
	return args
}

// monitorAuth is the scrape auth of the plan's monitor: secret when it
// applies the reader's ServiceAccount.
func monitorAuth(plan []*apply.Step) patches.ScrapeAuth {
	for _, s := range plan {
		for _, a := range s.Actions {
			if a.Kind == "ServiceAccount" && !a.Delete {
				return patches.ScrapeAuthSecret
			}
		}
	}
	return patches.ScrapeAuthFile
}
