package patches

import (
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	corev1ac "k8s.io/client-go/applyconfigurations/core/v1"
	rbacv1ac "k8s.io/client-go/applyconfigurations/rbac/v1"
)

// The objects of --scrape-auth secret: a ServiceAccount whose long-lived
// token the monitor names, allowed to get /metrics. They live in the
// monitor's namespace, so prometheus-operator may read the Secret and no
// file path is needed (arbitraryFSAccessThroughSMs.deny, OpenShift,
// Alloy).

// ReaderName names the reader ServiceAccount, its ClusterRole and binding.
func ReaderName(name string) string { return name + "-metrics-reader" }

// ReaderTokenSecretName names the reader's token Secret.
func ReaderTokenSecretName(name string) string { return ReaderName(name) + "-token" }

// ReaderServiceAccount is the identity Prometheus scrapes as.
func ReaderServiceAccount(p Params) *corev1ac.ServiceAccountApplyConfiguration {
	return corev1ac.ServiceAccount(ReaderName(p.Name), p.Namespace).WithLabels(ourLabels())
}

// ReaderTokenSecret asks the token controller for a long-lived token of
// the reader (it fills in data.token).
func ReaderTokenSecret(p Params) *corev1ac.SecretApplyConfiguration {
	return corev1ac.Secret(ReaderTokenSecretName(p.Name), p.Namespace).
		WithLabels(ourLabels()).
		WithAnnotations(map[string]string{corev1.ServiceAccountNameKey: ReaderName(p.Name)}).
		WithType(corev1.SecretTypeServiceAccountToken)
}

// ReaderClusterRole grants get on /metrics, all the endpoint authorizes.
func ReaderClusterRole(p Params) *rbacv1ac.ClusterRoleApplyConfiguration {
	return rbacv1ac.ClusterRole(ReaderName(p.Name)).
		WithLabels(ourLabels()).
		WithRules(rbacv1ac.PolicyRule().WithNonResourceURLs("/metrics").WithVerbs("get"))
}

// ReaderClusterRoleBinding binds the role to the reader, after the subjects
// it already binds (operators of the same name in other namespaces share
// its cluster-wide name).
func ReaderClusterRoleBinding(p Params, existing ...rbacv1.Subject) *rbacv1ac.ClusterRoleBindingApplyConfiguration {
	return bindingOf(ReaderName(p.Name), ReaderName(p.Name), p.Namespace, ReaderName(p.Name), existing)
}

// bindingOf binds role to ServiceAccount ns/sa after the existing subjects,
// which keep their order so a rerun changes nothing.
func bindingOf(binding, role, ns, sa string, existing []rbacv1.Subject) *rbacv1ac.ClusterRoleBindingApplyConfiguration {
	var subjects []*rbacv1ac.SubjectApplyConfiguration
	bound := false
	for _, s := range existing {
		bound = bound || s.Kind == "ServiceAccount" && s.Name == sa && s.Namespace == ns
		sub := rbacv1ac.Subject().WithKind(s.Kind).WithName(s.Name)
		if s.Namespace != "" {
			sub.WithNamespace(s.Namespace)
		}
		if s.APIGroup != "" {
			sub.WithAPIGroup(s.APIGroup)
		}
		subjects = append(subjects, sub)
	}
	if !bound && sa != "" {
		subjects = append(subjects, rbacv1ac.Subject().WithKind("ServiceAccount").WithName(sa).WithNamespace(ns))
	}
	return rbacv1ac.ClusterRoleBinding(binding).
		WithLabels(ourLabels()).
		WithRoleRef(rbacv1ac.RoleRef().WithAPIGroup("rbac.authorization.k8s.io").WithKind("ClusterRole").WithName(role)).
		WithSubjects(subjects...)
}
