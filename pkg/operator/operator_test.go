package operator

import (
	"fmt"
	"reflect"
	"sort"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/apimachinery/pkg/util/version"
)

const (
	image3_5_0 = "docker.elastic.co/eck/eck-operator:3.5.0"
	allInOneSA = "elastic-operator"
)

// allInOneStatefulSet is the StatefulSet of the all-in-one manifests, as the
// eck-operator chart renders it with global.manifestGen (control-plane labels).
func allInOneStatefulSet(image string) *appsv1.StatefulSet {
	selector := map[string]string{"control-plane": "elastic-operator"}
	return &appsv1.StatefulSet{
		ObjectMeta: metav1.ObjectMeta{
			Name:      "elastic-operator",
			Namespace: "elastic-system",
			Labels: map[string]string{
				"control-plane":             "elastic-operator",
				"app.kubernetes.io/version": "3.5.0",
			},
		},
		Spec: appsv1.StatefulSetSpec{
			Selector:    &metav1.LabelSelector{MatchLabels: selector},
			ServiceName: "elastic-operator",
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"control-plane": "elastic-operator"}},
				Spec: corev1.PodSpec{
					ServiceAccountName: allInOneSA,
					Containers: []corev1.Container{{
						Name:  "manager",
						Image: image,
						Args:  []string{"manager", "--config=/conf/eck.yaml"},
						Ports: []corev1.ContainerPort{{Name: "https-webhook", ContainerPort: 9443, Protocol: corev1.ProtocolTCP}},
						VolumeMounts: []corev1.VolumeMount{
							{Name: "conf", MountPath: "/conf", ReadOnly: true},
							{Name: "cert", MountPath: "/tmp/k8s-webhook-server/serving-certs", ReadOnly: true},
						},
					}},
					Volumes: []corev1.Volume{
						{Name: "conf", VolumeSource: corev1.VolumeSource{ConfigMap: &corev1.ConfigMapVolumeSource{
							LocalObjectReference: corev1.LocalObjectReference{Name: "elastic-operator"},
						}}},
						{Name: "cert", VolumeSource: corev1.VolumeSource{Secret: &corev1.SecretVolumeSource{
							SecretName: "elastic-webhook-server-cert",
						}}},
					},
				},
			},
		},
	}
}

// helmStatefulSet is the chart's StatefulSet for `helm install elastic-operator
// elastic/eck-operator -n elastic-system`: fullname elastic-operator, selector
// labels app.kubernetes.io/name+instance, no control-plane label.
func helmStatefulSet() *appsv1.StatefulSet {
	sts := allInOneStatefulSet(image3_5_0)
	selector := map[string]string{
		"app.kubernetes.io/name":     "elastic-operator",
		"app.kubernetes.io/instance": "elastic-operator",
	}
	labels := map[string]string{
		"app.kubernetes.io/version":    "3.5.0",
		"helm.sh/chart":                "eck-operator-3.5.0",
		"app.kubernetes.io/managed-by": "Helm",
	}
	for k, v := range selector {
		labels[k] = v
	}
	sts.Labels = labels
	sts.Annotations = map[string]string{
		"meta.helm.sh/release-name":      "elastic-operator",
		"meta.helm.sh/release-namespace": "elastic-system",
	}
	sts.Spec.Selector = &metav1.LabelSelector{MatchLabels: selector}
	sts.Spec.Template.Labels = labels
	sts.Spec.Template.Spec.Volumes[1].Secret.SecretName = "elastic-operator-webhook-cert"
	return sts
}

