// Package steps runs the documented procedure as ordered steps: each step
// reads the live objects, builds the desired ones (pkg/patches) and applies
// them with server-side apply.
package apply

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/eck-metrics/kubectl-eck-metrics/pkg/kube"
	"github.com/eck-metrics/kubectl-eck-metrics/pkg/patches"
	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes/scheme"
)

// DryRun is kubectl's --dry-run strategy.
type DryRun string

const (
	DryRunNone   DryRun = "none"
	DryRunClient DryRun = "client"
	DryRunServer DryRun = "server"
)

// ParseDryRun accepts kubectl's values of --dry-run.
func ParseDryRun(s string) (DryRun, error) {
	switch DryRun(s) {
	case DryRunNone, DryRunClient, DryRunServer:
		return DryRun(s), nil
	case "":
		return DryRunNone, nil
	}
	return "", fmt.Errorf(`invalid --dry-run value %q: use "none", "client" or "server"`, s)
}

// ApplyFunc sends one server-side apply (or, for a migration, a patch).
type ApplyFunc func(ctx context.Context, opts metav1.ApplyOptions) (runtime.Object, error)

// Action is one object a step applies.
type Action struct {
	Kind      string
	Namespace string
	Name      string
	// Desired is the apply configuration (typed, or unstructured for CRDs).
	Desired any
	// Exists is false when the object is created by the apply.
	Exists bool
	// Live is the object as read, printed when nothing needs applying.
	Live runtime.Object
	// liveResourceVersion tells, after the apply, whether anything changed.
	liveResourceVersion string
	// UpToDate: the fields we own already hold the desired values, so the
	// apply would change nothing and is not sent.
	UpToDate bool
	// OwnedBy, when set, are the other field managers of an object that
	// holds every desired value though our field manager does not own them
	// all: UpToDate (values, not ownership, decide).
	OwnedBy []string
	// Detail says what changes, where a step can tell more than "configured".
	Detail string
	// Delete: the action deletes the object (remove) instead of applying
	// Desired (apply).
	Delete bool
	// AfterPatch: an earlier action of the step patches the same object
	// (the sidecar's removal), which a server dry run of this one cannot
	// see: it is not sent in the runner's dry-run pass.
	AfterPatch bool
	apply      ApplyFunc
	remove     DeleteFunc
}

// DeleteFunc sends one delete, as a server dry run when dryRun.
type DeleteFunc func(ctx context.Context, dryRun bool) error

// send sends the action: its apply, or its delete; dryRun sends it with
// dryRun=All. A delete returns no object.
func (a *Action) send(ctx context.Context, force, dryRun bool) (runtime.Object, error) {
	if a.Delete {
		return nil, a.remove(ctx, dryRun)
	}
	return a.apply(ctx, applyOptions(force, dryRun))
}

// explain says in one line why the action failed and what to do.
func (a *Action) explain(err error) error {
	if a.Delete {
		return DeleteError(a, err)
	}
	return ApplyError(a, err)
}

// Ref is the object as kubectl names it.
func (a *Action) Ref() string {
	if a.Namespace == "" {
		return a.Kind + " " + a.Name
	}
	return a.Kind + " " + a.Namespace + "/" + a.Name
}

// Step is one of the documented steps.
type Step struct {
	Title   string
	Actions []*Action
	// Skipped, when set, says why the step applies nothing.
	Skipped string
	// Notes report what the step leaves alone, and why.
	Notes []string
}

// LiveObject is an object as read: its metadata and its kind.
type LiveObject interface {
	metav1.Object
	runtime.Object
}

