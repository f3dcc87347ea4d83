package kube

import (
	"fmt"
	"time"

	"github.com/eck-metrics/kubectl-eck-metrics/pkg/patches"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

// CertManagerNotServed says why use-cert --issuer cannot work here.
const CertManagerNotServed = "cert-manager.io/v1 Certificate is not served in this cluster: install cert-manager first"

// CertManagerServed asks discovery for cert-manager's group-version only.
func CertManagerServed(c Clients) (bool, error) {
	gv := patches.CertificateGVR.GroupVersion().String()
	list, err := c.Kube.Discovery().ServerResourcesForGroupVersion(gv)
	if apierrors.IsNotFound(err) {
		return false, nil
	}
	if err != nil {
		return false, ReadError("API group "+gv, err)
	}
	for _, r := range list.APIResources {
		if r.Name == patches.CertificateGVR.Resource {
			return true, nil
		}
	}
	return false, nil
}

// Condition is one entry of a cert-manager object's status.conditions.
type Condition struct {
	Status, Reason, Message string
	// ObservedGeneration is the generation the condition speaks of (0: unset).
	ObservedGeneration int64
	Found              bool
}

// ReadyCondition is the Ready condition of an Issuer, ClusterIssuer or
// Certificate.
func ReadyCondition(obj *unstructured.Unstructured) Condition {
	conditions, _, _ := unstructured.NestedSlice(obj.Object, "status", "conditions")
	for _, raw := range conditions {
		c, ok := raw.(map[string]any)
		if !ok || c["type"] != "Ready" {
			continue
		}
		out := Condition{Found: true}
		out.Status, _, _ = unstructured.NestedString(c, "status")
		out.Reason, _, _ = unstructured.NestedString(c, "reason")
		out.Message, _, _ = unstructured.NestedString(c, "message")
		out.ObservedGeneration, _, _ = unstructured.NestedInt64(c, "observedGeneration")
		return out
	}
	return Condition{}
}

// IsTrue tells whether the condition says Ready.
func (c Condition) IsTrue() bool { return c.Status == "True" }

// String is the condition as a reader wants it: status, reason, message.
func (c Condition) String() string {
	if !c.Found {
		return "no Ready condition yet"
	}
	s := "Ready=" + c.Status
	if c.Reason != "" {
		s += " (" + c.Reason + ")"
	}
	if c.Message != "" {
		s += ": " + c.Message
	}
	return s
}

// CertificateTimes are a Certificate's status.notAfter and status.renewalTime
// (zero when unset).
func CertificateTimes(cert *unstructured.Unstructured) (notAfter, renewalTime time.Time, err error) {
	for _, f := range []struct {
		field string
		out   *time.Time
	}{{"notAfter", &notAfter}, {"renewalTime", &renewalTime}} {
		s, _, _ := unstructured.NestedString(cert.Object, "status", f.field)
		if s == "" {
			continue
		}
		if *f.out, err = time.Parse(time.RFC3339, s); err != nil {
			return time.Time{}, time.Time{}, fmt.Errorf("status.%s %q: %v", f.field, s, err)
		}
	}
	return notAfter, renewalTime, nil
}