func TestFromStatefulSetAllInOne(t *testing.T) {
	sts := allInOneStatefulSet(image3_5_0)
	o, err := FromStatefulSet(sts)
	if err != nil {
		t.Fatal(err)
	}
	if o.StatefulSet != sts || o.Namespace() != "elastic-system" || o.Name() != "elastic-operator" {
		t.Errorf("StatefulSet/Namespace/Name = %p %q %q", o.StatefulSet, o.Namespace(), o.Name())
	}
	if o.Version == nil || o.Version.String() != "3.5.0" {
		t.Errorf("Version = %v, want 3.5.0", o.Version)
	}
	if o.Image != image3_5_0 {
		t.Errorf("Image = %q", o.Image)
	}
	if o.ServiceAccount != "elastic-operator" {
		t.Errorf("ServiceAccount = %q", o.ServiceAccount)
	}
	if want := map[string]string{"control-plane": "elastic-operator"}; !reflect.DeepEqual(o.PodSelector, want) {
		t.Errorf("PodSelector = %v, want %v", o.PodSelector, want)
	}
	if o.ConfigMapName != "elastic-operator" || o.ConfigKey != "eck.yaml" {
		t.Errorf("ConfigMap = %q key %q, want elastic-operator eck.yaml", o.ConfigMapName, o.ConfigKey)
	}
	if o.HelmRelease != "" || o.HelmChartVersion != "" {
		t.Errorf("all-in-one install read as Helm: release %q chart %q", o.HelmRelease, o.HelmChartVersion)
	}
	if m := o.Manager(); m == nil || m.Name != "manager" || m != &sts.Spec.Template.Spec.Containers[0] {
		t.Errorf("Manager() = %v, want the StatefulSet's own manager container", m)
	}
}

func TestFromStatefulSetHelm(t *testing.T) {
	o, err := FromStatefulSet(helmStatefulSet())
	if err != nil {
		t.Fatal(err)
	}
	if o.HelmRelease != "elastic-operator" {
		t.Errorf("HelmRelease = %q", o.HelmRelease)
	}
	if o.HelmChartVersion != "3.5.0" {
		t.Errorf("HelmChartVersion = %q, want 3.5.0 (helm.sh/chart without the chart name)", o.HelmChartVersion)
	}
	want := map[string]string{"app.kubernetes.io/name": "elastic-operator", "app.kubernetes.io/instance": "elastic-operator"}
	if !reflect.DeepEqual(o.PodSelector, want) {
		t.Errorf("PodSelector = %v, want the chart's selector labels %v", o.PodSelector, want)
	}
	if _, ok := o.PodSelector["control-plane"]; ok {
		t.Errorf("PodSelector holds control-plane, which Helm pods do not carry")
	}
	if o.ConfigMapName != "elastic-operator" || o.ConfigKey != "eck.yaml" {
		t.Errorf("ConfigMap = %q key %q", o.ConfigMapName, o.ConfigKey)
	}

	// The release name comes from the annotation first, then the instance
	// label, then the StatefulSet's name.
	sts := helmStatefulSet()
	sts.Annotations["meta.helm.sh/release-name"] = "my-release"
	sts.Labels["app.kubernetes.io/instance"] = "instance-label"
	if o, err := FromStatefulSet(sts); err != nil || o.HelmRelease != "my-release" {
		t.Errorf("release from annotation: %v %v", o, err)
	}
	delete(sts.Annotations, "meta.helm.sh/release-name")
	if o, err := FromStatefulSet(sts); err != nil || o.HelmRelease != "instance-label" {
		t.Errorf("release from instance label: %+v %v", o, err)
	}
	delete(sts.Labels, "app.kubernetes.io/instance")
	if o, err := FromStatefulSet(sts); err != nil || o.HelmRelease != "elastic-operator" {
		t.Errorf("release from the StatefulSet name: %+v %v", o, err)
	}
	// managed-by something else is not Helm.
	sts = helmStatefulSet()
	sts.Labels["app.kubernetes.io/managed-by"] = "argocd"
	if o, err := FromStatefulSet(sts); err != nil || o.HelmRelease != "" || o.HelmChartVersion != "" {
		t.Errorf("managed-by argocd read as Helm: %+v %v", o, err)
	}
}

