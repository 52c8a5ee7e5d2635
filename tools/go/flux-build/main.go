// flux-build builds Flux Kustomizations offline with the code kustomize-controller runs.
//
// It exists so that `aiops flux check` does not reimplement Flux: the kustomization.yaml
// generation (spec.patches, spec.images, spec.targetNamespace, spec.namePrefix, ...), the
// kustomize build and the postBuild variable substitution all come from
// github.com/fluxcd/pkg/kustomize, pinned at the version that kustomize-controller v1.9.4
// (Flux v2.9.4) uses, and the Kustomization is decoded into kustomize-controller's own API
// types. Only the glue that the controller keeps in its internal packages is repeated here,
// each piece with a pointer to the code it follows.
//
// Two commands:
//
//	flux-build artifact [--ignore TEXT] CHECKOUT ARTIFACT
//	    copy into ARTIFACT what source-controller would put into the artifact of a
//	    GitRepository checked out at CHECKOUT (.sourceignore files, spec.ignore, the
//	    default exclusions, no symlinks).
//	flux-build build < request.json > response.json
//	    build Kustomizations against an artifact folder; see Request and Result.
//
// Exit status: 0 when the request was processed (per-Kustomization failures are in the
// response), 2 for bad usage or an unreadable request.
package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"

	securejoin "github.com/cyphar/filepath-securejoin"
	kustomizev1 "github.com/fluxcd/kustomize-controller/api/v1"
	generator "github.com/fluxcd/pkg/kustomize"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"
	"sigs.k8s.io/kustomize/api/konfig"
	"sigs.k8s.io/kustomize/api/resource"
	kustypes "sigs.k8s.io/kustomize/api/types"
	"sigs.k8s.io/yaml"
)

// Request is what `flux-build build` reads from standard input.
type Request struct {
	// Artifact is the folder made by `flux-build artifact`. Every Kustomization is built in
	// a fresh copy of it, as kustomize-controller extracts a fresh artifact per reconciliation.
	Artifact       string `json:"artifact"`
	Kustomizations []Job  `json:"kustomizations"`
}

// Job is one Kustomization to build.
type Job struct {
	ID string `json:"id"`
	// Object is the Flux Kustomization as it would be stored in the cluster.
	Object json.RawMessage `json:"object"`
	// Strict fails the substitution on a ${VAR} that has no value and no default (what the
	// controller's StrictPostBuildSubstitutions feature gate does).
	Strict bool `json:"strict"`
	// Sources are the ConfigMaps and Secrets that postBuild.substituteFrom may read; the
	// caller finds them in the same repository. Anything else is "not found".
	Sources []json.RawMessage `json:"sources"`
}

// Result is one entry of the response, in the order of the request.
type Result struct {
	ID string `json:"id"`
	// Stage is "ok", or where the build stopped: "decode", "path", "generate", "build",
	// "remote" (a remote base, which an offline build cannot fetch), "conventions" or
	// "substitute".
	Stage string `json:"stage"`
	Error string `json:"error,omitempty"`
	// Undefined lists, per object, the variables that have neither a value nor a default.
	Undefined []UndefinedVariables `json:"undefined,omitempty"`
	// Generated is true when the folder had no kustomization.yaml and Flux would generate one.
	Generated bool `json:"generated"`
	// KustomizationFile is the kustomization.yaml Flux builds (relative to the artifact),
	// after adding spec.patches, spec.images, spec.targetNamespace, ...
	KustomizationFile string  `json:"kustomizationFile,omitempty"`
	Kustomization     string  `json:"kustomization,omitempty"`
	Objects           []Built `json:"objects"`
}

// UndefinedVariables names the variables of one object that the substitution cannot resolve.
type UndefinedVariables struct {
	Object    string   `json:"object"`
	Origin    string   `json:"origin,omitempty"`
	Variables []string `json:"variables"`
}

// Built is one object of the build output.
type Built struct {
	// Origin is the file the object came from, relative to the artifact root (empty for
	// objects that kustomize generates, such as configMapGenerator output).
	Origin string         `json:"origin"`
	Object map[string]any `json:"object"`
}

