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
	"github.com/eck-metrics/kubectl-eck-metrics/pkg/operator"
	"github.com/spf13/cobra"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
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
native (ECK 2.16 and later) or a kube-rbac-proxy sidecar (ECK 2.12 - 2.15).

` + exitStatusHelp,
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
		NewCmdVersion(configFlags, streams),
		NewCmdOptions(streams),
		NewCmdCompletion(streams),
	)
	for _, c := range root.Commands() {
		if c.RunE != nil {
			c.RunE = withTarget(c.RunE, configFlags)
		}
	}
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

// Exit codes, the same for every command (the root's help lists them).
const (
	// ExitFailed: a check failed or a change was refused.
	ExitFailed = 1
	// ExitUsage: bad usage, or the cluster could not be looked at
	// (unreachable, credentials refused, the operator's StatefulSet forbidden).
	ExitUsage = 2
)

const exitStatusHelp = `Exit status, the same for every command:
  0  success; status: every check passed (warnings allowed)
  1  a check failed, or a change was refused
  2  bad usage (flags, arguments), or the cluster could not be looked at:
     unreachable, credentials refused, or the operator's StatefulSet forbidden`

// runFailure marks an error of Run: the command ran and failed (exit 1),
// unlike the errors of Complete, Validate and cobra's parsing (exit 2).
type runFailure struct{ err error }

func (e *runFailure) Error() string { return e.err.Error() }
func (e *runFailure) Unwrap() error { return e.err }

// runE is the RunE of every command.
func runE(o commandOptions) func(*cobra.Command, []string) error {
	return func(cmd *cobra.Command, _ []string) error {
		if err := o.Complete(); err != nil {
			return err
		}
		if err := o.Validate(); err != nil {
			return err
		}
		if err := o.Run(cmd.Context()); err != nil {
			return &runFailure{err}
		}
		return nil
	}
}

// Run executes the command line and returns the process exit code.
func Run(args []string, streams genericiooptions.IOStreams) int {
	root := NewCmdRoot(streams)
	root.SetArgs(args)
	err := Execute(root)
	var exit *ExitError
	if err != nil && !errors.As(err, &exit) {
		fmt.Fprintln(streams.ErrOut, "error:", err)
	}
	return ExitCode(err)
}

// ExitCode is the process exit code of an error of Execute.
func ExitCode(err error) int {
	var exit *ExitError
	var failed *runFailure
	switch {
	case err == nil:
		return 0
	case errors.As(err, &exit):
		return exit.Code
	case couldNotLook(err):
		return ExitUsage
	case errors.As(err, new(*operator.AmbiguousError)):
		// Several operators and no --name: which one is a question of usage.
		return ExitUsage
	case errors.As(err, &failed):
		return ExitFailed
	}
	// cobra's errors (unknown flag or command, arguments), Complete's
	// (kubeconfig, --context) and Validate's.
	return ExitUsage
}

// couldNotLook tells whether err says that the cluster could not be looked
// at: the API server unreachable or refusing the credentials, wherever it
// happened, or the operator's StatefulSet forbidden.
func couldNotLook(err error) bool {
	var urlErr *url.Error
	var lookupErr *operator.LookupError
	return errors.As(err, &urlErr) || errors.As(err, &lookupErr) || apierrors.IsUnauthorized(err)
}

// explained keeps the error's type (for ExitCode) under its one-line text.
type explained struct {
	text string
	err  error
}

func (e *explained) Error() string { return e.text }
func (e *explained) Unwrap() error { return e.err }

// Execute runs a root command and explains its error.
func Execute(root *cobra.Command) error {
	err := root.Execute()
	var exit *ExitError
	if err == nil || errors.As(err, &exit) {
		return err
	}
	return &explained{text: Explain(err), err: err}
}

// target is the cluster a command tried: the kubeconfig context and the
// API server, for the line that says it could not look.
type target struct{ context, server string }

// targetOf reads the context and server the flags pick; what cannot be
// read stays empty.
func targetOf(f *genericclioptions.ConfigFlags) target {
	var t target
	if raw, err := f.ToRawKubeConfigLoader().RawConfig(); err == nil {
		t.context = raw.CurrentContext
	}
	if f.Context != nil && *f.Context != "" {
		t.context = *f.Context
	}
	if cfg, err := f.ToRESTConfig(); err == nil {
		t.server = strings.TrimSuffix(cfg.Host, "/")
	}
	return t
}

// lookError is an error of a command that could not look at the cluster,
// with the cluster it tried.
type lookError struct {
	err    error
	target target
}

func (e *lookError) Error() string { return explainWith(e.err, e.target) }
func (e *lookError) Unwrap() error { return e.err }

// withTarget gives the errors of a command that could not look at the
// cluster the context and server it tried.
func withTarget(run func(*cobra.Command, []string) error, f *genericclioptions.ConfigFlags) func(*cobra.Command, []string) error {
	return func(cmd *cobra.Command, args []string) error {
		err := run(cmd, args)
		if err != nil && couldNotLook(err) {
			return &lookError{err: err, target: targetOf(f)}
		}
		return err
	}
}

// Explain turns a transport failure, wherever it sits in the error, into
// one actionable line that keeps the context around it.
func Explain(err error) string {
	var le *lookError
	if errors.As(err, &le) {
		return le.Error()
	}
	return explainWith(err, target{})
}

// explainWith says in one line what failed, on which context and server,
// and what to check.
func explainWith(err error, t target) string {
	where := func(server string) string {
		if t.context == "" {
			return server
		}
		return fmt.Sprintf("%s (context %q)", server, t.context)
	}
	var urlErr *url.Error
	var lookupErr *operator.LookupError
	switch {
	case errors.As(err, &urlErr):
		host := urlErr.URL
		if u, perr := url.Parse(urlErr.URL); perr == nil {
			host = u.Scheme + "://" + u.Host
		}
		short := fmt.Sprintf("cannot reach the Kubernetes API server at %s (%v)", where(host), urlErr.Err)
		return strings.Replace(err.Error(), urlErr.Error(), short, 1) + ": check --kubeconfig, --context and that the cluster is up"
	case apierrors.IsUnauthorized(err):
		return fmt.Sprintf("the Kubernetes API server at %s refused the credentials (%s): check the user of the context in --kubeconfig (an expired token or certificate?) and log in again", where(t.server), kube.StatusMessage(err))
	case errors.As(err, &lookupErr) && apierrors.IsForbidden(err):
		return fmt.Sprintf("cannot look for the ECK operator at %s: %s: ask for get and list on statefulsets.apps, or run as a user who has them", where(t.server), kube.StatusMessage(err))
	}
	return err.Error()
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
		// A --context the kubeconfig lacks, or no kubeconfig at all.
		return "", clients, nil, fmt.Errorf("%w: check --context (kubectl config get-contexts lists them) and --kubeconfig", err)
	}
	cfg = rest.CopyConfig(cfg)
	cfg.WarningHandler = rest.NewWarningWriter(warnings, rest.WarningWriterOptions{Deduplicate: true, Color: printers.AllowsColorOutput(warnings)})
	if clients.Kube, err = kubernetes.NewForConfig(cfg); err != nil {
		return "", clients, nil, err
	}
	clients.Dynamic, err = dynamic.NewForConfig(cfg)
	return namespace, clients, cfg, err
}