func TestFromStatefulSetVersion(t *testing.T) {
	tests := []struct {
		name  string
		image string
		label *string // nil: the all-in-one label 3.5.0 is removed
		want  string  // "" means nil
	}{
		{"2.15.0", "docker.elastic.co/eck/eck-operator:2.15.0", nil, "2.15.0"},
		{"2.16.1", "docker.elastic.co/eck/eck-operator:2.16.1", nil, "2.16.1"},
		{"3.5.0", "docker.elastic.co/eck/eck-operator:3.5.0", nil, "3.5.0"},
		{"ubi image", "docker.elastic.co/eck/eck-operator-ubi:3.1.0", nil, "3.1.0"},
		{"fips image", "docker.elastic.co/eck/eck-operator-fips:2.16.0", nil, "2.16.0"},
		{"ubi-fips image", "docker.elastic.co/eck/eck-operator-ubi-fips:2.16.0", nil, "2.16.0"},
		{"-fips tag suffix", "docker.elastic.co/eck/eck-operator:2.16.0-fips", nil, "2.16.0"},
		{"-ubi tag suffix", "docker.elastic.co/eck/eck-operator:2.16.1-ubi", nil, "2.16.1"},
		{"v prefix", "docker.elastic.co/eck/eck-operator:v2.13.0", nil, "2.13.0"},
		{"no registry", "eck-operator:2.14.0", nil, "2.14.0"},
		{"registry with port", "registry.local:5000/eck/eck-operator:2.12.1", nil, "2.12.1"},
		{"tag and digest", "docker.elastic.co/eck/eck-operator:2.15.0@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef", nil, "2.15.0"},
		{"digest only, version label", "docker.elastic.co/eck/eck-operator@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef", ptr("3.5.0"), "3.5.0"},
		{"latest tag, version label", "docker.elastic.co/eck/eck-operator:latest", ptr("2.16.1"), "2.16.1"},
		{"tag wins over label", "docker.elastic.co/eck/eck-operator:3.5.0", ptr("3.4.0"), "3.5.0"},
		{"digest only, no label", "docker.elastic.co/eck/eck-operator@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef", nil, ""},
		{"registry port, no tag, no label", "registry.local:5000/eck/eck-operator", nil, ""},
		{"latest, no label", "docker.elastic.co/eck/eck-operator:latest", nil, ""},
		{"garbage label", "docker.elastic.co/eck/eck-operator:latest", ptr("main"), ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sts := allInOneStatefulSet(tt.image)
			delete(sts.Labels, "app.kubernetes.io/version")
			if tt.label != nil {
				sts.Labels["app.kubernetes.io/version"] = *tt.label
			}
			o, err := FromStatefulSet(sts)
			if err != nil {
				t.Fatal(err)
			}
			if tt.want == "" {
				if o.Version != nil {
					t.Errorf("Version = %v, want nil", o.Version)
				}
				return
			}
			if o.Version == nil || o.Version.String() != tt.want {
				t.Errorf("Version = %v, want %s", o.Version, tt.want)
			}
		})
	}
}

func ptr(s string) *string { return &s }

func TestFromStatefulSetServiceAccount(t *testing.T) {
	for sa, want := range map[string]string{"": "default", "elastic-operator": "elastic-operator", "custom-sa": "custom-sa"} {
		sts := allInOneStatefulSet(image3_5_0)
		sts.Spec.Template.Spec.ServiceAccountName = sa
		o, err := FromStatefulSet(sts)
		if err != nil {
			t.Fatal(err)
		}
		if o.ServiceAccount != want {
			t.Errorf("serviceAccountName %q: ServiceAccount = %q, want %q", sa, o.ServiceAccount, want)
		}
	}
}

