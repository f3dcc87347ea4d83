// Package kube holds the read-only cluster helpers that both the steps
// (which write) and status (which only reads) use: the clients, how a failed
// read is explained, and what the live objects say.
package kube

import (
	"fmt"

	"github.com/eck-metrics/kubectl-eck-metrics/pkg/operator"
	"github.com/eck-metrics/kubectl-eck-metrics/pkg/patches"
	appsv1 "k8s.io/api/apps/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
)

// Clients are the API clients of one command.
type Clients struct {
	Kube    kubernetes.Interface
	Dynamic dynamic.Interface
}

// ReadError explains a failed read in one line.
func ReadError(what string, err error) error {
	if apierrors.IsForbidden(err) {
		return fmt.Errorf("cannot read %s: %s: ask for that permission or run as a user who has it", what, StatusMessage(err))
	}
	return fmt.Errorf("cannot read %s: %w", what, err)
}

// StatusMessage is the API server's own message of an error, without the
// client's wrapping.
func StatusMessage(err error) string {
	if s, ok := err.(apierrors.APIStatus); ok {
		return s.Status().Message
	}
	return err.Error()
}

// ServiceMonitorNotServed says why there is no ServiceMonitor to apply.
const ServiceMonitorNotServed = "monitoring.coreos.com/v1 ServiceMonitor is not served in this cluster"

// MonitorsServed says which of ServiceMonitor and PodMonitor the API server
// serves, in one discovery request (they share a group-version).
func MonitorsServed(c Clients) (serviceMonitor, podMonitor bool, err error) {
	list, discoveryErr := c.Kube.Discovery().ServerResourcesForGroupVersion(patches.ServiceMonitorGVR.GroupVersion().String())
	if serviceMonitor, err = ServedIn(patches.ServiceMonitorGVR, list, discoveryErr); err != nil {
		return false, false, err
	}
	podMonitor, _ = ServedIn(patches.PodMonitorGVR, list, discoveryErr)
	return serviceMonitor, podMonitor, nil
}

// ListProblem says why listing gvr in all namespaces failed.
func ListProblem(gvr schema.GroupVersionResource, err error) string {
	what := gvr.Resource + "." + gvr.Group
	if apierrors.IsForbidden(err) {
		return fmt.Sprintf("cannot list %s in all namespaces: %s", what, StatusMessage(err))
	}
	return fmt.Sprintf("cannot list %s: %v", what, err)
}

// Served says whether the API server serves that resource, asking discovery
// for its group-version only.
func Served(c Clients, gvr schema.GroupVersionResource) (bool, error) {
	list, err := c.Kube.Discovery().ServerResourcesForGroupVersion(gvr.GroupVersion().String())
	return ServedIn(gvr, list, err)
}

// ServedIn says whether discovery's answer for gvr's group-version (list,
// err) holds gvr, for callers that ask once per group-version.
func ServedIn(gvr schema.GroupVersionResource, list *metav1.APIResourceList, err error) (bool, error) {
	gv := gvr.GroupVersion().String()
	if apierrors.IsNotFound(err) {
		return false, nil
	}
	if err != nil {
		return false, ReadError("API group "+gv, err)
	}
	for _, r := range list.APIResources {
		if r.Name == gvr.Resource {
			return true, nil
		}
	}
	return false, nil
}

// CurrentCertSecret is the user's certificate secret the StatefulSet
// mounts (as use-cert configures it), or "".
func CurrentCertSecret(op *operator.Operator) string {
	for _, v := range op.StatefulSet.Spec.Template.Spec.Volumes {
		if v.Name == patches.CertVolumeName && v.Secret != nil {
			return v.Secret.SecretName
		}
	}
	return ""
}

// RolloutStatus says whether a StatefulSet finished rolling out, and if not,
// how far it got.
func RolloutStatus(sts *appsv1.StatefulSet) (bool, string) {
	want := int32(1)
	if sts.Spec.Replicas != nil {
		want = *sts.Spec.Replicas
	}
	st := sts.Status
	switch {
	case st.ObservedGeneration < sts.Generation:
		return false, "waiting for the StatefulSet controller to see the new spec"
	case st.UpdatedReplicas < want:
		return false, fmt.Sprintf("%d of %d pods updated", st.UpdatedReplicas, want)
	case st.ReadyReplicas < want:
		return false, fmt.Sprintf("%d of %d updated pods ready", st.ReadyReplicas, want)
	case st.UpdateRevision != "" && st.CurrentRevision != st.UpdateRevision:
		return false, "waiting for the revision to become current"
	}
	return true, fmt.Sprintf("rolled out: %d of %d pods updated and ready", st.ReadyReplicas, want)
}
