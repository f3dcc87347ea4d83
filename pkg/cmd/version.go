package cmd

import (
	"fmt"

	"github.com/eck-metrics/kubectl-eck-metrics/pkg/version"
	"github.com/spf13/cobra"
	"k8s.io/cli-runtime/pkg/genericiooptions"
)

// NewCmdVersion prints the plugin's version.
func NewCmdVersion(streams genericiooptions.IOStreams) *cobra.Command {
	return &cobra.Command{
		Use:     "version",
		Short:   "Print the plugin's version",
		Example: `  kubectl eck-metrics version`,
		Args:    cobra.NoArgs,
		Run: func(cmd *cobra.Command, _ []string) {
			fmt.Fprintf(streams.Out, "kubectl-eck-metrics %s\n", version.Version)
		},
	}
}