func TestFromStatefulSetConfigMap(t *testing.T) {
	tests := []struct {
		name    string
		edit    func(sts *appsv1.StatefulSet)
		wantCM  string
		wantKey string
	}{
		{
			name:    "all-in-one --config=/conf/eck.yaml",
			edit:    func(*appsv1.StatefulSet) {},
			wantCM:  "elastic-operator",
			wantKey: "eck.yaml",
		},
		{
			name: "--config /etc/eck/operator.yaml, another volume name, items mapping",
			edit: func(sts *appsv1.StatefulSet) {
				spec := &sts.Spec.Template.Spec
				spec.Containers[0].Args = []string{"manager", "--log-verbosity=1", "--config", "/etc/eck/operator.yaml"}
				spec.Containers[0].VolumeMounts = []corev1.VolumeMount{
					{Name: "cert", MountPath: "/tmp/k8s-webhook-server/serving-certs"},
					{Name: "operator-settings", MountPath: "/etc/eck/"},
				}
				spec.Volumes = append([]corev1.Volume{
					// a ConfigMap volume with the same name pattern, mounted elsewhere
					{Name: "other", VolumeSource: corev1.VolumeSource{ConfigMap: &corev1.ConfigMapVolumeSource{
						LocalObjectReference: corev1.LocalObjectReference{Name: "not-this-one"},
					}}},
				}, corev1.Volume{Name: "operator-settings", VolumeSource: corev1.VolumeSource{ConfigMap: &corev1.ConfigMapVolumeSource{
					LocalObjectReference: corev1.LocalObjectReference{Name: "eck-settings"},
					Items: []corev1.KeyToPath{
						{Key: "README", Path: "README.md"},
						{Key: "eck.yaml", Path: "operator.yaml"},
					},
				}}})
			},
			wantCM:  "eck-settings",
			wantKey: "eck.yaml",
		},
		{
			name: "--config in command, not args",
			edit: func(sts *appsv1.StatefulSet) {
				c := &sts.Spec.Template.Spec.Containers[0]
				c.Command = []string{"/elastic-operator", "manager", "--config=/conf/eck.yaml"}
				c.Args = nil
			},
			wantCM:  "elastic-operator",
			wantKey: "eck.yaml",
		},
		{
			name: "other file name without items is its own key",
			edit: func(sts *appsv1.StatefulSet) {
				sts.Spec.Template.Spec.Containers[0].Args = []string{"manager", "--config=/conf/operator.yml"}
			},
			wantCM:  "elastic-operator",
			wantKey: "operator.yml",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sts := allInOneStatefulSet(image3_5_0)
			tt.edit(sts)
			o, err := FromStatefulSet(sts)
			if err != nil {
				t.Fatal(err)
			}
			if o.ConfigMapName != tt.wantCM || o.ConfigKey != tt.wantKey {
				t.Errorf("ConfigMap %q key %q, want %q key %q", o.ConfigMapName, o.ConfigKey, tt.wantCM, tt.wantKey)
			}
		})
	}
}

func TestFromStatefulSetErrors(t *testing.T) {
	tests := []struct {
		name    string
		edit    func(sts *appsv1.StatefulSet)
		errPart []string
	}{
		{
			name:    "no manager container",
			edit:    func(sts *appsv1.StatefulSet) { sts.Spec.Template.Spec.Containers[0].Name = "operator" },
			errPart: []string{"elastic-system/elastic-operator", `"manager"`, "--name"},
		},
		{
			name: "no --config argument",
			edit: func(sts *appsv1.StatefulSet) {
				sts.Spec.Template.Spec.Containers[0].Args = []string{"manager", "--log-verbosity=0"}
			},
			errPart: []string{"elastic-system/elastic-operator", "no --config"},
		},
		{
			name: "--config without a value",
			edit: func(sts *appsv1.StatefulSet) {
				sts.Spec.Template.Spec.Containers[0].Args = []string{"manager", "--config"}
			},
			errPart: []string{"no --config"},
		},
		{
			name: "nothing mounted at the --config directory",
			edit: func(sts *appsv1.StatefulSet) {
				sts.Spec.Template.Spec.Containers[0].Args = []string{"manager", "--config=/etc/eck/eck.yaml"}
			},
			errPart: []string{"no ConfigMap volume is mounted at /etc/eck", "--config=/etc/eck/eck.yaml"},
		},
		{
			name: "a secret, not a ConfigMap, at the --config directory",
			edit: func(sts *appsv1.StatefulSet) {
				sts.Spec.Template.Spec.Volumes[0] = corev1.Volume{Name: "conf", VolumeSource: corev1.VolumeSource{Secret: &corev1.SecretVolumeSource{SecretName: "eck-config"}}}
			},
			errPart: []string{"no ConfigMap volume is mounted at /conf"},
		},
		{
			name: "the mount's volume is missing",
			edit: func(sts *appsv1.StatefulSet) {
				sts.Spec.Template.Spec.Volumes = sts.Spec.Template.Spec.Volumes[1:]
			},
			errPart: []string{"no ConfigMap volume is mounted at /conf"},
		},
		{
			name:    "nil selector",
			edit:    func(sts *appsv1.StatefulSet) { sts.Spec.Selector = nil },
			errPart: []string{"elastic-system/elastic-operator", "matchLabels"},
		},
		{
			name: "selector with only matchExpressions",
			edit: func(sts *appsv1.StatefulSet) {
				sts.Spec.Selector = &metav1.LabelSelector{MatchExpressions: []metav1.LabelSelectorRequirement{
					{Key: "control-plane", Operator: metav1.LabelSelectorOpIn, Values: []string{"elastic-operator"}},
				}}
			},
			errPart: []string{"matchLabels"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sts := allInOneStatefulSet(image3_5_0)
			tt.edit(sts)
			o, err := FromStatefulSet(sts)
			if err == nil {
				t.Fatalf("no error; got %+v", o)
			}
			for _, part := range tt.errPart {
				if !strings.Contains(err.Error(), part) {
					t.Errorf("error %q does not say %q", err, part)
				}
			}
		})
	}
}

