package cmd

import (
	"context"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/eck-metrics/kubectl-eck-metrics/pkg/operator"
	"github.com/eck-metrics/kubectl-eck-metrics/pkg/patches"
	"github.com/eck-metrics/kubectl-eck-metrics/pkg/steps"
	"github.com/spf13/cobra"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/cli-runtime/pkg/genericclioptions"
	"k8s.io/cli-runtime/pkg/genericiooptions"
	"k8s.io/cli-runtime/pkg/printers"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
)

const enableExample = `  # Secure the metrics endpoint of the operator found in the cluster
  kubectl eck-metrics enable

  # Show what would be applied, without changing anything
  kubectl eck-metrics enable --dry-run=client

  # An operator installed under another name, on another metrics port, and wait for the rollout
  kubectl eck-metrics enable -n eck --name my-operator --port 9090 --wait

  # Let a Prometheus that selects ServiceMonitors by label find this one
  kubectl eck-metrics enable --service-monitor-label release=prometheus`

// OperatorFlags pick the operator install.
type OperatorFlags struct {
	Name string
}

func (f *OperatorFlags) AddFlags(cmd *cobra.Command) {
	cmd.Flags().StringVar(&f.Name, "name", "", "name of the operator StatefulSet (default: found by its labels, else elastic-operator)")
}

// EnableOptions are the flags and state of "enable".
type EnableOptions struct {
	configFlags *genericclioptions.ConfigFlags
	PrintFlags  *genericclioptions.PrintFlags
	genericiooptions.IOStreams
	OperatorFlags

	Mode                 string
	Port                 int
	SidecarImage         string
	ServiceMonitor       string
	ServiceMonitorLabels []string
	DryRun               string
	AllowHelm            bool
	ForceConflicts       bool
	Wait                 bool
	Timeout              time.Duration

	namespace string
	clients   steps.Clients
	mode      operator.Mode
	dryRun    steps.DryRun
	smPolicy  steps.ServiceMonitorPolicy
	smLabels  map[string]string
	printer   printers.ResourcePrinter
	// pollInterval of --wait.
	pollInterval time.Duration
	color        *colorFlag
}

// NewEnableOptions has the defaults of every flag.
func NewEnableOptions(configFlags *genericclioptions.ConfigFlags, color *colorFlag, streams genericiooptions.IOStreams) *EnableOptions {
	return &EnableOptions{
		color:          color,
		configFlags:    configFlags,
		PrintFlags:     genericclioptions.NewPrintFlags("applied"),
		IOStreams:      streams,
		Port:           patches.DefaultMetricsPort,
		SidecarImage:   patches.DefaultSidecarImg,
		ServiceMonitor: string(steps.ServiceMonitorAuto),
		DryRun:         string(steps.DryRunNone),
		Timeout:        5 * time.Minute,
		pollInterval:   time.Second,
	}
}

// NewCmdEnable is "kubectl eck-metrics enable".
func NewCmdEnable(configFlags *genericclioptions.ConfigFlags, color *colorFlag, streams genericiooptions.IOStreams) *cobra.Command {
	o := NewEnableOptions(configFlags, color, streams)
	cmd := &cobra.Command{
		Use:   "enable",
		Short: "Secure the operator's metrics endpoint with RBAC and TLS (server-side apply)",
		Long: `Run the documented steps that secure the ECK operator's metrics endpoint, in
order, each with server-side apply (field manager kubectl-eck-metrics):

  1. ConfigMap: set metrics-port, metrics-host (and metrics-secure in native
     mode) in eck.yaml, keeping every other key and comment
  2. ClusterRole and ClusterRoleBinding for tokenreviews/subjectaccessreviews,
     bound to the operator's ServiceAccount
  3. Service <name>-metrics, port https 8080 -> metrics
  4. StatefulSet: the manager's metrics port (native) or the kube-rbac-proxy
     sidecar (sidecar)
  5. ServiceMonitor, where the monitoring.coreos.com/v1 API is served

Every change is first sent as a server dry run, so a missing permission or
a conflict stops the run before anything is written. Running it again on
an enabled operator changes nothing.`,
		Example: enableExample,
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := o.Complete(); err != nil {
				return err
			}
			if err := o.Validate(); err != nil {
				return err
			}
			return o.Run(cmd.Context())
		},
	}
	o.AddFlags(cmd)
	return cmd
}

