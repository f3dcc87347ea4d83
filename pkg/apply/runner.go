package apply

import (
	"context"
	"fmt"
	"io"
	"strings"

	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
)

// Plan numbers a command's steps ([n/length]). Its length is known before
// any step runs. A command that plans later steps once earlier ones have
// run (use-cert --issuer plans the rest once cert-manager has issued the
// certificate) runs it in parts: the numbering goes on from part to part.
type Plan struct {
	length, ran int
}

// NewPlan is a plan of length steps.
func NewPlan(length int) *Plan {
	return &Plan{length: length}
}

// Len is how many steps the plan has.
func (p *Plan) Len() int { return p.length }

// Runner applies planned steps in order.
type Runner struct {
	DryRun         DryRun
	ForceConflicts bool
	// Progress gets one line per step as it happens.
	Progress io.Writer
}

// RunAll runs steps as a plan of their own.
func (r Runner) RunAll(ctx context.Context, steps []*Step) ([]runtime.Object, error) {
	return r.Run(ctx, NewPlan(len(steps)), steps)
}

// Run applies steps, the next part of plan, and returns the objects as
// applied (client dry-run: as they would be sent; server dry-run: as the
// server would store them).
//
// Before writing anything it sends every change as a server dry run, so bad
// input, missing permissions and field conflicts stop the run while the
// cluster is still untouched. A fault after that (the API server going
// away) leaves earlier steps applied; a rerun completes the rest.
func (r Runner) Run(ctx context.Context, plan *Plan, steps []*Step) ([]runtime.Object, error) {
	if plan.ran+len(steps) > plan.length {
		return nil, fmt.Errorf("%d steps planned after %d of a plan of %d: nothing was changed; this is a bug of kubectl-eck-metrics, please report it", len(steps), plan.ran, plan.length)
	}
	done := plan.ran
	plan.ran += len(steps)
	if r.DryRun == DryRunNone {
		for _, s := range steps {
			for _, a := range s.Actions {
				if a.UpToDate || a.AfterPatch {
					continue
				}
				if _, err := a.send(ctx, r.ForceConflicts, true); err != nil {
					return nil, fmt.Errorf("nothing was changed: %w", a.explain(err))
				}
			}
		}
	}

	var objects []runtime.Object
	total := plan.length
	for n, s := range steps {
		i := n + done
		prefix := fmt.Sprintf("[%d/%d] %s:", i+1, total, s.Title)
		if s.Skipped != "" {
			fmt.Fprintln(r.Progress, prefix, strings.Join(append([]string{s.Skipped}, s.Notes...), "; "))
			continue
		}
		var parts []string
		for _, a := range s.Actions {
			obj, state, err := r.runAction(ctx, a)
			if err != nil {
				if r.DryRun != DryRunNone {
					// A dry run applied none of the steps before.
					return objects, fmt.Errorf("step %d/%d (%s) failed in the %s; nothing was changed: %w", i+1, total, s.Title, r.DryRun.describe(), a.explain(err))
				}
				if i > 0 {
					return objects, fmt.Errorf("step %d/%d (%s) failed, steps 1-%d are applied; fix this and rerun to complete: %w", i+1, total, s.Title, i, a.explain(err))
				}
				return objects, a.explain(err)
			}
			if obj != nil {
				objects = append(objects, obj)
			}
			part := a.Ref() + " " + state
			if a.Detail != "" && !strings.HasPrefix(state, "unchanged") {
				part += ": " + a.Detail
			}
			parts = append(parts, part)
		}
		parts = append(parts, s.Notes...)
		if len(parts) == 0 {
			parts = append(parts, "nothing to do")
		}
		fmt.Fprintln(r.Progress, prefix, strings.Join(parts, "; "))
	}
	return objects, nil
}

func (r Runner) runAction(ctx context.Context, a *Action) (runtime.Object, string, error) {
	planned := "configured"
	switch {
	case a.Delete:
		planned = "deleted"
	case !a.Exists:
		planned = "created"
	case a.UpToDate:
		planned = a.unchanged()
	}
	switch r.DryRun {
	case DryRunClient:
		if a.Delete || a.Desired == nil { // a delete or a JSON patch: no object to show
			return nil, planned + " (dry run)", nil
		}
		obj, err := ToUnstructured(a.Desired)
		if err != nil {
			return nil, "", err
		}
		// The resourceVersion is a precondition of the apply, not content.
		unstructured.RemoveNestedField(obj.Object, "metadata", "resourceVersion")
		return obj, planned + " (dry run)", nil
	case DryRunServer:
		if a.AfterPatch {
			// Sent as a dry run, it would be judged on the object before
			// the patch it follows (the sidecar still there).
			return nil, planned + " (server dry run: not sent, the server cannot see the patch before it is written)", nil
		}
		obj, err := a.send(ctx, r.ForceConflicts, true)
		return obj, planned + " (server dry run)", err
	}
	if a.Delete {
		_, err := a.send(ctx, r.ForceConflicts, false)
		return nil, planned, err
	}
	if a.UpToDate {
		return a.Live, a.unchanged(), nil
	}
	obj, err := a.apply(ctx, applyOptions(r.ForceConflicts, false))
	if err != nil {
		return nil, "", err
	}
	if a.Exists {
		if m, err := meta.Accessor(obj); err == nil && m.GetResourceVersion() == a.liveResourceVersion {
			return obj, "unchanged", nil
		}
	}
	return obj, planned, nil
}

// unchanged is the state of an action that changes nothing, naming the
// managers that hold the values where we own none of them.
func (a *Action) unchanged() string {
	if len(a.OwnedBy) > 0 {
		return "unchanged (" + ownedByText(a.OwnedBy) + ")"
	}
	return "unchanged"
}

// describe names the dry run for messages.
func (d DryRun) describe() string {
	if d == DryRunServer {
		return "server dry run"
	}
	return "dry run"
}
