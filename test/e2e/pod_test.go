//go:build e2e

package e2e

import (
	"context"
	"fmt"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/utils/ptr"
)

// nodeName is the node the played pods run on (no Node object: nothing
// here reads one).
const nodeName = "e2e-kubelet"

// podObject is what the kubelet last wrote of its Pod: the incarnation it
// describes and the readiness reported.
type podObject struct {
	run   *podRun
	uid   types.UID
	ready bool
}

// syncPod writes the Pod as the StatefulSet controller creates it (from the
// template, owned by the StatefulSet) and as the kubelet reports it (Running,
// the pod IP, ready when every container runs): Prometheus's pod discovery
// (PodMonitor jobs) reads the pod's IP, labels and container ports from it,
// and its endpoints discovery joins the Endpoints' targetRef to it. A new
// incarnation (changed template) replaces the Pod; no StatefulSet, no Pod.
func (k *kubelet) syncPod(c context.Context, sts *appsv1.StatefulSet, run *podRun) error {
	pods := cluster.Kube.CoreV1().Pods(k.ns)
	pod, err := pods.Get(c, k.pod, metav1.GetOptions{})
	switch {
	case apierrors.IsNotFound(err):
		pod = nil
	case err != nil:
		return err
	}
	if pod != nil && (run == nil || k.podObject.run != run || pod.UID != k.podObject.uid) {
		// The kubelet has stopped the old containers: the Pod goes at once.
		if err := pods.Delete(c, k.pod, metav1.DeleteOptions{GracePeriodSeconds: ptr.To[int64](0), Preconditions: &metav1.Preconditions{UID: &pod.UID}}); err != nil && !apierrors.IsNotFound(err) {
			return fmt.Errorf("delete pod: %w", err)
		}
		k.logf("pod object %s deleted", k.pod)
		k.podObject = podObject{}
		return nil // created on the next sync, once the name is free
	}
	if run == nil {
		return nil
	}
	if pod == nil {
		labels := map[string]string{"statefulset.kubernetes.io/pod-name": k.pod}
		for key, v := range run.template.Labels {
			labels[key] = v
		}
		spec := run.template.Spec.DeepCopy()
		spec.NodeName = nodeName
		spec.Hostname, spec.Subdomain = k.pod, sts.Spec.ServiceName
		pod = &corev1.Pod{
			ObjectMeta: metav1.ObjectMeta{Name: k.pod, Namespace: k.ns, Labels: labels, Annotations: run.template.Annotations,
				OwnerReferences: []metav1.OwnerReference{*metav1.NewControllerRef(sts, appsv1.SchemeGroupVersion.WithKind("StatefulSet"))}},
			Spec: *spec,
		}
		if pod, err = pods.Create(c, pod, metav1.CreateOptions{}); err != nil {
			return fmt.Errorf("create pod: %w", err)
		}
		k.podObject = podObject{run: run, uid: pod.UID}
		k.logf("pod object %s created (uid %s)", k.pod, pod.UID)
	} else if pod.Status.PodIP == k.ip && k.podObject.ready == run.ready() {
		return nil
	}
	ready := run.ready()
	cond := func(t corev1.PodConditionType, ok bool) corev1.PodCondition {
		s := corev1.ConditionFalse
		if ok {
			s = corev1.ConditionTrue
		}
		return corev1.PodCondition{Type: t, Status: s, LastTransitionTime: metav1.Now()}
	}
	started := metav1.Now()
	var statuses []corev1.ContainerStatus
	for _, ctr := range pod.Spec.Containers {
		statuses = append(statuses, corev1.ContainerStatus{Name: ctr.Name, Image: ctr.Image, Ready: ready, Started: ptr.To(true),
			State: corev1.ContainerState{Running: &corev1.ContainerStateRunning{StartedAt: started}}})
	}
	pod.Status = corev1.PodStatus{
		Phase: corev1.PodRunning, HostIP: "192.0.2.254", HostIPs: []corev1.HostIP{{IP: "192.0.2.254"}},
		PodIP: k.ip, PodIPs: []corev1.PodIP{{IP: k.ip}}, StartTime: &started,
		Conditions: []corev1.PodCondition{cond(corev1.PodScheduled, true), cond(corev1.PodInitialized, true),
			cond(corev1.ContainersReady, ready), cond(corev1.PodReady, ready)},
		ContainerStatuses: statuses,
	}
	if _, err := pods.UpdateStatus(c, pod, metav1.UpdateOptions{}); err != nil {
		return fmt.Errorf("pod status: %w", err)
	}
	k.podObject.ready = ready
	return nil
}