// NewAction compares what fieldManager owns in the live object (OwnedOf)
// with the desired apply configuration, then, where that differs, the
// values of the live object (heldByOthers).
func NewAction(kind, namespace, name string, desired any, live metav1.Object, owned any, apply ApplyFunc) (*Action, error) {
	a := &Action{Kind: kind, Namespace: namespace, Name: name, Desired: desired, apply: apply}
	if live == nil {
		return a, nil
	}
	a.Exists = true
	if obj, ok := live.(runtime.Object); ok {
		a.Live = obj
	}
	a.liveResourceVersion = live.GetResourceVersion()
	same, err := sameContent(desired, owned)
	if err != nil {
		return nil, err
	}
	a.UpToDate = same
	if !same {
		if a.OwnedBy, err = heldByOthers(desired, owned, live); err != nil {
			return nil, err
		}
		a.UpToDate = a.OwnedBy != nil
	}
	return a, nil
}

// NewChange is an apply to an existing object whose desired content is not
// compared with it (disable's releases, the migration's patch): it is sent.
func NewChange(kind, namespace, name string, desired any, live LiveObject, apply ApplyFunc) *Action {
	return &Action{Kind: kind, Namespace: namespace, Name: name, Desired: desired, Exists: true, Live: live,
		liveResourceVersion: live.GetResourceVersion(), apply: apply}
}

// NewDelete deletes an existing object through remove.
func NewDelete(kind, namespace, name string, remove DeleteFunc) *Action {
	return &Action{Kind: kind, Namespace: namespace, Name: name, Exists: true, Delete: true, remove: remove}
}

// Observed is an object as read (Found false: absent) and the apply
// configuration our field manager owns of it.
type Observed[T metav1.Object] struct {
	Live  T
	Found bool
	Owned any
}

// Object is the live object for NewAction: nil when absent.
func (o Observed[T]) Object() metav1.Object {
	if !o.Found {
		return nil
	}
	return o.Live
}

// Observe reads an object and extracts what we own of it (OwnedOf); an
// absent object is not an error.
func Observe[T metav1.Object, AC any](ctx context.Context, ref, name string,
	get func(context.Context, string, metav1.GetOptions) (T, error), extract func(T, string) (AC, error)) (Observed[T], error) {
	var o Observed[T]
	live, err := get(ctx, name, metav1.GetOptions{})
	switch {
	case apierrors.IsNotFound(err):
		return o, nil
	case err != nil:
		return o, kube.ReadError(ref, err)
	}
	owned, err := OwnedOf(live, extract)
	if err != nil {
		return o, err
	}
	return Observed[T]{Live: live, Found: true, Owned: owned}, nil
}

// ReadCustom reads a custom resource and what our field manager applied of
// it (nil where the walk of its managed fields cannot tell); an absent one
// is nil, not an error.
func ReadCustom(ctx context.Context, res dynamic.ResourceInterface, ref, name string) (live, owned *unstructured.Unstructured, err error) {
	live, err = res.Get(ctx, name, metav1.GetOptions{})
	switch {
	case apierrors.IsNotFound(err):
		return nil, nil, nil
	case err != nil:
		return nil, nil, kube.ReadError(ref, err)
	}
	owned, _ = extractOwnedUnstructured(live, patches.FieldManager)
	return live, owned, nil
}

// NewCustomAction is NewAction for a custom resource, applied through res;
// live and owned are nil when absent.
func NewCustomAction(res dynamic.ResourceInterface, desired, live, owned *unstructured.Unstructured) (*Action, error) {
	// Untyped nils: NewAction tells an absent object by nil.
	var liveObj metav1.Object
	var ownedFields any
	if live != nil {
		liveObj = live
	}
	if owned != nil {
		ownedFields = owned
	}
	return NewAction(desired.GetKind(), desired.GetNamespace(), desired.GetName(), desired, liveObj, ownedFields,
		func(ctx context.Context, opts metav1.ApplyOptions) (runtime.Object, error) {
			return res.Apply(ctx, desired.GetName(), desired, opts)
		})
}