func TestRunsOperator(t *testing.T) {
	for image, want := range map[string]bool{
		"docker.elastic.co/eck/eck-operator:3.5.0":            true,
		"docker.elastic.co/eck/eck-operator-ubi-fips:2.16.0":  true,
		"registry.local:5000/mirror/eck-operator@sha256:abcd": true,
		"quay.io/brancz/kube-rbac-proxy:v0.19.1":              false,
		// the tag must not count: only the repository tells the image
		"registry.local:5000/busybox:eck-operator": false,
	} {
		sts := allInOneStatefulSet(image)
		if got := runsOperator(sts); got != want {
			t.Errorf("runsOperator(%q) = %v, want %v", image, got, want)
		}
	}
}

func mustVersion(t *testing.T, s string) *version.Version {
	t.Helper()
	v, err := version.ParseSemantic(s)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func TestChooseMode(t *testing.T) {
	tests := []struct {
		version  string // "" means nil
		override Mode
		want     Mode
		errPart  string
	}{
		{"2.11.0", "", "", "not supported"},
		{"2.11.9", ModeSidecar, "", "not supported"},
		{"2.11.0", ModeNative, "", "not supported"},
		{"1.9.0", "", "", "2.12"},
		{"2.12.0", "", ModeSidecar, ""},
		{"2.13.2", "", ModeSidecar, ""},
		{"2.14.0", "", ModeSidecar, ""},
		{"2.15.0", "", ModeSidecar, ""},
		{"2.15.9", "", ModeSidecar, ""},
		{"2.16.0", "", ModeNative, ""},
		{"2.16.1", "", ModeNative, ""},
		{"3.0.0", "", ModeNative, ""},
		{"3.5.0", "", ModeNative, ""},
		{"3.6.0", "", ModeNative, ""},
		{"2.15.0", ModeNative, "", "--mode native needs ECK 2.16"},
		{"2.12.0", ModeNative, "", "use --mode sidecar"},
		{"2.15.0", ModeSidecar, ModeSidecar, ""},
		{"2.16.0", ModeSidecar, ModeSidecar, ""},
		{"3.5.0", ModeSidecar, ModeSidecar, ""},
		{"2.16.0", ModeNative, ModeNative, ""},
		{"3.5.0", ModeNative, ModeNative, ""},
		{"", "", "", "cannot tell the ECK version"},
		{"", ModeNative, ModeNative, ""},
		{"", ModeSidecar, ModeSidecar, ""},
	}
	for _, tt := range tests {
		name := tt.version + "/" + string(tt.override)
		t.Run(name, func(t *testing.T) {
			var v *version.Version
			if tt.version != "" {
				v = mustVersion(t, tt.version)
			}
			got, err := ChooseMode(v, tt.override)
			if tt.errPart != "" {
				if err == nil || !strings.Contains(err.Error(), tt.errPart) {
					t.Fatalf("ChooseMode = %q, %v; want an error saying %q", got, err, tt.errPart)
				}
				if got != "" {
					t.Errorf("mode %q returned with the error", got)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Errorf("ChooseMode = %q, %v; want %q", got, err, tt.want)
			}
		})
	}
}

func TestParseMode(t *testing.T) {
	for in, want := range map[string]Mode{"": "", "native": ModeNative, "sidecar": ModeSidecar} {
		if got, err := ParseMode(in); err != nil || got != want {
			t.Errorf("ParseMode(%q) = %q, %v", in, got, err)
		}
	}
	for _, in := range []string{"Native", "SIDECAR", "proxy", "auto", " native"} {
		got, err := ParseMode(in)
		if err == nil || got != "" {
			t.Errorf("ParseMode(%q) = %q, %v; want an error", in, got, err)
			continue
		}
		if !strings.Contains(err.Error(), "native or sidecar") {
			t.Errorf("ParseMode(%q) error %q does not list the modes", in, err)
		}
	}
}

func TestHealthProbeDefault8081(t *testing.T) {
	for v, want := range map[string]bool{"": false, "2.16.0": false, "3.5.0": false, "3.5.9": false, "3.6.0": true, "3.7.1": true, "4.0.0": true} {
		var ver *version.Version
		if v != "" {
			ver = mustVersion(t, v)
		}
		if got := HealthProbeDefault8081(ver); got != want {
			t.Errorf("HealthProbeDefault8081(%q) = %v, want %v", v, got, want)
		}
	}
}

// fakeConfig is an eck.yaml reduced to its scalar settings.
type fakeConfig map[string]string

func (c fakeConfig) Get(key string) (string, bool) {
	v, ok := c[key]
	return v, ok
}

func ports(used map[int32]string) []int32 {
	var out []int32
	for p := range used {
		out = append(out, p)
	}
	sort.Slice(out, func(i, j int) bool { return out[i] < out[j] })
	return out
}

func TestPortsInUse(t *testing.T) {
	sidecar := corev1.Container{
		Name:  "kube-rbac-proxy",
		Image: "quay.io/brancz/kube-rbac-proxy:v0.19.1",
		Ports: []corev1.ContainerPort{{Name: "metrics", ContainerPort: 8080}},
	}
	tests := []struct {
		name             string
		version          string
		edit             func(spec *corev1.PodSpec)
		cfg              fakeConfig
		metricsContainer string
		want             []int32
		wantWhat         map[int32]string // substrings of the descriptions
	}{
		{
			name:             "all-in-one 3.5.0, webhook enabled",
			version:          "3.5.0",
			cfg:              fakeConfig{"enable-webhook": "true", "webhook-port": "9443"},
			metricsContainer: "manager",
			want:             []int32{9443},
			wantWhat:         map[int32]string{9443: "webhook"},
		},
		{
			name:    "webhook disabled, no container ports",
			version: "3.5.0",
			edit: func(spec *corev1.PodSpec) {
				spec.Containers[0].Ports = nil
			},
			cfg:              fakeConfig{"enable-webhook": "false", "webhook-port": "9443"},
			metricsContainer: "manager",
			want:             nil,
		},
		{
			name:    "webhook enabled without webhook-port: default 9443",
			version: "3.5.0",
			edit: func(spec *corev1.PodSpec) {
				spec.Containers[0].Ports = nil
			},
			cfg:              fakeConfig{"enable-webhook": "true"},
			metricsContainer: "manager",
			want:             []int32{9443},
			wantWhat:         map[int32]string{9443: "webhook"},
		},
		{
			name:    "custom webhook-port",
			version: "3.5.0",
			edit: func(spec *corev1.PodSpec) {
				spec.Containers[0].Ports = nil
			},
			cfg:              fakeConfig{"enable-webhook": "true", "webhook-port": "9876"},
			metricsContainer: "manager",
			want:             []int32{9876},
			wantWhat:         map[int32]string{9876: "webhook"},
		},
		{
			name:    "no enable-webhook key at all",
			version: "3.5.0",
			edit: func(spec *corev1.PodSpec) {
				spec.Containers[0].Ports = nil
			},
			cfg:              fakeConfig{},
			metricsContainer: "manager",
			want:             nil,
		},
		{
			name:    "native: the manager's metrics port is excluded, the others of every container are listed",
			version: "3.5.0",
			edit: func(spec *corev1.PodSpec) {
				spec.Containers[0].Ports = append(spec.Containers[0].Ports, corev1.ContainerPort{Name: "metrics", ContainerPort: 8081})
				spec.Containers = append(spec.Containers, sidecar, corev1.Container{
					Name:  "log-shipper",
					Ports: []corev1.ContainerPort{{Name: "http", ContainerPort: 2020}},
				})
			},
			cfg:              fakeConfig{"enable-webhook": "false"},
			metricsContainer: "manager",
			want:             []int32{2020, 8080, 9443},
			wantWhat:         map[int32]string{2020: "log-shipper", 8080: "kube-rbac-proxy", 9443: "https-webhook"},
		},
		{
			name:    "sidecar: the proxy's metrics port is excluded, a manager port named metrics is not",
			version: "2.15.0",
			edit: func(spec *corev1.PodSpec) {
				spec.Containers[0].Ports = append(spec.Containers[0].Ports, corev1.ContainerPort{Name: "metrics", ContainerPort: 8081})
				spec.Containers = append(spec.Containers, sidecar)
			},
			cfg:              fakeConfig{"enable-webhook": "false"},
			metricsContainer: "kube-rbac-proxy",
			want:             []int32{8081, 9443},
			wantWhat:         map[int32]string{8081: "manager"},
		},
		{
			name:    "numeric probe ports count, named ones are container ports already",
			version: "3.5.0",
			edit: func(spec *corev1.PodSpec) {
				c := &spec.Containers[0]
				c.Ports = []corev1.ContainerPort{{Name: "health", ContainerPort: 8090}}
				c.LivenessProbe = &corev1.Probe{ProbeHandler: corev1.ProbeHandler{HTTPGet: &corev1.HTTPGetAction{Path: "/healthz", Port: intstr.FromInt32(8082)}}}
				c.ReadinessProbe = &corev1.Probe{ProbeHandler: corev1.ProbeHandler{HTTPGet: &corev1.HTTPGetAction{Path: "/readyz", Port: intstr.FromString("health")}}}
				c.StartupProbe = &corev1.Probe{ProbeHandler: corev1.ProbeHandler{TCPSocket: &corev1.TCPSocketAction{Port: intstr.FromInt32(8083)}}}
				spec.Containers = append(spec.Containers, corev1.Container{
					Name:          "grpc-thing",
					LivenessProbe: &corev1.Probe{ProbeHandler: corev1.ProbeHandler{GRPC: &corev1.GRPCAction{Port: 8084}}},
					// exec probes have no port
					ReadinessProbe: &corev1.Probe{ProbeHandler: corev1.ProbeHandler{Exec: &corev1.ExecAction{Command: []string{"true"}}}},
				})
			},
			cfg:              fakeConfig{"enable-webhook": "false"},
			metricsContainer: "manager",
			want:             []int32{8082, 8083, 8084, 8090},
			wantWhat:         map[int32]string{8082: "health-probe", 8083: "health-probe", 8084: "grpc-thing", 8090: `"health"`},
		},
		{
			name:    "probe on a container port keeps the container port description",
			version: "3.5.0",
			edit: func(spec *corev1.PodSpec) {
				c := &spec.Containers[0]
				c.Ports = []corev1.ContainerPort{{Name: "health", ContainerPort: 8090}}
				c.LivenessProbe = &corev1.Probe{ProbeHandler: corev1.ProbeHandler{HTTPGet: &corev1.HTTPGetAction{Port: intstr.FromInt32(8090)}}}
			},
			cfg:              fakeConfig{},
			metricsContainer: "manager",
			want:             []int32{8090},
			wantWhat:         map[int32]string{8090: "container port"},
		},
		{
			name:    "ECK 3.6.0 adds the :8081 health probes",
			version: "3.6.0",
			edit: func(spec *corev1.PodSpec) {
				spec.Containers[0].Ports = nil
			},
			cfg:              fakeConfig{"enable-webhook": "false"},
			metricsContainer: "manager",
			want:             []int32{8081},
			wantWhat:         map[int32]string{8081: "3.6.0"},
		},
		{
			name:    "ECK 3.6.0 with a metrics port 8081 on the manager still reports the probe collision",
			version: "3.6.0",
			edit: func(spec *corev1.PodSpec) {
				spec.Containers[0].Ports = append(spec.Containers[0].Ports, corev1.ContainerPort{Name: "metrics", ContainerPort: 8081})
			},
			cfg:              fakeConfig{"enable-webhook": "true"},
			metricsContainer: "manager",
			want:             []int32{8081, 9443},
			wantWhat:         map[int32]string{8081: "health-probe"},
		},
		{
			name:    "ECK 3.5.0 does not add 8081",
			version: "3.5.0",
			edit: func(spec *corev1.PodSpec) {
				spec.Containers[0].Ports = nil
			},
			cfg:              fakeConfig{"enable-webhook": "false"},
			metricsContainer: "manager",
			want:             nil,
		},
		{
			name:    "unknown version does not add 8081",
			version: "",
			edit: func(spec *corev1.PodSpec) {
				spec.Containers[0].Ports = nil
			},
			cfg:              fakeConfig{},
			metricsContainer: "manager",
			want:             nil,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sts := allInOneStatefulSet(image3_5_0)
			if tt.edit != nil {
				tt.edit(&sts.Spec.Template.Spec)
			}
			o := &Operator{StatefulSet: sts}
			if tt.version != "" {
				o.Version = mustVersion(t, tt.version)
			}
			used := o.PortsInUse(tt.cfg, tt.metricsContainer, "metrics")
			if got := ports(used); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("ports %v, want %v (%v)", got, tt.want, used)
			}
			for p, what := range tt.wantWhat {
				if !strings.Contains(used[p], what) {
					t.Errorf("port %d: %q does not say %q", p, used[p], what)
				}
			}
		})
	}
}

