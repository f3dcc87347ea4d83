package steps

import (
	"fmt"

	"github.com/eck-metrics/kubectl-eck-metrics/pkg/eckconfig"
	"github.com/eck-metrics/kubectl-eck-metrics/pkg/operator"
	"github.com/eck-metrics/kubectl-eck-metrics/pkg/patches"
	corev1ac "k8s.io/client-go/applyconfigurations/core/v1"
)

// enableBuild builds what enable applies. PlanEnable (from the live
// cluster) and RenderLocal (for GitOps) both build through it, so a render
// is what enable applies.
type enableBuild struct {
	op *operator.Operator
	o  EnableOptions
}

// configMap edits the eck.yaml text and builds the ConfigMap at
// resourceVersion. record is enable's record of the values it replaces; ""
// records them from text now, unless recordPrevious is false.
func (b enableBuild) configMap(text, record, resourceVersion string, recordPrevious bool) (*corev1ac.ConfigMapApplyConfiguration, *eckconfig.Document, []string, error) {
	if record == "" && recordPrevious {
		if original, err := eckconfig.Parse(text); err == nil {
			record = patches.PreviousSettings(original, patches.MetricsSettings(b.o.Mode, b.o.Port, original))
		}
	}
	doc, changes, err := b.editConfig(text)
	if err != nil {
		return nil, nil, nil, err
	}
	return patches.ConfigMap(b.op.Namespace(), b.op.ConfigMapName, b.op.ConfigKey, doc.String(), record, resourceVersion), doc, changes, nil
}

// editConfig returns eck.yaml with the metrics settings, and what changed.
func (b enableBuild) editConfig(text string) (*eckconfig.Document, []string, error) {
	op, o := b.op, b.o
	doc, err := eckconfig.Parse(text)
	if err != nil {
		return nil, nil, fmt.Errorf("ConfigMap %s/%s key %s: %w: fix it by hand; nothing was changed", op.Namespace(), op.ConfigMapName, op.ConfigKey, err)
	}
	if what, ok := patches.PortsInUse(op, doc, o.Mode)[o.Port]; ok {
		return nil, nil, fmt.Errorf("--port %d collides with %s: pick a free port with --port", o.Port, what)
	}
	changes, err := doc.Apply(patches.MetricsSettings(o.Mode, o.Port, doc))
	if err != nil {
		return nil, nil, err
	}
	return doc, changes, nil
}

// params are the parameters of the other objects, once eck.yaml (where the
// operator reads its certificate from) is known.
func (b enableBuild) params(doc *eckconfig.Document, certSecret string) patches.Params {
	p := patches.ParamsFor(b.op, b.o.Mode, b.o.Port, b.o.SidecarImage, b.o.ServiceMonitorLabels)
	p.CertSecret = certSecret
	p.CertDir = patches.CertDir(doc)
	return p
}
