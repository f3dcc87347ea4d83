package cmd

import (
	"context"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/eck-metrics/kubectl-eck-metrics/pkg/apply"
	"github.com/eck-metrics/kubectl-eck-metrics/pkg/kube"
	"github.com/eck-metrics/kubectl-eck-metrics/pkg/operator"
	"github.com/spf13/cobra"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/cli-runtime/pkg/genericclioptions"
	"k8s.io/cli-runtime/pkg/genericiooptions"
	"k8s.io/cli-runtime/pkg/printers"
)

// OperatorFlags pick the operator install.
type OperatorFlags struct {
	Name string
}

func (f *OperatorFlags) AddFlags(cmd *cobra.Command) {
	cmd.Flags().StringVar(&f.Name, "name", "", "name of the operator StatefulSet (default: found by its labels, else elastic-operator)")
}

// MutateFlags are the flags of every command that writes (enable, use-cert,
// disable), registered in one place as kubectl's PrintFlags and
// AddDryRunFlag are: -o, --dry-run, --allow-helm, --allow-gitops,
// --force-conflicts, --wait and --timeout.
type MutateFlags struct {
	PrintFlags     *genericclioptions.PrintFlags
	DryRun         string
	AllowHelm      bool
	AllowGitOps    bool
	ForceConflicts bool
	Wait           bool
	Timeout        time.Duration

	// Usage of --dry-run, --allow-helm and --timeout, which say what the
	// command does.
	dryRunUsage, allowHelmUsage, timeoutUsage string
}

// MutateOptions are the validated MutateFlags.
type MutateOptions struct {
	DryRun apply.DryRun
	// Output is -o: yaml, json, name or one of kubectl's template formats;
	// "" prints no objects. Template is --template, AllowMissingKeys
	// --allow-missing-template-keys, both for the template formats.
	Output           string
	Template         string
	AllowMissingKeys bool
	AllowHelm        bool
	AllowGitOps      bool
	ForceConflicts   bool
	Wait             bool
	Timeout          time.Duration

	printer printers.ResourcePrinter
}

// NewMutateFlags has the defaults; the usages say what a dry run prints,
// what --allow-helm allows and what --timeout bounds.
func NewMutateFlags(dryRunUsage, allowHelmUsage, timeoutUsage string) *MutateFlags {
	return &MutateFlags{
		PrintFlags:     genericclioptions.NewPrintFlags("applied"),
		DryRun:         string(apply.DryRunNone),
		Timeout:        5 * time.Minute,
		dryRunUsage:    dryRunUsage,
		allowHelmUsage: allowHelmUsage,
		timeoutUsage:   timeoutUsage,
	}
}

// AddFlags binds -o, --dry-run, --allow-helm, --allow-gitops, --force-conflicts, --wait and --timeout.
func (f *MutateFlags) AddFlags(cmd *cobra.Command) {
	flags := cmd.Flags()
	// PrintFlags' -o and template flags, not --show-managed-fields:
	// printObjects never prints managedFields.
	flags.StringVarP(f.PrintFlags.OutputFormat, "output", "o", "", "print the objects: yaml, json, name, or one of kubectl's "+strings.Join(f.PrintFlags.TemplatePrinterFlags.AllowedFormats(), ", ")+" (default: yaml with --dry-run or --local, else none)")
	f.PrintFlags.TemplatePrinterFlags.AddFlags(cmd)
	flags.StringVar(&f.DryRun, "dry-run", f.DryRun, f.dryRunUsage)
	flags.Lookup("dry-run").NoOptDefVal = string(apply.DryRunClient)
	flags.BoolVar(&f.AllowHelm, "allow-helm", false, f.allowHelmUsage)
	flags.BoolVar(&f.AllowGitOps, "allow-gitops", false, "change an operator that Argo CD or Flux syncs from Git anyway (the next sync reverts it)")
	flags.BoolVar(&f.ForceConflicts, "force-conflicts", false, "take over fields another field manager owns")
	flags.BoolVar(&f.Wait, "wait", false, "wait for the StatefulSet rollout to finish")
	flags.DurationVar(&f.Timeout, "timeout", f.Timeout, f.timeoutUsage)
	_ = cmd.RegisterFlagCompletionFunc("dry-run", cobra.FixedCompletions([]string{"none", "client", "server"}, cobra.ShellCompDirectiveNoFileComp))
	_ = cmd.RegisterFlagCompletionFunc("output", cobra.FixedCompletions(f.PrintFlags.AllowedFormats(), cobra.ShellCompDirectiveNoFileComp))
}