func TestMetricsFlagsOnCommandLine(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"manager", "--config=/conf/eck.yaml"}, ""},
		{[]string{"manager", "--config=/conf/eck.yaml", "--metrics-port=9090", "--metrics-host", "0.0.0.0"}, "--metrics-port=9090 --metrics-host"},
		{[]string{"manager", "--config=/conf/eck.yaml", "--metrics-secure=true", "--metrics-cert-dir=/x", "--metrics-portal=1"}, "--metrics-secure=true --metrics-cert-dir=/x"},
	} {
		sts := &appsv1.StatefulSet{
			ObjectMeta: metav1.ObjectMeta{Name: "elastic-operator", Namespace: "elastic-system"},
			Spec: appsv1.StatefulSetSpec{
				Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"control-plane": "elastic-operator"}},
				Template: corev1.PodTemplateSpec{Spec: corev1.PodSpec{
					Containers: []corev1.Container{{Name: "manager", Image: "docker.elastic.co/eck/eck-operator:3.5.0", Args: tc.args,
						VolumeMounts: []corev1.VolumeMount{{Name: "conf", MountPath: "/conf"}}}},
					Volumes: []corev1.Volume{{Name: "conf", VolumeSource: corev1.VolumeSource{ConfigMap: &corev1.ConfigMapVolumeSource{LocalObjectReference: corev1.LocalObjectReference{Name: "elastic-operator"}}}}},
				}},
			},
		}
		op, err := FromStatefulSet(sts)
		if err != nil {
			t.Fatal(err)
		}
		if got := strings.Join(op.MetricsFlagsOnCommandLine(), " "); got != tc.want {
			t.Errorf("args %v: %q, want %q", tc.args, got, tc.want)
		}
	}
}

