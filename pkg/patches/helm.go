package patches

import (
	"fmt"
	"strings"
)

// HelmUpgradeCommand is the chart's way to do what enable does.
func HelmUpgradeCommand(release, namespace, chartVersion string, port int32, certSecret string) string {
	parts := []string{"helm upgrade", release, "elastic/eck-operator", "-n", namespace, "--reuse-values"}
	if chartVersion != "" {
		// Without --version, helm upgrade also moves the operator to the newest chart.
		parts = append(parts, "--version", chartVersion)
	}
	for _, v := range HelmMetricsValues(port, certSecret) {
		parts = append(parts, "--set "+v)
	}
	return strings.Join(parts, " ")
}

// HelmMetricsValues are the chart's values that do what enable does.
func HelmMetricsValues(port int32, certSecret string) []string {
	values := []string{"config.metrics.secureMode.enabled=true", fmt.Sprintf("config.metrics.port=%d", port)}
	if certSecret != "" {
		values = append(values, "config.metrics.secureMode.tls.certificateSecret="+certSecret)
	}
	return values
}