// AddFlags binds the flags of enable (use-cert shares them).
func (o *EnableOptions) AddFlags(cmd *cobra.Command) {
	o.OperatorFlags.AddFlags(cmd)
	o.PrintFlags.AddFlags(cmd)
	f := cmd.Flags()
	f.StringVar(&o.Mode, "mode", "", "native or sidecar (default: chosen by the operator's version)")
	f.IntVar(&o.Port, "port", o.Port, "metrics-port the operator serves metrics on")
	f.StringVar(&o.SidecarImage, "sidecar-image", o.SidecarImage, "kube-rbac-proxy image of sidecar mode")
	f.StringVar(&o.ServiceMonitor, "service-monitor", o.ServiceMonitor, "apply a ServiceMonitor: auto (where the API is served), always or never")
	f.StringArrayVar(&o.ServiceMonitorLabels, "service-monitor-label", nil, "label KEY=VALUE for the ServiceMonitor, so Prometheus selects it (repeatable)")
	f.StringVar(&o.DryRun, "dry-run", o.DryRun, `"none", "client" (print the objects, send nothing) or "server" (send with dryRun=All and print what the server would store)`)
	f.Lookup("dry-run").NoOptDefVal = string(steps.DryRunClient)
	f.BoolVar(&o.AllowHelm, "allow-helm", false, "patch a Helm-managed operator (the next helm upgrade reverts it)")
	f.BoolVar(&o.ForceConflicts, "force-conflicts", false, "take over fields another field manager owns")
	f.BoolVar(&o.Wait, "wait", false, "wait for the StatefulSet rollout to finish")
	f.DurationVar(&o.Timeout, "timeout", o.Timeout, "how long --wait waits")
	_ = cmd.RegisterFlagCompletionFunc("mode", cobra.FixedCompletions([]string{"native", "sidecar"}, cobra.ShellCompDirectiveNoFileComp))
	_ = cmd.RegisterFlagCompletionFunc("service-monitor", cobra.FixedCompletions([]string{"auto", "always", "never"}, cobra.ShellCompDirectiveNoFileComp))
	_ = cmd.RegisterFlagCompletionFunc("dry-run", cobra.FixedCompletions([]string{"none", "client", "server"}, cobra.ShellCompDirectiveNoFileComp))
}

// Complete builds the clients; it contacts nothing.
func (o *EnableOptions) Complete() error {
	if o.configFlags.Namespace != nil {
		// Only an explicit -n limits the search; the kubeconfig context's
		// namespace (often "default") would hide the operator.
		o.namespace = *o.configFlags.Namespace
	}
	cfg, err := o.configFlags.ToRESTConfig()
	if err != nil {
		return err
	}
	if o.clients.Kube, err = kubernetes.NewForConfig(cfg); err != nil {
		return err
	}
	if o.clients.Dynamic, err = dynamic.NewForConfig(cfg); err != nil {
		return err
	}
	return nil
}

// Validate checks every flag before anything is read or written.
func (o *EnableOptions) Validate() error {
	if err := o.color.validate(); err != nil {
		return err
	}
	var err error
	if o.mode, err = operator.ParseMode(o.Mode); err != nil {
		return err
	}
	if o.Port < 1 || o.Port > 65535 {
		return fmt.Errorf("invalid --port %d: use a port between 1 and 65535", o.Port)
	}
	if o.dryRun, err = steps.ParseDryRun(o.DryRun); err != nil {
		return err
	}
	if o.smPolicy, err = steps.ParseServiceMonitorPolicy(o.ServiceMonitor); err != nil {
		return err
	}
	if o.smLabels, err = parseLabels(o.ServiceMonitorLabels); err != nil {
		return err
	}
	if strings.TrimSpace(o.SidecarImage) == "" {
		return fmt.Errorf("--sidecar-image is empty: give a kube-rbac-proxy image, e.g. %s", patches.DefaultSidecarImg)
	}
	if o.Wait && o.dryRun != steps.DryRunNone {
		return fmt.Errorf("--wait waits for a rollout, which a --dry-run never starts: drop one of them")
	}
	if o.Timeout <= 0 {
		return fmt.Errorf("invalid --timeout %s: use a positive duration such as 5m", o.Timeout)
	}
	format := o.outputFormat()
	if o.dryRun != steps.DryRunNone && format == "" {
		*o.PrintFlags.OutputFormat = "yaml"
	}
	if format := o.outputFormat(); format != "" {
		if o.printer, err = o.PrintFlags.ToPrinter(); err != nil {
			return fmt.Errorf("invalid -o %q: use yaml, json or name", format)
		}
	}
	return nil
}

