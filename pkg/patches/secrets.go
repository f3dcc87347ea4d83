package patches

import (
	corev1 "k8s.io/api/core/v1"
	corev1ac "k8s.io/client-go/applyconfigurations/core/v1"
)

// TLSSecret is what "kubectl create secret tls" makes.
func TLSSecret(namespace, name string, cert, key []byte) *corev1ac.SecretApplyConfiguration {
	return corev1ac.Secret(name, namespace).
		WithType(corev1.SecretTypeTLS).
		WithData(map[string][]byte{corev1.TLSCertKey: cert, corev1.TLSPrivateKeyKey: key})
}

// CAKey is the key Prometheus reads the CA from.
const CAKey = "ca.crt"

// CASecret holds the CA Prometheus verifies the endpoint with.
func CASecret(namespace, name string, ca []byte) *corev1ac.SecretApplyConfiguration {
	return corev1ac.Secret(name, namespace).WithData(map[string][]byte{CAKey: ca})
}
