package patches

import (
	"net"
	"net/url"
	"strconv"
	"strings"

	corev1 "k8s.io/api/core/v1"
)

// RetiredSidecarImage is the kube-rbac-proxy image of ECK's 2.12-2.15 docs
// and charts: gcr.io/kubebuilder images no longer pull (from 2025-03-18).
const RetiredSidecarImage = "gcr.io/kubebuilder/kube-rbac-proxy"

// IsRetiredSidecarImage tells whether image is the retired one, any tag.
func IsRetiredSidecarImage(image string) bool {
	return image == RetiredSidecarImage || strings.HasPrefix(image, RetiredSidecarImage+":") || strings.HasPrefix(image, RetiredSidecarImage+"@")
}

// ProxyUpstreamPort is the port of a kube-rbac-proxy container's
// --upstream when it is the pod's own address (127.0.0.1, localhost, ::1).
func ProxyUpstreamPort(c corev1.Container) (int32, bool) {
	args := append(append([]string{}, c.Command...), c.Args...)
	for i, a := range args {
		value, ok := strings.CutPrefix(a, "--upstream=")
		if !ok && a == "--upstream" && i+1 < len(args) {
			value, ok = args[i+1], true
		}
		if !ok {
			continue
		}
		u, err := url.Parse(value)
		if err != nil {
			return 0, false
		}
		host, portText, err := net.SplitHostPort(u.Host)
		if err != nil {
			return 0, false
		}
		port, err := strconv.Atoi(portText)
		if err != nil || port < 1 || port > 65535 || !(host == "127.0.0.1" || host == "localhost" || host == "::1") {
			return 0, false
		}
		return int32(port), true
	}
	return 0, false
}