func (o *EnableOptions) outputFormat() string {
	if o.PrintFlags.OutputFormat == nil {
		return ""
	}
	return *o.PrintFlags.OutputFormat
}

// progress is where step lines go: stderr when stdout carries objects.
func (o *EnableOptions) progress() io.Writer {
	if o.printer != nil {
		return o.ErrOut
	}
	return o.Out
}

func parseLabels(pairs []string) (map[string]string, error) {
	labels := map[string]string{}
	for _, pair := range pairs {
		k, v, ok := strings.Cut(pair, "=")
		if !ok {
			return nil, fmt.Errorf("invalid --service-monitor-label %q: use KEY=VALUE", pair)
		}
		if errs := validation.IsQualifiedName(k); len(errs) > 0 {
			return nil, fmt.Errorf("invalid --service-monitor-label key %q: %s", k, strings.Join(errs, "; "))
		}
		if errs := validation.IsValidLabelValue(v); len(errs) > 0 {
			return nil, fmt.Errorf("invalid --service-monitor-label value %q: %s", v, strings.Join(errs, "; "))
		}
		labels[k] = v
	}
	return labels, nil
}

// findOperator finds the install, chooses the mode and applies the Helm policy.
// certSecret goes into the Helm command (use-cert).
func (o *EnableOptions) findOperator(ctx context.Context, certSecret string) (*operator.Operator, operator.Mode, error) {
	op, err := operator.Find(ctx, o.clients.Kube, o.namespace, o.Name)
	if err != nil {
		return nil, "", err
	}
	mode, err := operator.ChooseMode(op.Version, o.mode)
	if err != nil {
		return nil, "", fmt.Errorf("%s/%s: %w", op.Namespace(), op.Name(), err)
	}
	if op.HelmRelease != "" {
		helm := patches.HelmUpgradeCommand(op.HelmRelease, op.Namespace(), op.HelmChartVersion, int32(o.Port), certSecret)
		if !o.AllowHelm {
			return nil, "", fmt.Errorf("%s/%s is managed by Helm (release %q), whose next upgrade would revert these changes: run instead\n  %s\nor pass --allow-helm to patch it anyway", op.Namespace(), op.Name(), op.HelmRelease, helm)
		}
		fmt.Fprintf(o.ErrOut, "Warning: %s/%s is managed by Helm (release %q): the next helm upgrade reverts these changes; the chart's way is\n  %s\n", op.Namespace(), op.Name(), op.HelmRelease, helm)
	}
	versionText := "unknown version"
	if op.Version != nil {
		versionText = "ECK " + op.Version.String()
	}
	how := "chosen by version"
	if o.mode != "" {
		how = "--mode"
	}
	fmt.Fprintf(o.progress(), "Operator %s/%s: %s, %s mode (%s)\n", op.Namespace(), op.Name(), versionText, mode, how)
	return op, mode, nil
}

func (o *EnableOptions) enableOptions(mode operator.Mode) steps.EnableOptions {
	return steps.EnableOptions{
		Mode:                 mode,
		Port:                 int32(o.Port),
		SidecarImage:         o.SidecarImage,
		ServiceMonitor:       o.smPolicy,
		ServiceMonitorLabels: o.smLabels,
		Cert:                 steps.CertConfig{Keep: true},
	}
}

// Run finds the operator, plans the steps, applies them and waits.
func (o *EnableOptions) Run(ctx context.Context) error {
	if ctx == nil {
		ctx = context.Background()
	}
	op, mode, err := o.findOperator(ctx, "")
	if err != nil {
		return err
	}
	plan, err := steps.PlanEnable(ctx, o.clients, op, o.enableOptions(mode))
	if err != nil {
		return err
	}
	return o.apply(ctx, op, plan)
}

// apply runs a plan, prints the objects and waits for the rollout.
func (o *EnableOptions) apply(ctx context.Context, op *operator.Operator, plan []*steps.Step) error {
	runner := steps.Runner{DryRun: o.dryRun, ForceConflicts: o.ForceConflicts, Progress: o.progress()}
	objects, err := runner.Run(ctx, plan)
	if err != nil {
		return err
	}
	if o.printer != nil {
		if err := printObjects(o.printer, o.outputFormat(), objects, o.Out); err != nil {
			return err
		}
	}
	if o.Wait {
		return steps.WaitForRollout(ctx, o.clients.Kube, op.Namespace(), op.Name(), o.pollInterval, o.Timeout, o.progress(), o.color.enabled(o.progress()))
	}
	return nil
}