const originAnnotation = "config.kubernetes.io/origin"

func main() {
	if len(os.Args) < 2 {
		usage()
	}
	// Offline by design: kustomize fetches remote bases with HTTP and git; make both fail at
	// once instead of reaching the network, so results do not depend on it.
	os.Setenv("HTTPS_PROXY", "http://127.0.0.1:1")
	os.Setenv("HTTP_PROXY", "http://127.0.0.1:1")
	os.Setenv("NO_PROXY", "")
	os.Setenv("GIT_ALLOW_PROTOCOL", "file")
	var err error
	switch os.Args[1] {
	case "artifact":
		err = artifactCommand(os.Args[2:])
	case "build":
		err = buildCommand(os.Stdin, os.Stdout)
	case "-h", "--help", "help":
		usage()
	default:
		fmt.Fprintf(os.Stderr, "flux-build: unknown command %q\n", os.Args[1])
		usage()
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "flux-build: %v\n", err)
		os.Exit(2)
	}
}

func usage() {
	fmt.Fprint(os.Stderr, `usage:
  flux-build artifact [--ignore TEXT] CHECKOUT ARTIFACT
  flux-build build < request.json > response.json
`)
	os.Exit(2)
}

// ---------------------------------------------------------------------------------------
// build: what kustomize-controller does between fetching the artifact and applying

func buildCommand(in io.Reader, out io.Writer) error {
	var request Request
	decoder := json.NewDecoder(in)
	decoder.DisallowUnknownFields()
	if err := decoder.Decode(&request); err != nil {
		return fmt.Errorf("reading the request: %w", err)
	}
	if info, err := os.Stat(request.Artifact); err != nil || !info.IsDir() {
		return fmt.Errorf("artifact %q is not a folder", request.Artifact)
	}
	results := make([]Result, 0, len(request.Kustomizations))
	for _, job := range request.Kustomizations {
		result, err := buildInCopy(request.Artifact, job)
		if err != nil {
			return err
		}
		results = append(results, result)
	}
	encoder := json.NewEncoder(out)
	encoder.SetEscapeHTML(false)
	return encoder.Encode(map[string]any{"results": results})
}

// buildInCopy builds one Kustomization in a fresh copy of the artifact (the generator writes
// its kustomization.yaml into the tree, so builds must not see each other's files).
func buildInCopy(artifact string, job Job) (Result, error) {
	workDir, err := os.MkdirTemp("", "flux-build-")
	if err != nil {
		return Result{}, err
	}
	defer os.RemoveAll(workDir)
	if err := os.CopyFS(workDir, os.DirFS(artifact)); err != nil {
		return Result{}, fmt.Errorf("copying the artifact: %w", err)
	}
	result := build(context.Background(), workDir, job)
	// Errors name files by absolute paths inside the scratch copy; make them relative to the
	// repository root, the way a user reads them.
	result.Error = strings.ReplaceAll(result.Error, workDir+string(filepath.Separator), "")
	result.Error = strings.ReplaceAll(result.Error, workDir, ".")
	return result, nil
}

