package operator

import (
	"fmt"
	"strconv"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
)

// Config reads eck.yaml settings; satisfied by *eckconfig.Document.
type Config interface {
	Get(key string) (string, bool)
}

// PortsInUse lists the ports the operator's pod already listens on, other
// than the metrics endpoint itself, each with what uses it.
func (o *Operator) PortsInUse(cfg Config, metricsContainer, metricsPortName string) map[int32]string {
	used := map[int32]string{}
	spec := &o.StatefulSet.Spec.Template.Spec
	for _, c := range spec.Containers {
		for _, p := range c.Ports {
			if c.Name == metricsContainer && p.Name == metricsPortName {
				continue
			}
			used[p.ContainerPort] = fmt.Sprintf("container port %q of container %s", p.Name, c.Name)
		}
		for _, probe := range []*corev1.Probe{c.LivenessProbe, c.ReadinessProbe, c.StartupProbe} {
			if port, ok := probePort(probe); ok {
				if _, seen := used[port]; !seen {
					used[port] = "the health-probe port of container " + c.Name
				}
			}
		}
	}
	if v, _ := cfg.Get("enable-webhook"); v == "true" {
		port := int32(9443)
		if s, ok := cfg.Get("webhook-port"); ok {
			if n, err := strconv.Atoi(s); err == nil {
				port = int32(n)
			}
		}
		if _, seen := used[port]; !seen {
			used[port] = "the webhook port (eck.yaml webhook-port)"
		}
	}
	if HealthProbeDefault8081(o.Version) {
		if _, seen := used[8081]; !seen {
			used[8081] = fmt.Sprintf("the health-probe port (ECK %s serves its health probes on :8081 by default)", o.Version)
		}
	}
	return used
}

func probePort(p *corev1.Probe) (int32, bool) {
	if p == nil {
		return 0, false
	}
	var port intstr.IntOrString
	switch {
	case p.HTTPGet != nil:
		port = p.HTTPGet.Port
	case p.TCPSocket != nil:
		port = p.TCPSocket.Port
	case p.GRPC != nil:
		return p.GRPC.Port, true
	default:
		return 0, false
	}
	if port.Type == intstr.Int {
		return port.IntVal, true
	}
	return 0, false // named ports are container ports, listed already
}

// ChooseMetricsPort is the metrics-port enable sets. explicit (--port, 0
// when not given) must be free. Without it: the port eck.yaml (cfg) already
// sets when it is free (a rerun keeps what an earlier enable chose), else
// defaultPort when free, else the next free port above it. note says
// why a port other than the default was taken ("" when it is the default or
// explicit).
func ChooseMetricsPort(explicit, defaultPort int32, cfg Config, used map[int32]string) (port int32, note string, err error) {
	if explicit != 0 {
		if what, ok := used[explicit]; ok {
			return 0, "", fmt.Errorf("--port %d collides with %s: pick a free port with --port", explicit, what)
		}
		return explicit, "", nil
	}
	if cfg != nil {
		if text, ok := cfg.Get("metrics-port"); ok {
			if current, err := strconv.Atoi(text); err == nil && current > 0 && current <= 65535 {
				if _, taken := used[int32(current)]; !taken {
					if int32(current) == defaultPort {
						return defaultPort, "", nil
					}
					return int32(current), fmt.Sprintf("metrics-port %d kept (set before)", current), nil
				}
			}
		}
	}
	what, taken := used[defaultPort]
	if !taken {
		return defaultPort, "", nil
	}
	for p := int32(defaultPort + 1); p <= 65535; p++ {
		if _, ok := used[p]; !ok {
			return p, fmt.Sprintf("metrics-port %d chosen: %d is %s", p, defaultPort, what), nil
		}
	}
	return 0, "", fmt.Errorf("no free port above %d for metrics: pass --port", defaultPort)
}