// ToOptions parses --dry-run, checks it against --wait and --timeout, and
// builds the printer of -o. Dry runs and renders (rendering) print
// objects: YAML unless -o says otherwise. Under a dry run the operation
// says so, as kubectl's PrintFlagsWithDryRunStrategy makes it, and -o name
// prints it too (cli-runtime's name printer drops the operation for -o
// name, which would make a dry run look like a change).
func (f *MutateFlags) ToOptions(rendering bool) (MutateOptions, error) {
	o := MutateOptions{AllowHelm: f.AllowHelm, AllowGitOps: f.AllowGitOps, ForceConflicts: f.ForceConflicts, Wait: f.Wait, Timeout: f.Timeout}
	var err error
	if o.DryRun, err = apply.ParseDryRun(f.DryRun); err != nil {
		return o, err
	}
	if f.Wait && o.DryRun != apply.DryRunNone {
		return o, fmt.Errorf("--wait waits for a rollout, which a --dry-run never starts: drop one of them")
	}
	if f.Timeout <= 0 {
		return o, fmt.Errorf("invalid --timeout %s: use a positive duration such as 5m", f.Timeout)
	}
	tf := f.PrintFlags.TemplatePrinterFlags
	o.Output, o.Template, o.AllowMissingKeys = *f.PrintFlags.OutputFormat, *tf.TemplateArgument, *tf.AllowMissingKeys
	if o.Output == "" && o.Template != "" {
		o.Output = "go-template" // as kubectl's PrintFlags take --template alone
	}
	if o.Output == "" && (o.DryRun != apply.DryRunNone || rendering) {
		o.Output = "yaml"
	}
	format, _, _ := strings.Cut(o.Output, "=")
	if !o.AllowMissingKeys && !slices.Contains(tf.AllowedFormats(), format) {
		return o, fmt.Errorf("--allow-missing-template-keys=false is for the template formats of -o (%s): drop it", strings.Join(tf.AllowedFormats(), ", "))
	}
	if o.Output == "" {
		return o, nil
	}
	// A copy: ToOptions may run again on the same flags.
	pf := *f.PrintFlags
	names := *pf.NamePrintFlags
	pf.NamePrintFlags = &names
	pf.OutputFormat = &o.Output
	switch o.DryRun {
	case apply.DryRunClient:
		_ = pf.Complete("%s (dry run)")
	case apply.DryRunServer:
		_ = pf.Complete("%s (server dry run)")
	}
	if o.printer, err = pf.ToPrinter(); err != nil {
		if !slices.Contains(tf.AllowedFormats(), format) {
			return o, fmt.Errorf("invalid -o %q: use one of %s", o.Output, strings.Join(f.PrintFlags.AllowedFormats(), ", "))
		}
		return o, fmt.Errorf("invalid -o %q: %v", o.Output, oneLine(err))
	}
	if o.Output == "name" && o.DryRun != apply.DryRunNone {
		o.printer = &printers.NamePrinter{Operation: names.Operation}
	}
	return o, nil
}

// oneLine joins the lines of a printer's error.
func oneLine(err error) string { return strings.Join(strings.Fields(err.Error()), " ") }

