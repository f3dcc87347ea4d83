package framework

import (
	"context"
	"testing"
	"time"

	authorizationv1 "k8s.io/api/authorization/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	"sigs.k8s.io/controller-runtime/pkg/envtest"
)

// UserWithRules makes a user who may do what rules allow, cluster-wide, and
// nothing else; it returns the user's kubeconfig once RBAC answers for the
// first rule (the authorizer sees a binding a moment after it is created).
func (c *Cluster) UserWithRules(t testing.TB, name string, rules ...rbacv1.PolicyRule) string {
	t.Helper()
	role := &rbacv1.ClusterRole{ObjectMeta: metav1.ObjectMeta{Name: name}, Rules: rules}
	binding := &rbacv1.ClusterRoleBinding{ObjectMeta: metav1.ObjectMeta{Name: name},
		RoleRef:  rbacv1.RoleRef{APIGroup: "rbac.authorization.k8s.io", Kind: "ClusterRole", Name: name},
		Subjects: []rbacv1.Subject{{Kind: "User", APIGroup: "rbac.authorization.k8s.io", Name: name}}}
	if _, err := c.Kube.RbacV1().ClusterRoles().Create(c.Context(t), role, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Kube.RbacV1().ClusterRoleBindings().Create(c.Context(t), binding, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = c.Kube.RbacV1().ClusterRoles().Delete(context.Background(), name, metav1.DeleteOptions{})
		_ = c.Kube.RbacV1().ClusterRoleBindings().Delete(context.Background(), name, metav1.DeleteOptions{})
	})
	first := rules[0]
	c.WaitAllowed(t, name, nil, &authorizationv1.ResourceAttributes{Group: first.APIGroups[0], Resource: first.Resources[0], Verb: first.Verbs[0]}, true)
	kc, err := c.WriteKubeconfig(t.TempDir(), envtest.User{Name: name})
	if err != nil {
		t.Fatal(err)
	}
	return kc
}

// WaitAllowed polls until RBAC answers as wanted for user (asked as a
// member of system:serviceaccounts) on a non-resource URL or a resource: it
// lags a change of a role or binding.
func (c *Cluster) WaitAllowed(t testing.TB, user string, nonRes *authorizationv1.NonResourceAttributes, res *authorizationv1.ResourceAttributes, want bool) {
	t.Helper()
	err := wait.PollUntilContextTimeout(c.Context(t), 100*time.Millisecond, 20*time.Second, true, func(ctx context.Context) (bool, error) {
		sar := &authorizationv1.SubjectAccessReview{Spec: authorizationv1.SubjectAccessReviewSpec{User: user, Groups: []string{"system:serviceaccounts"}, NonResourceAttributes: nonRes, ResourceAttributes: res}}
		out, err := c.Kube.AuthorizationV1().SubjectAccessReviews().Create(ctx, sar, metav1.CreateOptions{})
		return err == nil && out.Status.Allowed == want, nil
	})
	if err != nil {
		t.Fatalf("RBAC for %s never became allowed=%v", user, want)
	}
}
