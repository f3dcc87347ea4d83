package kube

import (
	"context"

	"github.com/eck-metrics/kubectl-eck-metrics/pkg/promselect"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

// Prometheuses is what listing the Prometheus and PrometheusAgent objects of
// every namespace found.
type Prometheuses struct {
	Items []promselect.Prometheus
	// Listed counts the kinds listed; Failures says why others could not be
	// (a kind that is not served is neither).
	Listed   int
	Failures []string
}

// ListPrometheuses lists each kind of promselect.Kinds that served says is
// served (the caller's discovery, so that it can ask once per
// group-version), for status and enable --network-policy alike.
func ListPrometheuses(ctx context.Context, c Clients, served func(schema.GroupVersionResource) (bool, error)) Prometheuses {
	var out Prometheuses
	for _, kind := range promselect.Kinds {
		ok, err := served(kind.GVR)
		if err != nil {
			out.Failures = append(out.Failures, err.Error())
			continue
		}
		if !ok {
			continue
		}
		list, err := c.Dynamic.Resource(kind.GVR).List(ctx, metav1.ListOptions{})
		if err != nil {
			out.Failures = append(out.Failures, ListProblem(kind.GVR, err))
			continue
		}
		out.Listed++
		for i := range list.Items {
			out.Items = append(out.Items, promselect.FromUnstructured(kind.Kind, &list.Items[i]))
		}
	}
	return out
}
