package apply

import (
	"slices"
	"sort"
	"strings"

	"github.com/eck-metrics/kubectl-eck-metrics/pkg/patches"
	"k8s.io/apimachinery/pkg/api/equality"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// heldByOthers tells whether the live object already holds every value of
// desired while our field manager owns less than desired: the apply would
// change no value, only add us as a co-owner of fields other managers
// (GitOps controllers, installers) set. It returns those managers; nil when
// the apply would change or remove a value.
func heldByOthers(desired, owned any, live metav1.Object) ([]string, error) {
	d, err := valuesOf(desired)
	if err != nil {
		return nil, err
	}
	l, err := valuesOf(live)
	if err != nil {
		return nil, err
	}
	if !holds(d, l) {
		return nil, nil
	}
	if owned != nil {
		o, err := valuesOf(owned)
		if err != nil {
			return nil, err
		}
		// A field we own that desired drops would be removed by the apply.
		if !holds(o, d) {
			return nil, nil
		}
	}
	managers := otherManagers(live)
	if len(managers) == 0 {
		return nil, nil
	}
	return managers, nil
}

// valuesOf is the content of v (contentOf) without apiVersion and kind,
// which typed objects as read carry none of.
func valuesOf(v any) (map[string]any, error) {
	o, err := contentOf(v)
	if err != nil {
		return nil, err
	}
	delete(o, "apiVersion")
	delete(o, "kind")
	return o, nil
}

// ownedByText is how a step reports values other managers hold.
func ownedByText(managers []string) string {
	return "owned by " + strings.Join(managers, ", ")
}

// holds tells whether every value of want is in got: maps key by key,
// lists of objects entry by entry (each entry within some entry of got, as
// server-side apply merges them by key), other lists and scalars equal.
func holds(want, got any) bool {
	switch w := want.(type) {
	case map[string]any:
		g, ok := got.(map[string]any)
		if !ok {
			return false
		}
		for k, wv := range w {
			gv, ok := g[k]
			if !ok || !holds(wv, gv) {
				return false
			}
		}
		return true
	case []any:
		g, ok := got.([]any)
		if !ok {
			return false
		}
		if !allMaps(w) {
			return equality.Semantic.DeepEqual(w, g)
		}
		for _, item := range w {
			if !slices.ContainsFunc(g, func(candidate any) bool { return holds(item, candidate) }) {
				return false
			}
		}
		return true
	}
	return equality.Semantic.DeepEqual(want, got)
}

func allMaps(items []any) bool {
	for _, item := range items {
		if _, ok := item.(map[string]any); !ok {
			return false
		}
	}
	return len(items) > 0
}

// otherManagers are the field managers of obj other than ours.
func otherManagers(obj metav1.Object) []string {
	var others []string
	for _, e := range obj.GetManagedFields() {
		if e.Manager != patches.FieldManager && e.Subresource == "" && !slices.Contains(others, e.Manager) {
			others = append(others, e.Manager)
		}
	}
	sort.Strings(others)
	return others
}
