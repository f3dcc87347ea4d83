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
