package cmd

import (
	"fmt"
	"strings"
	"text/template"

	"github.com/spf13/cobra"
	"k8s.io/cli-runtime/pkg/genericiooptions"
)

// hiddenLogFlags are klog's flags that no user of the plugin needs; they
// still work (as in kubectl), but no help page lists them. -v stays, in
// "options", as kubectl lists it in "kubectl options".
var hiddenLogFlags = []string{"log-flush-frequency", "vmodule"}

// usageTemplate is a command's help after its description, laid out as
// kubectl's (k8s.io/kubectl/pkg/util/templates): examples, subcommands, the
// command's own flags, usage, and where the global flags are. The global
// (kubeconfig, -v, --color) flags are not repeated under every command:
// "options" lists them, as "kubectl options" does.
const usageTemplate = `{{if .Cmd.HasExample}}Examples:
{{.Cmd.Example}}

{{end}}{{if .Cmd.HasAvailableSubCommands}}Available Commands:{{range .Cmd.Commands}}{{if (or .IsAvailableCommand (eq .Name "help"))}}
  {{rpad .Name .NamePadding}} {{.Short}}{{end}}{{end}}

{{end}}{{if .Flags}}Flags:
{{.Flags}}

{{end}}Usage:{{if .Cmd.Runnable}}
  {{.Cmd.UseLine}}{{end}}{{if .Cmd.HasAvailableSubCommands}}
  {{.Cmd.CommandPath}} [command] [flags]{{end}}
{{if .Cmd.HasAvailableSubCommands}}
Use "{{.Cmd.CommandPath}} <command> --help" for more information about a command.{{end}}
{{.OptionsHint}}
`

var parsedUsageTemplate = template.Must(template.New("usage").Funcs(template.FuncMap{
	"rpad": func(s string, n int) string { return fmt.Sprintf("%-*s", n, s) },
}).Parse(usageTemplate))

// optionsHint ends every help page, as kubectl's.
func optionsHint(cmd *cobra.Command) string {
	return fmt.Sprintf("Use %q for a list of global command-line options (applies to all commands).", cmd.Root().CommandPath()+" options")
}

// usage renders the usage of cmd with usageTemplate.
func usage(cmd *cobra.Command) error {
	own := cmd.LocalNonPersistentFlags()
	return parsedUsageTemplate.Execute(cmd.OutOrStderr(), struct {
		Cmd         *cobra.Command
		Flags       string
		OptionsHint string
	}{cmd, strings.TrimRight(own.FlagUsages(), " \n"), optionsHint(cmd)})
}

// setUpHelp gives root and its commands kubectl's help layout and hides
// klog's flags other than -v from every page.
func setUpHelp(root *cobra.Command) {
	for _, name := range hiddenLogFlags {
		if f := root.PersistentFlags().Lookup(name); f != nil {
			f.Hidden = true
		}
	}
	root.SetUsageFunc(usage)
}

// NewCmdOptions is "kubectl eck-metrics options": the global flags, which
// the help of each command leaves out.
func NewCmdOptions(streams genericiooptions.IOStreams) *cobra.Command {
	return &cobra.Command{
		Use:   "options",
		Short: "Print the list of flags inherited by all commands",
		Long:  "Print the list of flags inherited by all commands: which cluster and user to act as (the kubeconfig flags of kubectl), log verbosity and colour.",
		Example: `  # Print flags inherited by all commands
  kubectl eck-metrics options`,
		Args: cobra.NoArgs,
		Run: func(cmd *cobra.Command, _ []string) {
			fmt.Fprintf(streams.Out, "The following options can be passed to any command:\n\n%s", cmd.Root().PersistentFlags().FlagUsages())
		},
	}
}
