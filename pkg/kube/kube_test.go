package kube

// Unit tests of the pure helpers: no cluster (MonitorsServed reads
// client-go's fake discovery).

import (
	"errors"
	"strings"
	"testing"

	"github.com/eck-metrics/kubectl-eck-metrics/pkg/patches"
	appsv1 "k8s.io/api/apps/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	fakediscovery "k8s.io/client-go/discovery/fake"
	"k8s.io/client-go/kubernetes/fake"
	k8stesting "k8s.io/client-go/testing"
	"k8s.io/utils/ptr"
)

func TestRolloutStatus(t *testing.T) {
	sts := func(generation int64, replicas *int32, st appsv1.StatefulSetStatus) *appsv1.StatefulSet {
		return &appsv1.StatefulSet{
			ObjectMeta: metav1.ObjectMeta{Name: "elastic-operator", Namespace: "elastic-system", Generation: generation},
			Spec:       appsv1.StatefulSetSpec{Replicas: replicas},
			Status:     st,
		}
	}
	tests := []struct {
		name     string
		sts      *appsv1.StatefulSet
		wantDone bool
		wantMsg  string
	}{
		{
			name:    "observedGeneration behind",
			sts:     sts(3, ptr.To[int32](2), appsv1.StatefulSetStatus{ObservedGeneration: 2, UpdatedReplicas: 2, ReadyReplicas: 2, CurrentRevision: "r1", UpdateRevision: "r1"}),
			wantMsg: "waiting for the StatefulSet controller to see the new spec",
		},
		{
			name:    "updated < replicas",
			sts:     sts(3, ptr.To[int32](3), appsv1.StatefulSetStatus{ObservedGeneration: 3, UpdatedReplicas: 1, ReadyReplicas: 3, CurrentRevision: "r1", UpdateRevision: "r2"}),
			wantMsg: "1 of 3 pods updated",
		},
		{
			name:    "ready < replicas",
			sts:     sts(3, ptr.To[int32](3), appsv1.StatefulSetStatus{ObservedGeneration: 3, UpdatedReplicas: 3, ReadyReplicas: 2, CurrentRevision: "r2", UpdateRevision: "r2"}),
			wantMsg: "2 of 3 updated pods ready",
		},
		{
			name:    "revisions differ",
			sts:     sts(3, ptr.To[int32](1), appsv1.StatefulSetStatus{ObservedGeneration: 3, UpdatedReplicas: 1, ReadyReplicas: 1, CurrentRevision: "r1", UpdateRevision: "r2"}),
			wantMsg: "waiting for the revision to become current",
		},
		{
			name:     "done",
			sts:      sts(3, ptr.To[int32](2), appsv1.StatefulSetStatus{ObservedGeneration: 3, UpdatedReplicas: 2, ReadyReplicas: 2, CurrentRevision: "r2", UpdateRevision: "r2"}),
			wantDone: true,
			wantMsg:  "rolled out: 2 of 2 pods updated and ready",
		},
		{
			name:     "done, no update revision reported yet",
			sts:      sts(1, ptr.To[int32](1), appsv1.StatefulSetStatus{ObservedGeneration: 1, UpdatedReplicas: 1, ReadyReplicas: 1, CurrentRevision: "r1"}),
			wantDone: true,
			wantMsg:  "rolled out: 1 of 1 pods updated and ready",
		},
		{
			name:    "nil replicas means 1: no pod updated",
			sts:     sts(2, nil, appsv1.StatefulSetStatus{ObservedGeneration: 2, UpdatedReplicas: 0, ReadyReplicas: 0}),
			wantMsg: "0 of 1 pods updated",
		},
		{
			name:     "nil replicas means 1: done",
			sts:      sts(2, nil, appsv1.StatefulSetStatus{ObservedGeneration: 2, UpdatedReplicas: 1, ReadyReplicas: 1, CurrentRevision: "r2", UpdateRevision: "r2"}),
			wantDone: true,
			wantMsg:  "rolled out: 1 of 1 pods updated and ready",
		},
		{
			name:     "zero replicas is done",
			sts:      sts(2, ptr.To[int32](0), appsv1.StatefulSetStatus{ObservedGeneration: 2}),
			wantDone: true,
			wantMsg:  "rolled out: 0 of 0 pods updated and ready",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			done, msg := RolloutStatus(tt.sts)
			if done != tt.wantDone || msg != tt.wantMsg {
				t.Errorf("RolloutStatus() = (%v, %q), want (%v, %q)", done, msg, tt.wantDone, tt.wantMsg)
			}
		})
	}
}

func TestReadError(t *testing.T) {
	forbidden := apierrors.NewForbidden(schema.GroupResource{Group: "apps", Resource: "statefulsets"}, "elastic-operator",
		errors.New(`User "jane" cannot get resource "statefulsets"`))
	got := ReadError("StatefulSet elastic-system/elastic-operator", forbidden).Error()
	want := `cannot read StatefulSet elastic-system/elastic-operator: statefulsets.apps "elastic-operator" is forbidden: User "jane" cannot get resource "statefulsets": ask for that permission or run as a user who has it`
	if got != want {
		t.Errorf("ReadError(forbidden) =\n  %s\nwant\n  %s", got, want)
	}

	notFound := apierrors.NewNotFound(schema.GroupResource{Resource: "services"}, "x")
	wrapped := ReadError("Service ns/x", notFound)
	if want := `cannot read Service ns/x: services "x" not found`; wrapped.Error() != want {
		t.Errorf("ReadError(not found) = %q, want %q", wrapped, want)
	}
	if !apierrors.IsNotFound(wrapped) {
		t.Error("ReadError() does not wrap the API error")
	}
}

// MonitorsServed reads both kinds off one discovery answer: served, one of
// them, the group-version not served (no list to read), discovery denied.
func TestMonitorsServed(t *testing.T) {
	monitoring := func(resources ...string) []*metav1.APIResourceList {
		l := &metav1.APIResourceList{GroupVersion: patches.ServiceMonitorGVR.GroupVersion().String()}
		for _, r := range resources {
			l.APIResources = append(l.APIResources, metav1.APIResource{Name: r})
		}
		return []*metav1.APIResourceList{l}
	}
	for _, tc := range []struct {
		name      string
		resources []*metav1.APIResourceList
		forbidden bool
		sm, pm    bool
		err       string
	}{
		{name: "both", resources: monitoring("servicemonitors", "podmonitors", "prometheuses"), sm: true, pm: true},
		{name: "podmonitors only", resources: monitoring("podmonitors"), pm: true},
		{name: "group-version not served"},
		{name: "discovery forbidden", forbidden: true, err: "cannot read API group monitoring.coreos.com/v1: "},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cs := fake.NewClientset()
			fd := cs.Discovery().(*fakediscovery.FakeDiscovery)
			fd.Resources = tc.resources
			if tc.forbidden {
				fd.PrependReactor("get", "resource", func(k8stesting.Action) (bool, runtime.Object, error) {
					return true, nil, apierrors.NewForbidden(schema.GroupResource{}, "", errors.New("no"))
				})
			}
			sm, pm, err := MonitorsServed(Clients{Kube: cs})
			if tc.err != "" {
				if err == nil || !strings.HasPrefix(err.Error(), tc.err) {
					t.Fatalf("err %v, want %q...", err, tc.err)
				}
				return
			}
			if err != nil || sm != tc.sm || pm != tc.pm {
				t.Errorf("got %v %v %v, want %v %v", sm, pm, err, tc.sm, tc.pm)
			}
		})
	}
}
