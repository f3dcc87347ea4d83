package steps

import (
	"fmt"

	"github.com/eck-metrics/kubectl-eck-metrics/pkg/eckconfig"
	"github.com/eck-metrics/kubectl-eck-metrics/pkg/operator"
	"github.com/eck-metrics/kubectl-eck-metrics/pkg/patches"
	corev1ac "k8s.io/client-go/applyconfigurations/core/v1"
)

// enableBuild builds what enable applies. PlanEnable (from the live
// cluster) and render.Local (for GitOps, through BuildEnableConfig) both
// build through it, so a render is what enable applies.
type enableBuild struct {
	op *operator.Operator
	o  EnableOptions
}

// editedConfig is eck.yaml with the metrics settings and what they rest on.
type editedConfig struct {
	doc     *eckconfig.Document
	changes []string
	// port is the metrics-port chosen (--port, kept or free).
	port int32
	// portNote says why port is not the default, when enable chose it.
	portNote string
}

// configMap edits the eck.yaml text and builds the ConfigMap at
// resourceVersion. record is enable's record of the values it replaces; ""
// records them from text now, unless recordPrevious is false.
func (b enableBuild) configMap(text, record, resourceVersion string, recordPrevious bool) (*corev1ac.ConfigMapApplyConfiguration, editedConfig, error) {
	if record == "" && recordPrevious {
		if original, err := eckconfig.Parse(text); err == nil {
			record = patches.PreviousSettings(original, patches.MetricsSettings(b.o.Mode, b.o.Port, original))
		}
	}
	edited, err := b.editConfig(text)
	if err != nil {
		return nil, editedConfig{}, err
	}
	return patches.ConfigMap(b.op.Namespace(), b.op.ConfigMapName, b.op.ConfigKey, edited.doc.String(), record, resourceVersion), edited, nil
}

// editConfig sets the metrics settings in eck.yaml, with the port it chooses.
func (b enableBuild) editConfig(text string) (editedConfig, error) {
	op, o := b.op, b.o
	doc, err := eckconfig.Parse(text)
	if err != nil {
		return editedConfig{}, fmt.Errorf("ConfigMap %s/%s key %s: %w: fix it by hand; nothing was changed", op.Namespace(), op.ConfigMapName, op.ConfigKey, err)
	}
	port, note, err := operator.ChooseMetricsPort(o.Port, patches.DefaultMetricsPort, doc, patches.PortsInUse(op, doc, o.Mode))
	if err != nil {
		return editedConfig{}, err
	}
	changes, err := doc.Apply(patches.MetricsSettings(o.Mode, port, doc))
	if err != nil {
		return editedConfig{}, err
	}
	return editedConfig{doc: doc, changes: changes, port: port, portNote: note}, nil
}

// params are the parameters of the other objects, once eck.yaml (where the
// operator reads its certificate from) is edited.
func (b enableBuild) params(edited editedConfig, certSecret string) patches.Params {
	p := patches.ParamsFor(b.op, b.o.Mode, edited.port, b.o.SidecarImage, nil)
	p.CertSecret = certSecret
	p.CertDir = patches.CertDir(edited.doc)
	return p
}

// BuildEnableConfig builds, without a cluster, the eck.yaml ConfigMap
// enable applies (from text and record, as configMap does) and the
// parameters of the other objects; portNote says why the port is not the
// default ("" when it is).
func BuildEnableConfig(op *operator.Operator, o EnableOptions, text, record string, recordPrevious bool) (cm *corev1ac.ConfigMapApplyConfiguration, p patches.Params, portNote string, err error) {
	b := enableBuild{op: op, o: o}
	cm, edited, err := b.configMap(text, record, "", recordPrevious)
	if err != nil {
		return nil, patches.Params{}, "", err
	}
	return cm, b.params(edited, o.Cert.Secret), edited.portNote, nil
}
