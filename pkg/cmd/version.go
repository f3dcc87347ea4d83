package cmd

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/eck-metrics/kubectl-eck-metrics/pkg/kube"
	"github.com/eck-metrics/kubectl-eck-metrics/pkg/operator"
	"github.com/eck-metrics/kubectl-eck-metrics/pkg/version"
	"github.com/spf13/cobra"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/cli-runtime/pkg/genericclioptions"
	"k8s.io/cli-runtime/pkg/genericiooptions"
	"k8s.io/cli-runtime/pkg/printers"
)

const versionExample = `  # The plugin's version and, as kubectl version shows the server's, the ECK operator's
  kubectl eck-metrics version

  # Only the plugin's version, without contacting a cluster
  kubectl eck-metrics version --client

  # As JSON
  kubectl eck-metrics version -o json`

// VersionInfo is what version prints; -o json and yaml print it as is.
type VersionInfo struct {
	ClientVersion string `json:"clientVersion"`
	// Operator is the ECK operator found, absent with --client or when the
	// cluster has none.
	Operator *OperatorVersion `json:"operator,omitempty"`
}

// OperatorVersion is the ECK operator version and the mode enable would use.
type OperatorVersion struct {
	Namespace string `json:"namespace"`
	Name      string `json:"name"`
	// Version is "" when neither the image tag nor the version label holds one.
	Version string `json:"version,omitempty"`
	// Mode is the mode enable would use, "" when the version allows none.
	Mode string `json:"mode,omitempty"`
}

// VersionOptions are the flags and state of "version".
type VersionOptions struct {
	configFlags *genericclioptions.ConfigFlags
	genericiooptions.IOStreams
	OperatorFlags

	Client bool
	Output string

	printer   printers.ResourcePrinter
	namespace string
	clients   kube.Clients
}

// NewCmdVersion prints the plugin's version and the operator's.
func NewCmdVersion(configFlags *genericclioptions.ConfigFlags, streams genericiooptions.IOStreams) *cobra.Command {
	cmd, _ := newVersionCommand(configFlags, streams)
	return cmd
}

// newVersionCommand is version with its options, which tests validate.
func newVersionCommand(configFlags *genericclioptions.ConfigFlags, streams genericiooptions.IOStreams) (*cobra.Command, *VersionOptions) {
	o := &VersionOptions{configFlags: configFlags, IOStreams: streams}
	cmd := &cobra.Command{
		Use:   "version",
		Short: "Print the plugin's version and the ECK operator's",
		Long: `Print the plugin's version and, as kubectl version shows the server's, the
version of the ECK operator found in the cluster and the mode enable would
use for it. With --client, only the plugin's version, without contacting
a cluster. When the cluster cannot be looked at, the plugin's version is
printed and one line says why (exit status 2).`,
		Example: versionExample,
		Args:    cobra.NoArgs,
		RunE:    runE(o),
	}
	o.OperatorFlags.AddFlags(cmd)
	cmd.Flags().BoolVar(&o.Client, "client", false, "print only the plugin's version, without contacting a cluster")
	cmd.Flags().StringVarP(&o.Output, "output", "o", "", "json or yaml (default: text)")
	_ = cmd.RegisterFlagCompletionFunc("output", cobra.FixedCompletions([]string{"json", "yaml"}, cobra.ShellCompDirectiveNoFileComp))
	return cmd, o
}

// Complete builds the clients (unless --client); it contacts nothing.
func (o *VersionOptions) Complete() error {
	if o.Client {
		return nil
	}
	var err error
	o.namespace, o.clients, _, err = clientsFrom(o.configFlags, o.ErrOut)
	return err
}

// Validate checks the flags.
func (o *VersionOptions) Validate() error {
	if o.Client && o.Name != "" {
		return fmt.Errorf("--name picks the operator, which --client does not look for: drop one of them")
	}
	switch o.Output {
	case "":
		return nil
	case "json", "yaml":
		var err error
		o.printer, err = genericclioptions.NewJSONYamlPrintFlags().ToPrinter(o.Output)
		return err
	}
	return fmt.Errorf("invalid -o %q: use json or yaml", o.Output)
}

// Run prints the versions. The plugin's is printed even when the cluster
// cannot be looked at; then the error says why.
func (o *VersionOptions) Run(ctx context.Context) error {
	info := VersionInfo{ClientVersion: version.Version}
	var lookErr error
	if !o.Client {
		op, err := operator.Find(ctx, o.clients.Kube, o.namespace, o.Name, operator.DefaultSelectors())
		switch {
		case err == nil:
			info.Operator = &OperatorVersion{Namespace: op.Namespace(), Name: op.Name()}
			if op.Version != nil {
				info.Operator.Version = op.Version.String()
			}
			if mode, err := operator.ChooseMode(op.Version, ""); err == nil {
				info.Operator.Mode = string(mode)
			}
		case couldNotLook(err):
			lookErr = err
		default:
			// No operator is no failure of version: say it as kubectl warns.
			fmt.Fprintf(o.ErrOut, "Warning: %v\n", err)
		}
	}
	if err := o.print(info); err != nil {
		return err
	}
	return lookErr
}

func (o *VersionOptions) print(info VersionInfo) error {
	if o.printer != nil {
		raw, err := json.Marshal(info)
		if err != nil {
			return err
		}
		return o.printer.PrintObj(&runtime.Unknown{Raw: raw}, o.Out)
	}
	fmt.Fprintf(o.Out, "kubectl-eck-metrics %s\n", info.ClientVersion)
	if op := info.Operator; op != nil {
		var about string
		switch {
		case op.Version == "":
			about = "version unknown (enable needs --mode)"
		case op.Mode == "":
			about = op.Version + ", not supported (securing the endpoint needs ECK 2.12 or later)"
		default:
			about = op.Version + ", " + op.Mode + " mode"
		}
		fmt.Fprintf(o.Out, "ECK operator %s/%s: %s\n", op.Namespace, op.Name, about)
	}
	return nil
}
