package steps

import (
	"fmt"
	"strconv"

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
//
// portNote says why the metrics-port is not the default, when enable chose it.
func (b enableBuild) configMap(text, record, resourceVersion string, recordPrevious bool) (cm *corev1ac.ConfigMapApplyConfiguration, doc *eckconfig.Document, changes []string, portNote string, err error) {
	if record == "" && recordPrevious {
		if original, err := eckconfig.Parse(text); err == nil {
			record = patches.PreviousSettings(original, patches.MetricsSettings(b.o.Mode, b.o.Port, original))
		}
	}
	doc, changes, portNote, err = b.editConfig(text)
	if err != nil {
		return nil, nil, nil, "", err
	}
	return patches.ConfigMap(b.op.Namespace(), b.op.ConfigMapName, b.op.ConfigKey, doc.String(), record, resourceVersion), doc, changes, portNote, nil
}

// editConfig returns eck.yaml with the metrics settings, what changed, and
// why the port chosen is not the default.
func (b enableBuild) editConfig(text string) (*eckconfig.Document, []string, string, error) {
	op, o := b.op, b.o
	doc, err := eckconfig.Parse(text)
	if err != nil {
		return nil, nil, "", fmt.Errorf("ConfigMap %s/%s key %s: %w: fix it by hand; nothing was changed", op.Namespace(), op.ConfigMapName, op.ConfigKey, err)
	}
	port, note, err := patches.ChooseMetricsPort(o.Port, doc, patches.PortsInUse(op, doc, o.Mode))
	if err != nil {
		return nil, nil, "", err
	}
	changes, err := doc.Apply(patches.MetricsSettings(o.Mode, port, doc))
	if err != nil {
		return nil, nil, "", err
	}
	return doc, changes, note, nil
}

// port is the metrics-port chosen: --port, else what editConfig wrote
// into the edited eck.yaml.
func (b enableBuild) port(doc *eckconfig.Document) int32 {
	if b.o.Port != 0 || doc == nil {
		return b.o.Port
	}
	text, _ := doc.Get("metrics-port")
	p, _ := strconv.Atoi(text)
	return int32(p)
}

// params are the parameters of the other objects, once eck.yaml (where the
// operator reads its certificate from) is known.
func (b enableBuild) params(doc *eckconfig.Document, certSecret string) patches.Params {
	p := patches.ParamsFor(b.op, b.o.Mode, b.port(doc), b.o.SidecarImage, nil)
	p.CertSecret = certSecret
	p.CertDir = patches.CertDir(doc)
	return p
}
