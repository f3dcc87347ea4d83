// Package cmd holds the cobra commands of kubectl eck-metrics, each an
// Options struct with Complete, Validate and Run, as kubectl's own.
package cmd

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/url"
	"strings"

	"github.com/eck-metrics/kubectl-eck-metrics/pkg/kube"
	"github.com/spf13/cobra"
	"k8s.io/cli-runtime/pkg/genericclioptions"
	"k8s.io/cli-runtime/pkg/genericiooptions"
	"k8s.io/cli-runtime/pkg/printers"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/component-base/logs"
)

// NewCmdRoot is the root command with kubectl's global flags.
func NewCmdRoot(streams genericiooptions.IOStreams) *cobra.Command {
	return NewCmdRootWithConfigFlags(genericclioptions.NewConfigFlags(true), streams)
}

// NewCmdRootWithConfigFlags lets tests and benchmarks wrap the REST config
// (for example to count API requests).
func NewCmdRootWithConfigFlags(configFlags *genericclioptions.ConfigFlags, streams genericiooptions.IOStreams) *cobra.Command {
	root := &cobra.Command{
		Use:   "eck-metrics",
		Short: "Secure and check the ECK operator's Prometheus metrics endpoint",
		Long: `Secure the Elastic Cloud on Kubernetes (ECK) operator's metrics endpoint with
RBAC and TLS, following the documented procedure for the operator's version:
native (ECK 2.16 and later) or a kube-rbac-proxy sidecar (ECK 2.12 - 2.15).`,
		Example: `  # See what would be applied, apply it, then check it step by step
  kubectl eck-metrics enable --dry-run=client
  kubectl eck-metrics enable
  kubectl eck-metrics status

  # Serve a certificate cert-manager issues and renews
  kubectl eck-metrics use-cert --issuer ca-issuer

  # Render the manifests for a GitOps repository, without a cluster
  kubectl eck-metrics enable --local --operator-version 3.5.0 -f eck.yaml > eck-metrics.yaml

  # Undo it all
  kubectl eck-metrics disable`,
		SilenceUsage:  true,
		SilenceErrors: true,
		Annotations:   map[string]string{cobra.CommandDisplayNameAnnotation: "kubectl eck-metrics"},
	}
	root.SetIn(streams.In)
	root.SetOut(streams.Out)
	root.SetErr(streams.ErrOut)
	configFlags.AddFlags(root.PersistentFlags())
	// klog's -v/--v and --vmodule, as kubectl (component-base's cli.Run)
	// adds them: -v=6 logs every request, -v=8 its body.
	logs.AddFlags(root.PersistentFlags())
	color := &colorFlag{mode: "auto"}
	root.PersistentFlags().StringVar(&color.mode, "color", color.mode, "colour and symbols: auto (only on a terminal), always or never")
	_ = root.RegisterFlagCompletionFunc("color", cobra.FixedCompletions([]string{"auto", "always", "never"}, cobra.ShellCompDirectiveNoFileComp))
	root.AddCommand(
		NewCmdEnable(configFlags, color, streams),
		NewCmdUseCert(configFlags, color, streams),
		NewCmdStatus(configFlags, color, streams),
		NewCmdDisable(configFlags, color, streams),
		NewCmdVersion(streams),
		NewCmdOptions(streams),
		NewCmdCompletion(streams),
	)
	registerCompletions(root, configFlags)
	setUpHelp(root)
	return root
}

// commandOptions are the Options of a command, as kubectl's: Complete
// builds what the flags need, Validate checks them, Run does the work.
type commandOptions interface {
	Complete() error
	Validate() error
	Run(context.Context) error
}

// runE is the RunE of every command.
func runE(o commandOptions) func(*cobra.Command, []string) error {
	return func(cmd *cobra.Command, _ []string) error {
		if err := o.Complete(); err != nil {
			return err
		}
		if err := o.Validate(); err != nil {
			return err
		}
		return o.Run(cmd.Context())
	}
}

// Run executes the command line and returns the process exit code.
func Run(args []string, streams genericiooptions.IOStreams) int {
	root := NewCmdRoot(streams)
	root.SetArgs(args)
	err := Execute(root)
	var exit *ExitError
	switch {
	case errors.As(err, &exit):
		return exit.Code
	case err != nil:
		fmt.Fprintln(streams.ErrOut, "error:", err)
		return 1
	}
	return 0
}

// Execute runs a root command and explains its error.
func Execute(root *cobra.Command) error {
	err := root.Execute()
	var exit *ExitError
	if err == nil || errors.As(err, &exit) {
		return err
	}
	return errors.New(Explain(err))
}

// Explain turns a transport failure, wherever it sits in the error, into
// one actionable line that keeps the context around it.
func Explain(err error) string {
	var urlErr *url.Error
	if !errors.As(err, &urlErr) {
		return err.Error()
	}
	host := urlErr.URL
	if u, perr := url.Parse(urlErr.URL); perr == nil {
		host = u.Scheme + "://" + u.Host
	}
	short := fmt.Sprintf("cannot reach the Kubernetes API server at %s (%v)", host, urlErr.Err)
	return strings.Replace(err.Error(), urlErr.Error(), short, 1) + ": check --kubeconfig, --context and that the cluster is up"
}

// clientsFrom builds the API clients from kubectl's flags; it contacts
// nothing. namespace is set only by an explicit -n: the kubeconfig
// context's namespace (often "default") would hide the operator. The API
// server's warnings go to warnings as kubectl prints them: "Warning: ...",
// each message once per command (one writer shared by every client).
func clientsFrom(f *genericclioptions.ConfigFlags, warnings io.Writer) (namespace string, clients kube.Clients, cfg *rest.Config, err error) {
	if f.Namespace != nil {
		namespace = *f.Namespace
	}
	if cfg, err = f.ToRESTConfig(); err != nil {
		return "", clients, nil, err
	}
	cfg = rest.CopyConfig(cfg)
	cfg.WarningHandler = rest.NewWarningWriter(warnings, rest.WarningWriterOptions{Deduplicate: true, Color: printers.AllowsColorOutput(warnings)})
	if clients.Kube, err = kubernetes.NewForConfig(cfg); err != nil {
		return "", clients, nil, err
	}
	clients.Dynamic, err = dynamic.NewForConfig(cfg)
	return namespace, clients, cfg, err
}
