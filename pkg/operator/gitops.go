package operator

import (
	"fmt"
	"strings"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// The field managers and the tracking metadata of the GitOps controllers.
const (
	ArgoCDManager        = "argocd-controller"
	FluxKustomizeManager = "kustomize-controller"
	FluxHelmManager      = "helm-controller"

	ArgoCDTrackingIDAnnotation = "argocd.argoproj.io/tracking-id"
	// InstanceLabel is Argo CD's label tracking, but Helm sets it too: it
	// names the application only beside other Argo CD evidence.
	InstanceLabel            = "app.kubernetes.io/instance"
	FluxKustomizationName    = "kustomize.toolkit.fluxcd.io/name"
	FluxKustomizationNS      = "kustomize.toolkit.fluxcd.io/namespace"
	FluxHelmReleaseName      = "helm.toolkit.fluxcd.io/name"
	FluxHelmReleaseNamespace = "helm.toolkit.fluxcd.io/namespace"
)

// GitOps is the controller that syncs an object from Git, and the
// application it syncs it for.
type GitOps struct {
	// Tool is "Argo CD" or "Flux".
	Tool string
	// Controller is its field manager: argocd-controller,
	// kustomize-controller or helm-controller.
	Controller string
	// Kind is what syncs the object: "application" (Argo CD),
	// "Kustomization" or "HelmRelease" (Flux).
	Kind string
	// App names it: the Argo CD application (namespace/name when it lives
	// outside Argo CD's namespace), the Flux object as namespace/name; ""
	// when only the field manager tells.
	App string
}

// Owner says who syncs the object: `Argo CD application "eck"`.
func (g *GitOps) Owner() string {
	if g.App == "" {
		return fmt.Sprintf("%s (field manager %s)", g.Tool, g.Controller)
	}
	if g.Tool == "Argo CD" {
		return fmt.Sprintf("Argo CD application %q", g.App)
	}
	return fmt.Sprintf("Flux %s %s", g.Kind, g.App)
}

// DetectGitOps reads, object by object, who syncs them from Git: Argo CD's
// tracking annotation, Flux's labels, then the controllers' field managers
// (named after the tool only). nil when none does.
func DetectGitOps(objects ...metav1.Object) *GitOps {
	var found *GitOps
	for _, obj := range objects {
		if obj == nil {
			continue
		}
		g := gitOpsOf(obj)
		// The first object naming an application wins; a bare field manager
		// is kept only until one does.
		if g != nil && (found == nil || found.App == "" && g.App != "") {
			found = g
		}
	}
	return found
}

func gitOpsOf(obj metav1.Object) *GitOps {
	labels, annotations := obj.GetLabels(), obj.GetAnnotations()
	managers := map[string]bool{}
	for _, e := range obj.GetManagedFields() {
		if e.Subresource == "" {
			managers[e.Manager] = true
		}
	}
	if id := annotations[ArgoCDTrackingIDAnnotation]; id != "" {
		return &GitOps{Tool: "Argo CD", Controller: ArgoCDManager, Kind: "application", App: argoAppOf(id)}
	}
	if name := labels[FluxKustomizationName]; name != "" {
		return &GitOps{Tool: "Flux", Controller: FluxKustomizeManager, Kind: "Kustomization", App: nsName(labels[FluxKustomizationNS], name)}
	}
	if name := labels[FluxHelmReleaseName]; name != "" {
		return &GitOps{Tool: "Flux", Controller: FluxHelmManager, Kind: "HelmRelease", App: nsName(labels[FluxHelmReleaseNamespace], name)}
	}
	switch {
	case managers[ArgoCDManager]:
		// Argo CD's label tracking: the instance label is the application.
		return &GitOps{Tool: "Argo CD", Controller: ArgoCDManager, Kind: "application", App: labels[InstanceLabel]}
	case managers[FluxKustomizeManager]:
		return &GitOps{Tool: "Flux", Controller: FluxKustomizeManager, Kind: "Kustomization"}
	case managers[FluxHelmManager]:
		return &GitOps{Tool: "Flux", Controller: FluxHelmManager, Kind: "HelmRelease"}
	}
	return nil
}

// argoAppOf reads the application from a tracking id
// "<app>:<group>/<kind>:<namespace>/<name>"; an application outside Argo
// CD's namespace is "<namespace>_<app>" (names never hold "_").
func argoAppOf(trackingID string) string {
	app, _, _ := strings.Cut(trackingID, ":")
	if ns, name, ok := strings.Cut(app, "_"); ok {
		return ns + "/" + name
	}
	return app
}

func nsName(namespace, name string) string {
	if namespace == "" {
		return name
	}
	return namespace + "/" + name
}
