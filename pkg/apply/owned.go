package apply

import (
	"encoding/json"
	"strings"

	"k8s.io/apimachinery/pkg/api/equality"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

// extractOwned returns the fields of live that manager applied, as an
// object of apiVersion and kind, by walking the manager's FieldsV1 set.
// It needs no schema: client-go's Extract functions build a parser of every
// built-in type on first use, which cost a steady-state enable about 100 ms,
// more than all its requests. A field whose set is empty is a leaf, an
// atomic map or an atomic list, and is copied whole; list entries are found
// by the key values (k:) or the values (v:) the set names. ok is false
// where the set holds positions (i:); the caller then falls back to the
// schema.
func extractOwned(live metav1.Object, apiVersion, kind, manager string) (*unstructured.Unstructured, bool) {
	// Through JSON, numbers are float64 as in the key values of the set.
	raw, err := json.Marshal(live)
	if err != nil {
		return nil, false
	}
	var object map[string]any
	if err := json.Unmarshal(raw, &object); err != nil {
		return nil, false
	}
	out := &unstructured.Unstructured{Object: map[string]any{}}
	for _, e := range live.GetManagedFields() {
		if e.Manager != manager || e.Operation != metav1.ManagedFieldsOperationApply || e.FieldsV1 == nil || e.Subresource != "" {
			continue
		}
		var set map[string]any
		if err := json.Unmarshal(e.FieldsV1.GetRawBytes(), &set); err != nil {
			return nil, false
		}
		if !copyOwned(object, set, out.Object) {
			return nil, false
		}
	}
	out.SetAPIVersion(apiVersion)
	out.SetKind(kind)
	out.SetName(live.GetName())
	out.SetNamespace(live.GetNamespace())
	return out, true
}

// extractOwnedUnstructured is extractOwned for custom resources, whose
// apiVersion and kind the object carries.
func extractOwnedUnstructured(live *unstructured.Unstructured, manager string) (*unstructured.Unstructured, bool) {
	return extractOwned(live, live.GetAPIVersion(), live.GetKind(), manager)
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
		switch v := value.(type) {
		case map[string]any:
			child, _ := out[name].(map[string]any)
			if child == nil {
				child = map[string]any{}
			}
			if !copyOwned(v, subSet, child) {
				return false
			}
			out[name] = child
		case []any:
			items, ok := copyOwnedItems(v, subSet)
			if !ok {
				return false
			}
			if len(items) > 0 {
				out[name] = items
			}
		default:
			return false
		}
	}
	return true
}

// copyOwnedItems keeps, in live order, the list entries the set names, each
// with its key fields and the fields the set holds.
func copyOwnedItems(live []any, set map[string]any) ([]any, bool) {
	type entry struct {
		key   map[string]any // k: key values
		value any            // v: value
		set   map[string]any
	}
	var entries []entry
	for k, sub := range set {
		subSet, _ := sub.(map[string]any)
		switch {
		case k == ".":
		case strings.HasPrefix(k, "k:"):
			var key map[string]any
			if err := json.Unmarshal([]byte(k[2:]), &key); err != nil {
				return nil, false
			}
			entries = append(entries, entry{key: key, set: subSet})
		case strings.HasPrefix(k, "v:"):
			var value any
			if err := json.Unmarshal([]byte(k[2:]), &value); err != nil {
				return nil, false
			}
			entries = append(entries, entry{value: value})
		default:
			return nil, false
		}
	}
	var out []any
	for _, item := range live {
		for _, e := range entries {
			if e.key == nil {
				if equality.Semantic.DeepEqual(item, e.value) {
					out = append(out, item)
				}
				continue
			}
			m, isMap := item.(map[string]any)
			if !isMap || !hasKey(m, e.key) {
				continue
			}
			owned := map[string]any{}
			for k, v := range e.key {
				owned[k] = v
			}
			if !copyOwned(m, e.set, owned) {
				return nil, false
			}
			out = append(out, owned)
		}
	}
	return out, true
}

func hasKey(m, key map[string]any) bool {
	for k, v := range key {
		if !equality.Semantic.DeepEqual(m[k], v) {
			return false
		}
	}
	return true
}
