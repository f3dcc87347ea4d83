// Package operator finds the ECK operator's StatefulSet and reads from it
// what the steps need: version, ServiceAccount, pod selector, ConfigMap,
// Helm ownership. Nothing is assumed that the StatefulSet can tell.
package operator

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"path"
	"regexp"
	"sort"
	"strings"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/version"
	"k8s.io/client-go/kubernetes"
)

// Defaults of the all-in-one manifests.
const (
	DefaultNamespace     = "elastic-system"
	DefaultName          = "elastic-operator"
	ManagerContainerName = "manager"
	defaultConfigKey     = "eck.yaml"
)

// Label selectors of operator StatefulSets: the all-in-one manifests label
// them control-plane, the Helm chart app.kubernetes.io/name.
const (
	AllInOneSelector = "control-plane=elastic-operator"
	HelmSelector     = "app.kubernetes.io/name=elastic-operator"
)

// DefaultSelectors find the installs of both the manifests and the chart.
func DefaultSelectors() []string { return []string{AllInOneSelector, HelmSelector} }

// Operator is what the StatefulSet tells about one ECK operator install.
type Operator struct {
	StatefulSet *appsv1.StatefulSet
	// Version is nil when neither the image tag nor the version label holds one.
	Version        *version.Version
	Image          string
	ServiceAccount string
	// PodSelector is the StatefulSet's own selector, so Services match Helm
	// installs (which carry no control-plane label) too.
	PodSelector   map[string]string
	ConfigMapName string
	ConfigKey     string
	// HelmRelease is set when Helm manages the install.
	HelmRelease      string
	HelmChartVersion string
}

func (o *Operator) Namespace() string { return o.StatefulSet.Namespace }
func (o *Operator) Name() string      { return o.StatefulSet.Name }

// Manager returns the operator's own container.
func (o *Operator) Manager() *corev1.Container {
	return managerContainer(&o.StatefulSet.Spec.Template.Spec)
}

func managerContainer(spec *corev1.PodSpec) *corev1.Container {
	for i := range spec.Containers {
		if spec.Containers[i].Name == ManagerContainerName {
			return &spec.Containers[i]
		}
	}
	return nil
}

// Find locates the operator. name, when set, picks the StatefulSet; namespace
// limits the search ("" searches every namespace, then falls back to
// elastic-system/elastic-operator); selectors are the labels searched for.
func Find(ctx context.Context, client kubernetes.Interface, namespace, name string, selectors []string) (*Operator, error) {
	if name != "" {
		ns := namespace
		if ns == "" {
			ns = DefaultNamespace
		}
		sts, err := client.AppsV1().StatefulSets(ns).Get(ctx, name, metav1.GetOptions{})
		if apierrors.IsNotFound(err) {
			return nil, fmt.Errorf("StatefulSet %s/%s not found: check --name and -n", ns, name)
		}
		if err != nil {
			return nil, lookupFailed(fmt.Errorf("cannot read StatefulSet %s/%s: %w", ns, name, err))
		}
		return FromStatefulSet(sts)
	}

	found, err := List(ctx, client, namespace, selectors)
	if err != nil {
		return nil, err
	}
	switch len(found) {
	case 1:
		for _, sts := range found {
			return FromStatefulSet(sts)
		}
	case 0:
		if namespace != "" {
			if _, err := client.CoreV1().Namespaces().Get(ctx, namespace, metav1.GetOptions{}); apierrors.IsNotFound(err) {
				return nil, fmt.Errorf("namespace %q not found: pass -n with the operator's namespace (or leave -n out to search every namespace)", namespace)
			}
			return nil, fmt.Errorf("no ECK operator StatefulSet found in namespace %q (looked for %s): pass -n with the operator's namespace, or --name", namespace, strings.Join(selectors, " or "))
		}
		sts, err := client.AppsV1().StatefulSets(DefaultNamespace).Get(ctx, DefaultName, metav1.GetOptions{})
		if apierrors.IsNotFound(err) {
			return nil, fmt.Errorf("no ECK operator found in any namespace (looked for StatefulSets labelled %s, and %s/%s): pass -n and --name", strings.Join(selectors, " or "), DefaultNamespace, DefaultName)
		}
		if err != nil {
			return nil, lookupFailed(err)
		}
		return FromStatefulSet(sts)
	}
	names := make([]string, 0, len(found))
	for k := range found {
		names = append(names, k)
	}
	sort.Strings(names)
	return nil, &AmbiguousError{Operators: names}
}

// AmbiguousError says that Find found several operators and was told no
// --name: a question of usage (which one?), not a finding about either.
type AmbiguousError struct {
	// Operators are NAMESPACE/NAME, sorted.
	Operators []string
}

func (e *AmbiguousError) Error() string {
	return fmt.Sprintf("found %d ECK operators (%s): pick one with -n NAMESPACE and --name NAME", len(e.Operators), strings.Join(e.Operators, ", "))
}

// List finds the StatefulSets, labelled by one of selectors, that run the
// ECK operator, in namespace ("": in every namespace), keyed by
// NAMESPACE/NAME.
func List(ctx context.Context, client kubernetes.Interface, namespace string, selectors []string) (map[string]*appsv1.StatefulSet, error) {
	found := map[string]*appsv1.StatefulSet{}
	for _, selector := range selectors {
		list, err := client.AppsV1().StatefulSets(namespace).List(ctx, metav1.ListOptions{LabelSelector: selector})
		if err != nil {
			return nil, lookupFailed(err)
		}
		for i := range list.Items {
			sts := &list.Items[i]
			if runsOperator(sts) {
				found[sts.Namespace+"/"+sts.Name] = sts
			}
		}
	}
	return found, nil
}

