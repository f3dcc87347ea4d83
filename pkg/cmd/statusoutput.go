package cmd

import (
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/eck-metrics/kubectl-eck-metrics/pkg/status"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/cli-runtime/pkg/genericclioptions"
)

// statusOutputs are the -o values of status, as kubectl get takes them.
var statusOutputs = []string{"table", "wide", "json", "yaml", "jsonpath=", "jsonpath-file=", "jsonpath-as-json="}

// validateOutput checks -o and builds the printer of the formats that
// print the report as an object (json, yaml, jsonpath): cli-runtime's, so
// that they read the same object and take what kubectl get takes.
func (o *StatusOptions) validateOutput() error {
	if o.Output == "table" || o.Output == "wide" {
		return nil
	}
	flags := &genericclioptions.PrintFlags{
		JSONYamlPrintFlags:   genericclioptions.NewJSONYamlPrintFlags(),
		TemplatePrinterFlags: genericclioptions.NewKubeTemplatePrintFlags(),
		OutputFormat:         &o.Output,
	}
	p, err := flags.ToPrinter()
	if genericclioptions.IsNoCompatiblePrinterError(err) {
		return fmt.Errorf("invalid -o %q: use table, wide, json, yaml or jsonpath=TEMPLATE", o.Output)
	}
	if err != nil {
		return fmt.Errorf("invalid -o %q: %s", o.Output, strings.Join(strings.Fields(err.Error()), " "))
	}
	o.printer = p
	return nil
}

// render prints the report in the -o format.
func (o *StatusOptions) render(r *status.Report) error {
	if o.printer != nil {
		raw, err := json.Marshal(r)
		if err != nil {
			return err
		}
		// runtime.Unknown is how cli-runtime's printers take JSON that is
		// not an API object (the report has no apiVersion or kind).
		return o.printer.PrintObj(&runtime.Unknown{Raw: raw}, o.Out)
	}
	return renderTable(o.Out, r, style{color: o.color.enabled(o.Out)}, o.Output == "wide")
}

// renderTable prints the checks by category, in the style of linkerd
// check; wide adds each check's ID in a column (aligned within its
// category) and its details below it.
func renderTable(w io.Writer, r *status.Report, st style, wide bool) error {
	var category status.Category
	idWidth := map[status.Category]int{}
	for _, c := range r.Checks {
		idWidth[c.Category] = max(idWidth[c.Category], len(c.ID))
	}
	for _, c := range r.Checks {
		if c.Category != category {
			if category != "" {
				fmt.Fprintln(w)
			}
			category = c.Category
			fmt.Fprintf(w, "%s\n%s\n", category, strings.Repeat("-", len(category)))
		}
		line, indent := st.mark(string(c.Outcome))+" ", st.hintIndent()
		if wide {
			line += fmt.Sprintf("%-*s  ", idWidth[c.Category], c.ID)
			indent += strings.Repeat(" ", idWidth[c.Category]+2)
		}
		line += c.Name
		if c.Message != "" {
			line += ": " + c.Message
		}
		fmt.Fprintln(w, line)
		if c.Hint != "" && c.Outcome != status.Pass {
			fmt.Fprintf(w, "%shint: %s\n", indent, c.Hint)
		}
		if wide && len(c.Details) > 0 {
			fmt.Fprintf(w, "%sdetails: %s\n", indent, formatDetails(c.Details))
		}
	}
	s := r.Summary
	verdict := "secured and scrapeable"
	if !s.OK {
		verdict = "NOT ready"
	}
	fmt.Fprintf(w, "\nStatus: %s: %d passed, %d warnings, %d failed, %d skipped\n", verdict, s.Pass, s.Warn, s.Fail, s.Skip)
	return nil
}

// formatDetails prints a check's details as KEY=VALUE, sorted by key;
// values that are not strings or numbers as compact JSON.
func formatDetails(details map[string]any) string {
	keys := make([]string, 0, len(details))
	for k := range details {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	parts := make([]string, 0, len(keys))
	for _, k := range keys {
		var v string
		switch x := details[k].(type) {
		case string:
			v = x
		default:
			raw, err := json.Marshal(x)
			if err != nil {
				raw = []byte(fmt.Sprint(x))
			}
			v = string(raw)
		}
		parts = append(parts, k+"="+v)
	}
	return strings.Join(parts, " ")
}
