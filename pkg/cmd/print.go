package cmd

import (
	"fmt"
	"io"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/cli-runtime/pkg/printers"
	"k8s.io/client-go/kubernetes/scheme"
)

// printObjects prints objects in step order: YAML as a stream of documents,
// JSON as one v1 List, as kubectl does for several objects. managedFields
// are hidden.
func printObjects(p printers.ResourcePrinter, format string, objects []runtime.Object, out io.Writer) error {
	p = &printers.OmitManagedFieldsPrinter{Delegate: p}
	items := make([]unstructured.Unstructured, 0, len(objects))
	for _, obj := range objects {
		u, err := toUnstructured(obj)
		if err != nil {
			return err
		}
		items = append(items, *u)
	}
	if format == "json" {
		list := &unstructured.UnstructuredList{Object: map[string]any{"apiVersion": "v1", "kind": "List", "metadata": map[string]any{}}, Items: items}
		return p.PrintObj(list, out)
	}
	for i := range items {
		if err := p.PrintObj(&items[i], out); err != nil {
			return err
		}
	}
	return nil
}

// toUnstructured gives typed objects (returned by typed clients without
// apiVersion and kind) their type back.
func toUnstructured(obj runtime.Object) (*unstructured.Unstructured, error) {
	if u, ok := obj.(*unstructured.Unstructured); ok {
		return u, nil
	}
	m, err := runtime.DefaultUnstructuredConverter.ToUnstructured(obj)
	if err != nil {
		return nil, err
	}
	u := &unstructured.Unstructured{Object: m}
	kinds, _, err := scheme.Scheme.ObjectKinds(obj)
	if err != nil || len(kinds) == 0 {
		return nil, fmt.Errorf("unknown type %T", obj)
	}
	u.SetGroupVersionKind(kinds[0])
	return u, nil
}
