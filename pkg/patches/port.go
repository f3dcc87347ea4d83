package patches

import (
	"fmt"
	"strconv"

	"github.com/eck-metrics/kubectl-eck-metrics/pkg/eckconfig"
)

// ChooseMetricsPort is the metrics-port enable sets. explicit (--port, 0
// when not given) must be free. Without it: the port eck.yaml already sets
// when it is free (a rerun keeps what an earlier enable chose), else
// DefaultMetricsPort when free, else the next free port above it. note says
// why a port other than the default was taken ("" when it is the default or
// explicit).
func ChooseMetricsPort(explicit int32, doc *eckconfig.Document, used map[int32]string) (port int32, note string, err error) {
	if explicit != 0 {
		if what, ok := used[explicit]; ok {
			return 0, "", fmt.Errorf("--port %d collides with %s: pick a free port with --port", explicit, what)
		}
		return explicit, "", nil
	}
	if doc != nil {
		if text, ok := doc.Get("metrics-port"); ok {
			if current, err := strconv.Atoi(text); err == nil && current > 0 && current <= 65535 {
				if _, taken := used[int32(current)]; !taken {
					if current == DefaultMetricsPort {
						return DefaultMetricsPort, "", nil
					}
					return int32(current), fmt.Sprintf("metrics-port %d kept (set before)", current), nil
				}
			}
		}
	}
	what, taken := used[DefaultMetricsPort]
	if !taken {
		return DefaultMetricsPort, "", nil
	}
	for p := int32(DefaultMetricsPort + 1); p <= 65535; p++ {
		if _, ok := used[p]; !ok {
			return p, fmt.Sprintf("metrics-port %d chosen: %d is %s", p, DefaultMetricsPort, what), nil
		}
	}
	return 0, "", fmt.Errorf("no free port above %d for metrics: pass --port", DefaultMetricsPort)
}