// LookupError says that Find could not look at all: the API server is
// unreachable, refused the credentials, or forbids reading StatefulSets.
// It is no finding about the install: the commands say it in one line and
// exit with the code of "could not look", not that of a failed check.
type LookupError struct{ Err error }

func (e *LookupError) Error() string { return e.Err.Error() }
func (e *LookupError) Unwrap() error { return e.Err }

// lookupFailed marks the errors of Find's reads that mean it could not look.
func lookupFailed(err error) error {
	var urlErr *url.Error
	if errors.As(err, &urlErr) || apierrors.IsUnauthorized(err) || apierrors.IsForbidden(err) {
		return &LookupError{Err: err}
	}
	return err
}

// runsOperator tells whether the StatefulSet's pods run the eck-operator image.
func runsOperator(sts *appsv1.StatefulSet) bool {
	for _, c := range sts.Spec.Template.Spec.Containers {
		if strings.Contains(imageRepository(c.Image), "eck-operator") {
			return true
		}
	}
	return false
}

// FromStatefulSet reads an Operator from its StatefulSet.
func FromStatefulSet(sts *appsv1.StatefulSet) (*Operator, error) {
	ref := sts.Namespace + "/" + sts.Name
	spec := &sts.Spec.Template.Spec
	manager := managerContainer(spec)
	if manager == nil {
		return nil, fmt.Errorf("StatefulSet %s has no %q container: is it an ECK operator? pick another with --name", ref, ManagerContainerName)
	}
	o := &Operator{
		StatefulSet:    sts,
		Image:          manager.Image,
		ServiceAccount: spec.ServiceAccountName,
		ConfigKey:      defaultConfigKey,
	}
	if o.ServiceAccount == "" {
		o.ServiceAccount = "default"
	}
	if sts.Spec.Selector == nil || len(sts.Spec.Selector.MatchLabels) == 0 {
		return nil, fmt.Errorf("StatefulSet %s has no matchLabels selector, which a Service needs", ref)
	}
	o.PodSelector = sts.Spec.Selector.MatchLabels
	o.Version = versionOf(manager.Image, sts.Labels["app.kubernetes.io/version"])

	cm, key, err := configMapOf(spec, manager)
	if err != nil {
		return nil, fmt.Errorf("StatefulSet %s: %w", ref, err)
	}
	o.ConfigMapName, o.ConfigKey = cm, key

	if sts.Labels["app.kubernetes.io/managed-by"] == "Helm" {
		o.HelmRelease = sts.Annotations["meta.helm.sh/release-name"]
		if o.HelmRelease == "" {
			o.HelmRelease = sts.Labels["app.kubernetes.io/instance"]
		}
		if o.HelmRelease == "" {
			o.HelmRelease = sts.Name
		}
		o.HelmChartVersion = strings.TrimPrefix(sts.Labels["helm.sh/chart"], "eck-operator-")
	}
	return o, nil
}

var semverPrefix = regexp.MustCompile(`^v?(\d+\.\d+\.\d+)`)

// versionOf reads the version from the image tag (eck-operator:2.16.0,
// -ubi/-fips variants included), else from the version label.
func versionOf(image, label string) *version.Version {
	for _, candidate := range []string{imageTag(image), label} {
		if m := semverPrefix.FindStringSubmatch(candidate); m != nil {
			if v, err := version.ParseSemantic(m[1]); err == nil {
				return v
			}
		}
	}
	return nil
}

func imageRepository(image string) string {
	image, _, _ = strings.Cut(image, "@")
	if i := strings.LastIndex(image, ":"); i > strings.LastIndex(image, "/") {
		return image[:i]
	}
	return image
}

func imageTag(image string) string {
	image, _, _ = strings.Cut(image, "@")
	if i := strings.LastIndex(image, ":"); i > strings.LastIndex(image, "/") {
		return image[i+1:]
	}
	return ""
}

// configMapOf finds the ConfigMap volume that holds the file the manager
// reads with --config.
func configMapOf(spec *corev1.PodSpec, manager *corev1.Container) (string, string, error) {
	configPath := ""
	args := append(append([]string{}, manager.Command...), manager.Args...)
	for i, a := range args {
		if v, ok := strings.CutPrefix(a, "--config="); ok {
			configPath = v
		} else if a == "--config" && i+1 < len(args) {
			configPath = args[i+1]
		}
	}
	if configPath == "" {
		return "", "", fmt.Errorf("container %q has no --config argument, so the operator reads no eck.yaml to enable metrics in", manager.Name)
	}
	dir, file := path.Split(configPath)
	dir = path.Clean(dir)
	for _, m := range manager.VolumeMounts {
		if path.Clean(m.MountPath) != dir {
			continue
		}
		for _, v := range spec.Volumes {
			if v.Name != m.Name || v.ConfigMap == nil {
				continue
			}
			key := file
			for _, item := range v.ConfigMap.Items {
				if item.Path == file {
					key = item.Key
				}
			}
			return v.ConfigMap.Name, key, nil
		}
	}
	return "", "", fmt.Errorf("no ConfigMap volume is mounted at %s, where --config=%s points", dir, configPath)
}

// metricsFlags are the settings enable writes to eck.yaml.
var metricsFlags = []string{"metrics-port", "metrics-host", "metrics-secure", "metrics-cert-dir"}

// MetricsFlagsOnCommandLine lists the metrics settings the manager sets on
// its command line, where they override eck.yaml.
func (o *Operator) MetricsFlagsOnCommandLine() []string {
	m := o.Manager()
	var found []string
	for _, a := range append(append([]string{}, m.Command...), m.Args...) {
		for _, f := range metricsFlags {
			if a == "--"+f || strings.HasPrefix(a, "--"+f+"=") {
				found = append(found, a)
			}
		}
	}
	return found
}