func TestParseVersion(t *testing.T) {
	for _, tt := range []struct{ in, want string }{
		{"3.5", "3.5.0"},
		{"3.5.0", "3.5.0"},
		{"v3.5.0", "3.5.0"},
		{"v2.16", "2.16.0"},
		{" 3.6.1 ", "3.6.1"},
	} {
		v, err := ParseVersion(tt.in)
		if err != nil {
			t.Errorf("ParseVersion(%q) = %v", tt.in, err)
			continue
		}
		if v.String() != tt.want {
			t.Errorf("ParseVersion(%q) = %s, want %s", tt.in, v, tt.want)
		}
		// The version must survive the round trip through an image tag.
		if got := versionOf("docker.elastic.co/eck/eck-operator:"+v.String(), ""); got == nil || got.String() != tt.want {
			t.Errorf("image tag of ParseVersion(%q) reads back as %v", tt.in, got)
		}
	}
	for _, in := range []string{"", "3", "3.x", "latest", "3.5.0-rc1", "v", "3.5.0.1"} {
		_, err := ParseVersion(in)
		if err == nil {
			t.Errorf("ParseVersion(%q) = nil error", in)
			continue
		}
		want := fmt.Sprintf("%q is not an ECK version: use MAJOR.MINOR[.PATCH], e.g. 3.5 or 3.5.0", in)
		if err.Error() != want {
			t.Errorf("ParseVersion(%q) = %q, want %q", in, err, want)
		}
	}
}
