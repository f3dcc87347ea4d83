package cmd

import (
	"context"
	"fmt"

	"github.com/eck-metrics/kubectl-eck-metrics/pkg/operator"
	"github.com/eck-metrics/kubectl-eck-metrics/pkg/steps"
	"github.com/spf13/cobra"
	"k8s.io/cli-runtime/pkg/genericclioptions"
	"k8s.io/cli-runtime/pkg/genericiooptions"
)

// NewCmdDisable is "kubectl eck-metrics disable".
func NewCmdDisable(configFlags *genericclioptions.ConfigFlags, color *colorFlag, streams genericiooptions.IOStreams) *cobra.Command {
	o := NewEnableOptions(configFlags, color, streams)
	cmd := &cobra.Command{
		Use:   "disable",
		Short: "Undo what enable and use-cert applied, and nothing else",
		Long: `Undo what enable and use-cert applied, and nothing else:

  1. eck.yaml: the keys enable set go back to the values they had before
     (recorded by enable on the ConfigMap); every other key and comment stays
  2-3. the ClusterRole, ClusterRoleBinding and Service that only
     kubectl-eck-metrics manages are deleted
  4. StatefulSet: the sidecar, the metrics port and the certificate mount
     leave (server-side apply with our field manager owning nothing there)
  5. the ServiceMonitor only kubectl-eck-metrics manages is deleted

Objects or fields that someone else also manages are left and reported; the
certificate Secret is left. Running it again changes nothing.`,
		Example: `  # See what would change
  kubectl eck-metrics disable --dry-run=client

  kubectl eck-metrics disable -n elastic-system --wait`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := o.Complete(); err != nil {
				return err
			}
			if err := o.Validate(); err != nil {
				return err
			}
			ctx := cmd.Context()
			if ctx == nil {
				ctx = context.Background()
			}
			op, err := operator.Find(ctx, o.clients.Kube, o.namespace, o.Name)
			if err != nil {
				return err
			}
			if op.HelmRelease != "" && !o.AllowHelm {
				return fmt.Errorf("%s/%s is managed by Helm (release %q): turn metrics off the chart's way (helm upgrade ... --set config.metrics.secureMode.enabled=false), or pass --allow-helm", op.Namespace(), op.Name(), op.HelmRelease)
			}
			fmt.Fprintf(o.progress(), "Operator %s/%s\n", op.Namespace(), op.Name())
			plan, err := steps.PlanDisable(ctx, o.clients, op)
			if err != nil {
				return err
			}
			return o.apply(ctx, op, plan)
		},
	}
	o.OperatorFlags.AddFlags(cmd)
	o.PrintFlags.AddFlags(cmd)
	f := cmd.Flags()
	f.StringVar(&o.DryRun, "dry-run", o.DryRun, `"none", "client" (print the patches, send nothing) or "server" (send with dryRun=All)`)
	f.Lookup("dry-run").NoOptDefVal = string(steps.DryRunClient)
	f.BoolVar(&o.AllowHelm, "allow-helm", false, "change a Helm-managed operator anyway")
	f.BoolVar(&o.ForceConflicts, "force-conflicts", false, "take over fields another field manager owns")
	f.BoolVar(&o.Wait, "wait", false, "wait for the StatefulSet rollout to finish")
	f.DurationVar(&o.Timeout, "timeout", o.Timeout, "how long --wait waits")
	_ = cmd.RegisterFlagCompletionFunc("dry-run", cobra.FixedCompletions([]string{"none", "client", "server"}, cobra.ShellCompDirectiveNoFileComp))
	return cmd
}