func build(ctx context.Context, workDir string, job Job) Result {
	result := Result{ID: job.ID, Objects: []Built{}}
	fail := func(stage string, err error) Result {
		result.Stage, result.Error = stage, err.Error()
		return result
	}

	// The API server stores the Kustomization through its typed schema; the controller reads
	// it into kustomizev1.Kustomization and hands the generator an unstructured copy.
	var obj kustomizev1.Kustomization
	if err := json.Unmarshal(job.Object, &obj); err != nil {
		return fail("decode", err)
	}
	data, err := runtime.DefaultUnstructuredConverter.ToUnstructured(&obj)
	if err != nil {
		return fail("decode", err)
	}
	u := unstructured.Unstructured{Object: data}

	// kustomization_controller.go reconcile(): "check build path exists".
	dirPath, err := securejoin.SecureJoin(workDir, obj.Spec.Path)
	if err != nil {
		return fail("path", err)
	}
	if _, err := os.Stat(dirPath); err != nil {
		return fail("path", fmt.Errorf("kustomization path not found: %w", err))
	}

	// generate(): generator.NewGenerator(workDir, obj).WriteFile(dirPath). We call the same
	// GenerateManifest that WriteFile calls, and add kustomize's originAnnotations build
	// metadata before writing, to learn which file each object comes from. The annotation is
	// removed again from the output unless Flux itself would have kept it.
	for _, name := range konfig.RecognizedKustomizationFileNames() {
		if info, err := os.Stat(filepath.Join(dirPath, name)); err == nil && !info.IsDir() {
			result.KustomizationFile, _ = filepath.Rel(workDir, filepath.Join(dirPath, name))
			break
		}
	}
	manifest, kfile, action, err := generator.NewGenerator(workDir, u).GenerateManifest(dirPath)
	if err != nil {
		return fail("generate", err)
	}
	result.Generated = action == generator.CreatedAction
	result.KustomizationFile, _ = filepath.Rel(workDir, kfile)
	result.Kustomization = string(manifest)
	var kus kustypes.Kustomization
	if err := yaml.Unmarshal(manifest, &kus); err != nil {
		return fail("generate", err)
	}
	keepOrigin := slices.Contains(kus.BuildMetadata, kustypes.OriginAnnotations)
	if !keepOrigin {
		kus.BuildMetadata = append(kus.BuildMetadata, kustypes.OriginAnnotations)
	}
	traced, err := yaml.Marshal(kus)
	if err != nil {
		return fail("generate", err)
	}
	if err := os.WriteFile(kfile, traced, 0o644); err != nil {
		return fail("generate", err)
	}

	// build(): generator.SecureBuild(workDir, dirPath, !NoRemoteBases). Remote bases are
	// refused here: this build is offline by design.
	m, err := generator.SecureBuild(workDir, dirPath, false)
	if err != nil {
		if remote := remoteReference.FindStringSubmatch(err.Error()); remote != nil {
			return fail("remote", fmt.Errorf("%s is a remote base; this build is offline: %w", remote[1], err))
		}
		return fail("build", fmt.Errorf("kustomize build failed: %w", err))
	}

	kubeClient, err := sourcesClient(job.Sources)
	if err != nil {
		return fail("substitute", err)
	}
	for _, res := range m.Resources() {
		origin := originPath(res.GetAnnotations()[originAnnotation], dirPath, workDir)
		if !keepOrigin {
			annotations := res.GetAnnotations()
			delete(annotations, originAnnotation)
			if err := res.SetAnnotations(annotations); err != nil {
				return fail("build", err)
			}
		}
		if res.GetName() == "" || res.GetKind() == "" || res.GetApiVersion() == "" {
			return fail("conventions", fmt.Errorf("failed to decode Kubernetes apiVersion, kind and name from: %v", res.String()))
		}
		if obj.Spec.PostBuild != nil {
			missing, err := substitute(ctx, kubeClient, &obj, u, res, job.Strict)
			if err != nil {
				return fail("substitute", fmt.Errorf("post build failed for '%s/%s': %w", res.GetGvk(), res.GetName(), err))
			}
			if len(missing) > 0 {
				result.Undefined = append(result.Undefined, UndefinedVariables{
					Object: fmt.Sprintf("%s/%s", res.GetKind(), qualifiedName(res.GetNamespace(), res.GetName())), Origin: origin, Variables: missing,
				})
			}
		}
		object, err := res.Map()
		if err != nil {
			return fail("build", err)
		}
		result.Objects = append(result.Objects, Built{Origin: origin, Object: object})
	}
	if len(result.Undefined) > 0 {
		result.Stage = "substitute"
		result.Error = "variable not set (strict mode)"
		return result
	}
	result.Stage = "ok"
	return result
}

func qualifiedName(namespace, name string) string {
	if namespace == "" {
		return name
	}
	return namespace + "/" + name
}

