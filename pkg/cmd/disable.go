package cmd

import (
	"context"
	"fmt"

	"github.com/eck-metrics/kubectl-eck-metrics/pkg/apply"
	"github.com/eck-metrics/kubectl-eck-metrics/pkg/operator"
	"github.com/eck-metrics/kubectl-eck-metrics/pkg/steps"
	"github.com/spf13/cobra"
	"k8s.io/cli-runtime/pkg/genericclioptions"
	"k8s.io/cli-runtime/pkg/genericiooptions"
)

// DisableOptions are the flags and state of "disable".
type DisableOptions struct {
	mutateCommand
}

// NewDisableOptions has the defaults of every flag.
func NewDisableOptions(configFlags *genericclioptions.ConfigFlags, color *colorFlag, streams genericiooptions.IOStreams) *DisableOptions {
	flags := NewMutateFlags(`"none", "client" (print the patches, send nothing) or "server" (send with dryRun=All)`,
		"change a Helm-managed operator anyway")
	return &DisableOptions{mutateCommand: newMutateCommand(configFlags, color, streams, flags)}
}

// NewCmdDisable is "kubectl eck-metrics disable".
func NewCmdDisable(configFlags *genericclioptions.ConfigFlags, color *colorFlag, streams genericiooptions.IOStreams) *cobra.Command {
	o := NewDisableOptions(configFlags, color, streams)
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
  6. so is the NetworkPolicy of enable --network-policy, if any

Objects or fields that someone else also manages are left and reported; the
certificate Secret is left. Running it again changes nothing.`,
		Example: `  # See what would change
  kubectl eck-metrics disable --dry-run=client

  kubectl eck-metrics disable -n elastic-system --wait`,
		Args: cobra.NoArgs,
		RunE: runE(o),
	}
	o.addFlags(cmd)
	return cmd
}

// Complete builds the clients; it contacts nothing.
func (o *DisableOptions) Complete() error { return o.complete() }

// Validate checks every flag before anything is read or written.
func (o *DisableOptions) Validate() error {
	if err := o.color.validate(); err != nil {
		return err
	}
	if err := o.validateDryRun(); err != nil {
		return err
	}
	return o.validatePrinter(o.dryRun != apply.DryRunNone)
}

// Run finds the operator, plans the undoing, applies it and waits.
func (o *DisableOptions) Run(ctx context.Context) error {
	op, err := operator.Find(ctx, o.clients.Kube, o.namespace, o.Name, operator.DefaultSelectors())
	if err != nil {
		return err
	}
	if err := o.guardHelm(op, ": turn metrics off the chart's way (helm upgrade ... --set config.metrics.secureMode.enabled=false), or pass --allow-helm", "", o.ErrOut); err != nil {
		return err
	}
	fmt.Fprintf(o.progress(), "Operator %s/%s\n", op.Namespace(), op.Name())
	plan, err := steps.PlanDisable(ctx, o.clients, op)
	if err != nil {
		return err
	}
	if err := o.guardGitOps(op, plan, "turn metrics off in Git instead: drop the objects and patches that kubectl eck-metrics enable --local rendered"); err != nil {
		return err
	}
	return o.apply(ctx, op, plan)
}
