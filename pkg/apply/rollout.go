package apply

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/eck-metrics/kubectl-eck-metrics/pkg/kube"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/kubernetes"
)

// WaitForRollout polls the StatefulSet until its rollout finishes or the
// timeout passes, printing each change of progress: on one line rewritten in
// place when inline (a terminal), one line per change otherwise.
func WaitForRollout(ctx context.Context, client kubernetes.Interface, namespace, name string, interval, timeout time.Duration, progress io.Writer, inline bool) error {
	last := ""
	if inline {
		defer fmt.Fprintln(progress)
	}
	err := wait.PollUntilContextTimeout(ctx, interval, timeout, true, func(ctx context.Context) (bool, error) {
		sts, err := client.AppsV1().StatefulSets(namespace).Get(ctx, name, metav1.GetOptions{})
		switch {
		case apierrors.IsNotFound(err) || apierrors.IsForbidden(err):
			return false, kube.ReadError("StatefulSet "+namespace+"/"+name, err)
		case err != nil:
			// A passing fault (or the deadline nearing) is not the end of
			// the rollout: keep polling until the timeout says so.
			return false, nil
		}
		done, msg := kube.RolloutStatus(sts)
		if msg != last {
			if inline {
				fmt.Fprintf(progress, "\r\x1b[Krollout of StatefulSet %s/%s: %s", namespace, name, msg)
			} else {
				fmt.Fprintf(progress, "rollout of StatefulSet %s/%s: %s\n", namespace, name, msg)
			}
			last = msg
		}
		return done, nil
	})
	if wait.Interrupted(err) {
		return fmt.Errorf("StatefulSet %s/%s did not finish rolling out within %s (%s): check 'kubectl -n %s get pods' and 'kubectl -n %s describe statefulset %s'", namespace, name, timeout, last, namespace, namespace, name)
	}
	return err
}
