package steps

import (
	"encoding/json"
	"strings"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

// extractOwnedUnstructured returns the fields of live that manager owns, for
// custom resources, whose schema client-go does not compile in. It walks the
// manager's FieldsV1 set: a field whose set is empty is a leaf, an atomic
// map or an atomic list, and is copied whole. ok is false where the set
// holds list-element keys (k:, v:, i:), which need the schema to follow;
// the caller then sends the apply, which the server makes a no-op if nothing
// changed.
func extractOwnedUnstructured(live *unstructured.Unstructured, manager string) (*unstructured.Unstructured, bool) {
	out := &unstructured.Unstructured{Object: map[string]any{}}
	for _, e := range live.GetManagedFields() {
		if e.Manager != manager || e.Operation != metav1.ManagedFieldsOperationApply || e.FieldsV1 == nil {
			continue
		}
		var set map[string]any
		if err := json.Unmarshal(e.FieldsV1.GetRawBytes(), &set); err != nil {
			return nil, false
		}
		if !copyOwned(live.Object, set, out.Object) {
			return nil, false
		}
	}
	out.SetAPIVersion(live.GetAPIVersion())
	out.SetKind(live.GetKind())
	out.SetName(live.GetName())
	out.SetNamespace(live.GetNamespace())
	return out, true
}

func copyOwned(live map[string]any, set map[string]any, out map[string]any) bool {
	for key, sub := range set {
		if key == "." {
			continue
		}
		name, ok := strings.CutPrefix(key, "f:")
		if !ok {
			return false
		}
		value, present := live[name]
		if !present {
			continue
		}
		subSet, _ := sub.(map[string]any)
		if len(subSet) == 0 {
			out[name] = value
			continue
		}
		liveMap, isMap := value.(map[string]any)
		if !isMap {
			return false
		}
		child, _ := out[name].(map[string]any)
		if child == nil {
			child = map[string]any{}
		}
		if !copyOwned(liveMap, subSet, child) {
			return false
		}
		out[name] = child
	}
	return true
}
