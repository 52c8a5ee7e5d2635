package main

import (
	"context"
	"errors"
	"fmt"
	"sync"

	ssautil "github.com/fluxcd/pkg/ssa/utils"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// helmCreate creates a chart's objects as helm-controller v1.6.3 installs a release: its
// Helm 4 (helm.sh/helm/v4 v4.2, pkg/kube Client.Create with server-side apply, the default
// of helm-controller's install action) sends each object as a server-side apply patch with
// force and strict field validation, as the release's field manager, with no dry run and no
// drift check; objects go in the order given (`helm template` prints them in Helm's install
// order), consecutive objects of one kind side by side, one kind after the other
// (batchPerform). CRDs are created the same way, one at a time (internal/action/crds.go).
func (s *session) helmCreate(ctx context.Context, objects []*unstructured.Unstructured, fieldManager string) ([]Change, error) {
	changes := []Change{}
	for start := 0; start < len(objects); {
		end := start + 1
		for end < len(objects) && objects[end].GetKind() == objects[start].GetKind() && objects[start].GetKind() != "CustomResourceDefinition" {
			end++
		}
		batch := objects[start:end]
		errs := make([]error, len(batch))
		var wg sync.WaitGroup
		for i, obj := range batch {
			wg.Add(1)
			go func() {
				defer wg.Done()
				err := s.kubeClient.Patch(ctx, obj, client.Apply, client.ForceOwnership, client.FieldOwner(fieldManager), client.FieldValidation("Strict"))
				if err != nil {
					errs[i] = fmt.Errorf("%s server-side apply failed: %w", ssautil.FmtUnstructured(obj), err)
				}
			}()
		}
		wg.Wait()
		for i, obj := range batch {
			if errs[i] == nil {
				changes = append(changes, Change{Subject: ssautil.FmtUnstructured(obj), Action: "applied"})
			}
		}
		if err := errors.Join(errs...); err != nil {
			return changes, err
		}
		start = end
	}
	return changes, nil
}