// guardHelm refuses to change a Helm-managed operator without --allow-helm:
// the chart's next upgrade would revert the change. refusal and warning
// follow "<ns>/<name> is managed by Helm (release R)"; an empty warning
// says nothing when --allow-helm lets the change through.
func (f *MutateOptions) guardHelm(op *operator.Operator, refusal, warning string, errOut io.Writer) error {
	// Where Argo CD or Flux renders the chart, no helm upgrade is run:
	// guardGitOps says what to change in Git.
	if op.HelmRelease == "" || operator.DetectGitOps(op.StatefulSet) != nil {
		return nil
	}
	managed := fmt.Sprintf("%s/%s is managed by Helm (release %q)", op.Namespace(), op.Name(), op.HelmRelease)
	if !f.AllowHelm {
		return fmt.Errorf("%s%s", managed, refusal)
	}
	if warning != "" {
		fmt.Fprintf(errOut, "Warning: %s%s\n", managed, warning)
	}
	return nil
}

// mutateCommand is the state every writing command shares: clients, flags,
// and how a plan is applied and reported.
type mutateCommand struct {
	configFlags *genericclioptions.ConfigFlags
	genericiooptions.IOStreams
	OperatorFlags
	// flags are the raw mutate flags; MutateOptions what Validate made of them.
	mutateFlags *MutateFlags
	MutateOptions

	namespace string
	clients   kube.Clients
	color     *colorFlag
	// pollInterval of --wait.
	pollInterval time.Duration
}

func newMutateCommand(configFlags *genericclioptions.ConfigFlags, color *colorFlag, streams genericiooptions.IOStreams, flags *MutateFlags) mutateCommand {
	return mutateCommand{configFlags: configFlags, IOStreams: streams, mutateFlags: flags, color: color, pollInterval: time.Second}
}

// addFlags binds --name and the mutate flags.
func (m *mutateCommand) addFlags(cmd *cobra.Command) {
	m.OperatorFlags.AddFlags(cmd)
	m.mutateFlags.AddFlags(cmd)
}

// validateMutate checks --color and the mutate flags.
func (m *mutateCommand) validateMutate(rendering bool) error {
	if err := m.color.validate(); err != nil {
		return err
	}
	var err error
	m.MutateOptions, err = m.mutateFlags.ToOptions(rendering)
	return err
}

// complete builds the clients; it contacts nothing.
func (m *mutateCommand) complete() error {
	var err error
	m.namespace, m.clients, _, err = clientsFrom(m.configFlags, m.ErrOut)
	return err
}

// progress is where step lines go: stderr when stdout carries objects.
func (m *mutateCommand) progress() io.Writer {
	if m.printer != nil {
		return m.ErrOut
	}
	return m.Out
}

// apply runs a plan, prints the objects and waits for the rollout.
func (m *mutateCommand) apply(ctx context.Context, op *operator.Operator, plan []*apply.Step) error {
	return m.applyAfter(ctx, op, apply.NewPlan(len(plan)), plan, nil)
}

// runner runs steps with the command's flags.
func (m *mutateCommand) runner() apply.Runner {
	return apply.Runner{DryRun: m.DryRun, ForceConflicts: m.ForceConflicts, Progress: m.progress()}
}

// applyAfter runs steps, the last part of plan, after others already run
// whose objects (before) print first.
func (m *mutateCommand) applyAfter(ctx context.Context, op *operator.Operator, plan *apply.Plan, steps []*apply.Step, before []runtime.Object) error {
	objects, err := m.runner().Run(ctx, plan, steps)
	objects = append(before, objects...)
	if err != nil {
		return err
	}
	if m.printer != nil {
		if err := printObjects(m.printer, m.Output, objects, m.Out); err != nil {
			return err
		}
	}
	if m.Wait {
		return apply.WaitForRollout(ctx, m.clients.Kube, op.Namespace(), op.Name(), m.pollInterval, m.Timeout, m.progress(), m.color.enabled(m.progress()))
	}
	return nil
}