// originPath turns kustomize's origin annotation ("path: sub/file.yaml", relative to the
// folder that was built) into a path relative to the artifact root.
func originPath(annotation, dirPath, workDir string) string {
	var origin struct {
		Path string `json:"path"`
		Repo string `json:"repo"`
	}
	if annotation == "" || yaml.Unmarshal([]byte(annotation), &origin) != nil || origin.Path == "" || origin.Repo != "" {
		return ""
	}
	rel, err := filepath.Rel(workDir, filepath.Join(dirPath, origin.Path))
	if err != nil || strings.HasPrefix(rel, "..") {
		return ""
	}
	return filepath.ToSlash(rel)
}

// remoteReference finds the remote resource a failed build names (kustomize's own prefixes, as
// generator.IsLocalRelativePath lists them).
var remoteReference = regexp.MustCompile(`'((?:git::|gh:|ssh://|https://|http://|git@|github\.com[:/])[^']*)'`)

var notSet = regexp.MustCompile(`variable not set \(strict mode\): "([^"]*)"`)

// substitute runs generator.SubstituteVariables exactly as kustomization_controller.go build()
// does. In strict mode the library stops at the first variable it cannot resolve; to name
// all of them, each one found is given an empty value and the substitution runs again on a
// copy, until it succeeds. The returned names are the variables that have no value and no
// default; the object is left as Flux would leave it when there are none.
func substitute(ctx context.Context, kubeClient client.Client, obj *kustomizev1.Kustomization, u unstructured.Unstructured, res *resource.Resource, strict bool) ([]string, error) {
	always := obj.GetSubstituteStrategy() == kustomizev1.SubstituteStrategyAlways
	options := []generator.SubstituteOption{generator.SubstituteWithStrict(strict), generator.SubstituteWithAlways(always)}
	_, err := generator.SubstituteVariables(ctx, kubeClient, u, res, options...)
	if err == nil {
		return nil, nil
	}
	match := notSet.FindStringSubmatch(err.Error())
	if match == nil {
		return nil, err
	}
	var missing []string
	probe := u.DeepCopy()
	for match != nil && len(missing) < 100 {
		missing = append(missing, match[1])
		vars, _, _ := unstructured.NestedStringMap(probe.Object, "spec", "postBuild", "substitute")
		if vars == nil {
			vars = map[string]string{}
		}
		vars[match[1]] = ""
		if err := unstructured.SetNestedStringMap(probe.Object, vars, "spec", "postBuild", "substitute"); err != nil {
			return nil, err
		}
		_, err = generator.SubstituteVariables(ctx, kubeClient, *probe, res.DeepCopy(), options...)
		match = nil
		if err != nil {
			if match = notSet.FindStringSubmatch(err.Error()); match == nil {
				return nil, err
			}
		}
	}
	slices.Sort(missing)
	return missing, nil
}

// sourcesClient is a Kubernetes client that knows only the given ConfigMaps and Secrets: what
// postBuild.substituteFrom can read offline. A Secret's stringData is folded into data, as the
// API server does.
func sourcesClient(sources []json.RawMessage) (client.Client, error) {
	scheme := runtime.NewScheme()
	if err := corev1.AddToScheme(scheme); err != nil {
		return nil, err
	}
	builder := fake.NewClientBuilder().WithScheme(scheme)
	for _, raw := range sources {
		var meta struct {
			Kind string `json:"kind"`
		}
		if err := json.Unmarshal(raw, &meta); err != nil {
			return nil, err
		}
		switch meta.Kind {
		case "ConfigMap":
			var cm corev1.ConfigMap
			if err := json.Unmarshal(raw, &cm); err != nil {
				return nil, fmt.Errorf("ConfigMap source: %w", err)
			}
			builder = builder.WithObjects(&cm)
		case "Secret":
			var secret corev1.Secret
			if err := json.Unmarshal(raw, &secret); err != nil {
				return nil, fmt.Errorf("Secret source: %w", err)
			}
			for k, v := range secret.StringData {
				if secret.Data == nil {
					secret.Data = map[string][]byte{}
				}
				secret.Data[k] = []byte(v)
			}
			secret.StringData = nil
			builder = builder.WithObjects(&secret)
		default:
			return nil, fmt.Errorf("a substituteFrom source must be a ConfigMap or a Secret, not %q", meta.Kind)
		}
	}
	return builder.Build(), nil
}
