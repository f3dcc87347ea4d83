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
// are hidden unless --show-managed-fields: the printer of -o omits them.
func printObjects(p printers.ResourcePrinter, format string, objects []runtime.Object, out io.Writer) error {
	items := make([]unstructured.Unstructured, 0, len(objects))
	for _, obj := range objects {
		u, err := toUnstructured(obj)
		if err != nil {
			return err
		}
		redactSecret(u)
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

// Redacted replaces every value of a printed Secret.
const Redacted = "REDACTED"

// redactSecret keeps key material off the screen, in every output format
// and dry run: only the names of a Secret's keys are printed.
func redactSecret(u *unstructured.Unstructured) {
	if u.GetKind() != "Secret" {
		return
	}
	for _, field := range []string{"data", "stringData"} {
		values, ok := u.Object[field].(map[string]any)
		if !ok {
			continue
		}
		for k := range values {
			values[k] = Redacted
		}
	}
	// kubectl apply keeps the whole last-applied Secret in an annotation.
	if a := u.GetAnnotations(); a != nil {
		delete(a, "kubectl.kubernetes.io/last-applied-configuration")
		u.SetAnnotations(a)
	}
}
