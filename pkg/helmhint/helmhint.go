// Package helmhint says, for an operator installed by the eck-operator
// chart, which chart values do what enable does and the helm upgrade that
// sets them.
package helmhint

import (
	"fmt"
	"strings"

	"github.com/eck-metrics/kubectl-eck-metrics/pkg/operator"
	"github.com/eck-metrics/kubectl-eck-metrics/pkg/patches"
)

// UpgradeCommand is the chart's way to do what enable does.
func UpgradeCommand(release, namespace, chartVersion string, port int32, certSecret string) string {
	parts := []string{"helm upgrade", release, "elastic/eck-operator", "-n", namespace, "--reuse-values"}
	if chartVersion != "" {
		// Without --version, helm upgrade also moves the operator to the newest chart.
		parts = append(parts, "--version", chartVersion)
	}
	for _, v := range MetricsValues(port, certSecret) {
		parts = append(parts, "--set "+v)
	}
	return strings.Join(parts, " ")
}

// MetricsValues are the chart's values that do what enable does.
func MetricsValues(port int32, certSecret string) []string {
	values := []string{"config.metrics.secureMode.enabled=true", fmt.Sprintf("config.metrics.port=%d", port)}
	if certSecret != "" {
		values = append(values, "config.metrics.secureMode.tls.certificateSecret="+certSecret)
	}
	return values
}

// SidecarEraChart says why a chart of ECK 2.12-2.15 cannot be secured by
// its own secure mode; "" for later charts.
func SidecarEraChart(o *operator.Operator) string {
	if o.Version == nil {
		return ""
	}
	if mode, err := operator.ChooseMode(o.Version, ""); err != nil || mode != operator.ModeSidecar {
		return ""
	}
	return fmt.Sprintf("the eck-operator chart %s hard-codes the retired image %s:v0.15.0 in secure mode and leaves metrics-host at 0.0.0.0 (plain HTTP reachable around the proxy): upgrade the chart to 2.16 or later with config.metrics.secureMode.enabled=true", o.Version, patches.RetiredSidecarImage)
}

// SecureCommand is the chart's way for this install: UpgradeCommand
// at the chart's version, or, for a chart of the sidecar era, without
// --version (the newest chart, 2.16 or later).
func SecureCommand(o *operator.Operator, port int32, certSecret string) string {
	chartVersion := o.HelmChartVersion
	if SidecarEraChart(o) != "" {
		chartVersion = ""
	}
	return UpgradeCommand(o.HelmRelease, o.Namespace(), chartVersion, port, certSecret)
}