// OwnedOf is what our field manager applied on a built-in object: walked
// from its managed fields without a schema (extractOwned), or by client-go's
// Extract function where the walk cannot tell.
func OwnedOf[T metav1.Object, AC any](live T, extract func(T, string) (AC, error)) (any, error) {
	if obj, ok := any(live).(runtime.Object); ok {
		if kinds, _, err := scheme.Scheme.ObjectKinds(obj); err == nil && len(kinds) > 0 {
			apiVersion, kind := kinds[0].ToAPIVersionAndKind()
			if owned, ok := extractOwned(live, apiVersion, kind, patches.FieldManager); ok {
				return owned, nil
			}
		}
	}
	return extract(live, patches.FieldManager)
}

// sameContent compares two apply configurations as JSON, ignoring the
// resourceVersion precondition.
func sameContent(a, b any) (bool, error) {
	am, err := contentOf(a)
	if err != nil {
		return false, err
	}
	bm, err := contentOf(b)
	if err != nil {
		return false, err
	}
	return equality.Semantic.DeepEqual(am, bm), nil
}

// contentOf is v as JSON without the resourceVersion precondition, which
// is no value of the object.
func contentOf(v any) (map[string]any, error) {
	u, err := ToUnstructured(v)
	if err != nil {
		return nil, err
	}
	unstructured.RemoveNestedField(u.Object, "metadata", "resourceVersion")
	return u.Object, nil
}

// ToUnstructured turns an apply configuration or object into a printable
// object (apply configurations carry apiVersion and kind).
func ToUnstructured(v any) (*unstructured.Unstructured, error) {
	if u, ok := v.(*unstructured.Unstructured); ok {
		return u.DeepCopy(), nil
	}
	raw, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	obj := map[string]any{}
	if err := json.Unmarshal(raw, &obj); err != nil {
		return nil, err
	}
	return &unstructured.Unstructured{Object: obj}, nil
}

// ApplyError explains a failed apply in one line with what to do.
func ApplyError(a *Action, err error) error {
	var status apierrors.APIStatus
	switch {
	case apierrors.IsConflict(err) && asStatus(err, &status) && hasManagerConflicts(status):
		var fields []string
		for _, c := range status.Status().Details.Causes {
			if c.Type == metav1.CauseTypeFieldManagerConflict {
				fields = append(fields, fmt.Sprintf("%s (%s)", c.Field, c.Message))
			}
		}
		return fmt.Errorf("%s: another field manager owns %s: rerun with --force-conflicts to take these fields over", a.Ref(), strings.Join(fields, ", "))
	case apierrors.IsForbidden(err):
		return fmt.Errorf("%s: permission denied: %s: ask for that permission or run as a user who has it", a.Ref(), kube.StatusMessage(err))
	}
	return fmt.Errorf("%s: %w", a.Ref(), err)
}

// DeleteError explains a failed delete in one line with what to do.
func DeleteError(a *Action, err error) error {
	switch {
	case apierrors.IsConflict(err):
		// The UID and resourceVersion preconditions: someone changed it.
		return fmt.Errorf("%s changed since it was read, so it was not deleted: rerun to look at it again", a.Ref())
	case apierrors.IsForbidden(err):
		return fmt.Errorf("cannot delete %s: permission denied: %s: ask for that permission or run as a user who has it", a.Ref(), kube.StatusMessage(err))
	}
	return fmt.Errorf("cannot delete %s: %w", a.Ref(), err)
}

func asStatus(err error, status *apierrors.APIStatus) bool {
	s, ok := err.(apierrors.APIStatus)
	if ok {
		*status = s
	}
	return ok
}

func hasManagerConflicts(s apierrors.APIStatus) bool {
	d := s.Status().Details
	if d == nil {
		return false
	}
	for _, c := range d.Causes {
		if c.Type == metav1.CauseTypeFieldManagerConflict {
			return true
		}
	}
	return false
}

func applyOptions(force bool, dryRun bool) metav1.ApplyOptions {
	o := metav1.ApplyOptions{FieldManager: patches.FieldManager, Force: force}
	if dryRun {
		o.DryRun = []string{metav1.DryRunAll}
	}
	return o
}
