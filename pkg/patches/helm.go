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
	parts = append(parts,
		"--set config.metrics.secureMode.enabled=true",
		fmt.Sprintf("--set config.metrics.port=%d", port))
	if certSecret != "" {
		parts = append(parts, "--set config.metrics.secureMode.tls.certificateSecret="+certSecret)
	}
	return strings.Join(parts, " ")
}
