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

// DisableOptions are the flags and state of "disable".
type DisableOptions struct {
	mutateCommand
}

// NewDisableOptions has the defaults of every flag.
func NewDisableOptions(configFlags *genericclioptions.ConfigFlags, color *colorFlag, streams genericiooptions.IOStreams) *DisableOptions {
	flags := NewMutateFlags(`"none", "client" (print the patches, send nothing) or "server" (send with dryRun=All)`,
		"change a Helm-managed operator anyway", "how long --wait waits")
	return &DisableOptions{mutateCommand: newMutateCommand(configFlags, color, streams, flags)}
}

// NewCmdDisable is "kubectl eck-metrics disable".
func NewCmdDisable(configFlags *genericclioptions.ConfigFlags, color *colorFlag, streams genericiooptions.IOStreams) *cobra.Command {
	cmd, _ := newDisableCommand(configFlags, color, streams)
	return cmd
}

// newDisableCommand is disable with its options, for tests.
func newDisableCommand(configFlags *genericclioptions.ConfigFlags, color *colorFlag, streams genericiooptions.IOStreams) (*cobra.Command, *DisableOptions) {
	o := NewDisableOptions(configFlags, color, streams)
	cmd := &cobra.Command{
		Use:   "disable",
		Short: "Undo what enable and use-cert applied, and nothing else",
		Long: `Undo what enable and use-cert applied, and nothing else:

  1. eck.yaml: the keys enable set go back to the values they had before
     (recorded by enable on the ConfigMap); every other key and comment stays
  2. RBAC: the operator's ServiceAccount leaves the auth ClusterRoleBinding;
     the binding and its ClusterRole are deleted once no subject is left
  3. the metrics Service is deleted
  4. StatefulSet: the sidecar, the metrics port and the certificate mount
     leave (server-side apply with our field manager owning nothing there)
  5. the ServiceMonitor or PodMonitor is deleted, and so are the reader
     objects of --scrape-auth secret: its ServiceAccount, token Secret and
     ClusterRole/ClusterRoleBinding (the binding kept while it binds others)
  6. the NetworkPolicy of enable --network-policy, if any, is deleted
  7. the cert-manager Certificate of use-cert --issuer, if any, is deleted
     (last, once the StatefulSet no longer mounts its Secret)

Only objects that kubectl-eck-metrics alone manages are deleted: objects or
fields that someone else also manages are left and reported. Your
certificate and CA Secrets (and the Secret cert-manager issued) are left.
Running it again changes nothing.`,
		Example: `  # See what would change
  kubectl eck-metrics disable --dry-run=client

  kubectl eck-metrics disable -n elastic-system --wait`,
		Args: cobra.NoArgs,
		RunE: runE(o),
	}
	o.addFlags(cmd)
	addFlagRules(cmd, disableRules())
	return cmd, o
}

// disableRules are the combinations of disable's flags.
func disableRules() []flagRule {
	return []flagRule{{kind: needs, flag: "timeout", others: []string{"wait"},
		message: "--timeout is how long --wait waits: add --wait, or drop it"}}
}

// Complete builds the clients; it contacts nothing.
func (o *DisableOptions) Complete() error { return o.complete() }

// Validate checks every flag before anything is read or written.
func (o *DisableOptions) Validate() error {
	return o.validateMutate(false)
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
